// How `mnistq classify` finds, opens and reads its inputs: paths as raw bytes from argv, `--files-from` and
// readdir to open(2); regular files only (checked with fstat on a descriptor opened non-blocking, so a FIFO can
// never hang the batch); each directory visited once by (device, inode); names shown escaped.
import ArgumentParser
import Foundation
import MNISTQImage
import MNISTQSupport

/// The raw bytes behind the command-line arguments. ArgumentParser sees `CommandLine.arguments`, where bytes
/// that are not UTF-8 became U+FFFD; this maps each parsed string back to the argv entry it came from.
struct RawArguments {
    let entries: [[UInt8]]
    private var cursor = 1

    init() {
        var entries: [[UInt8]] = []
        for index in 0..<Int(CommandLine.argc) {
            guard let pointer = CommandLine.unsafeArgv[index] else { continue }
            entries.append(Array(UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self),
                                                     count: strlen(pointer))))
        }
        self.entries = entries
    }

    /// The argv bytes of `value`, a positional argument; arguments are looked up in order, so call this in the
    /// order they were given. Falls back to the string's own UTF-8 when no entry matches (tests, wrappers).
    mutating func positional(_ value: String) -> RawPath {
        var index = cursor
        while index < entries.count {
            if String(decoding: entries[index], as: UTF8.self) == value {
                cursor = index + 1
                return RawPath(entries[index])
            }
            index += 1
        }
        return RawPath(value)
    }

    /// The argv bytes of a lone positional argument.
    static func positional(_ value: String) -> RawPath {
        var arguments = RawArguments()
        return arguments.positional(value)
    }

    /// The argv bytes of the value of `--name` (as `--name VALUE` or `--name=VALUE`).
    func option(_ name: String, _ value: String) -> RawPath {
        let flag = Array("--\(name)".utf8), prefix = flag + [UInt8(ascii: "=")]
        for index in entries.indices {
            if entries[index] == flag, index + 1 < entries.count,
               String(decoding: entries[index + 1], as: UTF8.self) == value {
                return RawPath(entries[index + 1])
            }
            if entries[index].starts(with: prefix) {
                let tail = Array(entries[index].dropFirst(prefix.count))
                if String(decoding: tail, as: UTF8.self) == value { return RawPath(tail) }
            }
        }
        return RawPath(value)
    }
}

/// Why an input could not be read, before any decoding.
struct InputFileError: Error, CustomStringConvertible {
    let description: String
}

/// One input: a file (by raw path) or standard input.
struct ClassifyInputFile {
    enum Source { case file(RawPath), standardInput }
    let source: Source
    /// What rows and messages call it: the escaped path, or "-" for standard input.
    let path: String
    /// The digit named by the parent folder ("…/7/x.png" → 7), if it is a single digit.
    let folderLabel: Int?
    /// What `--shard` hashes: the path below the folder argument it was found in, or the path as given.
    let shardKey: [UInt8]
    /// Known to fail before it is read (a folder that cannot be listed): the message.
    let knownError: String?

