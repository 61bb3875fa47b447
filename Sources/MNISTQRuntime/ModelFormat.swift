// The model file format's constants, shared by the writer (`ModelFile.encode`) and the reader (`Model(bytes:)`).

/// Constants of the `.mnq8` model file format; the spec is the DocC article <doc:ModelFormat>.
///
/// Layout: a 20-byte header, a zlib stream (RFC 1950) holding the payload, and a 4-byte CRC-32 of everything
/// before it. All integers little-endian.
public enum ModelFormat {
    /// The first four bytes of every model file: ASCII "MNQ8".
    package static let magic: [UInt8] = [0x4D, 0x4E, 0x51, 0x38]
    /// The format version this runtime writes and reads. It changes only when the structure changes.
    package static let currentVersion: UInt16 = 1
    /// Every version this runtime reads.
    package static let supportedVersions: [UInt16] = [1]
    /// Flag bit 0: the file is an in-place image (<doc:ModelFormat#In-place-image>): a 64-byte header, then the payload
    /// stored uncompressed in the kernels' order, 64-byte aligned sections, then the CRC-32. Without it the file is
    /// packed: a 20-byte header, a zlib stream, the CRC-32.
    package static let inPlaceFlag: UInt16 = 1
    /// Flag bit 1: the payload holds the out-of-distribution section (<doc:ModelFormat#Out-of-distribution-section>),
    /// the calibration of the "not a digit" score, after the layer records (packed) or the fc3 constants (in place).
    /// Files without it load as before and have no such score.
    package static let outOfDistributionFlag: UInt16 = 2
    /// Every flag bit this runtime knows (a set bit outside them means a feature this runtime does not know).
    package static let knownFlags: UInt16 = inPlaceFlag | outOfDistributionFlag
    /// Bytes of the version-1 header of a packed file: magic, version, flags, header length, payload length,
    /// compressed length.
    package static let headerLength = 20
    /// Bytes of the header of an in-place image: the packed header's 20 bytes, then zeros, so that the payload
    /// starts 64-byte aligned.
    package static let inPlaceHeaderLength = 64
    /// Alignment of an in-place image's first byte when it is borrowed (``InPlaceModel``): its int32 arrays are
    /// then 4-byte aligned and its sections 16-byte aligned, as the kernels' loads want them.
    public static let inPlaceAlignment = 16
    /// Bytes of the trailer: the CRC-32.
    package static let trailerLength = 4
    /// Upper bound on the uncompressed payload, checked before any allocation (a real model needs about 217 KB).
    package static let maximumPayloadLength = 4 << 20

    /// Byte offsets of the header fields.
    enum Offset {
        static let magic = 0
        static let version = 4
        static let flags = 6
        static let headerLength = 8
        static let payloadLength = 12
        static let compressedLength = 16
    }

    /// Bytes before each layer's arrays: kind (1), reserved (3), output count, input count, weight count,
    /// input scale, output scale (4 each).
    static let layerRecordHeaderLength = 24

    // MARK: - The network: every shape, count and offset in the package is derived from these

    /// Side of the square grayscale input in pixels (MNIST: 28).
    package static let inputSide = 28
    /// Pixels of one input image, row-major (28 × 28).
    public static let inputPixelCount = inputSide * inputSide
    /// Side of every convolution's square kernel (5×5).
    package static let kernelSide = 5
    /// Zero padding on each border of a convolution's input (2), so a convolution keeps the side.
    package static let kernelPadding = (kernelSide - 1) / 2
    /// Side of the max-pool window and its stride (2×2, stride 2), so each pool halves the side.
    package static let poolSide = 2
    /// Output channels of conv1 and conv2.
    package static let conv1Channels = 16
    package static let conv2Channels = 32
    /// Features fc1 and fc2 produce.
    package static let fc1Features = 120
    package static let fc2Features = 84
    /// Digits the network scores (fc3's outputs).
    public static let classCount = 10
    /// Side of conv1's pooled output (14) and of conv2's (7).
    package static let conv1OutputSide = inputSide / poolSide
    package static let conv2OutputSide = conv1OutputSide / poolSide
    /// Features fc1 reads: conv2's pooled output flattened channel-major (index = channel · 49 + y · 7 + x), as
    /// PyTorch flattens [32, 7, 7].
    package static let flattenedFeatureCount = conv2Channels * conv2OutputSide * conv2OutputSide

