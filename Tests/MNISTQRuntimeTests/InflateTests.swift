// The runtime's own inflater against the system zlib, plus one test per kind of malformed stream.
import _CZlib
@testable import MNISTQRuntime
import XCTest

final class InflateTests: XCTestCase {
    /// Decodes `stream` with the runtime and with zlib and requires both to give `original`.
    private func assertInflates(_ stream: [UInt8], to original: [UInt8], _ label: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(zlibReferenceInflate(stream, capacity: original.count), original, "zlib itself: \(label)", file: file, line: line)
        do {
            let decoded = try Inflate.zlibDecompress(stream, expectedLength: original.count)
            XCTAssert(decoded == original, "runtime inflate differs from the original: \(label)", file: file, line: line)
        } catch {
            XCTFail("runtime inflate failed on \(label): \(error)", file: file, line: line)
        }
    }

    /// Real data: a model payload and a trained float weight file from the golden vectors.
    private func realPayloads() throws -> [(String, [UInt8])] {
        let model = try ModelFile.encode(layers: syntheticLayers(seed: 7), metadata: syntheticMetadata, deflate: { $0 })
        let weightsPath = "\(goldenDirectory)/trained.conv2.weight.f32"
        guard let weights = FileManager.default.contents(atPath: weightsPath) else {
            XCTFail("golden vectors missing: \(weightsPath) not readable; set MNISTQ_GOLDEN_DIR or provide ../shared/golden")
            return [("model payload", Array(model[20..<(model.count - 4)]))]
        }
        return [("model payload", Array(model[20..<(model.count - 4)])), ("trained conv2 weights (float32)", Array(weights))]
    }

    func testEveryLevelOnRandomCompressibleAndRealPayloads() throws {
        var inputs: [(String, [UInt8])] = [
            ("empty", []), ("one byte", [42]), ("random 10 KB", randomBytes(10_000, seed: 1)),
            ("compressible 100 KB", compressibleBytes(100_000, seed: 2)), ("zeros 70 KB", [UInt8](repeating: 0, count: 70_000)),
        ]
        inputs += try realPayloads()
        for (label, input) in inputs {
            for level in Int32(0)...9 {
                let stream = try zlibCompress(input, level: level)
                assertInflates(stream, to: input, "\(label), level \(level)")
            }
        }
    }

    func testStrategiesFixedHuffmanOnlyAndRLE() throws {
        let input = compressibleBytes(200_000, seed: 3)
        for (name, strategy) in [("Z_FIXED", Z_FIXED), ("Z_HUFFMAN_ONLY", Z_HUFFMAN_ONLY), ("Z_RLE", Z_RLE), ("Z_FILTERED", Z_FILTERED)] {
            for level: Int32 in [1, 6, 9] {
                assertInflates(try zlibCompress(input, level: level, strategy: strategy), to: input, "\(name) level \(level)")
            }
        }
        // Z_FIXED really produces fixed-Huffman blocks: the first block header's BTYPE bits are 01.
        let fixed = try zlibCompress(input, level: 6, strategy: Z_FIXED)
        XCTAssertEqual((fixed[2] >> 1) & 3, 1, "Z_FIXED stream should start with a fixed-Huffman block")
        let dynamic = try zlibCompress(input, level: 6)
        XCTAssertEqual((dynamic[2] >> 1) & 3, 2, "default stream should start with a dynamic-Huffman block")
        let stored = try zlibCompress(input, level: 0)
        XCTAssertEqual((stored[2] >> 1) & 3, 0, "level 0 stream should start with a stored block")
    }

    func testManyBlocksAndLargePayloads() throws {
        let large = compressibleBytes(1 << 20, seed: 4)
        // Full flushes every 3000 bytes end a block each time (and add empty stored blocks): hundreds of blocks.
        assertInflates(try zlibCompress(large, level: 6, flushEvery: 3000), to: large, "1 MiB, full flush every 3000 B")
        assertInflates(try zlibCompress(large, level: 9), to: large, "1 MiB level 9")
        assertInflates(try zlibCompress(large, level: 0), to: large, "1 MiB stored (17 stored blocks)")
        let noise = randomBytes(1 << 20, seed: 5)
        assertInflates(try zlibCompress(noise, level: 6), to: noise, "1 MiB random level 6")
        assertInflates(try zlibCompress([], level: 6, flushEvery: 1), to: [], "empty with flush")
    }