    init(file: RawPath, shardKey: [UInt8]? = nil, knownError: String? = nil) {
        source = .file(file)
        self.knownError = knownError
        path = file.display
        self.shardKey = shardKey ?? file.bytes
        let components = file.bytes.split(separator: UInt8(ascii: "/"))
        if components.count >= 2, let parent = components.dropLast().last, parent.count == 1,
           let digit = parent.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) {
            folderLabel = Int(digit - UInt8(ascii: "0"))
        } else {
            folderLabel = nil
        }
    }

    /// Standard input, named `-`.
    init() {
        source = .standardInput
        knownError = nil
        path = "-"
        folderLabel = nil
        shardKey = Array("-".utf8)
    }

    /// `path` as a String for tests and labels.
    init(path: String) { self.init(file: RawPath(path)) }

    /// The whole content, read with the checks that keep a batch moving: regular files only, opened without
    /// blocking (a FIFO without a writer would block open(2) forever), bounded by `limits.maxFileBytes`.
    func read(limits: DecodeLimits) throws -> [UInt8] {
        if let knownError { throw InputFileError(description: knownError) }
        switch source {
        case .standardInput:
            return try readAll(descriptor: STDIN_FILENO, sizeHint: nil, limit: limits.maxFileBytes)
        case .file(let raw):
            let (descriptor, info) = try Self.openRegularFile(raw, shown: path)
            defer { close(descriptor) }
            // Regular files never block; clear O_NONBLOCK anyway so reads behave as documented everywhere.
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
            let size = Int(info.st_size)
            if size > limits.maxFileBytes {
                throw ImageError.fileTooLarge(file: path, bytes: size, limit: limits.maxFileBytes)
            }
            return try readAll(descriptor: descriptor, sizeHint: size, limit: limits.maxFileBytes)
        }
    }

    /// Opens `raw` for reading without blocking (open(2) on a FIFO without a writer would wait forever) and
    /// checks with fstat that it is a regular file; the caller closes the descriptor.
    static func openRegularFile(_ raw: RawPath, shown: String) throws -> (descriptor: Int32, info: stat) {
        let descriptor = raw.withCString { pointer -> Int32 in
            guard let pointer else { errno = EINVAL; return -1 }
            return open(pointer, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        }
        if descriptor < 0 {
            let code = errno
            var reason = String(cString: strerror(code))
            if code == ENOENT, isDanglingLink(raw) { reason += " (a symbolic link to a missing file)" }
            throw InputFileError(description: "\(shown): cannot open: \(reason)")
        }
        var info = stat()
        if fstat(descriptor, &info) != 0 {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw InputFileError(description: "\(shown): cannot read: \(reason)")
        }
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG else {
            close(descriptor)
            throw InputFileError(description: "\(shown): \(kindDescription(type)), not a regular file; only regular files are read"
                                 + (type == S_IFDIR ? " (hint: --recursive descends into subfolders)" : " (hint: pipe data in with `-` for standard input)"))
        }
        return (descriptor, info)
    }

    /// Throws unless `raw` is a regular file that can be opened (checked without reading or blocking).
    static func requireRegularFile(_ raw: RawPath) throws {
        close(try openRegularFile(raw, shown: raw.display).descriptor)
    }

    static func kindDescription(_ type: mode_t) -> String {
        switch type {
        case S_IFIFO: return "is a FIFO (named pipe)"
        case S_IFSOCK: return "is a socket"
        case S_IFCHR: return "is a character device"
        case S_IFBLK: return "is a block device"
        case S_IFDIR: return "is a directory"
        default: return "is not a regular file"
        }
    }

    private static func isDanglingLink(_ raw: RawPath) -> Bool {
        var info = stat()
        return raw.withCString { pointer in pointer.map { lstat($0, &info) == 0 } ?? false } && (info.st_mode & S_IFMT) == S_IFLNK
    }

    /// Reads to end of file through the package's one reader (`FileReader`), at most `limit` bytes (st_size is only a
    /// hint: files may grow, pipes say 0), with this input's messages.
    private func readAll(descriptor: Int32, sizeHint: Int?, limit: Int) throws -> [UInt8] {
        do {
            return try FileReader.read(descriptor: descriptor, sizeHint: sizeHint, limit: limit)
        } catch {
            switch error {
            case .tooLarge(let bytes, let limit): throw ImageError.fileTooLarge(file: path, bytes: bytes, limit: limit)
            case .isDirectory: throw InputFileError(description: "\(path): cannot read: \(String(cString: strerror(EISDIR)))")
            case .readFailed(let code), .cannotOpen(let code):
                throw InputFileError(description: "\(path): cannot read: \(String(cString: strerror(code)))")
            case .notRegularFile: throw InputFileError(description: "\(path): cannot read: \(error.reason)")
            }
        }
    }
}

/// Turns the arguments (and `--files-from` entries) into the list of inputs, in a stable order.
struct InputExpander {
    let recursive: Bool
    /// Messages for stderr (skipped subfolders, loops), in the order they arose.
    private(set) var notes: [String] = []
    /// The inputs so far, in order.
    private(set) var inputs: [ClassifyInputFile] = []
    private var listingErrors: [RawPath: String] = [:]
    private var visited = Set<DirectoryIdentity>()

    struct DirectoryIdentity: Hashable { let device: UInt64; let inode: UInt64 }

    init(recursive: Bool) { self.recursive = recursive }

    mutating func addStandardInput() { inputs.append(ClassifyInputFile()) }

