// IDX files (MNIST's format): big-endian header, then one unsigned byte per pixel or label.
import Foundation

/// A stack of `count` images of `rows`×`columns` uint8 pixels, row-major, image after image.
public struct IDXImages: Sendable, Equatable {
    public let count: Int
    public let rows: Int
    public let columns: Int
    /// `count * rows * columns` pixels, 0 = background, 255 = ink.
    public let pixels: [UInt8]

    public init(count: Int, rows: Int, columns: Int, pixels: [UInt8]) {
        self.count = count; self.rows = rows; self.columns = columns; self.pixels = pixels
    }
}

public enum IDX {
    /// Magic number of an IDX image file (unsigned byte data, 3 dimensions).
    public static let imageMagic: UInt32 = 2051
    /// Magic number of an IDX label file (unsigned byte data, 1 dimension).
    public static let labelMagic: UInt32 = 2049
    /// No real IDX file we accept is bigger than this once decompressed (MNIST train images: 47 MB).
    public static let maxDecompressedBytes = 256 << 20
    /// Bounds on image side length; MNIST is 28.
    public static let maxSide = 4096

    /// Reads a file, gunzipping it when it starts with the gzip magic.
    public static func readBytes(path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
                throw DataError.unreadable(file: path, detail: isDir.boolValue ? "is a directory" : "permission denied")
            }
            throw DataError.unreadable(file: path, detail: "no such file")
        }
        let raw = [UInt8](data)
        if raw.count >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
            return try gunzip(raw, file: path, maxOutput: maxDecompressedBytes)
        }
        return raw
    }

    /// Parses IDX image bytes (already decompressed). `file` names the source in errors.
    public static func parseImages(_ bytes: [UInt8], file: String) throws -> IDXImages {
        guard bytes.count >= 16 else {
            throw DataError.truncated(file: file, expectedBytes: 16, foundBytes: bytes.count)
        }
        let magic = bigEndian32(bytes, 0)
        guard magic == imageMagic else {
            throw DataError.badField(file: file, field: "magic", found: "\(magic)", expected: "\(imageMagic) (IDX images)")
        }
        let count = Int(bigEndian32(bytes, 4)), rows = Int(bigEndian32(bytes, 8)), columns = Int(bigEndian32(bytes, 12))
        guard (1...maxSide).contains(rows) else {
            throw DataError.badField(file: file, field: "rows", found: "\(rows)", expected: "1...\(maxSide)")
        }
        guard (1...maxSide).contains(columns) else {
            throw DataError.badField(file: file, field: "columns", found: "\(columns)", expected: "1...\(maxSide)")
        }
        let (payload, overflow) = count.multipliedReportingOverflow(by: rows * columns)
        guard !overflow, payload <= maxDecompressedBytes else {
            throw DataError.badField(file: file, field: "count", found: "\(count)", expected: "at most \(maxDecompressedBytes / (rows * columns)) images")
        }
        guard bytes.count >= 16 + payload else {
            throw DataError.truncated(file: file, expectedBytes: 16 + payload, foundBytes: bytes.count)
        }
        guard bytes.count == 16 + payload else {
            throw DataError.badField(file: file, field: "length", found: "\(bytes.count) bytes", expected: "\(16 + payload) bytes (\(count) images of \(rows)x\(columns))")
        }
        return IDXImages(count: count, rows: rows, columns: columns, pixels: Array(bytes[16...]))
    }

    /// Parses IDX label bytes (already decompressed).
    public static func parseLabels(_ bytes: [UInt8], file: String) throws -> [UInt8] {
        guard bytes.count >= 8 else {
            throw DataError.truncated(file: file, expectedBytes: 8, foundBytes: bytes.count)
        }
        let magic = bigEndian32(bytes, 0)
        guard magic == labelMagic else {
            throw DataError.badField(file: file, field: "magic", found: "\(magic)", expected: "\(labelMagic) (IDX labels)")
        }
        let count = Int(bigEndian32(bytes, 4))
        guard count <= maxDecompressedBytes else {
            throw DataError.badField(file: file, field: "count", found: "\(count)", expected: "at most \(maxDecompressedBytes)")
        }
        guard bytes.count >= 8 + count else {
            throw DataError.truncated(file: file, expectedBytes: 8 + count, foundBytes: bytes.count)
        }
        guard bytes.count == 8 + count else {
            throw DataError.badField(file: file, field: "length", found: "\(bytes.count) bytes", expected: "\(8 + count) bytes (\(count) labels)")
        }
        let labels = Array(bytes[8...])
        if let bad = labels.firstIndex(where: { $0 > 9 }) {
            throw DataError.badField(file: file, field: "label[\(bad)]", found: "\(labels[bad])", expected: "0...9")
        }
        return labels
    }

    public static func readImages(path: String) throws -> IDXImages {
        try parseImages(readBytes(path: path), file: path)
    }

    public static func readLabels(path: String) throws -> [UInt8] {
        try parseLabels(readBytes(path: path), file: path)
    }

    @inline(__always)
    static func bigEndian32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }
}
