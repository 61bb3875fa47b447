// Atomic file replacement: readers see the old file or the new one, never a half-written one.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed atomic write: names the path, the step that failed and the system's reason.
package struct AtomicWriteError: Error, Equatable, CustomStringConvertible {
    /// The file we were asked to write.
    package let path: String
    /// The step that failed ("create directory", "create temporary file", "write", "fsync", "rename").
    package let operation: String
    /// The system's explanation (strerror text).
    package let reason: String

    /// Creates the error; `reason` is usually `strerror(errno)`.
    package init(path: String, operation: String, reason: String) {
        self.path = path; self.operation = operation; self.reason = reason
    }

    package var description: String {
        "\(path): cannot write file (\(operation) failed: \(reason)). Hint: check that the directory exists and is writable, and that the disk is not full."
    }
}

/// Writes whole files atomically: the bytes go to a temporary file in the destination's directory, which is
/// flushed to disk (fsync) and then renamed over the destination. A crash or error leaves either the previous
/// file or nothing — never a truncated file — and no temporary file is left behind on error.
/// A symbolic link at `path` is replaced by the file, not followed (rename semantics).
package enum AtomicFile {
    /// Writes `bytes` to `path`, creating missing parent directories.
    package static func write(_ bytes: [UInt8], to path: String) throws {
        try bytes.withUnsafeBytes { try write(buffer: $0, to: path) }
    }

    /// Writes `data` to `path`, creating missing parent directories.
    package static func write(_ data: Data, to path: String) throws {
        try data.withUnsafeBytes { try write(buffer: $0, to: path) }
    }

    /// Writes `text` as UTF-8 to `path`, creating missing parent directories.
    package static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    private static func write(buffer: UnsafeRawBufferPointer, to path: String) throws {
        guard !path.isEmpty else {
            throw AtomicWriteError(path: path, operation: "open", reason: "empty path")
        }
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw AtomicWriteError(path: path, operation: "create directory \(directory)", reason: "\(error.localizedDescription)")
        }

        StaleTemporaryFiles.removeOnce(in: directory)

        // mkstemp gives a unique name in the same directory, so the final rename never crosses file systems.
        var template = Array((directory as NSString).appendingPathComponent(".\(url.lastPathComponent).tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw AtomicWriteError(path: path, operation: "create temporary file", reason: systemError())
        }
        // The lock says "a live writer owns this file" to the stale-file sweep of another process (a killed writer's
        // lock goes with it).
        _ = flock(fd, LOCK_EX)
        let tempPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var closed = false
        var renamed = false
        defer {
            if !closed { close(fd) }
            if !renamed { unlink(tempPath) }
        }

        var offset = 0
        while offset < buffer.count {
            let n = systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw AtomicWriteError(path: path, operation: "write", reason: systemError())
            }
            offset += n
        }
        // mkstemp creates 0600; give the file the usual permissions for a user-created file.
        let mask = umask(0); umask(mask)
        _ = fchmod(fd, 0o666 & ~mask)
        guard fsync(fd) == 0 else {
            throw AtomicWriteError(path: path, operation: "fsync", reason: systemError())
        }
        closed = true
        guard close(fd) == 0 else {
            throw AtomicWriteError(path: path, operation: "close", reason: systemError())
        }
        guard rename(tempPath, path) == 0 else {
            throw AtomicWriteError(path: path, operation: "rename", reason: systemError())
        }
        renamed = true
        // Make the rename itself durable; failure here is not worth an error (the data is in place).
        let dirFD = open(directory, O_RDONLY)
        if dirFD >= 0 { _ = fsync(dirFD); close(dirFD) }
    }

    private static func systemWrite(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(fd, pointer, count)
        #else
        return Darwin.write(fd, pointer, count)
        #endif
    }

    private static func systemError() -> String {
        String(cString: strerror(errno))
    }
}
