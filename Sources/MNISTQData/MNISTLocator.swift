// Finds the MNIST files (--data, MNIST_DIR, or a per-user cache) and downloads missing ones into the cache.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MNISTQSupport

/// Decides which directory MNIST is read from, downloading into the per-user cache when needed.
///
/// Order:
/// 1. `--data DIR`: DIR must already hold the four files (`.gz` or plain). Nothing is ever downloaded into a
///    directory the user named: a typo would otherwise quietly fetch 11 MB into a new folder, and the user may
///    not want us writing there. A missing file is an error that lists what is missing.
/// 2. `MNIST_DIR` (when set and not empty): same rule as `--data`.
/// 3. The cache, `$XDG_CACHE_HOME/mnistq/mnist` or `~/.cache/mnistq/mnist`. Missing files are downloaded
///    (when `allowDownload`) from `mirrors` in order, falling back to the next mirror on any failure. A file is
///    cached only after its decompressed content matches the published SHA-256, and it is written atomically,
///    so the cache never holds a partial or unverified file.
package enum MNISTLocator {
    /// Public mirrors of the original MNIST .gz files, tried in order.
    package static let defaultMirrors: [URL] = [
        URL(string: "https://ossci-datasets.s3.amazonaws.com/mnist/")!,
        URL(string: "https://storage.googleapis.com/cvdf-datasets/mnist/")!,
    ]
    /// Largest response accepted from a mirror (the biggest MNIST file is 9.9 MB compressed).
    package static let maxResponseBytes = 64 << 20
    /// Seconds without an answer or new data before a request is abandoned: with the two default mirrors an
    /// offline machine gets its error (with a hint) within 15 s.
    package static let requestTimeout: TimeInterval = 7
    /// Seconds one file may take in total.
    package static let resourceTimeout: TimeInterval = 600

    /// Returns a directory holding the four MNIST files.
    /// - Parameters:
    ///   - dataFlag: the `--data DIR` option, if given.
    ///   - environment: where `MNIST_DIR`, `XDG_CACHE_HOME` and `HOME` are looked up.
    ///   - allowDownload: when false a missing cached file is an error instead of a download.
    ///   - mirrors: base URLs; the file name is appended to each.
    ///   - progress: show a progress line on stderr while downloading.
    /// - Throws: `DataError.missingFiles` (a named directory lacks files, or downloads are off),
    ///   `DataError.download` (every mirror failed for a file; lists each attempt), `DataError.cache`.
    package static func resolve(dataFlag: String?,
                               environment: [String: String] = ProcessInfo.processInfo.environment,
                               allowDownload: Bool = true,
                               mirrors: [URL] = MNISTLocator.defaultMirrors,
                               progress: Bool = true,
                               requestTimeout: TimeInterval = MNISTLocator.requestTimeout) throws -> String {
        if let dir = dataFlag {
            try requireFiles(in: dir, source: "--data",
                             hint: "--data must name a directory that already holds the four MNIST files (.gz or plain); nothing is downloaded there. Leave out --data to use MNIST_DIR or the download cache.")
            return dir
        }
        if let dir = environment["MNIST_DIR"], !dir.isEmpty {
            try requireFiles(in: dir, source: "MNIST_DIR",
                             hint: "MNIST_DIR must name a directory that already holds the four MNIST files (.gz or plain); nothing is downloaded there. Unset MNIST_DIR to use the download cache.")
            return dir
        }
        let cache = try cacheDirectory(environment: environment)
        let damaged = damagedCachedFiles(in: cache)
        for name in damaged {
            FileHandle.standardError.write(Data("mnistq: the cached \((cache as NSString).appendingPathComponent(name)) does not match its published checksum (damaged or replaced); downloading it again\n".utf8))
        }
        let missing = MNIST.missingFiles(in: cache).filter { !damaged.contains($0) } + damaged
        if missing.isEmpty { return cache }
        guard allowDownload else {
            throw DataError.missingFiles(directory: cache, source: "download cache", missing: missing,
                                         hint: "downloads are disabled; allow them, or pass --data DIR / set MNIST_DIR.")
        }
        try download(missing, into: cache, mirrors: mirrors, progress: progress, requestTimeout: requestTimeout)
        return cache
    }

    /// Cached .gz files whose content does not match the published size and SHA-256. Each file is checked once
    /// per (size, modification time): a stamp `.NAME.verified` beside it records the version that passed.
    package static func damagedCachedFiles(in cache: String) -> [String] {
        var damaged: [String] = []
        for info in MNIST.files {
            let path = (cache as NSString).appendingPathComponent(info.gzipName)
            var status = stat()
            guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { continue }
            let stampPath = (cache as NSString).appendingPathComponent(".\(info.gzipName).verified")
            let stamp = verificationStamp(status, info: info)
            if let stored = FileManager.default.contents(atPath: stampPath), Array(stored) == Array(stamp.utf8) { continue }
            guard let data = FileManager.default.contents(atPath: path), verify([UInt8](data), info: info, url: path) == nil else {
                damaged.append(info.gzipName)
                continue
            }
            try? AtomicFile.write(stamp, to: stampPath)
        }
        return damaged
    }

    static func verificationStamp(_ status: stat, info: MNISTFileInfo) -> String {
        "\(info.sha256) \(status.st_size) \(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)\n"
    }

    /// Writes the stamp of a file just downloaded and verified, so the next run does not check it again.
    static func stampVerified(_ path: String, info: MNISTFileInfo) {
        var status = stat()
        guard stat(path, &status) == 0 else { return }
        let stampPath = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(".\(info.gzipName).verified")
        try? AtomicFile.write(verificationStamp(status, info: info), to: stampPath)
    }

    /// The per-user cache directory: `$XDG_CACHE_HOME/mnistq/mnist` when XDG_CACHE_HOME is an absolute path
    /// (the XDG spec says to ignore a relative one), else `$HOME/.cache/mnistq/mnist`.
    package static func cacheDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return (xdg as NSString).appendingPathComponent("mnistq/mnist")
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        guard home.hasPrefix("/") else {
            throw DataError.cache(directory: "~/.cache/mnistq/mnist", detail: "no home directory (HOME is unset)")
        }
        return (home as NSString).appendingPathComponent(".cache/mnistq/mnist")
    }

    /// Downloads the named MNIST files (gzip names from `MNIST.files`) into `directory`, verifying each.
    /// Files already present are downloaded again; `resolve` only asks for the missing ones.
    package static func download(_ names: [String], into directory: String, mirrors: [URL], progress: Bool,
                                requestTimeout: TimeInterval = MNISTLocator.requestTimeout) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DataError.cache(directory: directory, detail: error.localizedDescription)
        }
        for name in names {
            guard let info = MNIST.files.first(where: { $0.gzipName == name }) else {
                throw DataError.badField(file: name, field: "file name", found: name,
                                         expected: "one of \(MNIST.files.map(\.gzipName).joined(separator: ", "))")
            }
            let bytes = try fetchVerified(info, mirrors: mirrors, progress: progress, requestTimeout: requestTimeout)
            let path = (directory as NSString).appendingPathComponent(info.gzipName)
            do {
                try AtomicFile.write(bytes, to: path)
            } catch {
                throw DataError.cache(directory: directory, detail: "\(error)")
            }
            stampVerified(path, info: info)
        }
    }

    /// Tries each mirror until one delivers `info`'s file with the right content; returns the gzip bytes.
    static func fetchVerified(_ info: MNISTFileInfo, mirrors: [URL], progress: Bool,
                              requestTimeout: TimeInterval = MNISTLocator.requestTimeout) throws -> [UInt8] {
        var failures: [DownloadFailure] = []
        for mirror in mirrors {
            let url = mirror.appendingPathComponent(info.gzipName)
            let body: [UInt8]
            switch fetch(url, label: info.gzipName, progress: progress, idleTimeout: requestTimeout) {
            case let .failure(failure): failures.append(failure); continue
            case let .success(bytes): body = bytes
            }
            if let failure = verify(body, info: info, url: url.absoluteString) {
                failures.append(failure)
                continue
            }
            return body
        }
        if mirrors.isEmpty {
            failures.append(.network(url: "(none)", detail: "no mirrors configured"))
        }
        throw DataError.download(file: info.gzipName, attempts: failures)
    }

    /// Checks downloaded gzip bytes against the published size and SHA-256 of the decompressed content;
    /// nil when they match.
    package static func verify(_ gzipBytes: [UInt8], info: MNISTFileInfo, url: String) -> DownloadFailure? {
        let content: [UInt8]
        do {
            // Exactly the published size is allowed, so a decompression bomb stops at once.
            content = try gunzip(gzipBytes, file: info.gzipName, maxOutput: info.bytes)
        } catch {
            if case let .corrupt(_, detail) = error { return .corrupt(url: url, detail: detail) }
            return .corrupt(url: url, detail: "\(error)")
        }
        guard content.count == info.bytes else {
            return .corrupt(url: url, detail: "decompresses to \(content.count) bytes, expected \(info.bytes)")
        }
        let digest = SHA256.hex(content)
        guard digest == info.sha256 else {
            return .checksum(url: url, algorithm: "sha256", expected: info.sha256, found: digest)
        }
        return nil
    }

    static func requireFiles(in directory: String, source: String, hint: String) throws {
        let missing = MNIST.missingFiles(in: directory)
        guard missing.isEmpty else {
            var isDir: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: directory, isDirectory: &isDir)
            let note = !exists ? "the directory does not exist; " : !isDir.boolValue ? "this is not a directory; " : ""
            throw DataError.missingFiles(directory: directory, source: source, missing: missing, hint: note + hint)
        }
    }

    // MARK: - HTTP

    /// One GET, synchronously, bounded in size and time: abandoned when `idleTimeout` seconds pass without an
    /// answer or new data (checked here, not left to URLSession, whose timeouts do not cover every stall), or
    /// after `resourceTimeout` in all.
    static func fetch(_ url: URL, label: String, progress: Bool,
                      idleTimeout: TimeInterval = MNISTLocator.requestTimeout) -> Result<[UInt8], DownloadFailure> {
        let receiver = BoundedReceiver(url: url, limit: maxResponseBytes, label: label, progress: progress)
        let configuration = URLSessionConfiguration.ephemeral
        // URLSession's own idle timeout is only a backstop behind the watch below, which says what happened.
        configuration.timeoutIntervalForRequest = 2 * idleTimeout + 1
        configuration.timeoutIntervalForResource = resourceTimeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: receiver, delegateQueue: queue)
        let task = session.dataTask(with: url)
        let start = Date()
        var lastActivity = start, lastCount = -1
        task.resume()
        while receiver.done.wait(timeout: .now() + min(idleTimeout, 0.25)) == .timedOut {
            let now = Date(), count = receiver.activity
            if count != lastCount { lastCount = count; lastActivity = now }
            let idle = now.timeIntervalSince(lastActivity) >= idleTimeout
            if idle || now.timeIntervalSince(start) >= resourceTimeout {
                task.cancel()
                session.invalidateAndCancel()
                return .failure(.network(url: url.absoluteString, detail: idle
                    ? (count == 0 ? "no answer within \(Int(idleTimeout)) s" : "no data for \(Int(idleTimeout)) s")
                    : "not complete within \(Int(resourceTimeout)) s"))
            }
        }
        session.finishTasksAndInvalidate()
        return receiver.result
    }
}

