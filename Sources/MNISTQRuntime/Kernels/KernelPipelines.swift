// The C kernel pipelines that read the in-place layouts (int8 weight quads, channels-last fc1), over one arena.
import _MNISTQInt8Kernels

/// Pointers to one model's weights and constants in the layouts the VNNI and portable C kernels read: the sections
/// of an in-place image, or the same layouts packed at load by `PackedInt8Weights`. Plain pointers (no arrays), so
/// running a model through them allocates nothing.
struct KernelOperands {
    /// conv1 `[5][2][16][4]`, conv2 `[5][5][4][32][4]`, fc1 `[120][32 · 7 · 7]` channels-last, fc2 `[84][120]`, fc3 `[10][84]`.
    var weights: (UnsafePointer<Int8>, UnsafePointer<Int8>, UnsafePointer<Int8>, UnsafePointer<Int8>, UnsafePointer<Int8>)
    var bias: (UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafePointer<Int32>)
    var multiplier: (UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafePointer<Int32>)
    var shift: (UnsafePointer<Int8>, UnsafePointer<Int8>, UnsafePointer<Int8>, UnsafePointer<Int8>, UnsafePointer<Int8>)

    /// The operands of layer `layer` (0...4).
    @inline(__always) func weights(_ layer: Int) -> UnsafePointer<Int8> { pick(weights, layer) }
    @inline(__always) func bias(_ layer: Int) -> UnsafePointer<Int32> { pick(bias, layer) }
    @inline(__always) func multiplier(_ layer: Int) -> UnsafePointer<Int32> { pick(multiplier, layer) }
    @inline(__always) func shift(_ layer: Int) -> UnsafePointer<Int8> { pick(shift, layer) }

    /// Operands at `base + offset(kind, layer)`; `kind` 0 weights, 1 bias, 2 multiplier, 3 shift.
    init(base: UnsafeRawPointer, offset: (_ kind: Int, _ layer: Int) -> Int) {
        func p<T>(_ kind: Int, _ layer: Int, _: T.Type) -> UnsafePointer<T> { (base + offset(kind, layer)).assumingMemoryBound(to: T.self) }
        weights = (p(0, 0, Int8.self), p(0, 1, Int8.self), p(0, 2, Int8.self), p(0, 3, Int8.self), p(0, 4, Int8.self))
        bias = (p(1, 0, Int32.self), p(1, 1, Int32.self), p(1, 2, Int32.self), p(1, 3, Int32.self), p(1, 4, Int32.self))
        multiplier = (p(2, 0, Int32.self), p(2, 1, Int32.self), p(2, 2, Int32.self), p(2, 3, Int32.self), p(2, 4, Int32.self))
        shift = (p(3, 0, Int8.self), p(3, 1, Int8.self), p(3, 2, Int8.self), p(3, 3, Int8.self), p(3, 4, Int8.self))
    }
}

@inline(__always)
private func pick<T>(_ values: (T, T, T, T, T), _ index: Int) -> T {
    switch index {
    case 0: return values.0
    case 1: return values.1
    case 2: return values.2
    case 3: return values.3
    default: return values.4
    }
}

/// The kernel families that run on u8 activations, channels last (`VNNIArena`), with the in-place image's weight
/// layouts: their three kernels have the same signatures, so one pipeline serves them all.
enum U8KernelFamily {
    /// AVX-512 VNNI (`vpdpbusd`), x86-64.
    case vnni512
    /// NEON with the Armv8.2 dot-product instructions (SDOT/UDOT), AArch64.
    case neonDot
    /// Baseline NEON (widening multiply-accumulate), AArch64 and 32-bit Arm with NEON.
    case neon
    /// Generic vectors (vector.c): SSE2 on x86-64, simd128 on WebAssembly, whatever a 64-bit host has; the family of
    /// CPUs without a dedicated one.
    case vector

    typealias Conv = @convention(c) (UnsafePointer<UInt8>?, UnsafePointer<Int8>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?,
                                     UnsafePointer<Int8>?, UnsafeMutablePointer<UInt8>?) -> Void
    typealias Linear = @convention(c) (UnsafePointer<UInt8>?, Int32, UnsafePointer<Int8>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?,
                                       UnsafePointer<Int8>?, Int32, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<Int32>?) -> Void

