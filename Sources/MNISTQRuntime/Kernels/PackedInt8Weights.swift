// Weights and rescaling constants re-packed once at load into the layouts the fast kernels read (one allocation).
import _MNISTQInt8Kernels

/// Owner of the re-packed parameters: immutable after `init`, freed with the last `Int8Network` copy.
@usableFromInline
final class PackedInt8Weights {
    /// Byte offsets into `storage` (each 64-byte aligned).
    struct Layout {
        var conv1Weights = 0, fc1Weights = 0, fc2Weights = 0, fc3Weights = 0
        var conv2WideWeights = 0
        var conv1PairedWeights = 0, conv2PairedWeights = 0, conv1QuadWeights = 0, conv2QuadWeights = 0
        /// Per layer: bias (Int32), multiplier (Int32), shift (Int8) arrays.
        var bias = [Int](repeating: 0, count: 5), multiplier = [Int](repeating: 0, count: 5), shift = [Int](repeating: 0, count: 5)
        var byteCount = 0

        mutating func reserve(_ bytes: Int) -> Int {
            let offset = byteCount
            byteCount = (byteCount + bytes + 63) & ~63
            return offset
        }
    }

    let layout: Layout
    let storage: UnsafeMutableRawPointer
    /// Which kernels `run` uses (decided once, from the request and the CPU).
    let path: KernelPath
    /// The VNNI pipeline's view of `storage` (the in-place image's layouts; meaningful on that path only).
    let operands: KernelOperands

    /// Packs only what `path` reads: the conv layouts of the chosen kernel family (the other families' offsets
    /// stay 0 and are never read), plus the fc weights and per-layer constants every path shares. `layers` are the
    /// network's first 1...5 layers (`Int8Network`); the sections of absent layers stay empty and are never read.
    init(layers: [QuantizedLayer], kernels: Int8Network.Kernels) {
        let hasVNNI = mnistq_int8_avx512vnni_available() != 0, hasAVX2 = mnistq_int8_avx2_available() != 0
        let path: KernelPath
        switch kernels {
        case .fastest: path = hasVNNI ? .vnni512 : (hasAVX2 ? .avx2 : .portable)
        case .avx2: path = hasAVX2 ? .avx2 : .portable
        case .portable: path = .portable
        }
        self.path = path
        var layout = Layout()
        switch path {
        case .portable:
            layout.conv1Weights = layout.reserve(16 * 25 * 4)
            layout.conv2WideWeights = layout.reserve(25 * 16 * 32 * 4)
        case .avx2:
            layout.conv1PairedWeights = layout.reserve(PackedInt8Weights.pairedConv1ByteCount)
            layout.conv2PairedWeights = layout.reserve(PackedInt8Weights.pairedConv2ByteCount)
        case .vnni512:
            layout.conv1QuadWeights = layout.reserve(5 * 2 * 16 * 4)
            layout.conv2QuadWeights = layout.reserve(25 * 4 * 32 * 4)
        }
        let has = { (layer: Int) in layer < layers.count }
        if has(2) { layout.fc1Weights = layout.reserve(ModelFormat.network[2].weightCount) }
        if has(3) { layout.fc2Weights = layout.reserve(ModelFormat.network[3].weightCount) }
        if has(4) { layout.fc3Weights = layout.reserve(ModelFormat.network[4].weightCount) }
        for (index, layer) in layers.enumerated() {
            layout.bias[index] = layout.reserve(layer.outputCount * 4)
            layout.multiplier[index] = layout.reserve(layer.outputCount * 4)
            layout.shift[index] = layout.reserve(layer.outputCount)
        }
        self.layout = layout
        storage = UnsafeMutableRawPointer.allocate(byteCount: layout.byteCount, alignment: 64)
        operands = KernelOperands(base: storage) { kind, layer in
            switch kind {
            case 0:
                switch layer {
                case 0: return layout.conv1QuadWeights
                case 1: return layout.conv2QuadWeights
                case 2: return layout.fc1Weights
                case 3: return layout.fc2Weights
                default: return layout.fc3Weights
                }
            case 1: return layout.bias[layer]
            case 2: return layout.multiplier[layer]
            default: return layout.shift[layer]
            }
        }
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: layout.byteCount)

