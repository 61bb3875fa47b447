// The whole int8 network (conv1, conv2, fc1, fc2, fc3) over one caller-owned arena: reference and fast paths.
import _MNISTQInt8Kernels

/// Executes the fixed MNIST CNN on integer-only kernels: the package's executor over layers in memory (the
/// quantizer's calibration and fidelity passes, the kernel benchmarks, the tests). Apps use ``Model``.
///
/// Shapes: `ModelFormat.network` (conv1 `[16, 1, 5, 5]` on 1×28×28 → pooled 16×14×14; conv2 `[32, 16, 5, 5]` →
/// pooled 32×7×7; fc1 over the channels-first flatten of 32×7×7; fc2; fc3 → 10 scores).
///
/// Setup/execution split: `init` checks its layers' shapes against the model format's network and re-packs weights
/// once; `run` neither allocates, throws nor checks.
/// Thread safety: immutable after `init` (`PackedInt8Weights` is written only there), so it may be shared by any
/// number of threads, each with its own arena; that is why the `@unchecked Sendable` below is safe.
package struct Int8Network: @unchecked Sendable {
    /// The shapes this executor runs, `(kind, outputCount, inputCount)` per layer, in order: the model format's network.
    package static let layerShapes: [(kind: QuantizedLayerKind, outputCount: Int, inputCount: Int)] =
        ModelFormat.network.map { ($0.kind, $0.outputCount, $0.inputCount) }
    /// Pixels per image (``ModelFormat/inputPixelCount``).
    package static let pixelCount = ModelFormat.inputPixelCount
    /// Scores per image (``ModelFormat/classCount``).
    package static let scoreCount = ModelFormat.classCount

    @usableFromInline let layers: [QuantizedLayer]
    @usableFromInline let packed: PackedInt8Weights

    /// Which fast kernels `run` uses. Every choice gives bit-identical results.
    package enum Kernels: Sendable {
        /// The fastest this CPU runs (checked once, at `init`): AVX-512 VNNI, else AVX2, else `.portable`.
        case fastest
        /// AVX2 when the CPU has it, else `.portable` (for tests and comparisons on VNNI machines).
        case avx2
        /// The pure-Swift fast kernels (plain loops the compiler vectorizes; every CPU).
        case portable
    }

    /// Re-packs the weights for the fast kernels. `layers` are the network's first `layers.count` layers (1...5):
    /// all five for `run` and `runReference`; fewer for `layerOutputs`, which then runs only those (the quantizer's
    /// calibration reads a prefix's outputs while the later layers are not quantized yet). Their shapes must be the
    /// network's (`ModelFile.validate(firstLayers:checkingValues: false)`): anything else is a programming error and
    /// stops the process. Values need only what the kernels are exact for: any weight (−128 too), |bias| ≤ 2^30,
    /// multipliers ≥ 0, shifts 1...62; the model format's ranges (which the loader guarantees) are inside these.
    /// See ``init(checking:kernels:)`` for layers not checked yet.
    package init(layers: [QuantizedLayer], kernels: Kernels = .fastest) {
        do {
            try ModelFile.validate(firstLayers: layers, checkingValues: false)
        } catch {
            preconditionFailure("Int8Network: \(error)")
        }
        self.init(validated: layers, kernels: kernels)
    }

    /// ``init(layers:kernels:)`` for layers that have not been checked: throws the model loader's error for them.
    package init(checking layers: [QuantizedLayer], kernels: Kernels = .fastest) throws(ModelError) {
        try ModelFile.validate(firstLayers: layers)
        self.init(validated: layers, kernels: kernels)
    }

    private init(validated layers: [QuantizedLayer], kernels: Kernels) {
        self.layers = layers
        self.packed = PackedInt8Weights(layers: layers, kernels: kernels)
    }

    /// Whether this network holds all five layers (`run` and `runReference` need them).
    var isComplete: Bool { layers.count == ModelFormat.network.count }

    /// The kernels `run` uses on this CPU: "avx512-vnni", "avx2" or "portable-swift".
    package var kernelName: String {
        switch packed.path {
        case .vnni512: return "avx512-vnni"
        case .avx2: return "avx2"
        case .portable: return "portable-swift"
        }
    }

    /// Bytes of scratch one `run` or `runReference` call needs (the same arena serves both), including 63 bytes
    /// of slack so that any arena address works (kernels align internally to 64 bytes).
    package var arenaByteCount: Int { Int8Network.arenaByteCount }
    /// `arenaByteCount` without an instance.
    package static var arenaByteCount: Int { max(ReferenceArena.byteCount, FastArena.byteCount, U8BatchArena.byteCount) + 63 }

    /// Classifies one image with the fast kernels; results equal `runReference` bit for bit.
    ///
    /// Parameters as in `runReference`.
    package func run(pixels: UnsafePointer<UInt8>, arena: UnsafeMutableRawPointer, scores: UnsafeMutablePointer<Int32>) {
        precondition(isComplete, "Int8Network.run needs all five layers")
        for stage in 0..<5 { runFastStage(stage, pixels: pixels, base: alignedArena(arena), scores: scores) }
    }

    /// Classifies `count` images stored one after another (`ModelFormat.inputPixelCount` bytes each) into `count` × 10 scores; every result
    /// equals a single `run` call on that image. One arena of `arenaByteCount` bytes serves the whole batch.
    package func run(batch pixels: UnsafePointer<UInt8>, count: Int, arena: UnsafeMutableRawPointer,
                    scores: UnsafeMutablePointer<Int32>) {
        precondition(isComplete, "Int8Network.run needs all five layers")
        if packed.path == .vnni512, let kernels = U8KernelFamily.vnni512.batchKernels {
            // The linear layers for 4 images at a time (their weights read once per group), as Model does.
            runU8Batch(packed.operands, kernels: kernels, pixels: pixels, count: count, arena: arena, scores: scores)
            return
        }
        for image in 0..<count {
            run(pixels: pixels + image * ModelFormat.inputPixelCount, arena: arena, scores: scores + image * ModelFormat.classCount)
        }
    }

    /// Runs only pipeline stage `stage` (0 conv1, 1 conv2, 2 fc1, 3 fc2, 4 fc3) of `run` (`reference == false`) or
    /// `runReference`, on whatever the arena holds: for per-kernel benchmarks after one full call of the same path.
    package func runStage(_ stage: Int, reference: Bool, pixels: UnsafePointer<UInt8>, arena: UnsafeMutableRawPointer,
                         scores: UnsafeMutablePointer<Int32>) {
        if reference {
            runReferenceStage(stage, pixels: pixels, base: alignedArena(arena), scores: scores)
        } else {
            runFastStage(stage, pixels: pixels, base: alignedArena(arena), scores: scores)
        }
    }

    @inline(__always)
    func runFastStage(_ stage: Int, pixels: UnsafePointer<UInt8>, base: UnsafeMutableRawPointer, scores: UnsafeMutablePointer<Int32>) {
        let p = packed
        if p.path == .vnni512 {
            runU8Stage(stage, .vnni512, p.operands, pixels: pixels, base: base, scores: scores)
            return
        }
        if p.path == .avx2 {
            runAVX2Stage(stage, p.operands, conv1Paired: p.int16(p.layout.conv1PairedWeights),
                         conv2Paired: p.int16(p.layout.conv2PairedWeights), pixels: pixels, base: base, scores: scores)
            return
        }
        // The portable Swift kernels through the one five-stage dispatch (int16 activations, `FastArena`).
        MNISTQRuntime.runStage(stage, p.operands, arena: FastArena.self, base: base, scores: scores, conv1: { conv2Input in
            let conv1Input = (base + FastArena.conv1Input).assumingMemoryBound(to: Int16.self)
            prepareConv1Input(pixels: pixels, conv1Input: conv1Input, conv2Input: conv2Input)
            conv1ReluMaxPool_s16s32_swiftSIMD(paddedImage: conv1Input, weights: p.int32(p.layout.conv1Weights), bias: p.bias(0),
                                              multiplier: p.multiplier(0), shift: p.shift(0), output: conv2Input)
        }, conv2: { input, output in
            conv2ReluMaxPool_s16s32_swiftSIMD(paddedInput: input, weights: p.int32(p.layout.conv2WideWeights), bias: p.bias(1),
                                              multiplier: p.multiplier(1), shift: p.shift(1), output: output)
        }, linear: { input, inputCount, weights, bias, multiplier, shift, outputCount, reluOutput, scores in
            linear_s16s8_swift(input: input!, inputCount: Int(inputCount), weights: weights!, bias: bias!, multiplier: multiplier!,
                               shift: shift!, outputCount: Int(outputCount), reluOutput: reluOutput, scores: scores)
        })
    }

    /// Classifies one image with the reference kernels (plain loops, the definition of the results).
    ///
    /// - Parameters:
    ///   - pixels: `ModelFormat.inputPixelCount` uint8, row-major 28×28.
    ///   - arena: `arenaByteCount` writable bytes, any alignment, not shared with a concurrent call.
    ///   - scores: 10 Int32 outputs (see `QuantizedLayerKind.linearScores`).
    package func runReference(pixels: UnsafePointer<UInt8>, arena: UnsafeMutableRawPointer, scores: UnsafeMutablePointer<Int32>) {
        precondition(isComplete, "Int8Network.runReference needs all five layers")
        for stage in 0..<5 { runReferenceStage(stage, pixels: pixels, base: alignedArena(arena), scores: scores) }
    }

    /// Every layer's output for one image (of the layers this network holds), in PyTorch order (conv: `[channels, h, w]`; linear: `[features]`),
    /// from the fast path (`reference == false`) or the reference path. For tests and debugging: allocates.
    package func layerOutputs(pixels: UnsafePointer<UInt8>, reference: Bool) -> [[Int32]] {
        let arena = UnsafeMutableRawPointer.allocate(byteCount: arenaByteCount, alignment: 64)
        defer { arena.deallocate() }
        return layerOutputs(pixels: pixels, reference: reference, arena: arena)
    }

    /// `layerOutputs(pixels:reference:)` in a caller-owned arena of `arenaByteCount` bytes, so a loop over many
    /// images allocates one arena instead of one per image (the returned arrays are still allocated).
    package func layerOutputs(pixels: UnsafePointer<UInt8>, reference: Bool, arena: UnsafeMutableRawPointer) -> [[Int32]] {
        var scores = [Int32](repeating: 0, count: ModelFormat.classCount)
        var outputs = [[Int32]]()
        let base = alignedArena(arena)
        for stage in 0..<layers.count {
            scores.withUnsafeMutableBufferPointer { s in
                runStage(stage, reference: reference, pixels: pixels, arena: arena, scores: s.baseAddress!)
            }
            if stage == 4 { outputs.append(scores); break }
            let count = ModelFormat.network[stage].outputElementCount
            if reference {
                let p = (base + ReferenceArena.output(of: stage)).assumingMemoryBound(to: UInt8.self)
                outputs.append((0..<count).map { Int32(p[$0]) })
            } else if packed.path == .vnni512 {
                let offsets = [VNNIArena.conv2Input, VNNIArena.conv2Output, VNNIArena.fc1Output, VNNIArena.fc2Output]
                outputs.append(Int8Network.fastStageOutput((base + offsets[stage]).assumingMemoryBound(to: UInt8.self),
                                                           stage: stage, count: count))
            } else {
                let offsets = [FastArena.conv2Input, FastArena.conv2Output, FastArena.fc1Output, FastArena.fc2Output]
                outputs.append(Int8Network.fastStageOutput((base + offsets[stage]).assumingMemoryBound(to: Int16.self),
                                                           stage: stage, count: count))
            }
        }
        return outputs
    }

    /// Fast-path stage `stage`'s activations (u8 on the VNNI path, int16 on the others; same layout) in PyTorch order.
    static func fastStageOutput<T: BinaryInteger>(_ p: UnsafePointer<T>, stage: Int, count: Int) -> [Int32] {
        switch stage {
        case 0: // [18, 18, 16] zero-bordered, channels last → [16, 14, 14]
            return (0..<count).map { i in Int32(p[((i % 196 / 14 + 2) * 18 + i % 14 + 2) * 16 + i / 196]) }
        case 1: // [7, 7, 32] channels last → [32, 7, 7]
            return (0..<count).map { i in Int32(p[(i % 49) * 32 + i / 49]) }
        default:
            return (0..<count).map { Int32(p[$0]) }
        }
    }

    func runReferenceStage(_ stage: Int, pixels: UnsafePointer<UInt8>, base: UnsafeMutableRawPointer, scores: UnsafeMutablePointer<Int32>) {
        Int8Network.runReferenceStage(stage, layers: layers, pixels: pixels, base: base, scores: scores)
    }

    /// ``runReference(pixels:arena:scores:)`` straight from five checked layers (`ModelFile.validate(layers:)`), without
    /// packing anything for the fast kernels (what ``Model/classifyReference(pixels:scratch:)`` needs).
    static func runReference(layers: [QuantizedLayer], pixels: UnsafePointer<UInt8>, arena: UnsafeMutableRawPointer,
                             scores: UnsafeMutablePointer<Int32>) {
        for stage in 0..<5 { runReferenceStage(stage, layers: layers, pixels: pixels, base: alignedArena(arena), scores: scores) }
    }

    static func runReferenceStage(_ stage: Int, layers: [QuantizedLayer], pixels: UnsafePointer<UInt8>,
                                  base: UnsafeMutableRawPointer, scores: UnsafeMutablePointer<Int32>) {
        let layer = layers[stage]
        let input = stage == 0 ? pixels : UnsafePointer((base + ReferenceArena.output(of: stage - 1)).assumingMemoryBound(to: UInt8.self))
        layer.weights.withUnsafeBufferPointer { w in layer.bias.withUnsafeBufferPointer { b in
        layer.multiplier.withUnsafeBufferPointer { m in layer.shift.withUnsafeBufferPointer { s in
            switch layer.kind {
            case .conv5x5ReluMaxPool:
                let side = ModelFormat.network[stage].inputSide
                conv5x5ReluMaxPool_u8s8_reference(input: input, inputChannels: layer.inputCount, height: side, width: side,
                                                 weights: w.baseAddress!, bias: b.baseAddress!, multiplier: m.baseAddress!,
                                                 shift: s.baseAddress!, outputChannels: layer.outputCount,
                                                 output: (base + ReferenceArena.output(of: stage)).assumingMemoryBound(to: UInt8.self))
            case .linearRelu:
                linearRelu_u8s8_reference(input: input, inputCount: layer.inputCount, weights: w.baseAddress!,
                                         bias: b.baseAddress!, multiplier: m.baseAddress!, shift: s.baseAddress!,
                                         outputCount: layer.outputCount,
                                         output: (base + ReferenceArena.output(of: stage)).assumingMemoryBound(to: UInt8.self))
            case .linearScores:
                linearScores_u8s8_reference(input: input, inputCount: layer.inputCount, weights: w.baseAddress!,
                                           bias: b.baseAddress!, multiplier: m.baseAddress!, shift: s.baseAddress!,
                                           outputCount: layer.outputCount, output: scores)
            }
        } } } }
    }
}