    var conv1: Conv {
        switch self {
        case .vnni512: return mnistq_conv1_relu_maxpool_u8s8_vnni512
        case .neonDot: return mnistq_conv1_relu_maxpool_u8s8_neondot
        case .neon: return mnistq_conv1_relu_maxpool_u8s8_neon
        case .vector: return mnistq_conv1_relu_maxpool_u8s8_vector
        }
    }
    var conv2: Conv {
        switch self {
        case .vnni512: return mnistq_conv2_relu_maxpool_u8s8_vnni512
        case .neonDot: return mnistq_conv2_relu_maxpool_u8s8_neondot
        case .neon: return mnistq_conv2_relu_maxpool_u8s8_neon
        case .vector: return mnistq_conv2_relu_maxpool_u8s8_vector
        }
    }
    typealias LinearBatch4 = @convention(c) (UnsafePointer<UInt8>?, Int32, Int32, Int32, UnsafePointer<Int8>?, UnsafePointer<Int32>?,
                                             UnsafePointer<Int32>?, UnsafePointer<Int8>?, Int32, UnsafeMutablePointer<UInt8>?, Int32,
                                             UnsafeMutablePointer<Int32>?) -> Void
    /// The family's linear kernel for up to 4 images at once (each weight row read once per group), if it has one.
    /// The vector family's is not built for WebAssembly (the module's size limit), where batches run image by image.
    var linearBatch4: LinearBatch4? {
        switch self {
        case .vnni512: return mnistq_linear_u8s8_vnni512_batch4
        #if arch(wasm32)
        case .vector: return nil
        #else
        case .vector: return mnistq_linear_u8s8_vector_batch4
        #endif
        case .neonDot, .neon: return nil
        }
    }
    typealias ConvLayersBatch = @convention(c) (UnsafePointer<UInt8>?, Int32, UnsafePointer<Int8>?, UnsafePointer<Int32>?,
                                                UnsafePointer<Int32>?, UnsafePointer<Int8>?, UnsafePointer<Int8>?,
                                                UnsafePointer<Int32>?, UnsafePointer<Int32>?, UnsafePointer<Int8>?,
                                                UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt8>?,
                                                UnsafeMutablePointer<UInt8>?, Int32) -> Void
    /// The family's conv1 + conv2 kernel for several images at once (the weights regrouped once), if it has one: the
    /// vector family regroups its conv weights per call, which a batch pays once. Not built for WebAssembly.
    var convLayersBatch: ConvLayersBatch? {
        switch self {
        #if arch(wasm32)
        case .vector: return nil
        #else
        case .vector: return mnistq_conv_layers_u8s8_vector_batch
        #endif
        case .vnni512, .neonDot, .neon: return nil
        }
    }
    /// The family's kernels for groups of images (`runU8Batch`): families with a batch linear kernel have them.
    var batchKernels: U8BatchKernels? { linearBatch4.map { U8BatchKernels(family: self, linear: $0, convLayers: convLayersBatch) } }
    var linear: Linear {
        switch self {
        case .vnni512: return mnistq_linear_u8s8_vnni512
        case .neonDot: return mnistq_linear_u8s8_neondot
        case .neon: return mnistq_linear_u8s8_neon
        case .vector: return mnistq_linear_u8s8_vector
        }
    }

    /// The fastest dedicated family this CPU runs, if any: VNNI on x86-64, NEON with or without dot product on Arm.
    static var fastestAvailable: U8KernelFamily? {
        if mnistq_int8_avx512vnni_available() != 0 { return .vnni512 }
        if mnistq_int8_neon_dotprod_available() != 0 { return .neonDot }
        if mnistq_int8_neon_available() != 0 { return .neon }
        return nil
    }

    /// The name `kernelName` reports.
    var name: StaticString {
        switch self {
        case .vnni512: return "avx512-vnni"
        case .neonDot: return "neon-dotprod"
        case .neon: return "neon"
        case .vector: return "vector"
        }
    }

    /// Whether this build has the generic-vector kernels (64-bit hosts, WebAssembly with simd128; not the 32-bit
    /// microcontrollers, which keep the portable SMLAD kernels).
    static var vectorAvailable: Bool { mnistq_int8_vector_available() != 0 }
}

/// Where a pipeline keeps its activations: byte offsets from the 64-byte aligned arena start.
protocol StageArena {
    static var conv2Input: Int { get }
    static var conv2Output: Int { get }
    static var fc1Output: Int { get }
    static var fc2Output: Int { get }
}
extension VNNIArena: StageArena {}
extension FastArena: StageArena {}
extension PortableArena: StageArena {}

