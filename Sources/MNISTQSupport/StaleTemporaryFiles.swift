// Removal of the temporary files that killed atomic writes leave behind (AtomicFile's `.<name>.tmp-XXXXXX`).
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A write that is killed (kill -9, power loss) between `mkstemp` and `rename` leaves its temporary file: up to
/// 3.4 MB for a checkpoint, next to the file it was meant to replace. The first atomic write of a process to a
/// directory removes such files there. A file is removed only when all of these hold, so nothing else is touched:
///
/// * its name is AtomicFile's pattern: `.`, a non-empty name, `.tmp-`, then exactly six letters or digits (mkstemp's
///   `XXXXXX`);
/// * it is a regular file owned by this user;
/// * it was last modified before this process started (a write in progress in this process is newer);
/// * no live process holds its lock (AtomicFile locks its temporary file while writing, so a slow write of another
///   process that started before it is left alone).
package enum StaleTemporaryFiles {
    private static let lock = NSLock()
    // nonisolated(unsafe) is safe: every read and write holds `lock`.
    nonisolated(unsafe) private static var sweptDirectories: Set<String> = []

    /// Removes the stale temporary files in `directory` the first time it is called for that directory in this
    /// process; later calls return at once. Failures are ignored: a file that cannot be removed is only clutter.
    package static func removeOnce(in directory: String) {
        let key = URL(fileURLWithPath: directory).standardizedFileURL.path
        lock.lock()
        let isNew = sweptDirectories.insert(key).inserted
        lock.unlock()
        if isNew { _ = remove(in: directory) }
    }

    /// Removes the stale temporary files in `directory` now and returns the names it removed.
    @discardableResult
    package static func remove(in directory: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var removed: [String] = []
        for name in names where matchesPattern(name) {
            let path = (directory as NSString).appendingPathComponent(name)
            if isStale(path) && unlink(path) == 0 { removed.append(name) }
        }
        return removed
    }

    /// True for `.<name>.tmp-XXXXXX` with a non-empty name and six ASCII letters or digits.
    package static func matchesPattern(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        let suffix = Array(".tmp-".utf8)
        guard bytes.count >= 1 + 1 + suffix.count + 6, bytes[0] == UInt8(ascii: ".") else { return false }
        let random = bytes.suffix(6)
        guard random.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) }) else {
            return false
        }
        return Array(bytes[(bytes.count - 6 - suffix.count)..<(bytes.count - 6)]) == suffix
    }

    /// Regular, ours, older than this process, and not locked by a live writer.
    private static func isStale(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == geteuid() else { return false }
        #if canImport(Darwin)
        let modified = Double(info.st_mtimespec.tv_sec) + Double(info.st_mtimespec.tv_nsec) / 1e9
        #else
        let modified = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
        #endif
        guard modified < processStartTime else { return false }
        // A writer that is alive holds LOCK_EX until its rename; the lock is only tried, never waited for.
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return false }
        return true
    }

    /// When this process started, in seconds since 1970. On Linux from /proc/self/stat (its start in clock ticks since
    /// boot) and the current wall clock minus the time since boot, rounded up to the next tick (10 ms); elsewhere the
    /// time this value was first read. Either may be a little after the true start, which is safe: a file this
    /// process is still writing is locked, and one it has finished writing has been renamed.
    static let processStartTime: Double = {
        #if os(Linux)
        var realtime = timespec(), boottime = timespec()
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")"),
           clock_gettime(CLOCK_REALTIME, &realtime) == 0, clock_gettime(CLOCK_BOOTTIME, &boottime) == 0 {
            // Fields after the command name; field 22 (starttime) is the 20th of them.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 19, let ticks = Double(fields[19]) {
                let boot = (Double(realtime.tv_sec) + Double(realtime.tv_nsec) / 1e9)
                    - (Double(boottime.tv_sec) + Double(boottime.tv_nsec) / 1e9)
                // starttime is truncated to whole ticks: the end of its tick is the bound that never falls before
                // the true start (a writer killed a moment before this process began must count as older).
                return boot + (ticks + 1) / Double(sysconf(Int32(_SC_CLK_TCK)))
            }
        }
        #endif
        return Date().timeIntervalSince1970
    }()
}
