// Errors of the data layer: each names the file, the field, what was found and what was expected, plus a hint.

/// A problem with a data file, a data directory or a download.
package enum DataError: Error, Equatable, CustomStringConvertible {
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
    /// A directory named by the user (`--data` or `MNIST_DIR`), or the cache when downloads are off, lacks
    /// some of the four MNIST files. `source` says where the directory came from; `hint` how to fix it.
    case missingFiles(directory: String, source: String, missing: [String], hint: String)
    /// Every mirror failed to deliver `file`; one entry per mirror tried, in order. Nothing was cached.
    case download(file: String, attempts: [DownloadFailure])
    /// The cache directory cannot be determined or created.
    case cache(directory: String, detail: String)

    package var description: String {
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
            return "\(detail). Hint: images and labels must come from the same MNIST split."
        case let .missingFiles(directory, source, missing, hint):
            return "\(directory) (\(source)): missing \(missing.joined(separator: ", ")). Hint: \(hint)"
        case let .download(file, attempts):
            let lines = attempts.map { "  - \($0)" }.joined(separator: "\n")
            let unreachable = !attempts.isEmpty && attempts.allSatisfy { if case .network = $0 { return true } else { return false } }
            let hint = unreachable
                ? "no mirror could be reached: this machine looks offline. Copy the four MNIST .gz files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) from a machine that has them into a folder and pass --data DIR or set MNIST_DIR."
                : "check the network connection, or download the four MNIST files yourself and pass --data DIR."
            return "\(file): download failed from every mirror, nothing cached:\n\(lines)\nHint: \(hint)"
        case let .cache(directory, detail):
            return "\(directory): cannot use the MNIST cache directory: \(detail). Hint: set XDG_CACHE_HOME to a writable directory, or pass --data DIR."
        }
    }
}

/// Why one mirror failed to deliver one file.
package enum DownloadFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// The connection or transfer failed (DNS, refused, timeout, reset).
    case network(url: String, detail: String)
    /// The server answered with a status other than 200.
    case http(url: String, status: Int)
    /// The response was larger than the bound we accept.
    case tooLarge(url: String, limit: Int)
    /// The response is not a valid gzip stream, or decompresses to the wrong size.
    case corrupt(url: String, detail: String)
    /// The decompressed content has the wrong digest.
    case checksum(url: String, algorithm: String, expected: String, found: String)

    package var description: String {
        switch self {
        case let .network(url, detail): return "\(url): \(detail)"
        case let .http(url, status): return "\(url): HTTP status \(status), expected 200"
        case let .tooLarge(url, limit): return "\(url): response larger than \(limit) bytes, refused"
        case let .corrupt(url, detail): return "\(url): \(detail)"
        case let .checksum(url, algorithm, expected, found):
            return "\(url): \(algorithm) of the decompressed content is \(found), expected \(expected) (corrupted or not MNIST)"
        }
    }
}
