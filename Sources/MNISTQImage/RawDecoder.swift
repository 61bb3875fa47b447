// Headerless raw 28×28 images, IDX image/label files, and binary PGM.
import MNISTQData

/// Raw MNIST pixels: a file of N × 784 bytes holds N 28×28 images, row-major, 0 = background.
public enum RawDecoder {
    public static func decode(_ bytes: [UInt8], file: String, limits: DecodeLimits = .standard) throws -> [GrayImage] {
        if bytes.isEmpty { throw ImageError.empty(file: file) }
        guard bytes.count % mnistPixelCount == 0 else {
            throw ImageError.corrupt(file: file, format: "raw", detail: "\(bytes.count) bytes is not a multiple of 784 "
                + "(one 28x28 image is 784 bytes; \(bytes.count % mnistPixelCount) bytes left over)")
        }
        let count = bytes.count / mnistPixelCount
        try ImageDecoder.checkDimensions(width: mnistSide, height: mnistSide, count: count, file: file, format: .raw, limits: limits)
        return (0..<count).map { index in
            GrayImage(width: mnistSide, height: mnistSide, pixels: Array(bytes[index * mnistPixelCount ..< (index + 1) * mnistPixelCount]))
        }
    }
}

/// IDX files as MNIST distributes them (big-endian header), plain or gzip-compressed.
public enum IDXImageDecoder {
    /// Magic of an IDX uint8 3-D (images) file.
    public static let imageMagic: UInt32 = 0x0000_0803
    /// Magic of an IDX uint8 1-D (labels) file.
    public static let labelMagic: UInt32 = 0x0000_0801

    /// Decodes an IDX image file into its images.
    public static func decode(_ bytes: [UInt8], file: String, limits: DecodeLimits = .standard) throws -> [GrayImage] {
        let data = try gunzipIfNeeded(bytes, file: file, limits: limits, header: (16, { header in
            let (count, rows, columns) = try checkHeader(header, file: file, limits: limits)
            return 16 + count * rows * columns
        }))
        let (count, rows, columns) = try checkHeader(data, file: file, limits: limits)
        let size = rows * columns
        let expected = 16 + count * size
        if data.count < expected {
            throw ImageError.truncated(file: file, format: "IDX", detail: "header declares \(count) images of \(rows)x\(columns) "
                + "(\(expected) bytes); the file has \(data.count)")
        }
        if data.count > expected {
            throw ImageError.corrupt(file: file, format: "IDX", detail: "\(data.count - expected) bytes after the \(count) declared images")
        }
        return (0..<count).map { index in
            GrayImage(width: columns, height: rows, pixels: Array(data[16 + index * size ..< 16 + (index + 1) * size]))
        }
    }

    /// Checks the magic and the 16-byte header of an IDX image file (all of `data`, or only its first bytes while a
    /// gzip stream is inflated) and returns its image count and size.
    static func checkHeader(_ data: [UInt8], file: String, limits: DecodeLimits) throws -> (count: Int, rows: Int, columns: Int) {
        let magic = data.count >= 4 ? readBigEndian32(data, 0) : 0
        if magic == labelMagic {
            throw ImageError.unsupported(file: file, format: "IDX", feature: "this is a label file (magic 0x00000801), "
                + "not images (hint: pass it with --labels)")
        }
        guard magic == imageMagic else {
            throw ImageError.corrupt(file: file, format: "IDX", detail: "magic is 0x\(String(magic, radix: 16)); expected 0x00000803 (uint8, 3 dimensions)")
        }
        guard data.count >= 16 else {
            throw ImageError.truncated(file: file, format: "IDX", detail: "\(data.count) bytes; the image header alone is 16 bytes")
        }
        let count = Int(readBigEndian32(data, 4)), rows = Int(readBigEndian32(data, 8)), columns = Int(readBigEndian32(data, 12))
        try ImageDecoder.checkDimensions(width: columns, height: rows, count: max(count, 1), file: file, format: .idx, limits: limits)
        return (count, rows, columns)
    }

    /// Reads an IDX label file (plain or gzip) into its labels; every label must be 0...9.
    public static func decodeLabels(_ bytes: [UInt8], file: String, limits: DecodeLimits = .standard) throws -> [UInt8] {
        let data = try gunzipIfNeeded(bytes, file: file, limits: limits, header: (8, { header in
            guard readBigEndian32(header, 0) == labelMagic else { return Int.max }  // the full check below names it
            return 8 + Int(readBigEndian32(header, 4))
        }))
        guard data.count >= 8 else {
            throw ImageError.truncated(file: file, format: "IDX labels", detail: "\(data.count) bytes; the label header alone is 8 bytes")
        }
        let magic = readBigEndian32(data, 0)
        guard magic == labelMagic else {
            throw ImageError.corrupt(file: file, format: "IDX labels", detail: "magic is 0x\(String(magic, radix: 16)); expected 0x00000801")
        }
        let count = Int(readBigEndian32(data, 4))
        guard data.count == 8 + count else {
            throw ImageError.corrupt(file: file, format: "IDX labels", detail: "header declares \(count) labels; the file holds \(data.count - 8)")
        }
        let labels = Array(data[8...])
        if let bad = labels.firstIndex(where: { $0 > 9 }) {
            throw ImageError.corrupt(file: file, format: "IDX labels", detail: "label \(bad) is \(labels[bad]); expected 0...9")
        }
        return labels
    }

