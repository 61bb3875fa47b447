// What the `mnistq` commands share: the option groups, the one way to fail or speak on stderr, and the helpers
// more than one command uses.
import ArgumentParser
import Foundation
import MNISTQData
import MNISTQImage
import MNISTQQuantizer
import MNISTQRuntime
import MNISTQSupport

// MARK: - Option groups (one name, one help text, one check per option, whichever command uses it)

/// `--data`: the folder with the MNIST files.
struct DataOption: ParsableArguments {
    @Option(help: "Folder with the four MNIST .gz files (default: $MNIST_DIR, then the per-user cache, downloaded and verified when missing).")
    var data: String?

    /// --data, else $MNIST_DIR, else the per-user cache (downloaded and verified when missing); unusable: status 2.
    func directory(progress: Bool = true) throws -> String {
        do { return try MNISTLocator.resolve(dataFlag: data, progress: progress) } catch {
            throw CommandFailure.usage("\(error)")
        }
    }
}

/// `--json`: the result as one JSON document on stdout instead of text.
struct JSONOption: ParsableArguments {
    @Flag(help: "Print the result as JSON on stdout (snake_case keys) instead of text.")
    var json = false
}

/// `-q`/`--quiet`: results and errors only.
struct QuietOption: ParsableArguments {
    @Flag(name: [.short, .long], help: ArgumentHelp(
        "No progress line and no running commentary (train's epoch table, classify's notes and summary); results and errors still appear."))
    var quiet = false
}

/// `--threads` (alias `--jobs`, classify's name for it before there was one): how many threads work in parallel.
struct ThreadsOption: ParsableArguments {
    @Option(name: [.customLong("threads"), .customLong("jobs")],
            help: "Worker threads, 1-256 (default: all cores); --jobs is the same option.")
    var threads: Int?

    /// The count to use: --threads, else every core.
    var count: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }

    func validate() throws {
        if let threads, !InputLimits.threads.contains(threads) {
            throw ValidationError("--threads is \(threads), expected \(InputLimits.threads.lowerBound)...\(InputLimits.threads.upperBound)")
        }
    }
}

// MARK: - Failing and speaking on stderr

/// The exit statuses of every command: 0 success, 1 failed while working (e.g. some inputs failed), 2 usage error or
/// unusable input. ArgumentParser's own code for usage errors is 64 (EX_USAGE); scripts expect 2, as with most tools.
enum ExitStatus {
    static let failure: Int32 = 1
    static let usage: Int32 = 2
}

/// The one way a command fails: `MNISTQCommand.main` prints `mnistq <command>: message` on stderr and exits with
/// `status`.
struct CommandFailure: Error {
    /// nil when the failure was already reported line by line (classify's per-file errors).
    let message: String?
    let status: Int32

    /// Unusable arguments or input (status 2): nothing was done.
    static func usage(_ message: String) -> CommandFailure { CommandFailure(message: message, status: ExitStatus.usage) }
    /// Failed while working (status 1).
    static func failed(_ message: String) -> CommandFailure { CommandFailure(message: message, status: ExitStatus.failure) }
    /// Status 1 after the errors were printed as they arose.
    static let alreadyReported = CommandFailure(message: nil, status: ExitStatus.failure)
}

/// Every line mnistq addresses to a person on stderr (errors, notes, warnings): `mnistq <command>: message`, control
/// characters escaped so a file name cannot drive the terminal. `command` nil: `mnistq: message`.
func printDiagnostic(_ message: String, command: String?) {
    let prefix = "mnistq" + (command.map { " " + $0 } ?? "") + ": "
    FileHandle.standardError.write(Data((prefix + escapeMessage(message) + "\n").utf8))
}

extension ParsableCommand {
    /// A note, warning or per-item error of this command on stderr (`mnistq <command>: message`).
    static func diagnose(_ message: String) { printDiagnostic(message, command: _commandName) }
}

// MARK: - Output

