// Shared test helpers: the system zlib as the reference codec (with the block structures the inflater tests need),
// the package's seeded generator, and a synthetic valid model.
import _CZlib
@testable import MNISTQRuntime
import MNISTQSupport
import XCTest

/// The package's one seeded generator (SplitMix64), under the name these tests use.
typealias SeededGenerator = SplitMix64

enum ZlibError: Error { case failed(String, Int32) }

/// Compresses with the system zlib. `windowBits` 15 = zlib stream; `flushEvery` > 0 issues Z_FULL_FLUSH after
/// every that many input bytes, which ends the current block (so the stream has many blocks, some empty stored).
func zlibCompress(_ input: [UInt8], level: Int32 = 9, strategy: Int32 = Z_DEFAULT_STRATEGY, windowBits: Int32 = 15,
                  flushEvery: Int = 0) throws -> [UInt8] {
    var stream = z_stream()
    let status = mnistq_deflate_init2(&stream, level, windowBits, strategy)
    guard status == Z_OK else { throw ZlibError.failed("deflateInit2", status) }
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 64 + input.count / 100)
    var input = input
    let chunk = flushEvery > 0 ? flushEvery : max(1, input.count)
    var produced = 0
    try input.withUnsafeMutableBufferPointer { inBuffer in
        try output.withUnsafeMutableBufferPointer { outBuffer in
            var offset = 0
            repeat {
                let length = min(chunk, inBuffer.count - offset)
                let isLast = offset + length >= inBuffer.count
                stream.next_in = inBuffer.baseAddress.map { $0 + offset }
                stream.avail_in = UInt32(length)
                stream.next_out = outBuffer.baseAddress! + produced
                stream.avail_out = UInt32(outBuffer.count - produced)
                let result = deflate(&stream, isLast ? Z_FINISH : Z_FULL_FLUSH)
                produced = outBuffer.count - Int(stream.avail_out)
                if isLast {
                    guard result == Z_STREAM_END else { throw ZlibError.failed("deflate finish", result) }
                } else {
                    guard result == Z_OK else { throw ZlibError.failed("deflate", result) }
                }
                offset += length
            } while offset < inBuffer.count
        }
    }
    return Array(output[0..<produced])
}

/// The system zlib's inflate of a whole zlib stream, or nil when zlib rejects it.
func zlibReferenceInflate(_ input: [UInt8], capacity: Int) -> [UInt8]? {
    var stream = z_stream()
    guard mnistq_inflate_init2(&stream, 15) == Z_OK else { return nil }
    defer { inflateEnd(&stream) }
    var input = input
    var output = [UInt8](repeating: 0, count: max(1, capacity))
    let (result, produced) = input.withUnsafeMutableBufferPointer { inBuffer in
        output.withUnsafeMutableBufferPointer { outBuffer in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = UInt32(inBuffer.count)
            stream.next_out = outBuffer.baseAddress
            stream.avail_out = UInt32(outBuffer.count)
            let result = inflate(&stream, Z_FINISH)
            return (result, outBuffer.count - Int(stream.avail_out))
        }
    }
    return result == Z_STREAM_END ? Array(output[0..<produced]) : nil
}

/// zlib's verdict on a whole model-style stream: its output when the stream decodes to exactly `length` bytes and
/// ends exactly at the end of `input` (what `Inflate.zlibDecompress` requires), else nil.
func zlibVerdict(_ input: [UInt8], length: Int) -> [UInt8]? {
    var stream = z_stream()
    guard mnistq_inflate_init2(&stream, 15) == Z_OK else { return nil }
    defer { inflateEnd(&stream) }
    var input = input
    var output = [UInt8](repeating: 0, count: length + 1)
    let (result, produced, unread) = input.withUnsafeMutableBufferPointer { inBuffer in
        output.withUnsafeMutableBufferPointer { outBuffer in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = UInt32(inBuffer.count)
            stream.next_out = outBuffer.baseAddress
            stream.avail_out = UInt32(outBuffer.count)
            let result = inflate(&stream, Z_FINISH)
            return (result, outBuffer.count - Int(stream.avail_out), Int(stream.avail_in))
        }
    }
    guard result == Z_STREAM_END, produced == length, unread == 0 else { return nil }
    return Array(output[0..<length])
}

/// zlib's raw inflate of a zlib stream's deflate data (header and trailer ignored), or nil if zlib rejects it.
func zlibRawInflate(ofZlibStream stream: [UInt8], capacity: Int) -> [UInt8]? {
    guard stream.count > 6 else { return nil }
    var z = z_stream()
    guard mnistq_inflate_init2(&z, -15) == Z_OK else { return nil }
    defer { inflateEnd(&z) }
    var body = Array(stream[2..<(stream.count - 4)])
    var output = [UInt8](repeating: 0, count: max(1, capacity))
    let (result, produced) = body.withUnsafeMutableBufferPointer { inBuffer in
        output.withUnsafeMutableBufferPointer { outBuffer in
            z.next_in = inBuffer.baseAddress
            z.avail_in = UInt32(inBuffer.count)
            z.next_out = outBuffer.baseAddress
            z.avail_out = UInt32(outBuffer.count)
            let result = inflate(&z, Z_FINISH)
            return (result, outBuffer.count - Int(z.avail_out))
        }
    }
    return result == Z_STREAM_END ? Array(output[0..<produced]) : nil
}