/// Widens the image into the zero-bordered conv1 input and clears the conv2 input's border. The arena may hold
/// anything (the reference path shares it), so both borders are rebuilt every call.
@inline(__always)
func prepareConv1Input(pixels: UnsafePointer<UInt8>, conv1Input: UnsafeMutablePointer<Int16>, conv2Input: UnsafeMutablePointer<Int16>) {
    conv1Input.update(repeating: 0, count: 32 * 32 + 8)
    for y in 0..<28 {
        let row = conv1Input + (y + 2) * 32 + 2, source = pixels + y * 28
        for x in 0..<28 { row[x] = Int16(source[x]) }
    }
    conv2Input.update(repeating: 0, count: 18 * 18 * 16)
}

/// Rounds an arena address up to 64 bytes (the 63 bytes of slack are in `arenaByteCount`).
@inline(__always)
func alignedArena(_ arena: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(bitPattern: (Int(bitPattern: arena) &+ 63) & ~63)!
}

/// Arena plan of the reference path (uint8 activations, channels first).
enum ReferenceArena {
    static let conv1Output = 0                      // [16, 14, 14] uint8
    static let conv2Output = conv1Output + 16 * 196 // [32, 7, 7] uint8
    static let fc1Output = conv2Output + 32 * 49    // [120] uint8
    static let fc2Output = fc1Output + 120          // [84] uint8
    static let byteCount = fc2Output + 84
    /// Where stage 0...3 writes its output (a switch, not an array: no allocation during inference).
    static func output(of stage: Int) -> Int {
        switch stage {
        case 0: return conv1Output
        case 1: return conv2Output
        case 2: return fc1Output
        default: return fc2Output
        }
    }
}