/// Prints `value` on stdout as the `--json` documents are written: pretty-printed, keys sorted and in snake_case
/// (one key style in every command's JSON). `escapingSlashes`: `/` written as `\/`, as eval's and quantize's
/// documents always had it (their bytes are a contract); inspect's never had.
func printJSON<Value: Encodable>(_ value: Value, escapingSlashes: Bool = true) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = escapingSlashes ? [.prettyPrinted, .sortedKeys] : [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Sends what `print` buffered to stdout now (a table row before a long epoch, a report before the exit status).
/// `fflush(nil)` flushes every output stream: Swift 6 does not let us name C's global `stdout`, and stdout is the
/// only buffered one (stderr is unbuffered; the CLI opens no other `FILE`).
func flushStandardOutput() { fflush(nil) }

/// Renders the libraries' (phase, done, total) callbacks as one progress line per phase (quantize, report).
/// `@unchecked Sendable`: the libraries may call the callback from worker threads; every access to the mutable
/// state below happens while holding `lock`.
final class ProgressPrinter: @unchecked Sendable {
    private let quiet: Bool
    private let lock = NSLock()
    private var line: ProgressLine?
    private var phase = ""
    init(quiet: Bool) { self.quiet = quiet }

    var callback: QuantizationProgress {
        { [self] phase, done, total in
            lock.lock()
            defer { lock.unlock() }
            if phase != self.phase {
                line?.finish()
                self.phase = phase
                line = ProgressLine(label: phase, total: total, unit: "images", quiet: quiet)
            }
            line?.update(done: done)
        }
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        line?.finish(); line = nil; phase = ""
    }
}

// MARK: - Paths, messages and shell words

/// A path exactly as the system gave it (argv, a list file, readdir): bytes, not necessarily UTF-8.
struct RawPath: Hashable, Comparable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }
    init(_ string: String) { self.bytes = Array(string.utf8) }

    /// The path for people: printable UTF-8 kept, control characters, backslashes and bytes that are not
    /// UTF-8 escaped (`\x1b`, `\\`, `\xff`), so a name can neither corrupt a terminal nor fake an output line.
    var display: String { escapeForTerminal(bytes) }

    /// Valid UTF-8 without control characters: JSON and CSV may carry the name exactly.
    var isPlainText: Bool { display == String(decoding: bytes, as: UTF8.self) }

    func appending(_ name: [UInt8]) -> RawPath {
        if bytes.last == UInt8(ascii: "/") { return RawPath(bytes + name) }
        return RawPath(bytes + [UInt8(ascii: "/")] + name)
    }

    /// Calls `body` with the path as a NUL-terminated C string (a path with a NUL byte cannot exist: nil).
    func withCString<T>(_ body: (UnsafePointer<CChar>?) throws -> T) rethrows -> T {
        if bytes.contains(0) { return try body(nil) }
        return try (bytes + [0]).withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }

    static func < (a: RawPath, b: RawPath) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}

/// Escapes what must not reach a terminal raw: C0 and C1 controls and DEL, bytes that are not UTF-8, and `\`.
func escapeForTerminal(_ bytes: [UInt8]) -> String {
    var out = ""
    out.reserveCapacity(bytes.count)
    func hex(_ byte: UInt8) {
        let digits = Array("0123456789abcdef")
        out += "\\x"
        out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 15)])
    }
    var i = 0
    while i < bytes.count {
        let byte = bytes[i]
        if byte < 0x80 {
            switch byte {
            case UInt8(ascii: "\\"): out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x09: out += "\\t"
            case 0x0D: out += "\\r"
            case 0..<0x20, 0x7F: hex(byte)
            default: out.unicodeScalars.append(Unicode.Scalar(byte))
            }
            i += 1
            continue
        }
        // A well-formed UTF-8 sequence (no overlongs, no surrogates, ≤ U+10FFFF), else one escaped byte.
        let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC2 ? 2 : 0
        var value: UInt32 = length == 4 ? UInt32(byte & 0x07) : length == 3 ? UInt32(byte & 0x0F) : UInt32(byte & 0x1F)
        var valid = length > 0 && byte <= 0xF4 && i + length <= bytes.count
        if valid {
            for k in 1..<length {
                let next = bytes[i + k]
                if next & 0xC0 != 0x80 { valid = false; break }
                value = value << 6 | UInt32(next & 0x3F)
            }
        }
        if valid {
            valid = (length == 3 && value >= 0x800 && !(0xD800...0xDFFF).contains(value))
                || (length == 4 && value >= 0x10000 && value <= 0x10FFFF) || length == 2
        }
        if valid, let scalar = Unicode.Scalar(value), !(0x80...0x9F).contains(value) {
            out.unicodeScalars.append(scalar)
            i += length
        } else if valid {
            for k in 0..<length { hex(bytes[i + k]) }  // a C1 control (e.g. U+009B, a one-character CSI)
            i += length
        } else {
            hex(byte)
            i += 1
        }
    }
    return out
}

/// Escapes control characters (not newlines) in a message made of our text and names the system gave us. Names
/// in it are usually escaped already: backslashes are left as they are, so `\xff` is not shown as `\\xff`.
func escapeMessage(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false)
        .map { line in escapeForTerminal(Array(line.utf8)).replacingOccurrences(of: "\\\\", with: "\\") }
        .joined(separator: "\n")
}


/// `path` made absolute against the current directory (no symlinks resolved).
func absolutePath(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    return (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
}

/// A word for a POSIX shell: as is when it is plain, else in single quotes.
func shellQuoted(_ word: String) -> String {
    let plain = !word.isEmpty && word.unicodeScalars.allSatisfy {
        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_./=:,+@%".unicodeScalars.contains($0)
    }
    return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// A model file named on the command line (`eval`, `inspect`, `export`, the `--out` check of `quantize`): read like
/// a classify input — raw-byte path, opened without blocking, regular files only (a FIFO named as the model cannot
/// hang the command), at most `InputLimits.modelFileBytes` — and decoded by `ModelLoader`, the one model loader.
enum ModelFileArgument {
    /// The file's bytes; errors name the file ("path: cannot open: …", "path: is a FIFO …").
    static func read(_ path: RawPath) throws -> [UInt8] {
        try ClassifyInputFile(file: path).read(limits: DecodeLimits(maxFileBytes: InputLimits.modelFileBytes))
    }

    /// The int8 model in the file; a `ModelLoadError` ("path: <the runtime's reason>") when its bytes are not one.
    static func loadInt8(_ path: RawPath) throws -> Model {
        try ModelLoader.decode(try read(path), path: path.display)
    }
}
