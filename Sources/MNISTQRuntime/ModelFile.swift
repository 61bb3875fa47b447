// Writing and reading model files: header, zlib payload, CRC-32 trailer, and the structural checks on the layers.

/// Reads and writes the model file format (<doc:ModelFormat>).
package enum ModelFile {
    #if !hasFeature(Embedded)
    // The writer takes any compressor (`throws`, i.e. `any Error`), which Embedded Swift cannot express; devices
    // only read models, so the writer exists in hosted builds alone.
    /// Serialises `layers` and `metadata` into a complete model file.
    ///
    /// - Parameters:
    ///   - layers: the five layers of the network, which must pass the same checks as at load time.
    ///   - metadata: key/value pairs, kept in order; keys non-empty, unique, at most
    ///     ``ModelFormat/maximumKeyLength`` UTF-8 bytes; at most ``ModelFormat/maximumMetadataCount`` entries.
    ///   - deflate: compresses the payload into a **zlib stream** (RFC 1950: 2-byte header, deflate data,
    ///     Adler-32), e.g. zlib's `compress2` or `deflateInit2` with windowBits 15. Not raw deflate, not gzip.
    ///   - outOfDistribution: the calibration of the "not a digit" score, or nil for a file without it (flag bit 1
    ///     clear, readable by every runtime since version 1).
    /// - Returns: header + compressed payload + CRC-32. Deterministic for a deterministic `deflate`.
    /// - Throws: ``ModelError`` when the layers, metadata or calibration would be rejected by the loader, or whatever
    ///   `deflate` throws.
    package static func encode(layers: [QuantizedLayer], metadata: [(key: String, value: String)],
                              outOfDistribution: OutOfDistributionCalibration? = nil,
                              deflate: ([UInt8]) throws -> [UInt8]) throws -> [UInt8] {
        try validate(layers: layers)
        try validate(metadata: metadata)
        try outOfDistribution?.validate()
        let payload = encodePayload(layers: layers, metadata: metadata, outOfDistribution: outOfDistribution)
        if payload.count > ModelFormat.maximumPayloadLength {
            throw ModelError.payloadTooLarge(declared: UInt32(clamping: payload.count), limit: ModelFormat.maximumPayloadLength)
        }
        let compressed = try deflate(payload)
        var file = [UInt8]()
        file.reserveCapacity(ModelFormat.headerLength + compressed.count + ModelFormat.trailerLength)
        file += ModelFormat.magic
        file.appendLittleEndian(ModelFormat.currentVersion)
        file.appendLittleEndian(outOfDistribution == nil ? UInt16(0) : ModelFormat.outOfDistributionFlag)  // flags
        file.appendLittleEndian(UInt32(ModelFormat.headerLength))
        file.appendLittleEndian(UInt32(payload.count))
        file.appendLittleEndian(UInt32(clamping: compressed.count))
        file += compressed
        file.appendLittleEndian(CRC32.checksum(file))
        return file
    }
    #endif

    /// The uncompressed payload: the layer records, the out-of-distribution section if any, then the metadata (see
    /// <doc:ModelFormat>).
    static func encodePayload(layers: [QuantizedLayer], metadata: [(key: String, value: String)],
                              outOfDistribution: OutOfDistributionCalibration?) -> [UInt8] {
        var out = [UInt8]()
        out.appendLittleEndian(UInt32(layers.count))
        for layer in layers {
            out.append(layer.kind.rawValue)
            out += [0, 0, 0]
            out.appendLittleEndian(UInt32(layer.outputCount))
            out.appendLittleEndian(UInt32(layer.inputCount))
            out.appendLittleEndian(UInt32(layer.weights.count))
            out.appendLittleEndian(layer.inputScale.bitPattern)
            out.appendLittleEndian(layer.outputScale.bitPattern)
            for value in layer.bias { out.appendLittleEndian(UInt32(bitPattern: value)) }
            for value in layer.multiplier { out.appendLittleEndian(UInt32(bitPattern: value)) }
            for value in layer.shift { out.append(UInt8(bitPattern: value)) }
            for value in layer.weightScales { out.appendLittleEndian(value.bitPattern) }
            for value in layer.weights { out.append(UInt8(bitPattern: value)) }
        }
        if let outOfDistribution { out += outOfDistribution.encoded() }
        out.appendLittleEndian(UInt32(metadata.count))
        for (key, value) in metadata {
            out.appendLittleEndian(UInt32(key.utf8.count)); out += key.utf8
            out.appendLittleEndian(UInt32(value.utf8.count)); out += value.utf8
        }
        return out
    }

    /// Decodes and checks a whole file. Every field is bounded before it sizes anything.
    static func decode(_ file: UnsafeBufferPointer<UInt8>) throws(ModelError)
        -> (ModelHeader, [QuantizedLayer], [(key: String, value: String)], OutOfDistributionCalibration?) {
        let header = try ModelHeader(file)
        if header.isInPlace {
            let (layers, metadata, outOfDistribution) = try InPlaceImage.decode(UnsafeRawBufferPointer(file), header: header)
            return (header, layers, metadata, outOfDistribution)
        }
        let compressedStart = ModelFormat.headerLength
        let compressedEnd = compressedStart + Int(header.compressedLength)
        let compressed = UnsafeBufferPointer(rebasing: file[compressedStart..<compressedEnd])
        let payload: [UInt8]
        do {
            payload = try Inflate.zlibDecompress(compressed, expectedLength: Int(header.payloadLength))
        } catch {
            throw .inflate(error)
        }
        let (layers, metadata, outOfDistribution) = try decodePayload(payload,
                                                                       hasOutOfDistributionSection: header.hasOutOfDistributionSection)
        return (header, layers, metadata, outOfDistribution)
    }

    /// Decodes and checks an inflated payload: the layer records, the metadata, nothing after them. The part of
    /// ``decode(_:)`` after the CRC-32 and zlib layers, which the payload fuzzer (Tests/Fuzz) drives directly so its
    /// mutations reach the layer, scale and metadata checks instead of stopping at the checksum.
    /// `hasOutOfDistributionSection` is the header's flag bit 1: the section then follows the layer records.
    static func decodePayload(_ payload: [UInt8], hasOutOfDistributionSection: Bool) throws(ModelError)
        -> ([QuantizedLayer], [(key: String, value: String)], OutOfDistributionCalibration?) {
        var reader = ByteReader(payload)
        let layers = try decodeLayers(&reader)
        var outOfDistribution: OutOfDistributionCalibration?
        if hasOutOfDistributionSection {
            guard reader.remaining >= OutOfDistributionLayout.byteCount else { throw .payloadTruncated(field: "out-of-distribution section") }
            let position = reader.position
            if let problem = reader.bytes.withUnsafeBytes({ OutOfDistributionCalibration.problem(at: $0.baseAddress! + position) }) {
                throw problem
            }
            outOfDistribution = reader.bytes.withUnsafeBytes { OutOfDistributionCalibration.read($0.baseAddress! + position) }
            reader.position += OutOfDistributionLayout.byteCount
        }
        let metadata = try decodeMetadata(&reader)
        if reader.remaining > 0 { throw .payloadTrailingBytes(count: reader.remaining) }
        try validate(layers: layers)
        return (layers, metadata, outOfDistribution)
    }

    /// Reads the layer records. The kind and count fields are compared with `ModelFormat.network` here because they
    /// size the arrays that follow (nothing is allocated from an unchecked count); the layer rules themselves are
    /// ``validate(layers:)``'s, applied to the result.
    static func decodeLayers(_ reader: inout ByteReader) throws(ModelError) -> [QuantizedLayer] {
        let layerCount = try reader.uint32("layer count")
        if layerCount != UInt32(ModelFormat.network.count) {
            throw .wrongLayerCount(found: Int(layerCount), expected: ModelFormat.network.count)
        }
        var layers: [QuantizedLayer] = []
        for spec in ModelFormat.network {
            let name = spec.name
            let kindByte = try reader.uint8("\(name).kind")
            guard let kind = QuantizedLayerKind(rawValue: kindByte), kind == spec.kind else {
                throw .wrongLayerKind(layer: name, found: kindByte, expected: spec.kind)
            }
            for index in 0..<3 {
                let reserved = try reader.uint8("\(name).reserved")
                if reserved != 0 { throw .wrongLayerShape(layer: name, field: "reserved[\(index)]", found: Int(reserved), expected: 0) }
            }
            // Counts are checked against the fixed network before they size any array.
            for (field, expected) in [("outputCount", spec.outputCount), ("inputCount", spec.inputCount),
                                      ("weightCount", spec.weightCount)] {
                let found = try reader.uint32("\(name).\(field)")
                if found != UInt32(expected) { throw .wrongLayerShape(layer: name, field: field, found: Int(found), expected: expected) }
            }
            let inputScale = Float(bitPattern: try reader.uint32("\(name).inputScale"))
            let outputScale = Float(bitPattern: try reader.uint32("\(name).outputScale"))
            let count = spec.outputCount
            let bias = try reader.array("\(name).bias", count: count) { Int32(bitPattern: $0.uint32()) }
            let multiplier = try reader.array("\(name).multiplier", count: count) { Int32(bitPattern: $0.uint32()) }
            let shift = try reader.array("\(name).shift", count: count) { Int8(bitPattern: $0.uint8()) }
            let weightScales = try reader.array("\(name).weightScales", count: count) { Float(bitPattern: $0.uint32()) }
            let weights = try reader.int8Array("\(name).weights", count: spec.weightCount)
            layers.append(QuantizedLayer(kind: kind, outputCount: spec.outputCount, inputCount: spec.inputCount,
                                         weights: weights, bias: bias, multiplier: multiplier, shift: shift,
                                         inputScale: inputScale, outputScale: outputScale, weightScales: weightScales))
        }
        return layers
    }

    static func decodeMetadata(_ reader: inout ByteReader) throws(ModelError) -> [(key: String, value: String)] {
        let count = Int(try reader.uint32("metadata count"))
        if count > ModelFormat.maximumMetadataCount {
            throw .badMetadata(index: count, reason: "\(count) entries, expected at most \(ModelFormat.maximumMetadataCount)")
        }
        var entries: [(key: String, value: String)] = []
        for index in 0..<count {
            let key = try reader.string("metadata[\(index)].key", index: index)
            let value = try reader.string("metadata[\(index)].value", index: index)
            entries.append((key, value))
        }
        try validate(metadata: entries)
        return entries
    }

    /// The structural checks of <doc:ModelFormat>: the fixed network's shapes, the ranges of multipliers, shifts,
    /// weights and biases (which together keep every Int32 accumulator from overflowing), and sane informational
    /// scales.
    package static func validate(layers: [QuantizedLayer]) throws(ModelError) {
        if layers.count != ModelFormat.network.count {
            throw .wrongLayerCount(found: layers.count, expected: ModelFormat.network.count)
        }
        try validate(firstLayers: layers)
    }

    /// The checks of ``validate(layers:)`` on the network's first `layers.count` layers (1...5): the one set of layer
    /// rules, which the package's executor (`Int8Network`) also requires of the prefixes the quantizer's calibration
    /// runs.
    /// `checkingValues: false` checks the shapes alone (kinds and array lengths): what the executor's kernels need
    /// to run at all; the kernel tests also run values outside the format's ranges (weights of −128), on which the
    /// kernels are exact too.
    package static func validate(firstLayers layers: [QuantizedLayer], checkingValues: Bool = true) throws(ModelError) {
        if layers.isEmpty || layers.count > ModelFormat.network.count {
            throw .wrongLayerCount(found: layers.count, expected: ModelFormat.network.count)
        }
        for (layer, spec) in zip(layers, ModelFormat.network) {
            try validateShape(of: layer, as: spec)
            if checkingValues { try validateValues(of: layer, as: spec) }
        }
    }

    /// The layer's kind and array lengths against its place in the network.
    static func validateShape(of layer: QuantizedLayer, as spec: ModelFormat.LayerSpec) throws(ModelError) {
        let name = spec.name
        if layer.kind != spec.kind { throw .wrongLayerKind(layer: name, found: layer.kind.rawValue, expected: spec.kind) }
        for (field, found, expected) in [
            ("outputCount", layer.outputCount, spec.outputCount), ("inputCount", layer.inputCount, spec.inputCount),
            ("weights.count", layer.weights.count, spec.weightCount), ("bias.count", layer.bias.count, spec.outputCount),
            ("multiplier.count", layer.multiplier.count, spec.outputCount), ("shift.count", layer.shift.count, spec.outputCount),
            ("weightScales.count", layer.weightScales.count, spec.outputCount),
        ] where found != expected {
            throw .wrongLayerShape(layer: name, field: field, found: found, expected: expected)
        }
    }

    /// The ranges of the layer's values (scales, weights, multipliers, shifts, biases); its shape was checked.
    static func validateValues(of layer: QuantizedLayer, as spec: ModelFormat.LayerSpec) throws(ModelError) {
        let name = spec.name
        for (field, scale) in [("inputScale", layer.inputScale), ("outputScale", layer.outputScale)]
        where !(scale.isFinite && scale > 0) {
            throw .invalidScale(layer: name, field: field, found: scale)
        }
        for (channel, scale) in layer.weightScales.enumerated() where !(scale.isFinite && scale >= 0) {
            throw .invalidScale(layer: name, field: "weightScales[\(channel)]", found: scale)
        }
        for (index, weight) in layer.weights.enumerated() where !ModelFormat.weightRange.contains(weight) {
            throw .weightOutOfRange(layer: name, index: index, found: weight)
        }
        // No separate overflow check is needed: with |bias| ≤ 2^30, |w| ≤ 127, inputs ≤ 255 and at most
        // fc1's inputs per output, |acc| < 2^31 (ModelFormat.worstCaseAccumulator, 1,124,521,504).
        for channel in 0..<spec.outputCount {
            let multiplier = layer.multiplier[channel], shift = layer.shift[channel], bias = layer.bias[channel]
            if !ModelFormat.multiplierRange.contains(multiplier) {
                throw .multiplierOutOfRange(layer: name, channel: channel, found: multiplier)
            }
            if !ModelFormat.shiftRange.contains(shift) { throw .shiftOutOfRange(layer: name, channel: channel, found: shift) }
            if bias.magnitude > ModelFormat.maximumBiasMagnitude.magnitude {
                throw .biasOutOfRange(layer: name, channel: channel, found: bias)
            }
        }
    }

    static func validate(metadata: [(key: String, value: String)]) throws(ModelError) {
        if metadata.count > ModelFormat.maximumMetadataCount {
            throw .badMetadata(index: metadata.count, reason: "\(metadata.count) entries, expected at most \(ModelFormat.maximumMetadataCount)")
        }
        // Keys compare as UTF-8 bytes, as the in-place image's check does (String equality would also merge
        // canonically equivalent spellings, and it pulls Unicode normalisation tables into Embedded builds).
        var seen = Set<[UInt8]>()
        for (index, entry) in metadata.enumerated() {
            if entry.key.isEmpty { throw .badMetadata(index: index, reason: "empty key; keys name what the value is") }
            if entry.key.utf8.count > ModelFormat.maximumKeyLength {
                throw .badMetadata(index: index, reason: "key is \(entry.key.utf8.count) bytes, expected at most \(ModelFormat.maximumKeyLength)")
            }
            if !seen.insert(Array(entry.key.utf8)).inserted {
                throw .badMetadata(index: index, reason: "duplicate key \"\(entry.key)\"; keys must be unique")
            }
        }
    }
}

