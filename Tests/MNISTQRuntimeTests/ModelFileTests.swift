// Model file round trips and one test per rejection: header, lengths, CRC, payload structure, metadata; plus a fuzz loop.
@testable import MNISTQRuntime
import XCTest

final class ModelFileTests: XCTestCase {
    private func syntheticFile(seed: UInt64 = 11) throws -> [UInt8] {
        try ModelFile.encode(layers: syntheticLayers(seed: seed), metadata: syntheticMetadata, deflate: zlibDeflate)
    }

    private func loadError(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> ModelError? {
        do {
            _ = try Model(bytes: bytes)
            XCTFail("file was accepted", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    /// Recomputes the trailer so a deliberately changed file gets past the CRC to the check under test.
    private func withFixedCRC(_ bytes: [UInt8]) -> [UInt8] {
        var fixed = bytes
        fixed.setLE(CRC32.checksum(Array(bytes.dropLast(4))), at: bytes.count - 4)
        return fixed
    }

    /// An independent writer that follows the spec (ModelFormat.md) field by field, with hooks to break it.
    private func specFile(_ layers: [QuantizedLayer], metadata: [(String, [UInt8])] = [("created-by", Array("spec".utf8))],
                          layerCount: UInt32? = nil, extraPayload: [UInt8] = [], omitMetadata: Bool = false) throws -> [UInt8] {
        var payload: [UInt8] = []
        payload.putLE(layerCount ?? UInt32(layers.count))
        for layer in layers {
            payload += [layer.kind.rawValue, 0, 0, 0]
            payload.putLE(UInt32(layer.outputCount)); payload.putLE(UInt32(layer.inputCount)); payload.putLE(UInt32(layer.weights.count))
            payload.putLE(layer.inputScale.bitPattern); payload.putLE(layer.outputScale.bitPattern)
            layer.bias.forEach { payload.putLE($0) }
            layer.multiplier.forEach { payload.putLE($0) }
            layer.shift.forEach { payload.putLE($0) }
            layer.weightScales.forEach { payload.putLE($0.bitPattern) }
            layer.weights.forEach { payload.putLE($0) }
        }
        if !omitMetadata { payload.putLE(UInt32(metadata.count)) }
        for (key, value) in metadata {
            payload.putLE(UInt32(key.utf8.count)); payload += key.utf8
            payload.putLE(UInt32(value.count)); payload += value
        }
        payload += extraPayload
        let compressed = try zlibDeflate(payload)
        var file = Array("MNQ8".utf8)
        file.putLE(UInt16(1)); file.putLE(UInt16(0)); file.putLE(UInt32(20))
        file.putLE(UInt32(payload.count)); file.putLE(UInt32(compressed.count))
        file += compressed
        file.putLE(CRC32.checksum(file))
        return file
    }

    // MARK: - Round trips

    func testRoundTripIsByteExact() throws {
        let layers = syntheticLayers(seed: 11)
        let bytes = try syntheticFile()
        let model = try Model(bytes: bytes)
        XCTAssertEqual(model.layers, layers)
        XCTAssertEqual(model.metadata.map(\.key), syntheticMetadata.map(\.key))
        XCTAssertEqual(model.metadata.map(\.value), syntheticMetadata.map(\.value))
        XCTAssertEqual(model.metadataValue(forKey: "note"), "UTF-8 works: 28×28 → 0…9")
        XCTAssertEqual(model.formatVersion, 1)
        XCTAssertEqual(model.fileByteCount, bytes.count)
        XCTAssertEqual(20 + model.compressedPayloadByteCount + 4, bytes.count)
        XCTAssertEqual(model.parameterCount, 212_280 + 3 * (16 + 32 + 120 + 84 + 10))
        let again = try ModelFile.encode(layers: model.layers, metadata: model.metadata, deflate: zlibDeflate)
        XCTAssertEqual(again, bytes, "re-encoding a loaded model must give identical bytes")
        // The spec-following writer produces the very same file: writer and spec agree field by field.
        XCTAssertEqual(try specFile(layers, metadata: syntheticMetadata.map { ($0.key, Array($0.value.utf8)) }), bytes)
    }

    func testEveryDeflateLevelAndStrategyLoads() throws {
        let layers = syntheticLayers(seed: 12)
        for level: Int32 in [0, 1, 9] {
            let bytes = try ModelFile.encode(layers: layers, metadata: [], deflate: { try zlibCompress($0, level: level) })
            XCTAssertEqual(try Model(bytes: bytes).layers, layers, "level \(level)")
        }
        let fixed = try ModelFile.encode(layers: layers, metadata: [], deflate: { try zlibCompress($0, level: 6, strategy: 4) })
        XCTAssertEqual(try Model(bytes: fixed).layers, layers, "Z_FIXED")
    }

    func testHeaderLayout() throws {
        let bytes = try syntheticFile()
        XCTAssertEqual(Array(bytes[0..<4]), Array("MNQ8".utf8))
        XCTAssertEqual(bytes[4], 1); XCTAssertEqual(bytes[5], 0)           // version 1, little-endian
        XCTAssertEqual(bytes[6], 0); XCTAssertEqual(bytes[7], 0)           // flags
        XCTAssertEqual(Array(bytes[8..<12]), [20, 0, 0, 0])               // header length
        XCTAssertEqual(Array(bytes[20..<22]), [0x78, 0xDA])                // zlib stream, level 9
        let model = try Model(bytes: bytes)
        XCTAssertEqual(model.header.crc32, CRC32.checksum(Array(bytes.dropLast(4))))
    }

    // MARK: - Header and container errors

    func testTruncatedFiles() throws {
        let bytes = try syntheticFile()
        XCTAssertEqual(loadError([]), .fileTooShort(length: 0, minimum: 24))
        XCTAssertEqual(loadError(Array(bytes.prefix(10))), .fileTooShort(length: 10, minimum: 24))
        for cut in [1, 4, 1000, bytes.count - 30] {
            XCTAssertEqual(loadError(Array(bytes.dropLast(cut))), .truncated(length: bytes.count - cut, expected: bytes.count), "cut \(cut)")
        }
        XCTAssertEqual(loadError(bytes + [0]), .trailingBytes(length: bytes.count + 1, expected: bytes.count))
    }

    func testWrongMagicVersionFlagsAndHeaderLength() throws {
        let bytes = try syntheticFile()
        var magic = bytes; magic[0] = UInt8(ascii: "X")
        XCTAssertEqual(loadError(magic), .badMagic(found: Array("XNQ8".utf8)))
        XCTAssertEqual(loadError(Array("PK\u{3}\u{4}".utf8)), .badMagic(found: [0x50, 0x4B, 3, 4]))
        var version = bytes; version[4] = 2
        XCTAssertEqual(loadError(version), .unsupportedVersion(found: 2, supported: [1]))
        XCTAssert(loadError(version)!.description.contains("version is 2, this runtime reads version 1"))
        var flags = bytes; flags[6] = 0x04
        XCTAssertEqual(loadError(flags), .unknownFlags(found: 4, known: 3), "bits 0 (in-place image) and 1 (out-of-distribution section) are the only flags")
        var inPlace = bytes; inPlace[6] = 0x01
        XCTAssertEqual(loadError(inPlace), .badHeaderLength(found: 20, expected: 64), "a packed file that claims to be an in-place image")
        var headerLength = bytes; headerLength[8] = 24
        XCTAssertEqual(loadError(headerLength), .badHeaderLength(found: 24, expected: 20))
    }

    func testOversizedAndWrongPayloadLengths() throws {
        let bytes = try syntheticFile()
        let payloadLength = Int(try Model(bytes: bytes).header.payloadLength)
        var huge = bytes; huge.setLE(UInt32.max, at: 12)
        XCTAssertEqual(loadError(withFixedCRC(huge)), .payloadTooLarge(declared: UInt32.max, limit: 4 << 20))
        var overLimit = bytes; overLimit.setLE(UInt32(4 << 20) + 1, at: 12)
        XCTAssertEqual(loadError(withFixedCRC(overLimit)), .payloadTooLarge(declared: UInt32(4 << 20) + 1, limit: 4 << 20))
        var short = bytes; short.setLE(UInt32(payloadLength - 1), at: 12)
        XCTAssertEqual(loadError(withFixedCRC(short)), .inflate(.outputOverrun(limit: payloadLength - 1)))
        var long = bytes; long.setLE(UInt32(payloadLength + 1), at: 12)
        XCTAssertEqual(loadError(withFixedCRC(long)), .inflate(.outputShorterThanExpected(produced: payloadLength, expected: payloadLength + 1)))
        var compressedHuge = bytes; compressedHuge.setLE(UInt32.max, at: 16)
        XCTAssertEqual(loadError(compressedHuge), .truncated(length: bytes.count, expected: 20 + Int(UInt32.max) + 4))
    }

    func testBitFlipsAndWrongCRC() throws {
        let bytes = try syntheticFile()
        let stored = UInt32(bytes[bytes.count - 4]) | UInt32(bytes[bytes.count - 3]) << 8
            | UInt32(bytes[bytes.count - 2]) << 16 | UInt32(bytes[bytes.count - 1]) << 24
        for offset in [20, 21, 100, bytes.count / 2, bytes.count - 5] {
            for bit in [0, 3, 7] {
                var flipped = bytes
                flipped[offset] ^= 1 << bit
                guard case .crcMismatch(stored, _)? = loadError(flipped) else {
                    return XCTFail("flip at byte \(offset) bit \(bit): expected crcMismatch")
                }
            }
        }
        var crc = bytes; crc[bytes.count - 1] ^= 0x80
        XCTAssertEqual(loadError(crc), .crcMismatch(stored: stored ^ 0x8000_0000, computed: stored))
        // With the CRC recomputed, a flipped bit in the zlib stream reaches the inflater (or its Adler-32).
        var deep = bytes; deep[bytes.count / 2] ^= 0x10
        guard case .inflate? = loadError(withFixedCRC(deep)) else { return XCTFail("expected an inflate error") }
    }

    // MARK: - Payload structure

    func testStructurallyWrongLayers() throws {
        let good = syntheticLayers(seed: 13)
        XCTAssertEqual(try Model(bytes: try specFile(good)).layers, good, "the spec writer's baseline file loads")

        var multiplier = good; multiplier[2].multiplier[5] = (1 << 30) - 1
        XCTAssertEqual(loadError(try specFile(multiplier)), .multiplierOutOfRange(layer: "fc1", channel: 5, found: (1 << 30) - 1))
        var shift = good; shift[0].shift[3] = 63
        XCTAssertEqual(loadError(try specFile(shift)), .shiftOutOfRange(layer: "conv1", channel: 3, found: 63))
        var zeroShift = good; zeroShift[4].shift[9] = 0
        XCTAssertEqual(loadError(try specFile(zeroShift)), .shiftOutOfRange(layer: "fc3", channel: 9, found: 0))
        var weight = good; weight[1].weights[400 * 7 + 12] = -128
        XCTAssertEqual(loadError(try specFile(weight)), .weightOutOfRange(layer: "conv2", index: 400 * 7 + 12, found: -128))
        var bias = good; bias[3].bias[0] = Int32.min
        XCTAssertEqual(loadError(try specFile(bias)), .biasOutOfRange(layer: "fc2", channel: 0, found: Int32.min))
        var scale = good; scale[0].outputScale = .nan
        guard case .invalidScale(layer: "conv1", field: "outputScale", found: _)? = loadError(try specFile(scale)) else {
            return XCTFail("expected invalidScale")
        }
        var shape = good; shape[3] = good[2]  // fc1 where fc2 belongs
        XCTAssertEqual(loadError(try specFile(shape)), .wrongLayerShape(layer: "fc2", field: "outputCount", found: 120, expected: 84))
        var kind = good; kind[4].kind = .linearRelu
        XCTAssertEqual(loadError(try specFile(kind)), .wrongLayerKind(layer: "fc3", found: 2, expected: .linearScores))
        XCTAssertEqual(loadError(try specFile(Array(good.prefix(4)))), .wrongLayerCount(found: 4, expected: 5))
        XCTAssertEqual(loadError(try specFile(good, layerCount: 1_000_000)), .wrongLayerCount(found: 1_000_000, expected: 5))
        XCTAssertEqual(loadError(try specFile(good, extraPayload: [1, 2, 3])), .payloadTrailingBytes(count: 3))
        // A payload cut inside fc1's weights, declared at its true (short) length.
        let cutPayloadFile = try specFile(Array(good.prefix(3)), metadata: [], layerCount: 5, omitMetadata: true)
        XCTAssertEqual(loadError(cutPayloadFile), .payloadTruncated(field: "fc2.kind"))
    }

    /// The range checks alone must keep every accumulator inside Int32 (so the loader needs no per-channel sum).
    func testRangeChecksRuleOutAccumulatorOverflow() {
        XCTAssertEqual(ModelFormat.worstCaseAccumulator, (1 << 30) + 255 * 127 * 1568)
        XCTAssertLessThan(ModelFormat.worstCaseAccumulator, Int64(Int32.max))
    }

    func testEncodeRefusesWhatTheLoaderWouldReject() {
        var layers = syntheticLayers(seed: 14)
        layers[2].multiplier[0] = 5
        XCTAssertThrowsError(try ModelFile.encode(layers: layers, metadata: [], deflate: zlibDeflate)) {
            XCTAssertEqual($0 as? ModelError, .multiplierOutOfRange(layer: "fc1", channel: 0, found: 5))
        }
        XCTAssertThrowsError(try ModelFile.encode(layers: syntheticLayers(seed: 14), metadata: [("a", "1"), ("a", "2")], deflate: zlibDeflate)) {
            guard case .badMetadata(index: 1, reason: _)? = $0 as? ModelError else { return XCTFail("expected badMetadata, got \($0)") }
        }
        struct DeflateFailed: Error {}
        XCTAssertThrowsError(try ModelFile.encode(layers: syntheticLayers(seed: 14), metadata: [], deflate: { _ in throw DeflateFailed() })) {
            XCTAssert($0 is DeflateFailed)
        }
    }

    func testBadMetadata() throws {
        let good = syntheticLayers(seed: 15)
        guard case .badMetadata(index: 0, reason: let reason)? = loadError(try specFile(good, metadata: [("key", [0xFF, 0xFE])])) else {
            return XCTFail("expected badMetadata for invalid UTF-8")
        }
        XCTAssert(reason.contains("UTF-8"), reason)
        guard case .badMetadata(index: 1, reason: _)? = loadError(try specFile(good, metadata: [("k", []), ("k", [])])) else {
            return XCTFail("expected badMetadata for a duplicate key")
        }
        guard case .badMetadata(index: 0, reason: _)? = loadError(try specFile(good, metadata: [("", [])])) else {
            return XCTFail("expected badMetadata for an empty key")
        }
    }

    func testErrorDescriptionsNameFieldFoundExpectedAndHint() {
        let message = ModelError.multiplierOutOfRange(layer: "fc1", channel: 5, found: 7).description
        XCTAssert(message.contains("fc1.multiplier[5]") && message.contains("is 7") && message.contains("expected 1073741824"), message)
        XCTAssert(ModelError.truncated(length: 10, expected: 20).description.contains("truncated"))
        XCTAssert(ModelError.inflate(.adler32Mismatch(stored: 1, computed: 2)).description.contains("Adler-32"))
    }

    // MARK: - Fuzz

    /// Seeded random mutations of a valid file (half with the CRC repaired, so they reach inflate and the parser):
    /// every load either succeeds or throws a ModelError, never crashes or hangs.
    func testMutatedFilesNeverCrash() throws {
        let original = try syntheticFile(seed: 16)
        var rng = SeededGenerator(seed: 2026)
        #if DEBUG
        let iterations = 300
        #else
        let iterations = 3000
        #endif
        var rejected = 0
        for iteration in 0..<iterations {
            var bytes = original
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                switch Int.random(in: 0..<5, using: &rng) {
                case 0: // header field
                    bytes[Int.random(in: 0..<20, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                case 1: // bit flip anywhere
                    let bit = Int.random(in: 0..<(bytes.count * 8), using: &rng); bytes[bit / 8] ^= 1 << (bit % 8)
                case 2: // early stream bytes (block headers, code lengths)
                    bytes[Int.random(in: 20..<min(bytes.count, 300), using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
                case 3:
                    bytes.removeLast(Int.random(in: 1...min(64, bytes.count), using: &rng))
                default:
                    bytes.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...bytes.count, using: &rng))
                }
            }
            if iteration % 2 == 0, bytes.count >= 24 { bytes = withFixedCRC(bytes) }
            do { _ = try Model(bytes: bytes) } catch { rejected += 1 }
        }
        XCTAssertGreaterThan(rejected, iterations * 9 / 10, "nearly every mutation must be rejected")
    }
}