/// A fully connected C kernel of a family whose activations are `Activation` (u8 or int16): the signature that
/// `MNISTQ_LINEAR_KERNEL` in `_MNISTQInt8Kernels.h` gives every family.
typealias LinearKernel<Activation> = (UnsafePointer<Activation>?, Int32, UnsafePointer<Int8>?, UnsafePointer<Int32>?,
                                      UnsafePointer<Int32>?, UnsafePointer<Int8>?, Int32,
                                      UnsafeMutablePointer<Activation>?, UnsafeMutablePointer<Int32>?) -> Void

/// Stage `stage` (0 conv1, 1 conv2, 2 fc1, 3 fc2, 4 fc3) of a C kernel pipeline: the five-stage dispatch, written
/// once for every family. A family brings its conv kernels as closures (they differ in weight layouts, scratch and
/// how conv1's padded input is prepared), its linear kernel and its arena plan; which buffer each stage reads and
/// writes, the layer sizes and the linear layers' operands are decided here.
@inline(__always)
func runStage<Activation, Arena: StageArena>(
    _ stage: Int, _ op: KernelOperands, arena _: Arena.Type, base: UnsafeMutableRawPointer,
    scores: UnsafeMutablePointer<Int32>,
    conv1: (_ output: UnsafeMutablePointer<Activation>) -> Void,
    conv2: (_ input: UnsafeMutablePointer<Activation>, _ output: UnsafeMutablePointer<Activation>) -> Void,
    linear: LinearKernel<Activation>
) {
    func buffer(_ offset: Int) -> UnsafeMutablePointer<Activation> { (base + offset).assumingMemoryBound(to: Activation.self) }
    switch stage {
    case 0:
        conv1(buffer(Arena.conv2Input))
    case 1:
        conv2(buffer(Arena.conv2Input), buffer(Arena.conv2Output))
    case 2:
        linear(buffer(Arena.conv2Output), Int32(ModelFormat.flattenedFeatureCount), op.weights(2), op.bias(2), op.multiplier(2),
               op.shift(2), Int32(ModelFormat.fc1Features), buffer(Arena.fc1Output), nil)
    case 3:
        linear(buffer(Arena.fc1Output), Int32(ModelFormat.fc1Features), op.weights(3), op.bias(3), op.multiplier(3), op.shift(3),
               Int32(ModelFormat.fc2Features), buffer(Arena.fc2Output), nil)
    default:
        linear(buffer(Arena.fc2Output), Int32(ModelFormat.fc2Features), op.weights(4), op.bias(4), op.multiplier(4), op.shift(4),
               Int32(ModelFormat.classCount), nil, scores)
    }
}

/// The 28×28 pixels into the u8 `[32][40]` conv1 input the VNNI layout (and the portable kernels) read: image at
/// (row + 2, col + 2), zeros elsewhere, rebuilt every call (the arena may hold anything).
@inline(__always)
func padConv1Input(pixels: UnsafePointer<UInt8>, _ conv1Input: UnsafeMutablePointer<UInt8>) {
    conv1Input.update(repeating: 0, count: 32 * 40)
    for y in 0..<ModelFormat.inputSide { (conv1Input + (y + 2) * 40 + 2).update(from: pixels + y * ModelFormat.inputSide, count: ModelFormat.inputSide) }
}

/// Stage `stage` of the u8 pipeline on `family`'s kernels (`VNNIArena`). `base` is the 64-byte aligned arena.
@inline(__always)
func runU8Stage(_ stage: Int, _ family: U8KernelFamily, _ op: KernelOperands, pixels: UnsafePointer<UInt8>,
                base: UnsafeMutableRawPointer, scores: UnsafeMutablePointer<Int32>) {
    runStage(stage, op, arena: VNNIArena.self, base: base, scores: scores, conv1: { conv2Input in
        let conv1Input = (base + VNNIArena.conv1Input).assumingMemoryBound(to: UInt8.self)
        padConv1Input(pixels: pixels, conv1Input)
        conv2Input.update(repeating: 0, count: 18 * 18 * 16) // its zero border
        family.conv1(conv1Input, op.weights(0), op.bias(0), op.multiplier(0), op.shift(0), conv2Input)
    }, conv2: { family.conv2($0, op.weights(1), op.bias(1), op.multiplier(1), op.shift(1), $1) }, linear: family.linear)
}

/// A u8 family's kernels for groups of images, which only families with a batch linear kernel have
/// (`U8KernelFamily.batchKernels`): VNNI and the vector family (not on WebAssembly).
struct U8BatchKernels {
    let family: U8KernelFamily
    /// The linear layers for up to 4 images at once (each weight row read once per group).
    let linear: U8KernelFamily.LinearBatch4
    /// conv1 + conv2 for the group in one call, if the family has it; else image by image.
    let convLayers: U8KernelFamily.ConvLayersBatch?
}

