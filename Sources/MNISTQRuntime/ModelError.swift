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

    /// Field, value found, value expected, and a hint (without the file name: callers that read files prefix it):
    /// "finding; hint", or the finding alone where it carries its own hint (a nested inflate error, a metadata reason).
    public var description: String {
        guard let hint else { return finding }
        return "\(finding); \(hint)"
    }

    /// What was found where, and (where it has one) the value expected. One line a case: a table, not logic.
    private var finding: String {
        switch self {
        case let .fileTooShort(length, minimum): "file is \(length) bytes, a model file has at least \(minimum)"
        case let .badMagic(found): "magic is \(found.map { hex($0) }.joined(separator: " ")), expected 4D 4E 51 38 (\"MNQ8\")"
        case let .unsupportedVersion(found, supported): "format version is \(found), this runtime reads version \(supported.map(String.init).joined(separator: ", "))"
        case let .unknownFlags(found, known): "flags are 0x\(hex(found)), this runtime knows only 0x\(hex(known))"
        case let .badHeaderLength(found, expected): "header length field is \(found), expected \(expected) for this version"
        case let .payloadTooLarge(declared, limit): "header declares a \(declared)-byte payload, the limit is \(limit) bytes (a real model needs about 217 KB)"
        case let .truncated(length, expected), let .trailingBytes(length, expected): "file is \(length) bytes, its header says \(expected)"
        case let .crcMismatch(stored, computed): "CRC-32 is 0x\(hex(computed)), the file says 0x\(hex(stored))"
        case let .inflate(error): "payload: \(error)"
        case let .payloadTruncated(field): "payload ends inside \(field)"
        case let .payloadTrailingBytes(count): "payload has \(count) bytes after its last metadata entry, expected 0"
        case let .wrongLayerCount(found, expected): "payload holds \(found) layers, expected \(expected) (conv1, conv2, fc1, fc2, fc3)"
        case let .wrongLayerKind(layer, found, expected): "\(layer).kind is \(found), expected \(expected.rawValue) (\(expected))"
        case let .wrongLayerShape(layer, field, found, expected): "\(layer).\(field) is \(found), expected \(expected)"
        case let .multiplierOutOfRange(layer, channel, found): "\(layer).multiplier[\(channel)] is \(found), expected 1073741824...2147483647 (2^30...2^31−1)"
        case let .shiftOutOfRange(layer, channel, found): "\(layer).shift[\(channel)] is \(found), expected 1...62"
        case let .weightOutOfRange(layer, index, found): "\(layer).weights[\(index)] is \(found), expected -127...127 (symmetric int8)"
        case let .biasOutOfRange(layer, channel, found): "\(layer).bias[\(channel)] is \(found), expected |bias| ≤ 1073741824 (2^30)"
        case let .invalidScale(layer, field, found): "\(layer).\(field) is \(found), expected a finite number > 0 (weight scales: ≥ 0)"
        case let .badMetadata(index, reason): "metadata entry \(index): \(reason)"
        case let .storedLengthMismatch(stored, payload): "in-place image stores \(stored) payload bytes but declares a \(payload)-byte payload, expected equal (in-place payloads are not compressed)"
        case let .inPlaceLayoutMismatch(found, expected): "in-place payload is \(found) bytes, its sections and metadata make \(expected)"
        case let .nonZeroPadding(offset, found): "byte \(offset) is \(found), expected 0 (padding of the in-place layout)"
        case let .misaligned(address, alignment): "in-place image starts at address 0x\(hex(address)), expected a multiple of \(alignment)"
        case .notInPlace: "this is a packed .mnq8 model (zlib)"
        case let .badOutOfDistributionSection(field, reason): "out-of-distribution section: \(field) \(reason)"
        }
    }

    /// What to do about it: one text per remedy, written once however many errors share it (most say the file is
    /// damaged or not ours). nil where the finding ends in its own hint.
    private var hint: String? {
        switch self {
        case .inflate, .badMetadata: nil
        case .badMagic: "this is not an mnistq int8 model file (float models are read by `mnistq eval`, not the runtime)"
        case .unsupportedVersion: "re-export the model with a matching `mnistq quantize` or update the runtime"
        case .unknownFlags: "the file needs a newer runtime or is corrupt"
        case .truncated: "the file is truncated (incomplete download or copy?)"
        case .trailingBytes: "extra bytes follow the CRC (was something appended?)"
        case .crcMismatch: "the file was damaged after it was written"
        case .wrongLayerKind, .wrongLayerShape: "the runtime runs only the fixed MNIST network"
        case .multiplierOutOfRange: "the quantizer must normalise multipliers into [0.5, 1) · 2^31"
        case .shiftOutOfRange: "the layer's rescale factor is out of the representable range"
        case .weightOutOfRange: "the quantizer must clamp to ±127"
        case .biasOutOfRange: "the bias scale is far too small for this layer"
        case let .misaligned(_, alignment): "place it in aligned memory (e.g. `__attribute__((aligned(\(alignment))))`, posix_memalign, or a memory map)"
        case .notInPlace: "an in-place image is needed here: convert it with `mnistq export --flash MODEL.mnq8 MODEL.mnqi`, or load it with Model(bytes:) / mnistq_unpack"
        case .fileTooShort, .badHeaderLength, .payloadTooLarge, .payloadTruncated, .payloadTrailingBytes, .wrongLayerCount,
             .invalidScale, .storedLengthMismatch, .inPlaceLayoutMismatch, .nonZeroPadding, .badOutOfDistributionSection:
            "the file is corrupt or was not written by `mnistq quantize`"
        }
    }
}