/// Collects one response body, refusing anything but HTTP 200 and anything over `limit` bytes.
///
/// `@unchecked Sendable` is safe: URLSession calls the delegate methods on a serial queue (maxConcurrentOperationCount
/// 1), the waiting thread reads only `activity` (under `activityLock`) until `done` is signalled, and `result` only
/// after it.
private final class BoundedReceiver: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let url: URL
    let limit: Int
    let done = DispatchSemaphore(value: 0)
    private(set) var result: Result<[UInt8], DownloadFailure> = .failure(.network(url: "", detail: "not started"))
    private var body: [UInt8] = []
    private var failure: DownloadFailure?
    private var progress: ProgressLine
    private let label: String
    private let activityLock = NSLock()
    private var activityCount = 0
    /// Grows with every response and data callback (read by the waiting thread to detect a stall).
    var activity: Int { activityLock.lock(); defer { activityLock.unlock() }; return activityCount }
    private func noteActivity() { activityLock.lock(); activityCount += 1; activityLock.unlock() }
    private let showProgress: Bool

    init(url: URL, limit: Int, label: String, progress: Bool) {
        self.url = url; self.limit = limit; self.label = label; self.showProgress = progress
        self.progress = ProgressLine(label: "downloading \(label)", total: 0, unit: "KiB", quiet: !progress)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        noteActivity()
        if let http = response as? HTTPURLResponse, http.statusCode != 200 {
            failure = .http(url: url.absoluteString, status: http.statusCode)
            completionHandler(.cancel)
            return
        }
        let expected = response.expectedContentLength
        if expected > Int64(limit) {
            failure = .tooLarge(url: url.absoluteString, limit: limit)
            completionHandler(.cancel)
            return
        }
        if expected > 0 {
            body.reserveCapacity(Int(expected))
            progress = ProgressLine(label: "downloading \(label)", total: Int((expected + 1023) / 1024), unit: "KiB", quiet: !showProgress)
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        noteActivity()
        guard failure == nil else { return }
        if body.count + data.count > limit {
            failure = .tooLarge(url: url.absoluteString, limit: limit)
            dataTask.cancel()
            return
        }
        body.append(contentsOf: data)
        progress.update(done: body.count / 1024)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let failure {
            progress.fail("\(failure)", onlyIfShown: true)
            result = .failure(failure)
        } else if let error {
            progress.fail(error.localizedDescription, onlyIfShown: true)
            result = .failure(.network(url: url.absoluteString, detail: error.localizedDescription))
        } else {
            progress.finish(done: body.count / 1024)
            result = .success(body)
        }
        done.signal()
    }
}
