// The one whole-file reader: every file mnistq reads from a path (images, IDX data sets, models) goes through here,
// with a byte limit and a typed error; callers turn the error into their own message.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be read. The system's reasons carry `errno`; `reason` is its text.
package enum FileReadError: Error, Equatable, Sendable {
    /// open(2) or fstat(2) failed (missing, permission denied, ...).
    case cannotOpen(errno: Int32)
    /// The path is a directory.
    case isDirectory
    /// The path is a device, pipe or socket and the caller accepts regular files only.
    case notRegularFile
    /// The file holds more than `limit` bytes (`bytes`: its size, or what was read before the limit was passed).
    case tooLarge(bytes: Int, limit: Int)
    /// read(2) failed.
    case readFailed(errno: Int32)

    /// The system's text for `errno` errors ("No such file or directory"); a fixed phrase for the others.
    package var reason: String {
        switch self {
        case .cannotOpen(let code), .readFailed(let code): return String(cString: strerror(code))
        case .isDirectory: return "is a directory"
        case .notRegularFile: return "not a regular file"
        case .tooLarge(let bytes, let limit): return "\(bytes) bytes, more than the \(limit)-byte limit"
        }
    }
}

/// read(2), named apart from `FileReader.read`.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

package enum FileReader {
    /// Reads the whole file at `path`, never holding more than `limit` + 1 bytes whatever it is (`/dev/zero`, a pipe,
    /// a file that grows while it is read). With `regularFilesOnly`, devices, pipes and sockets are refused before
    /// anything is read (so a FIFO cannot block the caller).
    package static func read(path: String, limit: Int, regularFilesOnly: Bool = false) throws(FileReadError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY)
        if descriptor < 0 { throw .cannotOpen(errno: errno) }
        defer { close(descriptor) }
        var info = stat()
        if fstat(descriptor, &info) != 0 { throw .cannotOpen(errno: errno) }
        let type = info.st_mode & S_IFMT
        if type == S_IFDIR { throw .isDirectory }
        if regularFilesOnly && type != S_IFREG { throw .notRegularFile }
        let size = Int(info.st_size)
        if size > limit { throw .tooLarge(bytes: size, limit: limit) }
        return try read(descriptor: descriptor, sizeHint: type == S_IFREG ? size : nil, limit: limit)
    }

    /// Reads an open `descriptor` (a file, standard input, a pipe) to its end into one buffer, never holding more than
    /// `limit` + 1 bytes; `sizeHint` is the size of a regular file, nil for anything else.
    ///
    /// st_size is only a hint. A regular file gets a buffer of its size + 1 (the extra byte sees it growing); anything
    /// else, or a file that grew, reads into a buffer of `limit` + 1 bytes reserved at once: a large allocation is
    /// mapped lazily, so only the bytes actually read take memory, and the buffer never moves (growing by doubling
    /// would briefly hold the old and the new copy: 1.5 times the limit).
    package static func read(descriptor: Int32, sizeHint: Int?, limit: Int) throws(FileReadError) -> [UInt8] {
        // The buffer is reserved whole, so a caller's limit is capped at 1 GiB (Int.max must not become one allocation).
        let limit = min(max(0, limit), 1 << 30)
        var capacity = min(limit, max(0, sizeHint ?? limit)) + 1
        var start: [UInt8] = []  // what was read before the file turned out to have grown
        while true {
            var failure: FileReadError?
            let bytes = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                count = 0
                if !start.isEmpty {
                    _ = UnsafeMutableBufferPointer(rebasing: buffer[0..<start.count]).initialize(from: start)
                    count = start.count
                }
                while count < buffer.count {
                    let n = systemRead(descriptor, buffer.baseAddress! + count, buffer.count - count)
                    if n < 0 {
                        if errno == EINTR { continue }
                        failure = errno == EISDIR ? .isDirectory : .readFailed(errno: errno)
                        return
                    }
                    if n == 0 { break }
                    count += n
                }
            }
            if let failure { throw failure }
            if bytes.count < capacity { return bytes }
            if capacity > limit { throw .tooLarge(bytes: bytes.count, limit: limit) }
            start = bytes  // the file grew past its st_size: once more, with room up to the limit
            capacity = limit + 1
        }
    }
}
