// Every reason a model file is rejected, each with the field, the value found, the value expected and a hint.

/// Why a model file (or a set of layers given to ``ModelFile/encode(layers:metadata:deflate:)``) was rejected.
///
/// The loader stops at the first problem. `description` names the field, the value found, the value expected and
/// a hint; it does not know the file name, so callers that read files prefix it.
public enum ModelError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file is shorter than the part of the header needed to identify it.
    case fileTooShort(length: Int, minimum: Int)
    /// The file does not start with "MNQ8".
    case badMagic(found: [UInt8])
    /// The header's format version is not one this runtime reads.
    case unsupportedVersion(found: UInt16, supported: [UInt16])
    /// The header sets flag bits this runtime does not know.
    case unknownFlags(found: UInt16, known: UInt16)
    /// The header-length field differs from the version's header length.
    case badHeaderLength(found: UInt32, expected: Int)
    /// The declared uncompressed payload length exceeds ``ModelFormat/maximumPayloadLength``.
    case payloadTooLarge(declared: UInt32, limit: Int)
    /// The file is shorter than header + compressed length + trailer.
    case truncated(length: Int, expected: Int)
    /// The file is longer than header + compressed length + trailer.
    case trailingBytes(length: Int, expected: Int)
    /// The CRC-32 over header and compressed payload differs from the trailer.
    case crcMismatch(stored: UInt32, computed: UInt32)
    /// The compressed payload is not a valid zlib stream of the declared length.
    case inflate(InflateError)
    /// The payload ends in the middle of `field`.
    case payloadTruncated(field: String)
    /// Bytes remain after the last metadata entry.
    case payloadTrailingBytes(count: Int)
    /// The payload does not hold exactly the five layers of the network.
    case wrongLayerCount(found: Int, expected: Int)
    /// A layer's kind byte is not the one the network has at that position.
    case wrongLayerKind(layer: String, found: UInt8, expected: QuantizedLayerKind)
    /// A layer's count field or array length differs from the network's shape.
    case wrongLayerShape(layer: String, field: String, found: Int, expected: Int)
    /// A multiplier lies outside ``ModelFormat/multiplierRange``.
    case multiplierOutOfRange(layer: String, channel: Int, found: Int32)
    /// A shift lies outside ``ModelFormat/shiftRange``.
    case shiftOutOfRange(layer: String, channel: Int, found: Int8)
    /// A weight is −128 (outside ``ModelFormat/weightRange``).
    case weightOutOfRange(layer: String, index: Int, found: Int8)
    /// |bias| exceeds ``ModelFormat/maximumBiasMagnitude``.
    case biasOutOfRange(layer: String, channel: Int, found: Int32)
    /// An informational scale is NaN, infinite or negative (input/output scales must also be non-zero).
    case invalidScale(layer: String, field: String, found: Float)
    /// A metadata entry is malformed (`reason` says how).
    case badMetadata(index: Int, reason: String)
    /// An in-place image's stored length differs from its payload length (it stores the payload uncompressed).
    case storedLengthMismatch(stored: UInt32, payload: UInt32)
    /// An in-place image's payload length is not the one its fixed sections and metadata add up to.
    case inPlaceLayoutMismatch(found: Int, expected: Int)
    /// A byte that the in-place layout reserves as zero (padding, or a conv1 tap past the 5×5 window) is not zero.
    case nonZeroPadding(offset: Int, found: UInt8)
    /// An in-place image to be borrowed does not start at a multiple of ``ModelFormat/inPlaceAlignment`` bytes.
    case misaligned(address: UInt, alignment: Int)
    /// A packed (zlib) file was given where an in-place image is required.
    case notInPlace
    /// The out-of-distribution section (flag bit 1) holds a value outside its range (`reason` gives the range).
    case badOutOfDistributionSection(field: String, reason: String)

    /// Field, value found, value expected, and a hint (without the file name: callers that read files prefix it).
    public var description: String {
        let corrupt = "the file is corrupt or was not written by `mnistq quantize`"
        switch self {
        case let .fileTooShort(length, minimum):
            return "file is \(length) bytes, a model file has at least \(minimum); \(corrupt)"
        case let .badMagic(found):
            let shown = found.map { hex($0) }.joined(separator: " ")
            return "magic is \(shown), expected 4D 4E 51 38 (\"MNQ8\"); this is not an mnistq int8 model file (float models are read by `mnistq eval`, not the runtime)"
        case let .unsupportedVersion(found, supported):
            return "format version is \(found), this runtime reads version \(supported.map(String.init).joined(separator: ", ")); re-export the model with a matching `mnistq quantize` or update the runtime"
        case let .unknownFlags(found, known):
            return "flags are 0x\(hex(found)), this runtime knows only 0x\(hex(known)); the file needs a newer runtime or is corrupt"
        case let .badHeaderLength(found, expected):
            return "header length field is \(found), expected \(expected) for this version; \(corrupt)"
        case let .payloadTooLarge(declared, limit):
            return "header declares a \(declared)-byte payload, the limit is \(limit) bytes (a real model needs about 217 KB); \(corrupt)"
        case let .truncated(length, expected):
            return "file is \(length) bytes, its header says \(expected); the file is truncated (incomplete download or copy?)"
        case let .trailingBytes(length, expected):
            return "file is \(length) bytes, its header says \(expected); extra bytes follow the CRC (was something appended?)"
        case let .crcMismatch(stored, computed):
            return "CRC-32 is 0x\(hex(computed)), the file says 0x\(hex(stored)); the file was damaged after it was written"
        case let .inflate(error):
            return "payload: \(error)"
        case let .payloadTruncated(field):
            return "payload ends inside \(field); \(corrupt)"
        case let .payloadTrailingBytes(count):
            return "payload has \(count) bytes after its last metadata entry, expected 0; \(corrupt)"
        case let .wrongLayerCount(found, expected):
            return "payload holds \(found) layers, expected \(expected) (conv1, conv2, fc1, fc2, fc3); \(corrupt)"
        case let .wrongLayerKind(layer, found, expected):
            return "\(layer).kind is \(found), expected \(expected.rawValue) (\(expected)); the runtime runs only the fixed MNIST network"
        case let .wrongLayerShape(layer, field, found, expected):
            return "\(layer).\(field) is \(found), expected \(expected); the runtime runs only the fixed MNIST network"
        case let .multiplierOutOfRange(layer, channel, found):
            return "\(layer).multiplier[\(channel)] is \(found), expected 1073741824...2147483647 (2^30...2^31−1); the quantizer must normalise multipliers into [0.5, 1) · 2^31"
        case let .shiftOutOfRange(layer, channel, found):
            return "\(layer).shift[\(channel)] is \(found), expected 1...62; the layer's rescale factor is out of the representable range"
        case let .weightOutOfRange(layer, index, found):
            return "\(layer).weights[\(index)] is \(found), expected -127...127 (symmetric int8); the quantizer must clamp to ±127"
        case let .biasOutOfRange(layer, channel, found):
            return "\(layer).bias[\(channel)] is \(found), expected |bias| ≤ 1073741824 (2^30); the bias scale is far too small for this layer"
        case let .invalidScale(layer, field, found):
            return "\(layer).\(field) is \(found), expected a finite number > 0 (weight scales: ≥ 0); \(corrupt)"
        case let .badMetadata(index, reason):
            return "metadata entry \(index): \(reason)"
        case let .storedLengthMismatch(stored, payload):
            return "in-place image stores \(stored) payload bytes but declares a \(payload)-byte payload, expected equal (in-place payloads are not compressed); \(corrupt)"
        case let .inPlaceLayoutMismatch(found, expected):
            return "in-place payload is \(found) bytes, its sections and metadata make \(expected); \(corrupt)"
        case let .nonZeroPadding(offset, found):
            return "byte \(offset) is \(found), expected 0 (padding of the in-place layout); \(corrupt)"
        case let .misaligned(address, alignment):
            return "in-place image starts at address 0x\(hex(address)), expected a multiple of \(alignment); place it in aligned memory (e.g. `__attribute__((aligned(\(alignment))))`, posix_memalign, or a memory map)"
        case let .badOutOfDistributionSection(field, reason):
            return "out-of-distribution section: \(field) \(reason); \(corrupt)"
        case .notInPlace:
            return "this is a packed .mnq8 model (zlib); an in-place image is needed here: convert it with `mnistq export --flash MODEL.mnq8 MODEL.mnqi`, or load it with Model(bytes:) / mnistq_unpack"
        }
    }
}