/// `count` images (`ModelFormat.inputPixelCount` bytes each, back to back) through `runU8Batch4` in groups of 4; `arena` is the caller's
/// (any alignment). The batch entry point of every executor on a u8 family with batch kernels: VNNI and the vector family.
/// With an out-of-distribution section and `outOfDistributionScores`, each image's score goes there too.
func runU8Batch(_ op: KernelOperands, kernels: U8BatchKernels,
                  pixels: UnsafePointer<UInt8>, count: Int, arena: UnsafeMutableRawPointer,
                  scores: UnsafeMutablePointer<Int32>, outOfDistribution section: UnsafeRawPointer? = nil,
                  outOfDistributionScores: UnsafeMutablePointer<Int32>? = nil) {
    let base = alignedArena(arena)
    var start = 0
    while start < count {
        let group = min(4, count - start)
        runU8Batch4(op, kernels: kernels, pixels: pixels + start * ModelFormat.inputPixelCount, count: group, base: base,
                      scores: scores + start * ModelFormat.classCount)
        if let section, let outOfDistributionScores {
            // fc2's features of the group are still in the arena: u8 [84] per image, `U8BatchArena.stride` apart.
            for image in 0..<group {
                let features = UnsafeRawPointer(base + U8BatchArena.fc2Output + image * U8BatchArena.stride)
                let (digit, top) = topOfScores(scores + (start + image) * ModelFormat.classCount)
                outOfDistributionScores[start + image] = outOfDistributionScore(section: section, digit: digit, top: top) {
                    Int32(features.load(fromByteOffset: $0, as: UInt8.self))
                }
            }
        }
        start += group
    }
}

/// Up to 4 images (`ModelFormat.inputPixelCount` bytes each, back to back) through `kernels`' u8 pipeline, with the linear layers run for all
/// of them at once so that their weights (fc1: 188 KB) are read once per group, not once per image. Scores: 10 per
/// image, back to back. Each image's scores equal a single `runU8Stage` pass's. Arena plan: `U8BatchArena`.
func runU8Batch4(_ op: KernelOperands, kernels: U8BatchKernels, pixels: UnsafePointer<UInt8>,
                   count: Int, base: UnsafeMutableRawPointer, scores: UnsafeMutablePointer<Int32>) {
    let conv2Input = (base + VNNIArena.conv2Input).assumingMemoryBound(to: UInt8.self)
    let family = kernels.family, linear = kernels.linear
    if let convLayers = kernels.convLayers {
        convLayers(pixels, Int32(count), op.weights(0), op.bias(0), op.multiplier(0), op.shift(0), op.weights(1), op.bias(1),
                   op.multiplier(1), op.shift(1), (base + VNNIArena.conv1Input).assumingMemoryBound(to: UInt8.self), conv2Input,
                   (base + U8BatchArena.conv2Output(0)).assumingMemoryBound(to: UInt8.self), Int32(U8BatchArena.conv2Stride))
    } else {
        for image in 0..<count {
            runU8Stage(0, family, op, pixels: pixels + image * ModelFormat.inputPixelCount, base: base, scores: scores)
            family.conv2(conv2Input, op.weights(1), op.bias(1), op.multiplier(1), op.shift(1),
                         (base + U8BatchArena.conv2Output(image)).assumingMemoryBound(to: UInt8.self))
        }
    }
    // The conv buffers are dead now: fc1 and fc2 outputs reuse the conv2 input's bytes.
    let fc1Output = (base + U8BatchArena.fc1Output).assumingMemoryBound(to: UInt8.self)
    let fc2Output = (base + U8BatchArena.fc2Output).assumingMemoryBound(to: UInt8.self)
    let n = Int32(count), stride = Int32(U8BatchArena.stride)
    linear((base + U8BatchArena.conv2Output(0)).assumingMemoryBound(to: UInt8.self), Int32(U8BatchArena.conv2Stride), n,
           Int32(ModelFormat.flattenedFeatureCount), op.weights(2), op.bias(2), op.multiplier(2), op.shift(2), Int32(ModelFormat.fc1Features),
           fc1Output, stride, nil)
    linear(fc1Output, stride, n, Int32(ModelFormat.fc1Features), op.weights(3), op.bias(3), op.multiplier(3), op.shift(3),
           Int32(ModelFormat.fc2Features), fc2Output, stride, nil)
    linear(fc2Output, stride, n, Int32(ModelFormat.fc2Features), op.weights(4), op.bias(4), op.multiplier(4), op.shift(4),
           Int32(ModelFormat.classCount), nil, 0, scores)
}

