// Errors of decoding and preprocessing: each names the file, what was found, what was expected, and a hint.
import MNISTQSupport

/// A decoding, reading or preprocessing failure for one input file.
public enum ImageError: Error, Equatable, CustomStringConvertible {
    /// The path could not be read (missing, permission denied, I/O error); `reason` is the system's text.
    case unreadable(file: String, reason: String)
    /// The path is a directory (for example one named like an image).
    case isDirectory(file: String)
    /// The file has no bytes.
    case empty(file: String)
    /// The file is larger than the reader accepts.
    case fileTooLarge(file: String, bytes: Int, limit: Int)
    /// The bytes look like text (no image format's magic, printable characters only).
    case looksLikeText(file: String)
    /// No known format's magic bytes, and the length is not a multiple of 28 × 28 (raw images).
    case unrecognized(file: String, byteCount: Int, firstBytes: [UInt8])
    /// The data ends before the image is complete.
    case truncated(file: String, format: String, detail: String)
    /// The data is malformed.
    case corrupt(file: String, format: String, detail: String)
    /// The header declares more pixels than allowed; nothing was allocated.
    case tooLarge(file: String, format: String, width: Int, height: Int, maxSide: Int, maxPixels: Int)
    /// A valid file using a feature this decoder does not implement.
    case unsupported(file: String, format: String, feature: String)
    /// Nothing distinguishable from the background: no digit to classify.
    case blank(file: String)
    /// `--no-preprocess` (or a raw classifier call) needs a 28×28 image.
    case notMNISTSize(file: String, width: Int, height: Int)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            return "\(file): cannot read: \(reason)"
        case .isDirectory(let file):
            return "\(file): is a directory, not an image file (hint: pass --recursive to classify the images inside it)"
        case .empty(let file):
            return "\(file): empty file (0 bytes)"
        case .fileTooLarge(let file, let bytes, let limit):
            return "\(file): file is \(bytes) bytes, more than the \(limit)-byte limit for one input"
        case .looksLikeText(let file):
            return "\(file): not an image (looks like text)"
        case .unrecognized(let file, let count, let first):
            let hex = first.map { byte in String(byte, radix: 16).count == 1 ? "0" + String(byte, radix: 16) : String(byte, radix: 16) }
            return "\(file): not an image: unknown format (first bytes \(hex.joined(separator: " ")), \(count) bytes); "
                + "expected JPEG, PNG, PGM (P5), IDX, or raw \(mnistSide)x\(mnistSide) bytes (a multiple of \(mnistPixelCount) bytes)"
        case .truncated(let file, let format, let detail):
            return "\(file): truncated \(format): \(detail) (the file may be incompletely downloaded or copied)"
        case .corrupt(let file, let format, let detail):
            return "\(file): corrupt \(format): \(detail)"
        case .tooLarge(let file, let format, let width, let height, let maxSide, let maxPixels):
            return "\(file): \(format) declares \(width)x\(height) pixels, over the limit of \(maxSide) per side "
                + "and \(maxPixels) in total (hint: downscale the image first)"
        case .unsupported(let file, let format, let feature):
            return "\(file): unsupported \(format): \(feature)"
        case .blank(let file):
            return "\(file): blank image: no ink distinguishable from the background"
        case .notMNISTSize(let file, let width, let height):
            return "\(file): image is \(width)x\(height), expected 28x28 without preprocessing (hint: drop --no-preprocess)"
        }
    }
}

extension ImageError {
    /// `FileReader`'s error for `file` in this module's words.
    init(reading error: FileReadError, file: String) {
        switch error {
        case .isDirectory: self = .isDirectory(file: file)
        case .tooLarge(let bytes, let limit): self = .fileTooLarge(file: file, bytes: bytes, limit: limit)
        case .cannotOpen, .readFailed, .notRegularFile: self = .unreadable(file: file, reason: error.reason)
        }
    }
}
