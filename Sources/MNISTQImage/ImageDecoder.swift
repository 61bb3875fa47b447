// Format sniffing (by content, never by extension), file reading and the decode entry point.
import MNISTQSupport

/// Bounds checked before any pixel buffer is allocated, so a tiny file claiming 60000×60000 pixels fails at once.
public struct DecodeLimits: Sendable, Equatable {
    /// Largest accepted width or height.
    public var maxSide: Int
    /// Largest accepted width × height (per image; for IDX and raw files, of all images together).
    public var maxPixels: Int
    /// Largest accepted file (and decompressed gzip) size in bytes.
    public var maxFileBytes: Int

    /// Defaults: `InputLimits` (MNISTQSupport), where every limit is named with its reason.
    public init(maxSide: Int = InputLimits.imageSide, maxPixels: Int = InputLimits.imagePixels,
                maxFileBytes: Int = InputLimits.imageFileBytes) {
        self.maxSide = maxSide
        self.maxPixels = maxPixels
        self.maxFileBytes = maxFileBytes
    }

    /// 16384 px per side, 64 MP, 65 MiB per file (the pixel limit plus 1 MiB).
    public static let standard = DecodeLimits()
}

/// The formats the decoder recognises from their first bytes.
public enum ImageFormat: String, Sendable, Equatable {
    case jpeg = "JPEG"
    case png = "PNG"
    case pgm = "PGM"
    /// Netpbm colour (P6 binary, P3 ASCII).
    case ppm = "PPM"
    /// IDX image file (magic 0x00000803), optionally gzip-compressed.
    case idx = "IDX"
    /// Headerless 28×28 uint8 images, one byte per pixel.
    case raw = "raw"
}

/// What one input file held: one image for JPEG/PNG/PGM/PPM, one or more for raw and IDX files.
public struct DecodedFile: Sendable, Equatable {
    public var format: ImageFormat
    public var images: [GrayImage]
}

/// Decodes image files by content: JPEG, PNG, PGM/PPM (binary and ASCII, 8 or 16 bits), IDX images, raw 28×28 bytes.
public enum ImageDecoder {
    /// Identifies the format from the first bytes, or nil when none matches.
    /// Raw images have no magic: any other length that is a positive multiple of 28×28 is taken as raw,
    /// unless the bytes look like text.
    package static func sniff(_ bytes: [UInt8]) -> ImageFormat? {
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        if bytes.count >= 8, bytes[0..<8].elementsEqual(PNGDecoder.signature) { return .png }
        if bytes.count >= 3, bytes[0] == UInt8(ascii: "P"), isPNMSpace(bytes[2]) {
            switch bytes[1] {
            case UInt8(ascii: "5"), UInt8(ascii: "2"): return .pgm
            case UInt8(ascii: "6"), UInt8(ascii: "3"): return .ppm
            default: break
            }
        }
        // IDX uint8 images (…03), and label files (…01) so that passing one gets a specific error.
        if IDXFormat.hasMagic(bytes) { return .idx }
        if bytes.count >= 2, bytes[0] == 0x1F, bytes[1] == 0x8B { return .idx }  // gzip: only IDX is accepted inside
        if !bytes.isEmpty, bytes.count % mnistPixelCount == 0, !looksLikeText(bytes) { return .raw }
        return nil
    }

    /// True when the bytes contain no NUL and almost only printable ASCII, whitespace or UTF-8 sequences.
    package static func looksLikeText(_ bytes: [UInt8]) -> Bool {
        if bytes.isEmpty { return false }
        var control = 0
        for byte in bytes.prefix(4096) {
            if byte == 0 { return false }
            if byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D && byte != 0x0C { control += 1 }
        }
        return control * 100 <= min(bytes.count, 4096)
    }

    /// Decodes `bytes` (the content of `file`, used in error messages). JPEG EXIF orientation is applied.
    /// `jpegMinimumSide` > 0 lets JPEGs decode reduced (see `JPEGDecoder.decode`); other formats are unaffected.
    public static func decode(_ bytes: [UInt8], file: String, limits: DecodeLimits = .standard,
                              jpegMinimumSide: Int = 0) throws -> DecodedFile {
        if bytes.isEmpty { throw ImageError.empty(file: file) }
        guard let format = sniff(bytes) else {
            if looksLikeText(bytes) { throw ImageError.looksLikeText(file: file) }
            // Raw pixels have no magic; a file named as raw data gets the raw decoder's length error.
            let suffix = file.split(separator: ".").last.map { $0.lowercased() } ?? ""
            if file.contains("."), ["raw", "bin", "u8", "gray"].contains(suffix) {
                _ = try RawDecoder.decode(bytes, file: file, limits: limits)
            }
            throw ImageError.unrecognized(file: file, byteCount: bytes.count, firstBytes: Array(bytes.prefix(8)))
        }
        switch format {
        case .jpeg:
            return DecodedFile(format: .jpeg, images: [try JPEGDecoder.decode(bytes, file: file, limits: limits, minimumSide: jpegMinimumSide)])
        case .png: return DecodedFile(format: .png, images: [try PNGDecoder.decode(bytes, file: file, limits: limits)])
        case .pgm, .ppm: return DecodedFile(format: format, images: [try PGMDecoder.decode(bytes, file: file, limits: limits)])
        case .idx: return DecodedFile(format: .idx, images: try IDXImageDecoder.decode(bytes, file: file, limits: limits))
        case .raw: return DecodedFile(format: .raw, images: try RawDecoder.decode(bytes, file: file, limits: limits))
        }
    }

    /// Reads and decodes the file at `path`.
    public static func decodeFile(atPath path: String, limits: DecodeLimits = .standard, jpegMinimumSide: Int = 0) throws -> DecodedFile {
        try decode(try readFile(atPath: path, limits: limits), file: path, limits: limits, jpegMinimumSide: jpegMinimumSide)
    }

    /// Reads a whole file (`FileReader`: at most `limits.maxFileBytes`, whatever the path is); a directory, a missing
    /// or unreadable path, or too many bytes each get their own error.
    public static func readFile(atPath path: String, limits: DecodeLimits = .standard) throws -> [UInt8] {
        do { return try FileReader.read(path: path, limit: limits.maxFileBytes) } catch {
            throw ImageError(reading: error, file: path)
        }
    }

    static func isPNMSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0B || byte == 0x0C
    }

    /// Throws `.tooLarge` unless width and height are positive and within `limits`.
    static func checkDimensions(width: Int, height: Int, count: Int = 1, file: String, format: ImageFormat,
                                limits: DecodeLimits) throws {
        if width > limits.maxSide || height > limits.maxSide
            || width.multipliedReportingOverflow(by: height).partialValue.multipliedReportingOverflow(by: count).partialValue > limits.maxPixels
            || width.multipliedReportingOverflow(by: height).overflow {
            throw ImageError.tooLarge(file: file, format: format.rawValue, width: width, height: height,
                                      maxSide: limits.maxSide, maxPixels: limits.maxPixels)
        }
        if width < 1 || height < 1 {
            throw ImageError.corrupt(file: file, format: format.rawValue, detail: "image size is \(width)x\(height); expected at least 1x1")
        }
    }
}