/// Arena plan of `runU8Batch4`: `VNNIArena` for the conv layers of one image at a time, each image's conv2 output
/// kept after it, then the linear layers' outputs of all 4 images in the (by then dead) conv2 input.
enum U8BatchArena {
    static let conv2Stride = 1600                                   // u8 [7, 7, 32] per image, 64-byte multiple
    static func conv2Output(_ image: Int) -> Int { VNNIArena.byteCount + image * conv2Stride }
    static let stride = 128                                         // fc1 [120] / fc2 [84] per image
    static let fc1Output = VNNIArena.conv2Input
    static let fc2Output = fc1Output + 4 * stride
    static let byteCount = conv2Output(4)
}

/// Stage `stage` of the AVX2 pipeline (int16 activations, `FastArena`): the conv layers read their weights paired for
/// a 2-way 16-bit multiply-add (`PackedInt8Weights.packPairedConvWeights`), the linear layers the in-place layouts.
@inline(__always)
func runAVX2Stage(_ stage: Int, _ op: KernelOperands, conv1Paired: UnsafePointer<Int16>, conv2Paired: UnsafePointer<Int16>,
                  pixels: UnsafePointer<UInt8>, base: UnsafeMutableRawPointer, scores: UnsafeMutablePointer<Int32>) {
    runStage(stage, op, arena: FastArena.self, base: base, scores: scores, conv1: { conv2Input in
        let conv1Input = (base + FastArena.conv1Input).assumingMemoryBound(to: Int16.self)
        prepareConv1Input(pixels: pixels, conv1Input: conv1Input, conv2Input: conv2Input)
        mnistq_conv1_relu_maxpool_s16s16_avx2(conv1Input, conv1Paired, op.bias(0), op.multiplier(0), op.shift(0), conv2Input)
    }, conv2: { mnistq_conv2_relu_maxpool_s16s16_avx2($0, conv2Paired, op.bias(1), op.multiplier(1), op.shift(1), $1) },
    linear: mnistq_linear_s16s8_avx2)
}

/// Stage `stage` of the portable C pipeline (int16 activations in pair order, `PortableArena`): SMLAD kernels on
/// Armv7E-M, their exact C definitions elsewhere. conv1 reads the u8 image the VNNI layout pads.
@inline(__always)
func runPortableStage(_ stage: Int, _ op: KernelOperands, pixels: UnsafePointer<UInt8>, base: UnsafeMutableRawPointer,
                      scores: UnsafeMutablePointer<Int32>) {
    runStage(stage, op, arena: PortableArena.self, base: base, scores: scores, conv1: { conv2Input in
        let conv1Input = (base + PortableArena.conv1Input).assumingMemoryBound(to: UInt8.self)
        padConv1Input(pixels: pixels, conv1Input)
        conv2Input.update(repeating: 0, count: 18 * 18 * 16) // its zero border
        mnistq_conv1_relu_maxpool_u8s8_portable(conv1Input, op.weights(0), op.bias(0), op.multiplier(0), op.shift(0), conv2Input,
                                                base + PortableArena.conv1Scratch)
    }, conv2: {
        mnistq_conv2_relu_maxpool_s16s8_portable($0, op.weights(1), op.bias(1), op.multiplier(1), op.shift(1), $1,
                                                 base + PortableArena.conv2Scratch)
    }, linear: mnistq_linear_s16s8_portable)
}

/// Arena plan of the portable C pipeline (byte offsets from the 64-byte aligned arena start). conv1's input and
/// scratch are dead once conv1 returns; conv2's scratch and everything after it reuse their bytes.
enum PortableArena {
    static let conv2Input = 0                                       // int16 [18, 18, 16], pair order, zero border
    static let conv1Input = conv2Input + 18 * 18 * 16 * 2           // u8 [32, 40], image at (row + 2, col + 2)
    static let conv1Scratch = conv1Input + 32 * 40                  // pixel pairs and widened weights
    static let conv2Scratch = conv1Input                            // two channels' widened weights
    static let conv2Output = conv2Scratch + Int(MNISTQ_CONV2_PORTABLE_SCRATCH_BYTES)  // int16 [7, 7, 32], pair order
    static let fc1Output = conv2Output + ModelFormat.flattenedFeatureCount * 2  // int16 [120], pair order
    static let fc2Output = fc1Output + ModelFormat.fc1Features * 2  // int16 [84], pair order
    static let byteCount = max(conv1Scratch + Int(MNISTQ_CONV1_PORTABLE_SCRATCH_BYTES), fc2Output + ModelFormat.fc2Features * 2)
}