    // MARK: - Malformed streams, each with its own error

    private func inflateError(_ stream: [UInt8], expectedLength: Int) -> InflateError? {
        do { _ = try Inflate.zlibDecompress(stream, expectedLength: expectedLength); return nil } catch { return error }
    }

    func testBadZlibHeaders() throws {
        let good = try zlibCompress([1, 2, 3], level: 6)
        for (cmf, flg, fragment) in [(UInt8(0x79), UInt8(0x9C), "method"), (0x88, 0x1C, "window"), (0x78, 0x9D, "check bits")] {
            var stream = good
            stream[0] = cmf; stream[1] = flg
            guard case let .badZlibHeader(_, _, reason)? = inflateError(stream, expectedLength: 3) else {
                return XCTFail("expected badZlibHeader for CMF \(cmf) FLG \(flg)")
            }
            XCTAssert(reason.contains(fragment), "reason \"\(reason)\" should mention \(fragment)")
        }
        var dictionary = good
        dictionary[1] = 0xBB  // 0x78BB = 30907 = 31 × 997, FDICT set
        XCTAssertEqual(inflateError(dictionary, expectedLength: 3), .presetDictionaryUnsupported)
        // A raw deflate stream (no zlib header) is rejected at the header, with a hint.
        let raw = try zlibCompress([1, 2, 3], level: 6, windowBits: -15)
        guard case .badZlibHeader? = inflateError(raw, expectedLength: 3) else { return XCTFail("raw deflate accepted") }
        XCTAssertEqual(inflateError([0x78], expectedLength: 0), .prematureEnd(byteOffset: 1))
    }

    func testBadBlockType() {
        var bits = BitWriter()
        bits.write(1, 1); bits.write(3, 2)
        XCTAssertEqual(inflateError(bits.zlibStream(), expectedLength: 0), .badBlockType(3))
    }

    func testStoredLengthMismatch() {
        var bits = BitWriter()
        bits.write(1, 1); bits.write(0, 2); bits.alignToByte()
        bits.bytes += [5, 0, 0xFA, 0xFE]  // LEN 5, NLEN should be 0xFFFA
        XCTAssertEqual(inflateError(bits.zlibStream(), expectedLength: 5), .storedLengthMismatch(length: 5, complement: 0xFEFA))
    }

    func testBadCodeLengths() {
        // Every code-length code of length 1: 19 one-bit codes cannot exist (over-subscribed).
        var bits = BitWriter()
        bits.write(1, 1); bits.write(2, 2)
        bits.write(0, 5); bits.write(0, 5); bits.write(15, 4)
        for _ in 0..<19 { bits.write(1, 3) }
        guard case let .badCodeLengths(reason)? = inflateError(bits.zlibStream(), expectedLength: 0) else {
            return XCTFail("expected badCodeLengths")
        }
        XCTAssert(reason.contains("over-subscribed"), reason)

        // 287 literal/length codes: more than the 286 RFC 1951 allows.
        var tooMany = BitWriter()
        tooMany.write(1, 1); tooMany.write(2, 2); tooMany.write(30, 5); tooMany.write(0, 5); tooMany.write(0, 4)
        guard case .badCodeLengths? = inflateError(tooMany.zlibStream(), expectedLength: 0) else { return XCTFail("HLIT 287 accepted") }

        // Code-length code {0: 1 bit, 16: 1 bit}; first symbol is 16 (repeat previous) with nothing before it.
        var repeatFirst = BitWriter()
        repeatFirst.write(1, 1); repeatFirst.write(2, 2); repeatFirst.write(0, 5); repeatFirst.write(0, 5)
        repeatFirst.write(0, 4)                       // 4 code-length code lengths: order 16, 17, 18, 0
        repeatFirst.write(1, 3); repeatFirst.write(0, 3); repeatFirst.write(0, 3); repeatFirst.write(1, 3)
        repeatFirst.writeCode(1, length: 1)           // symbol 16 (codes: 0 → "0", 16 → "1")
        repeatFirst.write(0, 2)
        guard case let .badCodeLengths(reason2)? = inflateError(repeatFirst.zlibStream(), expectedLength: 0) else {
            return XCTFail("expected badCodeLengths for a leading repeat")
        }
        XCTAssert(reason2.contains("no previous"), reason2)
    }