/// The fixed-size header of a model file, checked against the file's actual length.
package struct ModelHeader: Sendable, Equatable {
    /// Format version (see ``ModelFormat/supportedVersions``).
    package let version: UInt16
    /// Flag bits (0 in version 1).
    package let flags: UInt16
    /// Bytes of header.
    package let headerLength: UInt32
    /// Bytes of the payload after inflating.
    package let payloadLength: UInt32
    /// Bytes of the zlib stream after the header.
    package let compressedLength: UInt32
    /// CRC-32 of every byte before the trailer (header and zlib stream).
    package let crc32: UInt32

    /// The fields of a header that was already checked (an ``InPlaceModel``'s image), read without checks.
    init(trusting file: UnsafeRawBufferPointer) {
        version = file.loadLittleEndian(UInt16.self, at: ModelFormat.Offset.version)
        flags = file.loadLittleEndian(UInt16.self, at: ModelFormat.Offset.flags)
        headerLength = file.loadLittleEndian(UInt32.self, at: ModelFormat.Offset.headerLength)
        payloadLength = file.loadLittleEndian(UInt32.self, at: ModelFormat.Offset.payloadLength)
        compressedLength = file.loadLittleEndian(UInt32.self, at: ModelFormat.Offset.compressedLength)
        crc32 = file.loadLittleEndian(UInt32.self, at: Int(headerLength) + Int(compressedLength))
    }

    /// The header a packed file would have around a payload of `length` bytes (compressed length and CRC-32 unknown,
    /// so 0): for a ``Model`` made straight from a payload.
    init(describingPayloadOfLength length: Int, hasOutOfDistributionSection: Bool = false) {
        version = ModelFormat.currentVersion
        flags = hasOutOfDistributionSection ? ModelFormat.outOfDistributionFlag : 0
        headerLength = UInt32(ModelFormat.headerLength)
        payloadLength = UInt32(clamping: length)
        compressedLength = 0
        crc32 = 0
    }

    /// Whether this is an in-place image (flag bit ``ModelFormat/inPlaceFlag``) rather than a packed file.
    package var isInPlace: Bool { flags & ModelFormat.inPlaceFlag != 0 }
    /// Whether the payload holds the out-of-distribution section (flag bit ``ModelFormat/outOfDistributionFlag``).
    package var hasOutOfDistributionSection: Bool { flags & ModelFormat.outOfDistributionFlag != 0 }

    /// Checks, in order: length, magic, version, flags, header length, payload limit, total length, CRC-32.
    /// Allocation-free unless it throws (an in-place image is checked where it lies, on a microcontroller too).
    init(_ file: UnsafeBufferPointer<UInt8>) throws(ModelError) {
        // Identify the file first, so a non-model file or a newer version gets that error, not a length error.
        let minimum = ModelFormat.headerLength + ModelFormat.trailerLength
        let hasMagic = file.count >= 4 && file[0] == 0x4D && file[1] == 0x4E && file[2] == 0x51 && file[3] == 0x38
        if file.count < ModelFormat.Offset.flags {
            throw file.count >= 4 && !hasMagic ? .badMagic(found: Array(file.prefix(4))) : .fileTooShort(length: file.count, minimum: minimum)
        }
        if !hasMagic { throw .badMagic(found: Array(file.prefix(4))) }
        version = file.loadLittleEndian(UInt16.self, at: ModelFormat.Offset.version)
        if version != ModelFormat.currentVersion {
            throw .unsupportedVersion(found: version, supported: ModelFormat.supportedVersions)
        }
        if file.count < minimum { throw .fileTooShort(length: file.count, minimum: minimum) }
        flags = file.loadLittleEndian(UInt16.self, at: ModelFormat.Offset.flags)
        if flags & ~ModelFormat.knownFlags != 0 { throw .unknownFlags(found: flags, known: ModelFormat.knownFlags) }
        let inPlace = flags & ModelFormat.inPlaceFlag != 0
        let expectedHeaderLength = inPlace ? ModelFormat.inPlaceHeaderLength : ModelFormat.headerLength
        headerLength = file.loadLittleEndian(UInt32.self, at: ModelFormat.Offset.headerLength)
        if headerLength != UInt32(expectedHeaderLength) {
            throw .badHeaderLength(found: headerLength, expected: expectedHeaderLength)
        }
        payloadLength = file.loadLittleEndian(UInt32.self, at: ModelFormat.Offset.payloadLength)
        if Int(payloadLength) > ModelFormat.maximumPayloadLength {
            throw .payloadTooLarge(declared: payloadLength, limit: ModelFormat.maximumPayloadLength)
        }
        compressedLength = file.loadLittleEndian(UInt32.self, at: ModelFormat.Offset.compressedLength)
        if inPlace && compressedLength != payloadLength {
            throw .storedLengthMismatch(stored: compressedLength, payload: payloadLength)
        }
        let expectedLength = expectedHeaderLength + Int(compressedLength) + ModelFormat.trailerLength
        if file.count < expectedLength { throw .truncated(length: file.count, expected: expectedLength) }
        if file.count > expectedLength { throw .trailingBytes(length: file.count, expected: expectedLength) }
        let covered = expectedLength - ModelFormat.trailerLength
        crc32 = file.loadLittleEndian(UInt32.self, at: covered)
        let computed = CRC32.checksum(UnsafeBufferPointer(rebasing: file[0..<covered]))
        if computed != crc32 { throw .crcMismatch(stored: crc32, computed: computed) }
    }
}

