// What the test targets share instead of each keeping a copy: where the data lives (`MNIST_DIR`,
// `MNISTQ_GOLDEN_DIR`, else ../shared next to the package), seeded data, and reference encoders for gzip, zlib
// and CRC-32 written independently of the readers under test.
import Foundation
import MNISTQSupport

/// Paths of the package and of the shared data the tests read (never committed: MNIST and the golden vectors).
package enum TestPaths {
    /// The package root, from this file's real path (…/Tests/MNISTQTestSupport/TestSupport.swift).
    package static let packageRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `$name` when set and not empty, else `../shared/<fallback>` next to the package.
    package static func shared(environment name: String, fallback: String) -> String {
        if let value = ProcessInfo.processInfo.environment[name], !value.isEmpty { return value }
        return packageRoot.appendingPathComponent("../shared/\(fallback)").standardizedFileURL.path
    }

    /// The folder with the four MNIST .gz files: `MNIST_DIR`, else ../shared/mnist.
    package static var mnistDirectory: String { shared(environment: "MNIST_DIR", fallback: "mnist") }
    /// The PyTorch golden vectors: `MNISTQ_GOLDEN_DIR`, else ../shared/golden.
    package static var goldenDirectory: String { shared(environment: "MNISTQ_GOLDEN_DIR", fallback: "golden") }
    /// The int8 model the accuracy tests use: `MNISTQ_MODEL`, else samples/mnistq-int8.mnq8.
    package static var sampleModelPath: String {
        if let value = ProcessInfo.processInfo.environment["MNISTQ_MODEL"], !value.isEmpty { return value }
        return packageRoot.appendingPathComponent("samples/mnistq-int8.mnq8").path
    }
}

/// Seeded test data: the same bytes on every run and machine.
package enum SeededData {
    /// `count` bytes from `SplitMix64(seed:)`, one byte (the top 8 bits) per draw.
    package static func bytes(count: Int, seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next() >> 56) }
    }
}

/// Reference encoders: stored (uncompressed) deflate blocks and a bitwise CRC-32, so the readers' tests do not rest
/// on the zlib they exercise; and the system zlib for compressed fixtures.
package enum ReferenceCoding {
    /// gzip with stored deflate blocks (RFC 1951 §3.2.4, RFC 1952).
    package static func gzipStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]
        out += storedBlocks(data)
        let crc = crc32(data), size = UInt32(truncatingIfNeeded: data.count)
        for shift in [0, 8, 16, 24] as [UInt32] { out.append(UInt8(truncatingIfNeeded: crc >> shift)) }
        for shift in [0, 8, 16, 24] as [UInt32] { out.append(UInt8(truncatingIfNeeded: size >> shift)) }
        return out
    }

    /// A zlib stream (RFC 1950) holding `data` in stored blocks, with its Adler-32.
    package static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        [0x78, 0x01] + storedBlocks(data) + adler32(data).bigEndianBytes
    }

    /// Deflate stored blocks of at most 65,535 bytes, the last one final.
    static func storedBlocks(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var offset = 0
        repeat {
            let n = min(65535, data.count - offset)
            out.append(offset + n == data.count ? 1 : 0)
            out += [UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8((~n >> 8) & 0xff)]
            out += data[offset..<(offset + n)]
            offset += n
        } while offset < data.count
        return out
    }

    /// CRC-32 (IEEE, reflected, as gzip and PNG use it), bit by bit.
    package static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// Adler-32 (RFC 1950), byte by byte.
    package static func adler32(_ data: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        return b << 16 | a
    }

    /// The system zlib's stream of `data` (windowBits 15 zlib, 31 gzip, -15 raw deflate), for compressed fixtures.
    package static func zlibCompressed(_ data: [UInt8], level: Int32 = 9, windowBits: Int32 = 15) throws -> [UInt8] {
        try Zlib.deflate(data, level: level, windowBits: windowBits)
    }
}

/// Big-endian IDX header fields.
package func idxHeader(_ fields: [UInt32]) -> [UInt8] { fields.flatMap(\.bigEndianBytes) }

/// A fresh temporary directory, removed by `remove()`.
package struct TemporaryDirectory {
    package let path: String
    package init(prefix: String = "mnistq-test") throws {
        path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    package func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
    package func write(_ bytes: [UInt8], to name: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: file(name)))
    }
    package func contents() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
    package func remove() { try? FileManager.default.removeItem(atPath: path) }
}
