// The float model file (.mnqf): the ten CNN tensors with their names and shapes, versioned and CRC-checked.
import Foundation
import MNISTQSupport

/// Reads and writes float models.
///
/// Format, version 1 (all integers unsigned 32-bit little-endian, floats IEEE-754 binary32 little-endian):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | magic `"MNQF"` |
/// | 4 | 4 | version = 1 |
/// | 8 | 4 | tensor count = 10 |
/// | 12 | … | per tensor, in `CNNShape` order: name length, UTF-8 name, rank, rank × dimension |
/// | … | 4·N | the float data of all tensors, in the same order, row-major (PyTorch layouts) |
/// | end−4 | 4 | CRC-32 (IEEE, as zlib's `crc32`) of every byte before it |
///
/// The version changes only when the structure does. Readers trust nothing: names, shapes, the exact file
/// length and the CRC are all checked, and non-finite weights are refused.
package enum FloatModelFile {
    package static let magic: [UInt8] = Array("MNQF".utf8)
    package static let version: UInt32 = 1
    /// No valid version-1 file is larger than this (the real size is ~850 KB).
    static let maxBytes = 4 << 20

    /// The file's bytes for `parameters`.
    package static func encode(_ parameters: CNNParameters) -> [UInt8] {
        var w = ByteWriter()
        w.raw(magic)
        w.u32(version)
        w.u32(UInt32(CNNShape.names.count))
        for (name, shape) in zip(CNNShape.names, CNNShape.shapes) {
            w.string(name)
            w.u32(UInt32(shape.count))
            for d in shape { w.u32(UInt32(d)) }
        }
        for tensor in parameters.tensors {
            tensor.withUnsafeBufferPointer { w.floats($0.baseAddress!, count: $0.count) }
        }
        w.appendCRC()
        return w.bytes
    }

    /// Writes `parameters` to `path` atomically, then reads the file back and checks it decodes to the same values.
    package static func save(_ parameters: CNNParameters, to path: String) throws {
        let bytes = encode(parameters)
        try AtomicFile.write(bytes, to: path)
        let back = try load(path: path)
        guard back.tensors.map({ $0.map(\.bitPattern) }) == parameters.tensors.map({ $0.map(\.bitPattern) }) else {
            throw FloatModelFileError.verifyFailed(file: path)
        }
    }

    /// Loads a float model file written by `save`.
    package static func load(path: String) throws -> CNNParameters {
        let bytes: [UInt8]
        do { bytes = try readWholeFile(path, maxBytes: maxBytes) } catch let e as ModelFileError {
            throw FloatModelFileError.unreadable(file: path, detail: e.detail)
        }
        return try decode(bytes, file: path)
    }

    /// Decodes file bytes; `file` only names the source in errors.
    package static func decode(_ bytes: [UInt8], file: String) throws -> CNNParameters {
        guard bytes.count >= 4, Array(bytes[0..<4]) == magic else {
            throw FloatModelFileError.badMagic(file: file, found: Array(bytes.prefix(4)))
        }
        var r = ByteReader(bytes, end: bytes.count - 4)
        do {
            _ = try r.take(4)
            let v = try r.u32()
            guard v == version else { throw FloatModelFileError.unsupportedVersion(file: file, found: v, supported: version) }
            let n = try r.u32()
            guard n == UInt32(CNNShape.names.count) else {
                throw FloatModelFileError.badField(file: file, field: "tensor count", found: "\(n)", expected: "\(CNNShape.names.count)")
            }
            for (index, (name, shape)) in zip(CNNShape.names, CNNShape.shapes).enumerated() {
                guard let found = try r.string(maxBytes: 64), found == name else {
                    throw FloatModelFileError.badField(file: file, field: "tensor \(index) name", found: "unexpected", expected: name)
                }
                let rank = try r.u32()
                guard rank == UInt32(shape.count) else {
                    throw FloatModelFileError.badField(file: file, field: "\(name) rank", found: "\(rank)", expected: "\(shape.count)")
                }
                var dims = [Int]()
                for _ in 0..<shape.count { dims.append(Int(try r.u32())) }
                guard dims == shape else {
                    throw FloatModelFileError.badField(file: file, field: "\(name) shape", found: "\(dims)", expected: "\(shape)")
                }
            }
            let expectedLength = r.offset + CNNShape.totalCount * 4 + 4
            guard bytes.count >= expectedLength else {
                throw FloatModelFileError.truncated(file: file, expectedBytes: expectedLength, foundBytes: bytes.count)
            }
            guard bytes.count == expectedLength else {
                throw FloatModelFileError.badField(file: file, field: "file length", found: "\(bytes.count) bytes", expected: "\(expectedLength) bytes")
            }
            let (stored, computed) = trailingCRC(bytes)
            guard stored == computed else {
                throw FloatModelFileError.checksumMismatch(file: file, stored: stored, computed: computed)
            }
            var tensors = [[Float]]()
            for (name, count) in zip(CNNShape.names, CNNShape.counts) {
                var t = [Float](repeating: 0, count: count)
                try t.withUnsafeMutableBufferPointer { try r.floats(into: $0.baseAddress!, count: count) }
                if let bad = t.firstIndex(where: { !$0.isFinite }) {
                    throw FloatModelFileError.nonFinite(file: file, tensor: name, index: bad)
                }
                tensors.append(t)
            }
            return CNNParameters(tensors: tensors)
        } catch let end as ByteReaderEnd {
            throw FloatModelFileError.truncated(file: file, expectedBytes: end.needed + 4, foundBytes: bytes.count)
        }
    }
}

/// A problem with a float model file; each message names the file, what was found and what was expected.
enum FloatModelFileError: Error, Equatable, CustomStringConvertible {
    case unreadable(file: String, detail: String)
    case badMagic(file: String, found: [UInt8])
    case unsupportedVersion(file: String, found: UInt32, supported: UInt32)
    case badField(file: String, field: String, found: String, expected: String)
    case truncated(file: String, expectedBytes: Int, foundBytes: Int)
    case checksumMismatch(file: String, stored: UInt32, computed: UInt32)
    case nonFinite(file: String, tensor: String, index: Int)
    case verifyFailed(file: String)

    package var description: String {
        switch self {
        case let .unreadable(file, detail):
            return "\(file): cannot read the float model: \(detail)"
        case let .badMagic(file, found):
            let hex = found.map { String(format: "%02x", $0) }.joined(separator: " ")
            return "\(file): not a float model file: magic is [\(hex)], expected \"MNQF\". Hint: pass a .mnqf file written by `mnistq train`."
        case let .unsupportedVersion(file, found, supported):
            return "\(file): float model version \(found), this build reads version \(supported). Hint: retrain or use a matching mnistq."
        case let .badField(file, field, found, expected):
            return "\(file): \(field) is \(found), expected \(expected)."
        case let .truncated(file, expected, found):
            return "\(file): truncated: needs at least \(expected) bytes, has \(found). Hint: the copy was interrupted; write it again."
        case let .checksumMismatch(file, stored, computed):
            return "\(file): CRC-32 mismatch: stored \(String(format: "%08x", stored)), computed \(String(format: "%08x", computed)). The file is damaged."
        case let .nonFinite(file, tensor, index):
            return "\(file): \(tensor)[\(index)] is not finite. Hint: the training run diverged; retrain."
        case let .verifyFailed(file):
            return "\(file): reading the file back gave different values than were written."
        }
    }
}
