// Errors of the data layer: each names the file, the field, what was found and what was expected.

/// A problem with a data file or data directory.
public enum DataError: Error, Equatable, CustomStringConvertible {
    /// The file does not exist or cannot be read.
    case unreadable(file: String, detail: String)
    /// A header field holds the wrong value.
    case badField(file: String, field: String, found: String, expected: String)
    /// The file is shorter than its header says.
    case truncated(file: String, expectedBytes: Int, foundBytes: Int)
    /// The (compressed) content is damaged.
    case corrupt(file: String, detail: String)
    /// Images and labels disagree.
    case mismatch(detail: String)
    /// A download failed or its checksum is wrong.
    case download(file: String, detail: String)

    public var description: String {
        switch self {
        case let .unreadable(file, detail):
            return "\(file): cannot read: \(detail). Hint: pass --data DIR or set MNIST_DIR to the folder with the MNIST .gz files."
        case let .badField(file, field, found, expected):
            return "\(file): \(field) is \(found), expected \(expected). Hint: is this an MNIST IDX file?"
        case let .truncated(file, expected, found):
            return "\(file): truncated: header promises \(expected) bytes, file has \(found). Hint: download it again."
        case let .corrupt(file, detail):
            return "\(file): \(detail). Hint: download it again."
        case let .mismatch(detail):
            return "\(detail)"
        case let .download(file, detail):
            return "\(file): download failed: \(detail)"
        }
    }
}
