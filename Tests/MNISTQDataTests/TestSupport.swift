// Shared test helpers: where MNIST lives, temporary directories, a stored-block gzip writer.
import Foundation
import XCTest
import MNISTQData

enum TestData {
    /// The package root, from this file's real path (…/Tests/MNISTQDataTests/TestSupport.swift).
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `MNIST_DIR`, else ../shared/mnist next to the package. Fails the test (does not skip) when the
    /// files are not there.
    static func mnistDirectory(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let env = ProcessInfo.processInfo.environment["MNIST_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        let dir = env ?? packageRoot.appendingPathComponent("../shared/mnist").standardizedFileURL.path
        let missing = MNIST.missingFiles(in: dir)
        if !missing.isEmpty {
            XCTFail("MNIST data not found in \(dir) (\(env == nil ? "fallback ../shared/mnist" : "MNIST_DIR")): missing \(missing.joined(separator: ", ")). Set MNIST_DIR to the folder with the four MNIST .gz files.", file: file, line: line)
            throw XCTSkip("no MNIST data")  // already failed above; stop this test
        }
        return dir
    }

    static func read(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

/// A fresh temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "mnistq-data-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
    func write(_ bytes: [UInt8], to name: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: file(name)))
    }
    func contents() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// gzip with stored (uncompressed) deflate blocks (RFC 1951 §3.2.4, RFC 1952): an independent writer, so
/// the tests do not use the zlib that the reader uses.
func gzipStored(_ data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]
    var offset = 0
    repeat {
        let n = min(65535, data.count - offset)
        let final = offset + n == data.count
        out.append(final ? 1 : 0)
        out += [UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8((~n >> 8) & 0xff)]
        out += data[offset..<(offset + n)]
        offset += n
    } while offset < data.count
    let crc = crc32(data), size = UInt32(truncatingIfNeeded: data.count)
    for shift in [0, 8, 16, 24] as [UInt32] { out.append(UInt8(truncatingIfNeeded: crc >> shift)) }
    for shift in [0, 8, 16, 24] as [UInt32] { out.append(UInt8(truncatingIfNeeded: size >> shift)) }
    return out
}

/// CRC-32 (IEEE, reflected, as gzip uses it), bit by bit.
func crc32(_ data: [UInt8]) -> UInt32 {
    var table = [UInt32](repeating: 0, count: 256)
    for i in 0..<256 {
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        table[i] = c
    }
    var crc: UInt32 = 0xFFFF_FFFF
    for b in data { crc = table[Int((crc ^ UInt32(b)) & 0xff)] ^ (crc >> 8) }
    return crc ^ 0xFFFF_FFFF
}

/// Big-endian IDX header fields.
func idxHeader(_ fields: [UInt32]) -> [UInt8] {
    fields.flatMap { [UInt8($0 >> 24), UInt8(truncatingIfNeeded: $0 >> 16), UInt8(truncatingIfNeeded: $0 >> 8), UInt8(truncatingIfNeeded: $0)] }
}