    /// A path as given: a folder contributes the files in it (sorted by name; subfolders too with --recursive);
    /// anything else is an input as is (open reports what is wrong with it).
    mutating func add(_ path: RawPath) {
        var info = stat()
        let isDirectory = path.withCString { pointer in pointer.map { stat($0, &info) == 0 } ?? false }
            && (info.st_mode & S_IFMT) == S_IFDIR
        guard isDirectory else {
            inputs.append(ClassifyInputFile(file: path))
            return
        }
        var found: [(path: RawPath, key: [UInt8])] = []
        var skippedFolders = 0
        visited.insert(DirectoryIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)))
        // An explicit stack, not recursion: depth is bounded by the distinct folders there are, not by the stack.
        var pending: [(path: RawPath, relative: [UInt8])] = [(path, [])]
        while let (folder, relative) = pending.popLast() {
            let entries: [[UInt8]]
            do { entries = try Self.list(folder) } catch {
                found.append((folder, relative))
                listingErrors[folder] = "\(folder.display): cannot list the folder: \(error)"
                continue
            }
            for name in entries {
                let child = folder.appending(name)
                let childRelative = relative.isEmpty ? name : relative + [UInt8(ascii: "/")] + name
                var childInfo = stat()
                let exists = child.withCString { pointer in pointer.map { stat($0, &childInfo) == 0 } ?? false }
                if exists && (childInfo.st_mode & S_IFMT) == S_IFDIR {
                    guard recursive else { skippedFolders += 1; continue }
                    let identity = DirectoryIdentity(device: UInt64(childInfo.st_dev), inode: UInt64(childInfo.st_ino))
                    if !visited.insert(identity).inserted {
                        notes.append("\(child.display): skipped, this folder was already visited (a symbolic link loop or a second link to it)")
                        continue
                    }
                    pending.append((child, childRelative))
                } else {
                    // Regular files, and also FIFOs, sockets, devices and dangling links: each gets its own
                    // row (an error for all but regular files), so nothing is silently left out.
                    found.append((child, childRelative))
                }
            }
        }
        if skippedFolders > 0 {
            notes.append("\(path.display): skipped \(skippedFolders) subfolder\(skippedFolders == 1 ? "" : "s") (--recursive descends into them)")
        }
        for entry in found.sorted(by: { $0.path < $1.path }) {
            inputs.append(ClassifyInputFile(file: entry.path, shardKey: entry.key.isEmpty ? nil : entry.key, knownError: listingErrors[entry.path]))
        }
    }

    /// The names in a folder, raw, without "." and ".." and without hidden names (starting with ".").
    static func list(_ folder: RawPath) throws -> [[UInt8]] {
        let descriptor = folder.withCString { pointer -> Int32 in
            guard let pointer else { errno = EINVAL; return -1 }
            return open(pointer, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC)
        }
        if descriptor < 0 { throw InputFileError(description: String(cString: strerror(errno))) }
        guard let stream = fdopendir(descriptor) else {
            let message = String(cString: strerror(errno))
            close(descriptor)
            throw InputFileError(description: message)
        }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: &entry.pointee.d_name) { raw -> [UInt8] in
                let bytes = raw.bindMemory(to: UInt8.self)
                return Array(bytes.prefix(while: { $0 != 0 }))
            }
            if name.first == UInt8(ascii: ".") { continue }  // ".", ".." and hidden files
            names.append(name)
        }
        return names
    }
}

/// `--shard K/N`: the K-th of N disjoint parts (K from 1). A file's part depends only on its path (below the
/// folder argument), never on which other files exist, so every worker of a cluster job agrees.
struct ShardSelector: ExpressibleByArgument, Equatable {
    let index: Int
    let count: Int

    init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, n <= 1_000_000, (1...n).contains(k) else {
            return nil
        }
        index = k; count = n
    }

    func contains(_ key: [UInt8]) -> Bool {
        // FNV-1a, 64 bits: stable across runs, machines and Swift versions (Hasher is seeded per process).
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in key { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return Int(hash % UInt64(count)) == index - 1
    }
}

/// Reads a file the user named as a list or table (`--files-from`, `--labels`), or standard input for nil. A FIFO
/// is fine here (`--files-from <(find …)`): the user named it to be read, so waiting for its writer is expected.
func readNamedFile(_ source: RawPath?, what: String, limit: Int) throws -> [UInt8] {
    let name = source?.display ?? "-"
    let descriptor: Int32
    if let source {
        descriptor = source.withCString { pointer in pointer.map { open($0, O_RDONLY | O_CLOEXEC) } ?? -1 }
        if descriptor < 0 { throw InputFileError(description: "\(name): cannot open: \(String(cString: strerror(errno)))") }
    } else {
        descriptor = STDIN_FILENO
    }
    defer { if source != nil { close(descriptor) } }
    var info = stat()
    if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
        throw InputFileError(description: "\(name): is a directory; \(what)")
    }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            throw InputFileError(description: "\(name): cannot read: \(String(cString: strerror(errno)))")
        }
        if count == 0 { break }
        bytes += chunk[0..<count]
        if bytes.count > limit { throw InputFileError(description: "\(name): longer than \(limit) bytes") }
    }
    return bytes
}

/// Reads a `--files-from` list: NUL-separated when it contains a NUL byte (find -print0), else one path per
/// line (a trailing CR is dropped); empty entries are skipped.
func readPathList(_ source: RawPath?, limit: Int = 1 << 30) throws -> [RawPath] {
    let bytes = try readNamedFile(source, what: "--files-from takes a file listing paths", limit: limit)
    let separator: UInt8 = bytes.contains(0) ? 0 : UInt8(ascii: "\n")
    return bytes.split(separator: separator, omittingEmptySubsequences: true).compactMap { entry in
        var path = Array(entry)
        if separator == UInt8(ascii: "\n"), path.last == 0x0D { path.removeLast() }
        return path.isEmpty ? nil : RawPath(path)
    }
}