    func testDistanceTooFarBack() {
        // Fixed block: length code 257 (match length 3) with distance code 0 (distance 1) as the very first symbol.
        var bits = BitWriter()
        bits.write(1, 1); bits.write(1, 2)
        bits.writeCode(0b000_0001, length: 7)  // symbol 257
        bits.writeCode(0, length: 5)           // distance symbol 0
        bits.writeCode(0, length: 7)           // end of block
        XCTAssertEqual(inflateError(bits.zlibStream(), expectedLength: 3), .distanceTooFarBack(distance: 1, available: 0))
    }

    func testInvalidFixedSymbols() {
        var bits = BitWriter()
        bits.write(1, 1); bits.write(1, 2)
        bits.writeCode(0b1100_0110, length: 8)  // literal/length symbol 286 (codes 280–287 are 11000000 + n)
        XCTAssertEqual(inflateError(bits.zlibStream(), expectedLength: 0), .invalidSymbol(table: "literal/length", symbol: 286))
        var distance = BitWriter()
        distance.write(1, 1); distance.write(1, 2)
        distance.writeCode(0x30 + 65, length: 8)  // literal 'A' (0–143 are 00110000 + n)
        distance.writeCode(0b000_0001, length: 7) // length 3
        distance.writeCode(30, length: 5)         // distance symbol 30
        XCTAssertEqual(inflateError(distance.zlibStream(), expectedLength: 4), .invalidSymbol(table: "distance", symbol: 30))
    }

    func testLengthChecksTruncationAdlerAndTrailingBytes() throws {
        let input = compressibleBytes(50_000, seed: 6)
        let stream = try zlibCompress(input, level: 6)
        XCTAssertEqual(inflateError(stream, expectedLength: input.count - 1), .outputOverrun(limit: input.count - 1))
        XCTAssertEqual(inflateError(try zlibCompress(input, level: 0), expectedLength: 100), .outputOverrun(limit: 100))
        XCTAssertEqual(inflateError(stream, expectedLength: input.count + 1),
                       .outputShorterThanExpected(produced: input.count, expected: input.count + 1))
        for cut in [2, 3, stream.count / 2, stream.count - 5, stream.count - 1] {
            guard case .prematureEnd? = inflateError(Array(stream.prefix(cut)), expectedLength: input.count) else {
                return XCTFail("truncation to \(cut) bytes: expected prematureEnd")
            }
        }
        var badAdler = stream
        badAdler[badAdler.count - 1] ^= 0x01
        let adler = Adler32.checksum(input)
        XCTAssertEqual(inflateError(badAdler, expectedLength: input.count), .adler32Mismatch(stored: adler ^ 1, computed: adler))
        XCTAssertEqual(inflateError(stream + [0, 0], expectedLength: input.count), .trailingBytes(count: 2))
    }