    static func readBigEndian32(_ data: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(data[offset]) << 24 | UInt32(data[offset + 1]) << 16 | UInt32(data[offset + 2]) << 8 | UInt32(data[offset + 3])
    }

    /// Inflates gzip data (all members, bounded by `limits.maxFileBytes`); other data is returned as is.
    /// `header` is gunzip's: the length of the format's header and the total length it declares.
    static func gunzipIfNeeded(_ bytes: [UInt8], file: String, limits: DecodeLimits,
                               header: (length: Int, declaredTotal: ([UInt8]) throws -> Int)? = nil) throws -> [UInt8] {
        guard bytes.count >= 2, bytes[0] == 0x1F, bytes[1] == 0x8B else { return bytes }
        do {
            return try gunzip(bytes, file: file, maxOutput: limits.maxFileBytes, header: header)
        } catch DataError.corrupt(_, let detail) where detail.contains("ends early") {
            throw ImageError.truncated(file: file, format: "gzip", detail: detail)
        } catch DataError.corrupt(_, let detail) {
            throw ImageError.corrupt(file: file, format: "gzip", detail: detail)
        }
    }
}

/// Netpbm gray and colour images: PGM binary ("P5") and ASCII ("P2"), PPM binary ("P6") and ASCII ("P3"), with
/// maxval up to 65535 (16-bit binary samples are big-endian, as the format says). Samples are scaled to 0...255;
/// colour becomes luma (0.299 R + 0.587 G + 0.114 B). Comments (`#` to end of line) are allowed in the header.
public enum PGMDecoder {
    public static func decode(_ bytes: [UInt8], file: String, limits: DecodeLimits = .standard) throws -> GrayImage {
        let kind = bytes.count >= 2 ? bytes[1] : 0
        let ascii = kind == UInt8(ascii: "2") || kind == UInt8(ascii: "3")
        let channels = kind == UInt8(ascii: "3") || kind == UInt8(ascii: "6") ? 3 : 1
        let format = channels == 3 ? "PPM" : "PGM"
        var position = 2
        func skipSpaceAndComments() {
            while position < bytes.count {
                if ImageDecoder.isPNMSpace(bytes[position]) { position += 1; continue }
                if bytes[position] == UInt8(ascii: "#") {
                    while position < bytes.count && bytes[position] != 0x0A { position += 1 }
                    continue
                }
                break
            }
        }
        func nextNumber(_ field: String) throws -> Int {
            skipSpaceAndComments()
            guard position < bytes.count else {
                throw ImageError.truncated(file: file, format: format, detail: ascii && field.hasPrefix("sample")
                    ? "the file ends before \(field)" : "header ends before the \(field)")
            }
            var value = 0
            var digits = 0
            while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 {
                value = value * 10 + Int(bytes[position] - 0x30)
                digits += 1
                position += 1
                if value > 1 << 30 { break }
            }
            if digits == 0 || value > 1 << 30 {
                throw ImageError.corrupt(file: file, format: format, detail: "\(field) is not a number below 2^30")
            }
            return value
        }
        let width = try nextNumber("width"), height = try nextNumber("height"), maxValue = try nextNumber("maxval")
        try ImageDecoder.checkDimensions(width: width, height: height, file: file, format: channels == 3 ? .ppm : .pgm, limits: limits)
        if maxValue == 0 || maxValue > 65535 {
            throw ImageError.corrupt(file: file, format: format, detail: "maxval is \(maxValue); expected 1...65535")
        }
        let count = width * height
        let sampleCount = count * channels
        /// A sample scaled to 0...255 (values above maxval are clipped to it).
        func scaled(_ value: Int) -> Int { maxValue == 255 ? value : (min(value, maxValue) * 255 + maxValue / 2) / maxValue }
        var samples = [UInt8](repeating: 0, count: sampleCount)
        if ascii {
            for index in 0..<sampleCount {
                let value = try nextNumber("sample \(index + 1) of \(sampleCount)")
                samples[index] = UInt8(scaled(value))
            }
        } else {
            guard position < bytes.count, ImageDecoder.isPNMSpace(bytes[position]) else {
                throw ImageError.truncated(file: file, format: format, detail: "no whitespace after maxval")
            }
            position += 1
            let bytesPerSample = maxValue > 255 ? 2 : 1
            let needed = sampleCount * bytesPerSample
            if bytes.count - position < needed {
                throw ImageError.truncated(file: file, format: format, detail: "\(width)x\(height) needs \(needed) pixel bytes; "
                    + "the file has \(bytes.count - position)")
            }
            for index in 0..<sampleCount {
                let value = bytesPerSample == 2
                    ? Int(bytes[position + 2 * index]) << 8 | Int(bytes[position + 2 * index + 1])
                    : Int(bytes[position + index])
                samples[index] = UInt8(scaled(value))
            }
        }
        guard channels == 3 else { return GrayImage(width: width, height: height, pixels: samples) }
        var pixels = [UInt8](repeating: 0, count: count)
        for index in 0..<count {
            let r = Int(samples[3 * index]), g = Int(samples[3 * index + 1]), b = Int(samples[3 * index + 2])
            pixels[index] = UInt8((299 * r + 587 * g + 114 * b + 500) / 1000)
        }
        return GrayImage(width: width, height: height, pixels: pixels)
    }
}
