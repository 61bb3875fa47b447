// MNIST's IDX files as data sets: read from disk (gzip-compressed or plain), header checked against the data set
// limits, every problem a `DataError`. The format itself (magic numbers, header layout) is `IDXFormat`.
import Foundation
import MNISTQSupport

/// A stack of `count` images of `rows`×`columns` uint8 pixels, row-major, image after image.
package struct IDXImages: Sendable, Equatable {
    /// Number of images.
    package let count: Int
    /// Image height in pixels.
    package let rows: Int
    /// Image width in pixels.
    package let columns: Int
    /// `count * rows * columns` pixels, 0 = background, 255 = ink.
    package let pixels: [UInt8]

    /// Wraps pixels without checking them; `pixels.count` must be `count * rows * columns`.
    package init(count: Int, rows: Int, columns: Int, pixels: [UInt8]) {
        self.count = count; self.rows = rows; self.columns = columns; self.pixels = pixels
    }
}

/// Reader for IDX data set files: every header field is checked and every size bounded.
package enum IDX {
    /// No real IDX file we accept is bigger than this once decompressed (MNIST train images: 47 MB); see `InputLimits`.
    package static let maxDecompressedBytes = InputLimits.datasetBytes
    /// Bounds on image side length; MNIST is 28 (`InputLimits.datasetSide`).
    package static let maxSide = InputLimits.datasetSide

    /// Reads a file, gunzipping it when it starts with the gzip magic. Files (compressed or not) larger than
    /// `maxDecompressedBytes` are refused before they are read.
    package static func readBytes(path: String) throws(DataError) -> [UInt8] {
        let raw = try readFile(path: path, limit: maxDecompressedBytes)
        if raw.count >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
            return try gunzip(raw, file: path, maxOutput: maxDecompressedBytes)
        }
        return raw
    }

    /// Reads a whole regular file of at most `limit` bytes (`FileReader`), with errors that say why it cannot be read.
    package static func readFile(path: String, limit: Int) throws(DataError) -> [UInt8] {
        do { return try FileReader.read(path: path, limit: limit, regularFilesOnly: true) } catch {
            switch error {
            case .tooLarge(let bytes, let limit):
                throw .badField(file: path, field: "file size", found: "\(bytes) bytes", expected: "at most \(limit) bytes")
            case .cannotOpen(let code) where code == ENOENT:
                throw .unreadable(file: path, detail: "no such file")
            default:
                throw .unreadable(file: path, detail: error.reason)
            }
        }
    }

    /// Parses IDX image bytes (already decompressed). `file` names the source in errors.
    package static func parseImages(_ bytes: [UInt8], file: String) throws(DataError) -> IDXImages {
        let headerLength = IDXFormat.imageHeaderLength
        // The magic is checked first, so a short file of the wrong kind gets the more useful message.
        try checkMagic(bytes, expected: IDXFormat.imageMagic, headerLength: headerLength, file: file)
        guard let (count, rows, columns) = IDXFormat.imageHeader(bytes) else {
            throw .truncated(file: file, expectedBytes: headerLength, foundBytes: bytes.count)
        }
        guard (1...maxSide).contains(rows) else {
            throw .badField(file: file, field: "rows", found: "\(rows)", expected: "1...\(maxSide)")
        }
        guard (1...maxSide).contains(columns) else {
            throw .badField(file: file, field: "columns", found: "\(columns)", expected: "1...\(maxSide)")
        }
        let (payload, overflow) = count.multipliedReportingOverflow(by: rows * columns)
        guard !overflow, payload <= maxDecompressedBytes else {
            throw .badField(file: file, field: "count", found: "\(count)", expected: "at most \(maxDecompressedBytes / (rows * columns)) images")
        }
        try checkLength(bytes, headerLength: headerLength, payload: payload, file: file,
                        contents: "\(count) images of \(rows)x\(columns)")
        return IDXImages(count: count, rows: rows, columns: columns, pixels: Array(bytes[headerLength...]))
    }

    /// Parses IDX label bytes (already decompressed). Labels above 9 are rejected (MNIST digits only).
    package static func parseLabels(_ bytes: [UInt8], file: String) throws(DataError) -> [UInt8] {
        let headerLength = IDXFormat.labelHeaderLength
        try checkMagic(bytes, expected: IDXFormat.labelMagic, headerLength: headerLength, file: file)
        guard let count = IDXFormat.labelCount(bytes) else {
            throw .truncated(file: file, expectedBytes: headerLength, foundBytes: bytes.count)
        }
        guard count <= maxDecompressedBytes else {
            throw .badField(file: file, field: "count", found: "\(count)", expected: "at most \(maxDecompressedBytes)")
        }
        try checkLength(bytes, headerLength: headerLength, payload: count, file: file, contents: "\(count) labels")
        let labels = Array(bytes[headerLength...])
        if let (index, value) = IDXFormat.firstInvalidLabel(labels) {
            throw .badField(file: file, field: "label[\(index)]", found: "\(value)", expected: "0...9")
        }
        return labels
    }

    /// The magic of an image or label file, named when it is the other kind's (images and labels swapped).
    static func checkMagic(_ bytes: [UInt8], expected: UInt32, headerLength: Int, file: String) throws(DataError) {
        guard let magic = IDXFormat.magic(bytes) else {
            throw .truncated(file: file, expectedBytes: headerLength, foundBytes: bytes.count)
        }
        guard magic == expected else {
            let images = expected == IDXFormat.imageMagic
            let other = images ? IDXFormat.labelMagic : IDXFormat.imageMagic
            let note = magic == other
                ? "; \(other) marks \(images ? "a label" : "an image") file, so images and labels look swapped" : ""
            throw .badField(file: file, field: "magic", found: "\(magic)", expected: "\(expected) (IDX \(images ? "images" : "labels"))\(note)")
        }
    }

    /// The file holds exactly the header and the `payload` bytes it declares.
    static func checkLength(_ bytes: [UInt8], headerLength: Int, payload: Int, file: String, contents: String) throws(DataError) {
        guard bytes.count >= headerLength + payload else {
            throw .truncated(file: file, expectedBytes: headerLength + payload, foundBytes: bytes.count)
        }
        guard bytes.count == headerLength + payload else {
            throw .badField(file: file, field: "length", found: "\(bytes.count) bytes", expected: "\(headerLength + payload) bytes (\(contents))")
        }
    }

    /// Reads an IDX image file (gzip-compressed or plain).
    package static func readImages(path: String) throws(DataError) -> IDXImages {
        try parseImages(readBytes(path: path), file: path)
    }

    /// Reads an IDX label file (gzip-compressed or plain); every label must be 0...9.
    package static func readLabels(path: String) throws(DataError) -> [UInt8] {
        try parseLabels(readBytes(path: path), file: path)
    }
}
