// Headerless raw 28×28 images, IDX image/label files, and binary PGM.
import MNISTQRuntime
import MNISTQSupport

/// Raw MNIST pixels: a file of N × `ModelFormat.inputPixelCount` bytes holds N 28×28 images, row-major, 0 = background.
package enum RawDecoder {
    package static func decode(_ bytes: [UInt8], file: String, limits: DecodeLimits = .standard) throws -> [GrayImage] {
        if bytes.isEmpty { throw ImageError.empty(file: file) }
        guard bytes.count % mnistPixelCount == 0 else {
            throw ImageError.corrupt(file: file, format: "raw", detail: "\(bytes.count) bytes is not a multiple of \(mnistPixelCount) "
                + "(one \(mnistSide)x\(mnistSide) image is \(mnistPixelCount) bytes; \(bytes.count % mnistPixelCount) bytes left over)")
        }
        let count = bytes.count / mnistPixelCount
        try ImageDecoder.checkDimensions(width: mnistSide, height: mnistSide, count: count, file: file, format: .raw, limits: limits)
        return (0..<count).map { index in
            GrayImage(width: mnistSide, height: mnistSide, pixels: Array(bytes[index * mnistPixelCount ..< (index + 1) * mnistPixelCount]))
        }
    }
}

/// IDX files as MNIST distributes them (big-endian header, `IDXFormat`), plain or gzip-compressed.
package enum IDXImageDecoder {
    /// Decodes an IDX image file into its images.
    package static func decode(_ bytes: [UInt8], file: String, limits: DecodeLimits = .standard) throws -> [GrayImage] {
        let headerLength = IDXFormat.imageHeaderLength
        let data = try gunzipIfNeeded(bytes, file: file, limits: limits, header: (headerLength, { header in
            let (count, rows, columns) = try checkHeader(header, file: file, limits: limits)
            return headerLength + count * rows * columns
        }))
        let (count, rows, columns) = try checkHeader(data, file: file, limits: limits)
        let size = rows * columns
        let expected = headerLength + count * size
        if data.count < expected {
            throw ImageError.truncated(file: file, format: "IDX", detail: "header declares \(count) images of \(rows)x\(columns) "
                + "(\(expected) bytes); the file has \(data.count)")
        }
        if data.count > expected {
            throw ImageError.corrupt(file: file, format: "IDX", detail: "\(data.count - expected) bytes after the \(count) declared images")
        }
        return (0..<count).map { index in
            GrayImage(width: columns, height: rows,
                      pixels: Array(data[headerLength + index * size ..< headerLength + (index + 1) * size]))
        }
    }

    /// Checks the magic and the 16-byte header of an IDX image file (all of `data`, or only its first bytes while a
    /// gzip stream is inflated) and returns its image count and size.
    static func checkHeader(_ data: [UInt8], file: String, limits: DecodeLimits) throws -> (count: Int, rows: Int, columns: Int) {
        let magic = IDXFormat.magic(data) ?? 0
        if magic == IDXFormat.labelMagic {
            throw ImageError.unsupported(file: file, format: "IDX", feature: "this is a label file (magic \(hex8(IDXFormat.labelMagic))), "
                + "not images (hint: pass it with --labels)")
        }
        guard magic == IDXFormat.imageMagic else {
            throw ImageError.corrupt(file: file, format: "IDX", detail: "magic is 0x\(String(magic, radix: 16)); "
                + "expected \(hex8(IDXFormat.imageMagic)) (uint8, 3 dimensions)")
        }
        guard let (count, rows, columns) = IDXFormat.imageHeader(data) else {
            throw ImageError.truncated(file: file, format: "IDX", detail: "\(data.count) bytes; the image header alone is \(IDXFormat.imageHeaderLength) bytes")
        }
        try ImageDecoder.checkDimensions(width: columns, height: rows, count: max(count, 1), file: file, format: .idx, limits: limits)
        return (count, rows, columns)
    }

    /// Reads an IDX label file (plain or gzip) into its labels; every label must be 0...9.
    package static func decodeLabels(_ bytes: [UInt8], file: String, limits: DecodeLimits = .standard) throws -> [UInt8] {
        let headerLength = IDXFormat.labelHeaderLength
        let data = try gunzipIfNeeded(bytes, file: file, limits: limits, header: (headerLength, { header in
            guard IDXFormat.magic(header) == IDXFormat.labelMagic, let count = IDXFormat.labelCount(header) else {
                return Int.max  // the full check below names it
            }
            return headerLength + count
        }))
        guard data.count >= headerLength else {
            throw ImageError.truncated(file: file, format: "IDX labels", detail: "\(data.count) bytes; the label header alone is \(headerLength) bytes")
        }
        let magic = IDXFormat.magic(data) ?? 0
        guard magic == IDXFormat.labelMagic, let count = IDXFormat.labelCount(data) else {
            throw ImageError.corrupt(file: file, format: "IDX labels", detail: "magic is 0x\(String(magic, radix: 16)); expected \(hex8(IDXFormat.labelMagic))")
        }
        guard data.count == headerLength + count else {
            throw ImageError.corrupt(file: file, format: "IDX labels", detail: "header declares \(count) labels; the file holds \(data.count - headerLength)")
        }
        let labels = Array(data[headerLength...])
        if let (index, value) = IDXFormat.firstInvalidLabel(labels) {
            throw ImageError.corrupt(file: file, format: "IDX labels", detail: "label \(index) is \(value); expected 0...9")
        }
        return labels
    }

    /// "0x00000803": a magic number as the IDX documentation writes it.
    static func hex8(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    /// Inflates gzip data (all members, bounded by `limits.maxFileBytes`); other data is returned as is.
    /// `header` is `Zlib.inflate`'s: the length of the format's header and the total length it declares.
    static func gunzipIfNeeded(_ bytes: [UInt8], file: String, limits: DecodeLimits, header: Zlib.Header? = nil) throws -> [UInt8] {
        guard bytes.count >= 2, bytes[0] == 0x1F, bytes[1] == 0x8B else { return bytes }
        do {
            return try Zlib.inflate(bytes, maxOutput: limits.maxFileBytes, header: header)
        } catch ZlibError.truncated(let detail) {
            throw ImageError.truncated(file: file, format: "gzip", detail: detail)
        } catch ZlibError.corrupt(let detail) {
            throw ImageError.corrupt(file: file, format: "gzip", detail: detail)
        }
    }
}

/// Netpbm gray and colour images: PGM binary ("P5") and ASCII ("P2"), PPM binary ("P6") and ASCII ("P3"), with
/// maxval up to 65535 (16-bit binary samples are big-endian, as the format says). Samples are scaled to 0...255;
/// colour becomes luma (0.299 R + 0.587 G + 0.114 B). Comments (`#` to end of line) are allowed in the header.
package enum PGMDecoder {
    package static func decode(_ bytes: [UInt8], file: String, limits: DecodeLimits = .standard) throws -> GrayImage {
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
        /// A sample scaled to 0...255 (values above maxval are clipped to it: an ASCII sample can be any number, so
        /// "947" under maxval 255 is 255, not a trap in the UInt8 conversion).
        func scaled(_ value: Int) -> Int {
            let clipped = min(value, maxValue)
            return maxValue == 255 ? clipped : (clipped * 255 + maxValue / 2) / maxValue
        }
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