    /// One layer of the fixed network, as the format requires it.
    package struct LayerSpec: Sendable, Equatable {
        /// The layer's name, the same as in the trainer and the PyTorch model: conv1, conv2, fc1, fc2, fc3.
        package let name: String
        /// What the layer computes.
        package let kind: QuantizedLayerKind
        /// Output channels (conv) or features (linear).
        package let outputCount: Int
        /// Input channels (conv) or features (linear).
        package let inputCount: Int
        /// Side of the square input plane of a convolution (28 or 14); 1 for linear layers.
        package let inputSide: Int
        /// Side of the square output plane after the 2×2 max-pool (14 or 7); 1 for linear layers.
        package var outputSide: Int { kind == .conv5x5ReluMaxPool ? inputSide / poolSide : 1 }
        /// Weights per output channel: input count × 25 for 5×5 convolutions, input count for linear layers.
        package var weightsPerOutput: Int { kind == .conv5x5ReluMaxPool ? inputCount * kernelSide * kernelSide : inputCount }
        /// Weights in the layer.
        package var weightCount: Int { outputCount * weightsPerOutput }
        /// Activations the layer reads (channels × side²) and writes.
        package var inputElementCount: Int { inputCount * inputSide * inputSide }
        package var outputElementCount: Int { outputCount * outputSide * outputSide }
    }

    /// The network every model file holds, in order: the classic MNIST CNN.
    package static let network: [LayerSpec] = [
        LayerSpec(name: "conv1", kind: .conv5x5ReluMaxPool, outputCount: conv1Channels, inputCount: 1, inputSide: inputSide),
        LayerSpec(name: "conv2", kind: .conv5x5ReluMaxPool, outputCount: conv2Channels, inputCount: conv1Channels,
                  inputSide: conv1OutputSide),
        LayerSpec(name: "fc1", kind: .linearRelu, outputCount: fc1Features, inputCount: flattenedFeatureCount, inputSide: 1),
        LayerSpec(name: "fc2", kind: .linearRelu, outputCount: fc2Features, inputCount: fc1Features, inputSide: 1),
        LayerSpec(name: "fc3", kind: .linearScores, outputCount: classCount, inputCount: fc2Features, inputSide: 1),
    ]

    /// Valid `multiplier` values: [2^30, 2^31 − 1], i.e. a Q31 fraction in [0.5, 1).
    package static let multiplierRange: ClosedRange<Int32> = (1 << 30)...Int32.max
    /// Valid `shift` values.
    package static let shiftRange: ClosedRange<Int8> = 1...62
    /// Valid weights: symmetric int8, so −128 never occurs.
    package static let weightRange: ClosedRange<Int8> = -127...127
    /// Largest |bias| (kept well inside Int32 so the accumulator bound below has room for the products).
    package static let maximumBiasMagnitude: Int32 = 1 << 30
    /// Largest input activation (uint8 pixels and ReLU outputs).
    package static let maximumInput = 255
    /// The largest |accumulator| any valid model can reach: |bias| + 255 · 127 · (weights per output), maximised
    /// over the network. It is below Int32.max (2,147,483,647), so the range checks alone rule out overflow.
    package static var worstCaseAccumulator: Int64 {
        network.map { Int64(maximumBiasMagnitude) + Int64(maximumInput) * Int64(weightRange.upperBound) * Int64($0.weightsPerOutput) }.max()!
    }
    /// Most metadata entries a file may hold.
    package static let maximumMetadataCount = 256
    /// Most UTF-8 bytes in a metadata key (values are bounded only by the payload length).
    package static let maximumKeyLength = 256
}
