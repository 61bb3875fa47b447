// The in-place image: the model stored uncompressed in the order the kernels read it, checked where it lies.

/// Layout, writer, checker and reader of the in-place image (<doc:ModelFormat#In-place-image>).
///
/// Every offset is fixed by the network, so the checker needs no table: it is allocation-free and reads the image
/// where it lies (flash, a memory map, an array), which is what lets ``InPlaceModel`` run with no heap at all.
/// Layer `index` is 0...4 (conv1, conv2, fc1, fc2, fc3).
package enum InPlaceImage {
    // MARK: - Layout

    /// Sections start at multiples of 64 bytes from the image's first byte.
    static let sectionAlignment = 64

    @inline(__always) static func aligned(_ offset: Int) -> Int { (offset + sectionAlignment - 1) & ~(sectionAlignment - 1) }

    /// The layer's name, as in the trainer and the packed format.
    static func name(of index: Int) -> String {
        switch index {
        case 0: return "conv1"
        case 1: return "conv2"
        case 2: return "fc1"
        case 3: return "fc2"
        default: return "fc3"
        }
    }

    /// Output channels or features of layer `index`.
    static func outputCount(of index: Int) -> Int {
        // A switch over the format's constants, not `ModelFormat.network[index]`: the checker runs on devices
        // without a heap, where a global array would need one to be built.
        switch index {
        case 0: return ModelFormat.conv1Channels
        case 1: return ModelFormat.conv2Channels
        case 2: return ModelFormat.fc1Features
        case 3: return ModelFormat.fc2Features
        default: return ModelFormat.classCount
        }
    }

    /// Bytes of layer `index`'s weight section. conv1 stores 8 taps per kernel row (`[5][2][16][4]`, taps 5...7
    /// zero) so that the kernels read whole quads; the others store exactly their weights.
    static func weightByteCount(of index: Int) -> Int {
        let taps = ModelFormat.kernelSide * ModelFormat.kernelSide
        switch index {
        case 0: return ModelFormat.kernelSide * 2 * ModelFormat.conv1Channels * 4
        case 1: return ModelFormat.conv2Channels * ModelFormat.conv1Channels * taps
        case 2: return ModelFormat.fc1Features * ModelFormat.flattenedFeatureCount
        case 3: return ModelFormat.fc2Features * ModelFormat.fc1Features
        default: return ModelFormat.classCount * ModelFormat.fc2Features
        }
    }

    /// Offset of layer `index`'s weight section: the five weight sections come first, in network order.
    static func weightOffset(of index: Int) -> Int {
        var offset = ModelFormat.inPlaceHeaderLength
        for layer in 0..<index { offset = aligned(offset + weightByteCount(of: layer)) }
        return offset
    }

    /// Bytes of layer `index`'s constants block with N outputs: bias (4N), multiplier (4N), shift (N, zero-padded to a
    /// multiple of 4), inputScale (4), outputScale (4), weightScales (4N).
    static func constantsByteCount(of index: Int) -> Int {
        let n = outputCount(of: index)
        return 12 * n + shiftByteCount(of: index) + 8
    }

    /// Bytes the shift array occupies (N rounded up to 4, so the floats after it stay 4-byte aligned).
    static func shiftByteCount(of index: Int) -> Int { (outputCount(of: index) + 3) & ~3 }

    /// Offset of layer `index`'s constants block: they follow the weights, in network order.
    static func constantsOffset(of index: Int) -> Int {
        var offset = aligned(weightOffset(of: 4) + weightByteCount(of: 4))
        for layer in 0..<index { offset = aligned(offset + constantsByteCount(of: layer)) }
        return offset
    }

    /// Offsets inside layer `index`'s constants block.
    static func biasOffset(of index: Int) -> Int { constantsOffset(of: index) }
    static func multiplierOffset(of index: Int) -> Int { constantsOffset(of: index) + 4 * outputCount(of: index) }
    static func shiftOffset(of index: Int) -> Int { constantsOffset(of: index) + 8 * outputCount(of: index) }
    static func inputScaleOffset(of index: Int) -> Int { shiftOffset(of: index) + shiftByteCount(of: index) }
    static func outputScaleOffset(of index: Int) -> Int { inputScaleOffset(of: index) + 4 }
    static func weightScalesOffset(of index: Int) -> Int { inputScaleOffset(of: index) + 8 }

    /// Offset of the metadata in an image without the out-of-distribution section: after the last constants block.
    package static var metadataOffset: Int { aligned(constantsOffset(of: 4) + constantsByteCount(of: 4)) }

    /// Offset of the out-of-distribution section (flag bit 1): where the metadata starts in an image without it.
    package static var outOfDistributionOffset: Int { metadataOffset }

    /// Offset of the metadata: after the out-of-distribution section when the image has one.
    package static func metadataStart(hasOutOfDistribution: Bool) -> Int {
        hasOutOfDistribution ? aligned(outOfDistributionOffset + OutOfDistributionLayout.byteCount) : metadataOffset
    }

    /// Where weight `tap` (ky·5 + kx) of output channel `o` and input channel `i` of conv layer `index` is stored.
    /// conv1: `[ky][kx / 4][o][kx % 4]`; conv2: `[ky][kx][i / 4][o][i % 4]` (the quads a 4-way u8×s8 dot product or
    /// two SMLADs consume).
    @inline(__always) static func convWeightIndex(layer index: Int, output o: Int, input i: Int, tap: Int) -> Int {
        let ky = tap / 5, kx = tap % 5
        if index == 0 { return ((ky * 2 + kx / 4) * 16 + o) * 4 + kx % 4 }
        return (((ky * 5 + kx) * 4 + i / 4) * 32 + o) * 4 + i % 4
    }

    /// Where fc1's weight for output `o` and PyTorch input column `column` (channels-first flatten of [32, 7, 7]) is
    /// stored: columns are permuted to the channels-last order the conv2 kernels write, `position · 32 + channel`.
    @inline(__always) static func fc1WeightIndex(output o: Int, column: Int) -> Int {
        let positions = ModelFormat.conv2OutputSide * ModelFormat.conv2OutputSide
        return o * ModelFormat.flattenedFeatureCount + (column % positions) * ModelFormat.conv2Channels + column / positions
    }

    /// Bytes of the in-place image of the packed file with this (checked) header: the fixed sections, the same
    /// metadata bytes as the packed payload's, the CRC-32. From the header alone, so a caller can size the buffer
    /// before anything is inflated.
    package static func imageLength(ofPacked header: ModelHeader) -> Int {
        let ood = header.hasOutOfDistributionSection
        let layerRecords = 4 + ModelFormat.network.reduce(0) {
            $0 + ModelFormat.layerRecordHeaderLength + 13 * $1.outputCount + $1.weightCount
        } + (ood ? OutOfDistributionLayout.byteCount : 0)
        return metadataStart(hasOutOfDistribution: ood) + max(4, Int(header.payloadLength) - layerRecords) + ModelFormat.trailerLength
    }

    // MARK: - Writer

    /// The in-place image of `layers`, `metadata` and the out-of-distribution calibration if any: what
    /// `mnistq export --flash` writes.
    ///
    /// - Throws: ``ModelError`` when the layers, metadata or calibration would be rejected by the loader.
    package static func encode(layers: [QuantizedLayer], metadata: [(key: String, value: String)],
                              outOfDistribution: OutOfDistributionCalibration? = nil) throws(ModelError) -> [UInt8] {
        try ModelFile.validate(layers: layers)
        try ModelFile.validate(metadata: metadata)
        try outOfDistribution?.validate()
        return try encodeChecked(layers: layers, metadata: metadata, outOfDistribution: outOfDistribution)
    }

    /// ``encode(layers:metadata:outOfDistribution:)`` for values the loader has just checked (``Model``'s way in).
    static func encodeChecked(layers: [QuantizedLayer], metadata: [(key: String, value: String)],
                              outOfDistribution: OutOfDistributionCalibration? = nil) throws(ModelError) -> [UInt8] {
        let metadataOffset = self.metadataStart(hasOutOfDistribution: outOfDistribution != nil)
        var metadataBytes = [UInt8]()
        metadataBytes.appendLittleEndian(UInt32(metadata.count))
        for (key, value) in metadata {
            metadataBytes.appendLittleEndian(UInt32(key.utf8.count)); metadataBytes += key.utf8
            metadataBytes.appendLittleEndian(UInt32(value.utf8.count)); metadataBytes += value.utf8
        }
        let payloadEnd = metadataOffset + metadataBytes.count
        let payloadLength = payloadEnd - ModelFormat.inPlaceHeaderLength
        if payloadLength > ModelFormat.maximumPayloadLength {
            throw .payloadTooLarge(declared: UInt32(clamping: payloadLength), limit: ModelFormat.maximumPayloadLength)
        }
        var image = [UInt8](repeating: 0, count: payloadEnd + ModelFormat.trailerLength)
        image.withUnsafeMutableBytes { out in
            func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
                out.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
            }
            for (index, byte) in ModelFormat.magic.enumerated() { out[index] = byte }
            put(ModelFormat.currentVersion, at: ModelFormat.Offset.version)
            put(ModelFormat.inPlaceFlag | (outOfDistribution == nil ? 0 : ModelFormat.outOfDistributionFlag), at: ModelFormat.Offset.flags)
            put(UInt32(ModelFormat.inPlaceHeaderLength), at: ModelFormat.Offset.headerLength)
            put(UInt32(payloadLength), at: ModelFormat.Offset.payloadLength)
            put(UInt32(payloadLength), at: ModelFormat.Offset.compressedLength)
            for (index, layer) in layers.enumerated() {
                let weights = weightOffset(of: index)
                switch index {
                case 0, 1:
                    for o in 0..<layer.outputCount { for i in 0..<layer.inputCount { for tap in 0..<25 {
                        let w = layer.weights[(o * layer.inputCount + i) * 25 + tap]
                        out[weights + convWeightIndex(layer: index, output: o, input: i, tap: tap)] = UInt8(bitPattern: w)
                    } } }
                case 2:
                    for o in 0..<ModelFormat.fc1Features { for column in 0..<ModelFormat.flattenedFeatureCount {
                        out[weights + fc1WeightIndex(output: o, column: column)] =
                            UInt8(bitPattern: layer.weights[o * ModelFormat.flattenedFeatureCount + column])
                    } }
                default:
                    for (i, w) in layer.weights.enumerated() { out[weights + i] = UInt8(bitPattern: w) }
                }
                for c in 0..<layer.outputCount {
                    put(UInt32(bitPattern: layer.bias[c]), at: biasOffset(of: index) + 4 * c)
                    put(UInt32(bitPattern: layer.multiplier[c]), at: multiplierOffset(of: index) + 4 * c)
                    out[shiftOffset(of: index) + c] = UInt8(bitPattern: layer.shift[c])
                    put(layer.weightScales[c].bitPattern, at: weightScalesOffset(of: index) + 4 * c)
                }
                put(layer.inputScale.bitPattern, at: inputScaleOffset(of: index))
                put(layer.outputScale.bitPattern, at: outputScaleOffset(of: index))
            }
            if let outOfDistribution {
                for (i, byte) in outOfDistribution.encoded().enumerated() { out[outOfDistributionOffset + i] = byte }
            }
            for (i, byte) in metadataBytes.enumerated() { out[metadataOffset + i] = byte }
            let crc = CRC32.checksum(UnsafeBufferPointer(start: out.baseAddress!.assumingMemoryBound(to: UInt8.self), count: payloadEnd))
            put(crc, at: payloadEnd)
        }
        return image
    }

    // MARK: - Checker

    /// Checks an in-place image completely, where it lies, without allocating (unless it throws): the header and
    /// CRC-32 (``ModelHeader``), every padding byte, every weight (−127...127; conv1's taps past the window 0), every
    /// multiplier, shift, bias and scale (the ranges of <doc:ModelFormat>), and the metadata's structure (count,
    /// lengths, UTF-8, non-empty unique keys). Any alignment: values are read unaligned.
    ///
    /// - Returns: the header.
    /// - Throws: ``ModelError``; ``ModelError/notInPlace`` for a packed file.
    @discardableResult
    package static func validate(_ image: UnsafeRawBufferPointer) throws(ModelError) -> ModelHeader {
        let header = try ModelHeader(image.uint8Buffer())
        if !header.isInPlace { throw .notInPlace }
        try validateBody(image, header: header)
        return header
    }

    /// The checks after the header's (the CRC-32 has matched).
    static func validateBody(_ image: UnsafeRawBufferPointer, header: ModelHeader) throws(ModelError) {
        let payloadEnd = ModelFormat.inPlaceHeaderLength + Int(header.payloadLength)
        let hasOutOfDistribution = header.hasOutOfDistributionSection
        let metadataOffset = self.metadataStart(hasOutOfDistribution: hasOutOfDistribution)
        // The fixed sections must fit before the metadata count can be read.
        if payloadEnd < metadataOffset + 4 {
            throw .inPlaceLayoutMismatch(found: Int(header.payloadLength), expected: metadataOffset + 4 - ModelFormat.inPlaceHeaderLength)
        }
        try requireZero(image, from: ModelFormat.headerLength, to: ModelFormat.inPlaceHeaderLength)
        for index in 0..<5 {
            let name = self.name(of: index), n = outputCount(of: index)
            let weights = weightOffset(of: index), weightEnd = weights + weightByteCount(of: index)
            for offset in weights..<weightEnd {
                let byte = image[offset]
                if byte == 0x80 { throw .weightOutOfRange(layer: name, index: offset - weights, found: -128) }
                // conv1 stores taps kx = 5...7 of each row as zeros: quad 1, positions 1...3.
                if index == 0 && byte != 0 && (offset - weights) / 64 % 2 == 1 && (offset - weights) % 4 != 0 {
                    throw .nonZeroPadding(offset: offset, found: byte)
                }
            }
            try requireZero(image, from: weightEnd, to: aligned(weightEnd))
            for c in 0..<n {
                let multiplier = Int32(bitPattern: image.loadLittleEndian(UInt32.self, at: multiplierOffset(of: index) + 4 * c))
                let shift = Int8(bitPattern: image[shiftOffset(of: index) + c])
                let bias = Int32(bitPattern: image.loadLittleEndian(UInt32.self, at: biasOffset(of: index) + 4 * c))
                if !ModelFormat.multiplierRange.contains(multiplier) { throw .multiplierOutOfRange(layer: name, channel: c, found: multiplier) }
                if !ModelFormat.shiftRange.contains(shift) { throw .shiftOutOfRange(layer: name, channel: c, found: shift) }
                if bias.magnitude > ModelFormat.maximumBiasMagnitude.magnitude { throw .biasOutOfRange(layer: name, channel: c, found: bias) }
                let scale = Float(bitPattern: image.loadLittleEndian(UInt32.self, at: weightScalesOffset(of: index) + 4 * c))
                if !(scale.isFinite && scale >= 0) { throw .invalidScale(layer: name, field: "weightScales", found: scale) }
            }
            try requireZero(image, from: shiftOffset(of: index) + n, to: inputScaleOffset(of: index))
            let inputScale = Float(bitPattern: image.loadLittleEndian(UInt32.self, at: inputScaleOffset(of: index)))
            if !(inputScale.isFinite && inputScale > 0) { throw .invalidScale(layer: name, field: "inputScale", found: inputScale) }
            let outputScale = Float(bitPattern: image.loadLittleEndian(UInt32.self, at: outputScaleOffset(of: index)))
            if !(outputScale.isFinite && outputScale > 0) { throw .invalidScale(layer: name, field: "outputScale", found: outputScale) }
            let constantsEnd = constantsOffset(of: index) + constantsByteCount(of: index)
            try requireZero(image, from: constantsEnd, to: aligned(constantsEnd))
        }
        if hasOutOfDistribution {
            try OutOfDistributionCalibration.validate(image.baseAddress! + outOfDistributionOffset)
            try requireZero(image, from: outOfDistributionOffset + OutOfDistributionLayout.byteCount, to: metadataOffset)
        }
        try validateMetadata(image, start: metadataOffset, end: payloadEnd)
    }

    /// The `badMetadata` reason for a count above its limit: "[prefix]found unit, expected at most limit". On a device
    /// (Embedded Swift) the fixed `device` text instead: no String interpolation on its error paths, as it allocates
    /// and firmware may have no heap.
    private static func overLimit(_ found: Int, _ unit: String, limit: Int, prefix: String = "", device: String) -> String {
        #if hasFeature(Embedded)
        return device
        #else
        return "\(prefix)\(found) \(unit), expected at most \(limit)"
        #endif
    }

    /// Metadata as in the packed payload, checked in place: count ≤ 256, every length inside the payload, keys
    /// non-empty, at most 256 bytes and unique (byte for byte), keys and values valid UTF-8, nothing after the last.
    static func validateMetadata(_ image: UnsafeRawBufferPointer, start metadataOffset: Int, end: Int) throws(ModelError) {
        var position = metadataOffset
        let count = Int(image.loadLittleEndian(UInt32.self, at: position))
        position += 4
        if count > ModelFormat.maximumMetadataCount {
            throw .badMetadata(index: count, reason: overLimit(count, "entries", limit: ModelFormat.maximumMetadataCount,
                                                               device: "more entries than the 256 allowed"))
        }
        for index in 0..<count {
            let keyStart = position
            for field in 0..<2 {
                guard end - position >= 4 else { throw .payloadTruncated(field: field == 0 ? "metadata key length" : "metadata value length") }
                let length = Int(image.loadLittleEndian(UInt32.self, at: position))
                position += 4
                guard length <= end - position else { throw .payloadTruncated(field: field == 0 ? "metadata key" : "metadata value") }
                if field == 0 {
                    if length == 0 { throw .badMetadata(index: index, reason: "empty key; keys name what the value is") }
                    if length > ModelFormat.maximumKeyLength {
                        throw .badMetadata(index: index, reason: overLimit(length, "bytes", limit: ModelFormat.maximumKeyLength, prefix: "key is ",
                                                                           device: "key longer than the 256 bytes allowed"))
                    }
                }
                if !isValidUTF8(image, from: position, count: length) {
                    throw .badMetadata(index: index, reason: field == 0 ? "key is not valid UTF-8" : "value is not valid UTF-8")
                }
                position += length
            }
            // Unique keys: compare with every earlier key (at most 256 entries, so at most 32,640 comparisons).
            var earlier = metadataOffset + 4
            for _ in 0..<index {
                if sameKey(image, earlier, keyStart) { throw .badMetadata(index: index, reason: "duplicate key; keys must be unique") }
                earlier = entryEnd(image, earlier)
            }
        }
        if position != end { throw .payloadTrailingBytes(count: end - position) }
    }

    /// Where the metadata entry starting at `start` (already checked) ends.
    static func entryEnd(_ image: UnsafeRawBufferPointer, _ start: Int) -> Int {
        let keyLength = Int(image.loadLittleEndian(UInt32.self, at: start))
        let valueStart = start + 4 + keyLength
        return valueStart + 4 + Int(image.loadLittleEndian(UInt32.self, at: valueStart))
    }

    /// Whether the keys of the entries starting at `a` and `b` are the same bytes.
    static func sameKey(_ image: UnsafeRawBufferPointer, _ a: Int, _ b: Int) -> Bool {
        let length = Int(image.loadLittleEndian(UInt32.self, at: a))
        if length != Int(image.loadLittleEndian(UInt32.self, at: b)) { return false }
        for i in 0..<length where image[a + 4 + i] != image[b + 4 + i] { return false }
        return true
    }

    /// UTF-8 well-formedness (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF), byte by byte.
    static func isValidUTF8(_ image: UnsafeRawBufferPointer, from start: Int, count: Int) -> Bool {
        var i = start
        let end = start + count
        while i < end {
            let lead = image[i]
            let length: Int, low: UInt8, high: UInt8  // allowed range of the second byte
            switch lead {
            case 0x00...0x7F: i += 1; continue
            case 0xC2...0xDF: length = 2; low = 0x80; high = 0xBF
            case 0xE0: length = 3; low = 0xA0; high = 0xBF
            case 0xE1...0xEC, 0xEE...0xEF: length = 3; low = 0x80; high = 0xBF
            case 0xED: length = 3; low = 0x80; high = 0x9F
            case 0xF0: length = 4; low = 0x90; high = 0xBF
            case 0xF1...0xF3: length = 4; low = 0x80; high = 0xBF
            case 0xF4: length = 4; low = 0x80; high = 0x8F
            default: return false
            }
            if end - i < length { return false }
            if image[i + 1] < low || image[i + 1] > high { return false }
            for k in 2..<length where image[i + k] & 0xC0 != 0x80 { return false }
            i += length
        }
        return true
    }

    static func requireZero(_ image: UnsafeRawBufferPointer, from start: Int, to end: Int) throws(ModelError) {
        for offset in start..<end where image[offset] != 0 { throw .nonZeroPadding(offset: offset, found: image[offset]) }
    }

    // MARK: - Reader (allocating; for tools and the hosted Model)

    /// The layers and metadata of a checked in-place image, in the packed format's terms (PyTorch weight order):
    /// `Model(bytes:)` reads in-place images with it, and `mnistq export` proves its output round-trips.
    static func decode(_ image: UnsafeRawBufferPointer, header: ModelHeader) throws(ModelError)
        -> ([QuantizedLayer], [(key: String, value: String)], OutOfDistributionCalibration?) {
        try validateBody(image, header: header)
        return read(image)
    }

    /// The layers, metadata and out-of-distribution calibration (nil without flag bit 1) of an image that has passed
    /// ``validate(_:)``, read without checking again.
    static func read(_ image: UnsafeRawBufferPointer) -> ([QuantizedLayer], [(key: String, value: String)], OutOfDistributionCalibration?) {
        let hasOutOfDistribution = ModelHeader(trusting: image).hasOutOfDistributionSection
        let metadataOffset = self.metadataStart(hasOutOfDistribution: hasOutOfDistribution)
        var layers: [QuantizedLayer] = []
        for (index, spec) in ModelFormat.network.enumerated() {
            let weights = weightOffset(of: index)
            var values = [Int8](repeating: 0, count: spec.weightCount)
            switch index {
            case 0, 1:
                for o in 0..<spec.outputCount { for i in 0..<spec.inputCount { for tap in 0..<25 {
                    values[(o * spec.inputCount + i) * 25 + tap] =
                        Int8(bitPattern: image[weights + convWeightIndex(layer: index, output: o, input: i, tap: tap)])
                } } }
            case 2:
                for o in 0..<ModelFormat.fc1Features { for column in 0..<ModelFormat.flattenedFeatureCount {
                    values[o * ModelFormat.flattenedFeatureCount + column] =
                        Int8(bitPattern: image[weights + fc1WeightIndex(output: o, column: column)])
                } }
            default:
                for i in 0..<spec.weightCount { values[i] = Int8(bitPattern: image[weights + i]) }
            }
            let n = spec.outputCount
            func int32s(_ offset: Int) -> [Int32] { (0..<n).map { Int32(bitPattern: image.loadLittleEndian(UInt32.self, at: offset + 4 * $0)) } }
            func float(_ offset: Int) -> Float { Float(bitPattern: image.loadLittleEndian(UInt32.self, at: offset)) }
            layers.append(QuantizedLayer(
                kind: spec.kind, outputCount: n, inputCount: spec.inputCount, weights: values,
                bias: int32s(biasOffset(of: index)), multiplier: int32s(multiplierOffset(of: index)),
                shift: (0..<n).map { Int8(bitPattern: image[shiftOffset(of: index) + $0]) },
                inputScale: float(inputScaleOffset(of: index)), outputScale: float(outputScaleOffset(of: index)),
                weightScales: (0..<n).map { float(weightScalesOffset(of: index) + 4 * $0) }))
        }
        var metadata: [(key: String, value: String)] = []
        let count = Int(image.loadLittleEndian(UInt32.self, at: metadataOffset))
        var position = metadataOffset + 4
        for _ in 0..<count {
            var fields: [String] = []
            for _ in 0..<2 {
                let length = Int(image.loadLittleEndian(UInt32.self, at: position))
                fields.append(String(decoding: UnsafeRawBufferPointer(rebasing: image[(position + 4)..<(position + 4 + length)]), as: UTF8.self))
                position += 4 + length
            }
            metadata.append((fields[0], fields[1]))
        }
        let outOfDistribution = hasOutOfDistribution ? OutOfDistributionCalibration.read(image.baseAddress! + outOfDistributionOffset) : nil
        return (layers, metadata, outOfDistribution)
    }
}

extension UnsafeRawBufferPointer {
    /// The bytes as a `UInt8` buffer (raw bytes are always readable as UInt8).
    func uint8Buffer() -> UnsafeBufferPointer<UInt8> {
        guard let base = baseAddress else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: count)
    }

    /// A little-endian integer at any offset and alignment (callers have bounded `offset`).
    @inline(__always)
    func loadLittleEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
