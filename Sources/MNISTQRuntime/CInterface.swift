// The C API declared in include/mnistq.h, exported with @c: in-place models in caller memory, no allocation.

/// Status codes of include/mnistq.h (`mnistq_status`): stable numbers.
enum CStatus: Int32 {
    case ok = 0, argument, fileTooShort, badMagic, unsupportedVersion, unknownFlags, badHeader, truncated,
         trailingBytes, crcMismatch, badPayload, badLayer, valueOutOfRange, badMetadata, misaligned, notInPlace,
         bufferTooSmall, notLoaded, outOfMemory, noOutOfDistribution

    init(_ error: ModelError) {
        switch error {
        case .fileTooShort: self = .fileTooShort
        case .badMagic: self = .badMagic
        case .unsupportedVersion: self = .unsupportedVersion
        case .unknownFlags: self = .unknownFlags
        case .badHeaderLength, .payloadTooLarge, .storedLengthMismatch: self = .badHeader
        case .truncated: self = .truncated
        case .trailingBytes: self = .trailingBytes
        case .crcMismatch: self = .crcMismatch
        case .inflate, .payloadTruncated, .payloadTrailingBytes, .inPlaceLayoutMismatch, .nonZeroPadding: self = .badPayload
        case .wrongLayerCount, .wrongLayerKind, .wrongLayerShape: self = .badLayer
        case .multiplierOutOfRange, .shiftOutOfRange, .weightOutOfRange, .biasOutOfRange, .invalidScale, .badOutOfDistributionSection:
            self = .valueOutOfRange
        case .badMetadata: self = .badMetadata
        case .misaligned: self = .misaligned
        case .notInPlace: self = .notInPlace
        }
    }

    /// One line of English with a hint (static text: no allocation, nothing to free).
    var message: StaticString {
        switch self {
        case .ok: return "ok"
        case .argument: return "a required pointer is NULL or a count is impossible; check the call's arguments"
        case .fileTooShort: return "the model is shorter than a header; the file is empty, truncated or not a model"
        case .badMagic: return "the model does not start with \"MNQ8\"; this is not an mnistq int8 model file"
        case .unsupportedVersion: return "the model's format version is not one this library reads; use a matching mnistq version"
        case .unknownFlags: return "the model sets header flags this library does not know; it needs a newer library or is corrupt"
        case .badHeader: return "the model's header has a wrong length field; the file is corrupt"
        case .truncated: return "the model is shorter than its header says; the file is truncated (incomplete download or copy?)"
        case .trailingBytes: return "the model is longer than its header says; extra bytes follow the CRC"
        case .crcMismatch: return "the model's CRC-32 does not match; the bytes were damaged after the file was written"
        case .badPayload: return "the model's payload is malformed; the file is corrupt or was not written by mnistq"
        case .badLayer: return "a layer's kind or shape is not the network's; the library runs only the fixed MNIST CNN"
        case .valueOutOfRange: return "a weight, bias, multiplier, shift or scale is out of range; the file is corrupt"
        case .badMetadata: return "a metadata entry is malformed; the file is corrupt"
        case .misaligned: return "the in-place image is not 16-byte aligned; place it in aligned memory (aligned(16), posix_memalign, mmap)"
        case .notInPlace: return "this is a packed .mnq8; convert it with mnistq_unpack or `mnistq export --flash`"
        case .bufferTooSmall: return "an arena or output buffer is smaller than required; see mnistq_arena_size and mnistq_unpacked_size"
        case .notLoaded: return "the model is not loaded; call mnistq_model_init and check its status first"
        case .outOfMemory: return "mnistq_unpack could not allocate its temporary buffer"
        case .noOutOfDistribution: return "the model has no out-of-distribution section; quantize it with a newer `mnistq quantize` to get the score"
        }
    }
}

/// The C handle (`mnistq_model`, 32 bytes, 8-byte aligned): a tag, the image's address and length, the kernel choice.
/// A loaded handle is re-checked by `InPlaceModel`'s cheap constructor-free path: the image was validated at init.
enum CModelHandle {
    static let loadedTag: UInt64 = 0x4D4E_5138_4C4F_4144  // "MNQ8LOAD"
    static let byteCount = 32