    /// Seeded random mutations of real streams: the inflater never crashes or hangs, and it accepts exactly the
    /// streams zlib accepts, with the same output. Half the mutants get their Adler-32 (and sometimes the
    /// expected length) repaired from zlib's raw decode, so that decoding differences are not hidden by the checksum.
    func testMutatedStreamsAgreeWithZlib() throws {
        var rng = SeededGenerator(seed: 99)
        let sources = [compressibleBytes(3000, seed: 8), randomBytes(500, seed: 9), [UInt8](repeating: 7, count: 2000),
                       compressibleBytes(700, seed: 10)]
        let streams = try sources.flatMap { source in
            try [0, 1, 6, 9].map { (source, try zlibCompress(source, level: Int32($0))) }
                + [(source, try zlibCompress(source, level: 6, strategy: Z_FIXED)),
                   (source, try zlibCompress(source, level: 6, strategy: Z_HUFFMAN_ONLY))]
        }
        #if DEBUG
        let iterations = 2000
        #else
        let iterations = 30_000
        #endif
        var accepted = 0
        for iteration in 0..<iterations {
            let (source, original) = streams[Int.random(in: 0..<streams.count, using: &rng)]
            var stream = original
            var length = source.count
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                switch Int.random(in: 0..<5, using: &rng) {
                case 0, 1: let bit = Int.random(in: 0..<(stream.count * 8), using: &rng); stream[bit / 8] ^= 1 << (bit % 8)
                case 2: stream[Int.random(in: 2..<min(stream.count, 40), using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                case 3: stream.removeLast(Int.random(in: 0...min(8, stream.count - 3), using: &rng))
                default: stream.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...stream.count, using: &rng))
                }
            }
            if iteration % 2 == 0, let decoded = zlibRawInflate(ofZlibStream: stream, capacity: 2 * source.count + 16) {
                let adler = Adler32.checksum(decoded)
                stream.setLE(adler.byteSwapped, at: stream.count - 4)  // the trailer is big-endian
                if Bool.random(using: &rng) { length = decoded.count }
            }
            let mine = try? Inflate.zlibDecompress(stream, expectedLength: length)
            let zlib = zlibVerdict(stream, length: length)
            if mine != zlib {
                return XCTFail("iteration \(iteration): runtime \(mine == nil ? "rejects" : "accepts"), zlib \(zlib == nil ? "rejects" : "accepts") (or outputs differ)")
            }
            if mine != nil { accepted += 1 }
        }
        XCTAssertGreaterThan(accepted, iterations / 20, "the Adler-32 repair should let many mutants through to compare outputs")
        XCTAssertLessThan(accepted, iterations * 3 / 4, "most mutants must be rejected")
    }

    // MARK: - Checksums

    func testChecksumsMatchZlib() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([]), 0)
        XCTAssertEqual(Adler32.checksum([]), 1)
        XCTAssertEqual(Adler32.checksum(Array("Wikipedia".utf8)), 0x11E6_0398)
        for (index, count) in [1, 100, 5552, 5553, 100_000, 1 << 20].enumerated() {
            var data = randomBytes(count, seed: UInt64(100 + index))
            if index == 4 { data = [UInt8](repeating: 255, count: count) }  // worst case for Adler-32's deferred modulo
            let zlibCRC = data.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
            let zlibAdler = data.withUnsafeBufferPointer { UInt32(adler32(1, $0.baseAddress, UInt32($0.count))) }
            XCTAssertEqual(CRC32.checksum(data), zlibCRC, "CRC-32 of \(count) bytes")
            XCTAssertEqual(Adler32.checksum(data), zlibAdler, "Adler-32 of \(count) bytes")
            var incremental = CRC32()
            incremental.update(Array(data.prefix(count / 3))); incremental.update(Array(data.dropFirst(count / 3)))
            XCTAssertEqual(incremental.value, zlibCRC, "incremental CRC-32 of \(count) bytes")
        }
    }
}

/// Writes deflate bit streams by hand: fields least significant bit first, Huffman codes most significant first.
struct BitWriter {
    var bytes: [UInt8] = []
    private var bitCount = 0

    mutating func write(_ value: Int, _ count: Int) {
        for index in 0..<count { writeBit((value >> index) & 1) }
    }
    mutating func writeCode(_ code: Int, length: Int) {
        for index in (0..<length).reversed() { writeBit((code >> index) & 1) }
    }
    private mutating func writeBit(_ bit: Int) {
        if bitCount % 8 == 0 { bytes.append(0) }
        bytes[bytes.count - 1] |= UInt8(bit) << UInt8(bitCount % 8)
        bitCount += 1
    }
    mutating func alignToByte() { bitCount = bytes.count * 8 }
    /// Wraps the deflate bits in a zlib header (78 9C) and an Adler-32 of nothing (these streams fail earlier).
    func zlibStream() -> [UInt8] { [0x78, 0x9C] + bytes + [0, 0, 0, 1] }
}