/// The deflate the quantizer uses: a zlib stream at level 9.
func zlibDeflate(_ payload: [UInt8]) throws -> [UInt8] { try zlibCompress(payload, level: 9) }

func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var rng = SeededGenerator(seed: seed)
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
}

/// Bytes that compress the way real data does: skewed symbols and repeated phrases (exercises long matches).
func compressibleBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var rng = SeededGenerator(seed: seed)
    var out: [UInt8] = []
    out.reserveCapacity(count)
    let words = (0..<40).map { _ in (0..<Int.random(in: 2...12, using: &rng)).map { _ in UInt8.random(in: 97...122, using: &rng) } }
    while out.count < count {
        switch Int.random(in: 0..<10, using: &rng) {
        case 0: out += [UInt8](repeating: UInt8.random(in: 0...255, using: &rng), count: Int.random(in: 1...300, using: &rng))
        case 1: out.append(UInt8.random(in: 0...255, using: &rng))
        default: out += words[Int.random(in: 0..<words.count, using: &rng)]; out.append(32)
        }
    }
    return Array(out.prefix(count))
}

/// A valid model with seeded random parameters (shapes of the fixed network, every value inside its range).
func syntheticLayers(seed: UInt64) -> [QuantizedLayer] {
    var rng = SeededGenerator(seed: seed)
    return ModelFormat.network.map { spec in
        let weights = (0..<spec.weightCount).map { _ in
            // Roughly bell-shaped like trained weights: the sum of three uniforms.
            Int8((0..<3).map { _ in Int.random(in: -42...42, using: &rng) }.reduce(0, +))
        }
        return QuantizedLayer(
            kind: spec.kind, outputCount: spec.outputCount, inputCount: spec.inputCount, weights: weights,
            bias: (0..<spec.outputCount).map { _ in Int32.random(in: -100_000...100_000, using: &rng) },
            multiplier: (0..<spec.outputCount).map { _ in Int32.random(in: ModelFormat.multiplierRange, using: &rng) },
            shift: (0..<spec.outputCount).map { _ in Int8.random(in: (spec.kind == .linearScores ? 20 : 36)...(spec.kind == .linearScores ? 26 : 42), using: &rng) },
            inputScale: Float.random(in: 0.001...0.1, using: &rng), outputScale: Float.random(in: 0.001...0.1, using: &rng),
            weightScales: (0..<spec.outputCount).map { _ in Float.random(in: 0.0001...0.01, using: &rng) })
    }
}

let syntheticMetadata: [(key: String, value: String)] = [
    ("source-model", "synthetic (seeded test model)"), ("calibration-method", "none"), ("created-by", "MNISTQRuntimeTests"),
    ("note", "UTF-8 works: 28×28 → 0…9"),
]

/// Package root, derived from this file's path (Tests/MNISTQRuntimeTests/<file>).
let packageRoot: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

/// Golden vectors: `MNISTQ_GOLDEN_DIR`, else ../shared/golden next to the package.
let goldenDirectory: String = ProcessInfo.processInfo.environment["MNISTQ_GOLDEN_DIR"] ?? "\(packageRoot)/../shared/golden"

/// Little-endian field writes for hand-built files.
extension Array where Element == UInt8 {
    mutating func putLE<T: FixedWidthInteger>(_ value: T) {
        for index in 0..<MemoryLayout<T>.size { append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }
    mutating func setLE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        for index in 0..<MemoryLayout<T>.size { self[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
    }
}

/// The in-place image fixtures the in-place and out-of-distribution tests share.
extension XCTestCase {
    /// The image with its CRC-32 recomputed, so that a deliberate change reaches the structural checks.
    func resealed(_ image: [UInt8]) -> [UInt8] {
        var image = image
        let end = image.count - 4
        image.setLE(CRC32.checksum(Array(image[0..<end])), at: end)
        return image
    }

    /// Asserts that borrowing `image` (copied to aligned memory) throws exactly `expected`.
    func assertRejects(_ image: [UInt8], _ expected: ModelError, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        let aligned = AlignedImage(image)
        XCTAssertThrowsError(try InPlaceModel(borrowing: aligned.bytes), message, file: file, line: line) { error in
            XCTAssertEqual(error as? ModelError, expected, message, file: file, line: line)
        }
    }
}