        switch path {
        case .portable:
            // conv1, Swift SIMD: Int32 [25 taps, 16 output channels].
            let w1 = (storage + layout.conv1Weights).assumingMemoryBound(to: Int32.self)
            for o in 0..<16 { for tap in 0..<25 { w1[tap * 16 + o] = Int32(layers[0].weights[o * 25 + tap]) } }
            // conv2, Swift SIMD: Int32 [ky, kx, input channel, 32 output channels].
            let w2w = (storage + layout.conv2WideWeights).assumingMemoryBound(to: Int32.self)
            if has(1) {
                for o in 0..<32 { for i in 0..<16 { for tap in 0..<25 {
                    w2w[(tap * 16 + i) * 32 + o] = Int32(layers[1].weights[(o * 16 + i) * 25 + tap])
                } } }
            }
        case .avx2:
            PackedInt8Weights.packPairedConvWeights(layers, conv1: int16(layout.conv1PairedWeights), conv2: int16(layout.conv2PairedWeights))
        case .vnni512:
            // conv1, quads of taps for a 4-way u8×s8 multiply-add: [ky 5][quad 2][16 oc][4], quad q = kx 4q ..< 4q + 4
            // (kx ≥ 5 are zero weights).
            let w1q = (storage + layout.conv1QuadWeights).assumingMemoryBound(to: Int8.self)
            for ky in 0..<5 { for quad in 0..<2 { for o in 0..<16 { for tap in 0..<4 {
                let kx = 4 * quad + tap
                w1q[((ky * 2 + quad) * 16 + o) * 4 + tap] = kx < 5 ? layers[0].weights[o * 25 + ky * 5 + kx] : 0
            } } } }
            // conv2, quads of input channels (4q ..< 4q + 4) at one tap: [ky][kx][quad 4][32 oc][4].
            let w2q = (storage + layout.conv2QuadWeights).assumingMemoryBound(to: Int8.self)
            if has(1) {
                for ky in 0..<5 { for kx in 0..<5 { for quad in 0..<4 { for o in 0..<32 { for lane in 0..<4 {
                    let i = 4 * quad + lane
                    w2q[((((ky * 5 + kx) * 4 + quad) * 32) + o) * 4 + lane] = layers[1].weights[((o * 16 + i) * 5 + ky) * 5 + kx]
                } } } } }
            }
        }
        // fc1: columns permuted from PyTorch's flatten of [32, 7, 7] to the channels-last [7, 7, 32] conv2 output
        // (the in-place image's order, `InPlaceImage.fc1WeightIndex`).
        if has(2) {
            let f1 = (storage + layout.fc1Weights).assumingMemoryBound(to: Int8.self)
            for o in 0..<ModelFormat.fc1Features { for column in 0..<ModelFormat.flattenedFeatureCount {
                f1[InPlaceImage.fc1WeightIndex(output: o, column: column)] = layers[2].weights[o * ModelFormat.flattenedFeatureCount + column]
            } }
        }
        for (index, offset) in [(3, layout.fc2Weights), (4, layout.fc3Weights)] where has(index) {
            let f = (storage + offset).assumingMemoryBound(to: Int8.self)
            for (i, w) in layers[index].weights.enumerated() { f[i] = w }
        }
        for (index, layer) in layers.enumerated() {
            let b = (storage + layout.bias[index]).assumingMemoryBound(to: Int32.self)
            let m = (storage + layout.multiplier[index]).assumingMemoryBound(to: Int32.self)
            let s = (storage + layout.shift[index]).assumingMemoryBound(to: Int8.self)
            for o in 0..<layer.outputCount { b[o] = layer.bias[o]; m[o] = layer.multiplier[o]; s[o] = layer.shift[o] }
        }
    }

    deinit { storage.deallocate() }

    /// Bytes of the AVX2 kernels' paired conv weights: conv1 int16 [5][3][16][2], conv2 int16 [5][5][8][32][2].
    static let pairedConv1ByteCount = 15 * 16 * 2 * 2, pairedConv2ByteCount = 200 * 32 * 2 * 2

    /// Writes the AVX2 kernels' paired conv weights (see their header) from PyTorch-order layers.
    static func packPairedConvWeights(_ layers: [QuantizedLayer], conv1 w1p: UnsafeMutablePointer<Int16>, conv2 w2p: UnsafeMutablePointer<Int16>) {
        // conv1, paired for a 2-way multiply-add: [ky 5][kx pair 3][16 oc][2], taps (kx, kx+1); kx = 5 is a zero weight.
        for ky in 0..<5 { for pair in 0..<3 { for o in 0..<16 { for half in 0..<2 {
            let kx = 2 * pair + half
            w1p[((ky * 3 + pair) * 16 + o) * 2 + half] = kx < 5 ? Int16(layers[0].weights[o * 25 + ky * 5 + kx]) : 0
        } } } }
        // conv2, paired: [ky][kx][input channel pair 8][32 oc][2], pair = channels (2p, 2p + 1) at one tap.
        guard layers.count > 1 else { return }
        for ky in 0..<5 { for kx in 0..<5 { for pair in 0..<8 { for o in 0..<32 { for half in 0..<2 {
            let i = 2 * pair + half
            w2p[((((ky * 5 + kx) * 8 + pair) * 32) + o) * 2 + half] = Int16(layers[1].weights[((o * 16 + i) * 5 + ky) * 5 + kx])
        } } } } }
    }

    @inline(__always) func int16(_ offset: Int) -> UnsafeMutablePointer<Int16> {
        (storage + offset).assumingMemoryBound(to: Int16.self)
    }
    @inline(__always) func int32(_ offset: Int) -> UnsafePointer<Int32> {
        UnsafePointer((storage + offset).assumingMemoryBound(to: Int32.self))
    }
    @inline(__always) func int8(_ offset: Int) -> UnsafePointer<Int8> {
        UnsafePointer((storage + offset).assumingMemoryBound(to: Int8.self))
    }
    @inline(__always) func bias(_ layer: Int) -> UnsafePointer<Int32> {
        UnsafePointer((storage + layout.bias[layer]).assumingMemoryBound(to: Int32.self))
    }
    @inline(__always) func multiplier(_ layer: Int) -> UnsafePointer<Int32> {
        UnsafePointer((storage + layout.multiplier[layer]).assumingMemoryBound(to: Int32.self))
    }
    @inline(__always) func shift(_ layer: Int) -> UnsafePointer<Int8> {
        UnsafePointer((storage + layout.shift[layer]).assumingMemoryBound(to: Int8.self))
    }
}