/// A bounds-checked little-endian cursor over the payload; running out names the field being read.
struct ByteReader {
    let bytes: [UInt8]
    var position = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var remaining: Int { bytes.count - position }

    mutating func uint8(_ field: String) throws(ModelError) -> UInt8 {
        guard remaining >= 1 else { throw .payloadTruncated(field: field) }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func uint32(_ field: String) throws(ModelError) -> UInt32 {
        guard remaining >= 4 else { throw .payloadTruncated(field: field) }
        defer { position += 4 }
        return uncheckedUInt32()
    }

    /// Callers have checked that 4 bytes remain.
    func uncheckedUInt32() -> UInt32 {
        UInt32(bytes[position]) | UInt32(bytes[position + 1]) << 8 | UInt32(bytes[position + 2]) << 16
            | UInt32(bytes[position + 3]) << 24
    }

    /// Reads `count` elements after checking the whole array fits in what remains (so `count` never sizes an
    /// allocation beyond the payload, which the header length already bounds).
    mutating func array<T>(_ field: String, count: Int, element: (inout ElementReader) -> T) throws(ModelError) -> [T] {
        let elementSize = MemoryLayout<T>.size
        guard count <= remaining / elementSize else { throw .payloadTruncated(field: field) }
        var cursor = ElementReader(bytes: bytes, position: position)
        var result: [T] = []
        result.reserveCapacity(count)
        for _ in 0..<count { result.append(element(&cursor)) }
        position = cursor.position
        return result
    }

    /// `count` signed bytes in one copy: the weights, 88% of a payload, which per-element reads made the larger part of
    /// a model's load time.
    mutating func int8Array(_ field: String, count: Int) throws(ModelError) -> [Int8] {
        guard count <= remaining else { throw .payloadTruncated(field: field) }
        let start = position
        position += count
        return [Int8](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start..<(start + count)]))
            }
            initialized = count
        }
    }

    mutating func string(_ field: String, index: Int) throws(ModelError) -> String {
        let length = Int(try uint32("\(field) length"))
        guard length <= remaining else { throw .payloadTruncated(field: field) }
        let slice = bytes[position..<(position + length)]
        position += length
        guard let string = String(validating: slice, as: UTF8.self) else {
            throw .badMetadata(index: index, reason: "\(field) is not valid UTF-8")
        }
        return string
    }
}

/// Unchecked element reads inside a range ``ByteReader/array(_:count:element:)`` has already bounded.
struct ElementReader {
    let bytes: [UInt8]
    var position: Int
    mutating func uint8() -> UInt8 { defer { position += 1 }; return bytes[position] }
    mutating func uint32() -> UInt32 {
        defer { position += 4 }
        return UInt32(bytes[position]) | UInt32(bytes[position + 1]) << 8 | UInt32(bytes[position + 2]) << 16
            | UInt32(bytes[position + 3]) << 24
    }
}

extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        var value = value.littleEndian
        Swift.withUnsafeBytes(of: &value) { append(contentsOf: $0) }
    }
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// Callers check `offset + MemoryLayout<T>.size <= count` first.
    func loadLittleEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        var value: T = 0
        for index in (0..<MemoryLayout<T>.size).reversed() { value = value << 8 | T(self[offset + index]) }
        return value
    }
}
