// Little-endian byte writing/reading for the trainer's file formats (CRC-32: the runtime's, one implementation).
import Foundation
import MNISTQRuntime

/// Appends little-endian fields to a byte array.
struct ByteWriter {
    var bytes = [UInt8]()

    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func f64(_ v: Double) { u64(v.bitPattern) }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    mutating func string(_ s: String) { let utf8 = Array(s.utf8); u32(UInt32(utf8.count)); raw(utf8) }
    mutating func floats(_ p: UnsafePointer<Float>, count: Int) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: count * 4))
        bytes.withUnsafeMutableBytes { out in
            for i in 0..<count { out.storeBytes(of: p[i].bitPattern.littleEndian, toByteOffset: start + i * 4, as: UInt32.self) }
        }
    }
    /// Appends the CRC-32 of everything written so far.
    mutating func appendCRC() { u32(CRC32.checksum(bytes)) }
}

/// The CRC-32 stored in the last 4 bytes of `bytes` (as `appendCRC` wrote it) and the one computed over
/// everything before them. `bytes` must hold at least 4 bytes.
func trailingCRC(_ bytes: [UInt8]) -> (stored: UInt32, computed: UInt32) {
    let stored = bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self)) }
    let computed = bytes.withUnsafeBufferPointer { CRC32.checksum(UnsafeBufferPointer(rebasing: $0[0..<(bytes.count - 4)])) }
    return (stored, computed)
}

/// Why a `ByteReader` stopped: the offset it needed and the bytes available.
struct ByteReaderEnd: Error { let needed: Int; let available: Int }

/// Reads little-endian fields with bounds checks; running off the end throws instead of trapping.
struct ByteReader {
    let bytes: [UInt8]
    var offset = 0
    /// Reading stops here (the trailing CRC is not payload).
    let end: Int

    init(_ bytes: [UInt8], end: Int? = nil) { self.bytes = bytes; self.end = end ?? bytes.count }

    mutating func take(_ n: Int) throws -> Range<Int> {
        guard n >= 0, offset <= end - n else { throw ByteReaderEnd(needed: offset + max(n, 0), available: end) }
        defer { offset += n }
        return offset..<(offset + n)
    }
    mutating func u32() throws -> UInt32 {
        let r = try take(4)
        return bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: r.lowerBound, as: UInt32.self)) }
    }
    mutating func u64() throws -> UInt64 {
        let r = try take(8)
        return bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: r.lowerBound, as: UInt64.self)) }
    }
    mutating func f64() throws -> Double { Double(bitPattern: try u64()) }
    mutating func f32() throws -> Float { Float(bitPattern: try u32()) }
    /// A length-prefixed UTF-8 string of at most `maxBytes` bytes.
    mutating func string(maxBytes: Int) throws -> String? {
        let n = Int(try u32())
        guard n <= maxBytes else { return nil }
        return String(decoding: bytes[try take(n)], as: UTF8.self)
    }
    mutating func floats(into p: UnsafeMutablePointer<Float>, count: Int) throws {
        let r = try take(count * 4)
        bytes.withUnsafeBytes { raw in
            for i in 0..<count {
                p[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: r.lowerBound + i * 4, as: UInt32.self)))
            }
        }
    }
}

/// Reads a whole file, refusing anything larger than `maxBytes` before reading it.
func readWholeFile(_ path: String, maxBytes: Int) throws -> [UInt8] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw ModelFileError(file: path, detail: "no such file")
    }
    guard !isDirectory.boolValue else { throw ModelFileError(file: path, detail: "is a directory, expected a file") }
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
    if let size, size > maxBytes {
        throw ModelFileError(file: path, detail: "is \(size) bytes, larger than any valid file of this kind (\(maxBytes) bytes)")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ModelFileError(file: path, detail: "cannot read the file (permission denied?)")
    }
    return [UInt8](data)
}
