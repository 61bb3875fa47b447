// IDX files (MNIST's format): big-endian header, then one unsigned byte per pixel or label.
import Foundation

/// A stack of `count` images of `rows`×`columns` uint8 pixels, row-major, image after image.
public struct IDXImages: Sendable, Equatable {
    /// Number of images.
    public let count: Int
    /// Image height in pixels.
    public let rows: Int
    /// Image width in pixels.
    public let columns: Int
    /// `count * rows * columns` pixels, 0 = background, 255 = ink.
    public let pixels: [UInt8]

    /// Wraps pixels without checking them; `pixels.count` must be `count * rows * columns`.
    public init(count: Int, rows: Int, columns: Int, pixels: [UInt8]) {
        self.count = count; self.rows = rows; self.columns = columns; self.pixels = pixels
    }
}

/// Reader for IDX files, the format of MNIST: every header field is checked and every size bounded.
public enum IDX {
    /// Magic number of an IDX image file (unsigned byte data, 3 dimensions).
    public static let imageMagic: UInt32 = 2051
    /// Magic number of an IDX label file (unsigned byte data, 1 dimension).
    public static let labelMagic: UInt32 = 2049
    /// No real IDX file we accept is bigger than this once decompressed (MNIST train images: 47 MB); see `InputLimits`.
    public static let maxDecompressedBytes = InputLimits.datasetBytes
    /// Bounds on image side length; MNIST is 28 (`InputLimits.datasetSide`).
    public static let maxSide = InputLimits.datasetSide

    /// Reads a file, gunzipping it when it starts with the gzip magic. Files (compressed or not) larger than
    /// `maxDecompressedBytes` are refused before they are read.
    public static func readBytes(path: String) throws -> [UInt8] {
        let raw = try readFile(path: path, limit: maxDecompressedBytes)
        if raw.count >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
            return try gunzip(raw, file: path, maxOutput: maxDecompressedBytes)
        }
        return raw
    }

    /// Reads a whole regular file of at most `limit` bytes, with errors that say why it cannot be read.
    public static func readFile(path: String, limit: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let code = errno
            throw DataError.unreadable(file: path, detail: code == ENOENT ? "no such file" : String(cString: strerror(code)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw DataError.unreadable(file: path, detail: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw DataError.unreadable(file: path, detail: (info.st_mode & S_IFMT) == S_IFDIR ? "is a directory" : "not a regular file")
        }
        let size = Int(info.st_size)
        guard size <= limit else {
            throw DataError.badField(file: path, field: "file size", found: "\(size) bytes", expected: "at most \(limit) bytes")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        try bytes.withUnsafeMutableBytes { buffer in
            while done < size {
                let n = read(fd, buffer.baseAddress! + done, size - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DataError.unreadable(file: path, detail: String(cString: strerror(errno)))
                }
                if n == 0 { break }  // the file shrank while we read it
                done += n
            }
        }
        return done == size ? bytes : Array(bytes[0..<done])
    }

    /// Parses IDX image bytes (already decompressed). `file` names the source in errors.
    public static func parseImages(_ bytes: [UInt8], file: String) throws -> IDXImages {
        // The magic is checked first, so a short file of the wrong kind gets the more useful message.
        guard bytes.count >= 4 else {
            throw DataError.truncated(file: file, expectedBytes: 16, foundBytes: bytes.count)
        }
        let magic = bigEndian32(bytes, 0)
        guard magic == imageMagic else {
            let note = magic == labelMagic ? "; \(labelMagic) marks a label file, so images and labels look swapped" : ""
            throw DataError.badField(file: file, field: "magic", found: "\(magic)", expected: "\(imageMagic) (IDX images)\(note)")
        }
        guard bytes.count >= 16 else {
            throw DataError.truncated(file: file, expectedBytes: 16, foundBytes: bytes.count)
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

    /// Parses IDX label bytes (already decompressed). Labels above 9 are rejected (MNIST digits only).
    public static func parseLabels(_ bytes: [UInt8], file: String) throws -> [UInt8] {
        guard bytes.count >= 4 else {
            throw DataError.truncated(file: file, expectedBytes: 8, foundBytes: bytes.count)
        }
        let magic = bigEndian32(bytes, 0)
        guard magic == labelMagic else {
            let note = magic == imageMagic ? "; \(imageMagic) marks an image file, so images and labels look swapped" : ""
            throw DataError.badField(file: file, field: "magic", found: "\(magic)", expected: "\(labelMagic) (IDX labels)\(note)")
        }
        guard bytes.count >= 8 else {
            throw DataError.truncated(file: file, expectedBytes: 8, foundBytes: bytes.count)
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

    /// Reads an IDX image file (gzip-compressed or plain).
    public static func readImages(path: String) throws -> IDXImages {
        try parseImages(readBytes(path: path), file: path)
    }

    /// Reads an IDX label file (gzip-compressed or plain); every label must be 0...9.
    public static func readLabels(path: String) throws -> [UInt8] {
        try parseLabels(readBytes(path: path), file: path)
    }

    @inline(__always)
    static func bigEndian32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }
}