/// The kernel families.
enum KernelPath {
    case vnni512, avx2, portable
}

/// Arena plan of the AVX-512 VNNI path: uint8 activations, channels last; it fits inside `FastArena.byteCount`.
/// The conv1 input and the conv2 output share bytes (the first is dead before the second is written).
enum VNNIArena {
    static let conv2Input = 0                       // u8 [18, 18, 16], zero border
    static let conv1Input = 18 * 18 * 16            // u8 [32, 40], image at (row + 2, col + 2), zeros elsewhere
    static let conv2Output = conv1Input             // u8 [7, 7, 32]
    static let fc1Output = conv2Output + 1600       // u8 [120]
    static let fc2Output = fc1Output + 128          // u8 [84]
    static let byteCount = fc2Output + 128
}

/// Arena plan of the fast path (byte offsets from the 64-byte aligned arena start). The conv1 input and the conv2
/// output share bytes: the first is dead before the second is written.
enum FastArena {
    static let conv2Input = 0                                   // int16 [18, 18, 16], zero border
    static let conv1Input = conv2Input + 18 * 18 * 16 * 2       // int16 [32, 32] + 8 spare
    static let conv2Output = conv1Input                         // int16 [7, 7, 32]
    static let fc1Output = conv2Output + ModelFormat.flattenedFeatureCount * 2  // int16 [120]
    static let fc2Output = fc1Output + ModelFormat.fc1Features * 2             // int16 [84]
    static let byteCount = max(conv1Input + (32 * 32 + 8) * 2, fc2Output + ModelFormat.fc2Features * 2)
}