    /// Stores `model` in the handle at `handle`.
    static func store(_ model: InPlaceModel, at handle: UnsafeMutableRawPointer) {
        handle.storeBytes(of: loadedTag, toByteOffset: 0, as: UInt64.self)
        handle.storeBytes(of: UInt64(UInt(bitPattern: model.image.baseAddress)), toByteOffset: 8, as: UInt64.self)
        handle.storeBytes(of: UInt64(model.image.count), toByteOffset: 16, as: UInt64.self)
        handle.storeBytes(of: pathCode(model.path), toByteOffset: 24, as: UInt64.self)
    }

    /// Marks the handle not loaded.
    static func clear(_ handle: UnsafeMutableRawPointer) {
        for offset in stride(from: 0, to: byteCount, by: 8) { handle.storeBytes(of: 0, toByteOffset: offset, as: UInt64.self) }
    }

    /// The model a loaded handle holds, or nil. Rebuilt without re-checking the image (it was checked at init and
    /// the API's contract is that it does not change): a few pointer additions, no allocation.
    static func model(at handle: UnsafeRawPointer?) -> InPlaceModel? {
        guard let handle, handle.loadUnaligned(as: UInt64.self) == loadedTag,
              let base = UnsafeRawPointer(bitPattern: UInt(handle.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        else { return nil }
        let count = Int(handle.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        let path = self.path(code: handle.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        return InPlaceModel(trusting: UnsafeRawBufferPointer(start: base, count: count), path: path)
    }

    /// A borrowed image runs a u8 family or the portable kernels (AVX2 needs weights the image does not hold).
    static func pathCode(_ path: ImageKernelPath) -> UInt64 {
        switch path {
        case .u8(.vnni512): return 1
        case .u8(.neonDot): return 2
        case .u8(.neon): return 3
        case .u8(.vector): return 4
        case .avx2, .portable: return 0
        }
    }

    static func path(code: UInt64) -> ImageKernelPath {
        switch code {
        case 1: return .u8(.vnni512)
        case 2: return .u8(.neonDot)
        case 3: return .u8(.neon)
        case 4: return .u8(.vector)
        default: return .portable
        }
    }
}

extension InPlaceModel {
    /// A model over an image that was already checked, running `path` (the C handle's and ``Model``'s way in).
    init(trusting image: UnsafeRawBufferPointer, path: ImageKernelPath) {
        self.image = image
        self.path = path
        operands = InPlaceModel.operands(of: image.baseAddress!)
    }
}

@inline(__always)
private func cString(_ text: StaticString) -> UnsafePointer<CChar> {
    // Swift string literals are stored NUL-terminated in static memory.
    UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}

@c(mnistq_version)
func mnistq_version() -> UnsafePointer<CChar> { cString(MNISTQVersion.string) }

@c(mnistq_status_message)
func mnistq_status_message(_ status: Int32) -> UnsafePointer<CChar> {
    guard let known = CStatus(rawValue: status) else { return cString("unknown status code; see include/mnistq.h for the list") }
    return cString(known.message)
}

@c(mnistq_arena_size)
func mnistq_arena_size() -> Int { InPlaceModel.arenaByteCount }

/// The identity checks of ``ModelHeader`` (length, magic, version) in the same order, without building the error
/// values: those two carry arrays, and an allocation on a device without a heap would stop it instead of returning
/// a code. Every other rejection of a model builds its error without allocating.
private func identityStatus(_ bytes: UnsafeRawPointer, _ length: Int) -> CStatus? {
    let file = UnsafeRawBufferPointer(start: bytes, count: length)
    let hasMagic = length >= 4 && file[0] == 0x4D && file[1] == 0x4E && file[2] == 0x51 && file[3] == 0x38
    if length < ModelFormat.Offset.flags { return length >= 4 && !hasMagic ? .badMagic : .fileTooShort }
    if !hasMagic { return .badMagic }
    if file.loadLittleEndian(UInt16.self, at: ModelFormat.Offset.version) != ModelFormat.currentVersion { return .unsupportedVersion }
    return nil
}

@c(mnistq_model_init)
func mnistq_model_init(_ handle: UnsafeMutableRawPointer?, _ image: UnsafeRawPointer?, _ length: Int) -> Int32 {
    guard let handle else { return CStatus.argument.rawValue }
    CModelHandle.clear(handle)
    guard let image, length >= 0 else { return CStatus.argument.rawValue }
    if let status = identityStatus(image, length) { return status.rawValue }
    do {
        let model = try InPlaceModel(borrowing: UnsafeRawBufferPointer(start: image, count: length))
        CModelHandle.store(model, at: handle)
        return CStatus.ok.rawValue
    } catch {
        return CStatus(error).rawValue
    }
}

@c(mnistq_classify)
func mnistq_classify(_ handle: UnsafeRawPointer?, _ pixels: UnsafePointer<UInt8>?, _ arena: UnsafeMutableRawPointer?,
                            _ arenaSize: Int, _ scores: UnsafeMutablePointer<Int32>?, _ digit: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let handle else { return CStatus.argument.rawValue }
    guard let model = CModelHandle.model(at: handle) else { return CStatus.notLoaded.rawValue }
    guard let pixels, let arena, let scores else { return CStatus.argument.rawValue }
    if arenaSize < InPlaceModel.arenaByteCount { return CStatus.bufferTooSmall.rawValue }
    model.classify(pixels: pixels, arena: arena, scores: scores)
    if let digit { digit.pointee = Int32(Classification.indexOfHighest(UnsafeBufferPointer(start: scores, count: 10))) }
    return CStatus.ok.rawValue
}

@c(mnistq_classify_batch)
func mnistq_classify_batch(_ handle: UnsafeRawPointer?, _ pixels: UnsafePointer<UInt8>?, _ count: Int,
                                  _ arena: UnsafeMutableRawPointer?, _ arenaSize: Int, _ scores: UnsafeMutablePointer<Int32>?,
                                  _ digits: UnsafeMutablePointer<UInt8>?) -> Int32 {
    guard let handle else { return CStatus.argument.rawValue }
    guard let model = CModelHandle.model(at: handle) else { return CStatus.notLoaded.rawValue }
    guard count >= 0, count <= Int.max / Model.pixelCount else { return CStatus.argument.rawValue }
    if count == 0 { return CStatus.ok.rawValue }
    guard let pixels, let arena, let scores else { return CStatus.argument.rawValue }
    if arenaSize < InPlaceModel.arenaByteCount { return CStatus.bufferTooSmall.rawValue }
    model.classify(batch: pixels, count: count, arena: arena, scores: scores)
    if let digits {
        for image in 0..<count {
            digits[image] = UInt8(Classification.indexOfHighest(UnsafeBufferPointer(start: scores + image * Model.classCount, count: 10)))
        }
    }
    return CStatus.ok.rawValue
}

@c(mnistq_score_scale)
func mnistq_score_scale(_ handle: UnsafeRawPointer?) -> Float { CModelHandle.model(at: handle)?.scoreScale ?? 0 }

@c(mnistq_kernel_name)
func mnistq_kernel_name(_ handle: UnsafeRawPointer?) -> UnsafePointer<CChar> {
    guard let model = CModelHandle.model(at: handle) else { return cString("none") }
    return cString(model.kernelName)
}

@c(mnistq_unpacked_size)
func mnistq_unpacked_size(_ file: UnsafeRawPointer?, _ length: Int, _ imageLength: UnsafeMutablePointer<Int>?) -> Int32 {
    guard let file, length >= 0, let imageLength else { return CStatus.argument.rawValue }
    if let status = identityStatus(file, length) { return status.rawValue }
    do {
        let header = try ModelHeader(UnsafeRawBufferPointer(start: file, count: length).uint8Buffer())
        imageLength.pointee = header.isInPlace ? length : InPlaceImage.imageLength(ofPacked: header)
        return CStatus.ok.rawValue
    } catch {
        return CStatus(error).rawValue
    }
}

@c(mnistq_unpack)
func mnistq_unpack(_ file: UnsafeRawPointer?, _ length: Int, _ out: UnsafeMutableRawPointer?, _ capacity: Int) -> Int32 {
    guard let file, length >= 0, let out, capacity >= 0 else { return CStatus.argument.rawValue }
    if UInt(bitPattern: out) % UInt(ModelFormat.inPlaceAlignment) != 0 { return CStatus.misaligned.rawValue }
    if let status = identityStatus(file, length) { return status.rawValue }
    let bytes = UnsafeRawBufferPointer(start: file, count: length)
    do {
        let header = try ModelHeader(bytes.uint8Buffer())
        if header.isInPlace {
            // Already an image: check it fully, then copy it.
            try InPlaceImage.validateBody(bytes, header: header)
            if capacity < length { return CStatus.bufferTooSmall.rawValue }
            out.copyMemory(from: file, byteCount: length)
            return CStatus.ok.rawValue
        }
        if capacity < InPlaceImage.imageLength(ofPacked: header) { return CStatus.bufferTooSmall.rawValue }
        let decoded = try ModelFile.decode(bytes.uint8Buffer())
        let image = try InPlaceImage.encode(layers: decoded.1, metadata: decoded.2, outOfDistribution: decoded.3)
        if capacity < image.count { return CStatus.bufferTooSmall.rawValue }
        image.withUnsafeBytes { out.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return CStatus.ok.rawValue
    } catch {
        return CStatus(error).rawValue
    }
}

@c(mnistq_has_ood_score)
func mnistq_has_ood_score(_ handle: UnsafeRawPointer?) -> Int32 {
    CModelHandle.model(at: handle)?.hasOutOfDistributionScore == true ? 1 : 0
}

@c(mnistq_ood_defaults)
func mnistq_ood_defaults(_ handle: UnsafeRawPointer?, _ threshold: UnsafeMutablePointer<Int32>?,
                                _ minimumConfidence: UnsafeMutablePointer<Float>?) -> Int32 {
    guard let handle else { return CStatus.argument.rawValue }
    guard let model = CModelHandle.model(at: handle) else { return CStatus.notLoaded.rawValue }
    guard let section = model.outOfDistributionSection else { return CStatus.noOutOfDistribution.rawValue }
    let bytes = UnsafeRawBufferPointer(start: section, count: OutOfDistributionLayout.byteCount)
    threshold?.pointee = Int32(bitPattern: bytes.loadLittleEndian(UInt32.self, at: OutOfDistributionLayout.threshold))
    minimumConfidence?.pointee = Float(bitPattern: bytes.loadLittleEndian(UInt32.self, at: OutOfDistributionLayout.minimumConfidence))
    return CStatus.ok.rawValue
}

@c(mnistq_classify_ood)
func mnistq_classify_ood(_ handle: UnsafeRawPointer?, _ pixels: UnsafePointer<UInt8>?, _ arena: UnsafeMutableRawPointer?,
                                _ arenaSize: Int, _ scores: UnsafeMutablePointer<Int32>?, _ digit: UnsafeMutablePointer<Int32>?,
                                _ oodScore: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let handle else { return CStatus.argument.rawValue }
    guard let model = CModelHandle.model(at: handle) else { return CStatus.notLoaded.rawValue }
    guard let pixels, let arena, let scores, let oodScore else { return CStatus.argument.rawValue }
    if !model.hasOutOfDistributionScore { return CStatus.noOutOfDistribution.rawValue }
    if arenaSize < InPlaceModel.arenaByteCount { return CStatus.bufferTooSmall.rawValue }
    model.classify(pixels: pixels, arena: arena, scores: scores, outOfDistributionScore: oodScore)
    if let digit { digit.pointee = Int32(Classification.indexOfHighest(UnsafeBufferPointer(start: scores, count: 10))) }
    return CStatus.ok.rawValue
}

@c(mnistq_classify_batch_ood)
func mnistq_classify_batch_ood(_ handle: UnsafeRawPointer?, _ pixels: UnsafePointer<UInt8>?, _ count: Int,
                                      _ arena: UnsafeMutableRawPointer?, _ arenaSize: Int, _ scores: UnsafeMutablePointer<Int32>?,
                                      _ digits: UnsafeMutablePointer<UInt8>?, _ oodScores: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let handle else { return CStatus.argument.rawValue }
    guard let model = CModelHandle.model(at: handle) else { return CStatus.notLoaded.rawValue }
    guard count >= 0, count <= Int.max / Model.pixelCount else { return CStatus.argument.rawValue }
    if !model.hasOutOfDistributionScore { return CStatus.noOutOfDistribution.rawValue }
    if count == 0 { return CStatus.ok.rawValue }
    guard let pixels, let arena, let scores, let oodScores else { return CStatus.argument.rawValue }
    if arenaSize < InPlaceModel.arenaByteCount { return CStatus.bufferTooSmall.rawValue }
    model.classify(batch: pixels, count: count, arena: arena, scores: scores, outOfDistributionScores: oodScores)
    if let digits {
        for image in 0..<count {
            digits[image] = UInt8(Classification.indexOfHighest(UnsafeBufferPointer(start: scores + image * Model.classCount, count: 10)))
        }
    }
    return CStatus.ok.rawValue
}
