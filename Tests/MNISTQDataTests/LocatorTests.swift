// MNISTLocator: directory precedence, cache location, and downloads from a loopback server (good, corrupt, truncated).
import Foundation
import XCTest
@testable import MNISTQData
import MNISTQSupport
import MNISTQTestSupport

final class LocatorTests: XCTestCase {
    private static let labels = "t10k-labels-idx1-ubyte.gz"
    private static let images = "t10k-images-idx3-ubyte.gz"

    /// The four real files, as served by a mirror.
    private func realFiles() throws -> [String: [UInt8]] {
        let dir = try TestData.mnistDirectory()
        var files: [String: [UInt8]] = [:]
        for info in MNIST.files {
            let path = MNIST.path(in: dir, for: info.gzipName)
            let bytes = try TestData.read(path)
            // A plain copy is served gzipped, as a mirror would.
            files[info.gzipName] = path.hasSuffix(".gz") ? bytes : ReferenceCoding.gzipStored(bytes)
        }
        return files
    }

    func testDownloadsMissingFilesIntoTheCacheFallingBackToTheNextMirror() throws {
        let files = try realFiles()
        let server = try LoopbackHTTPServer(routes: Dictionary(uniqueKeysWithValues: files.map { ("/mnist/\($0.key)", $0.value) }))
        defer { server.stop() }
        let home = try TemporaryDirectory(); defer { home.remove() }
        let env = ["XDG_CACHE_HOME": home.path, "HOME": "/nonexistent"]

        // The first mirror answers 404 for everything; the second has the files.
        let dir = try MNISTLocator.resolve(dataFlag: nil, environment: env,
                                           mirrors: [server.base("gone"), server.base("mnist")], progress: false)
        XCTAssertEqual(dir, home.path + "/mnistq/mnist")
        let listing = try FileManager.default.contentsOfDirectory(atPath: dir)
        XCTAssertEqual(listing.filter { !$0.hasSuffix(".verified") }.sorted(), files.keys.sorted(),
                       "exactly the four files, no temporary files left")
        XCTAssertEqual(listing.filter { $0.hasSuffix(".verified") }.sorted(), files.keys.sorted().map { ".\($0).verified" },
                       "a verification stamp per file, so later runs need not hash them again")
        for (name, bytes) in files {
            XCTAssertEqual(try TestData.read(dir + "/" + name), bytes, name)
        }
        let order = MNIST.files.map(\.gzipName)
        XCTAssertEqual(server.requests, order.flatMap { ["/gone/\($0)", "/mnist/\($0)"] })
        let test = try MNIST.loadTest(directory: dir)
        XCTAssertEqual(test.count, 10_000)

        // Second call: everything cached, no request.
        XCTAssertEqual(try MNISTLocator.resolve(dataFlag: nil, environment: env, mirrors: [server.base("mnist")], progress: false), dir)
        XCTAssertEqual(server.requests.count, 8)
    }

    func testDamagedCachedFileIsDownloadedAgain() throws {
        let files = try realFiles()
        let server = try LoopbackHTTPServer(routes: Dictionary(uniqueKeysWithValues: files.map { ("/mnist/\($0.key)", $0.value) }))
        defer { server.stop() }
        let home = try TemporaryDirectory(); defer { home.remove() }
        let env = ["XDG_CACHE_HOME": home.path, "HOME": "/nonexistent"]
        let dir = try MNISTLocator.resolve(dataFlag: nil, environment: env, mirrors: [server.base("mnist")], progress: false)
        XCTAssertEqual(server.requests.count, 4)
        XCTAssertEqual(MNISTLocator.damagedCachedFiles(in: dir), [])

        // The cached labels file loses its second half (a disk error, an interrupted copy by hand).
        let whole = files[Self.labels]!
        try Data(whole.prefix(whole.count / 2)).write(to: URL(fileURLWithPath: dir + "/" + Self.labels))
        XCTAssertEqual(MNISTLocator.damagedCachedFiles(in: dir), [Self.labels])
        XCTAssertEqual(try MNISTLocator.resolve(dataFlag: nil, environment: env, mirrors: [server.base("mnist")], progress: false), dir)
        XCTAssertEqual(server.requests.dropFirst(4), ["/mnist/\(Self.labels)"], "only the damaged file is fetched again")
        XCTAssertEqual(try TestData.read(dir + "/" + Self.labels), whole)
        XCTAssertEqual(try MNIST.loadTest(directory: dir).count, 10_000)
    }

    func testUnreachableMirrorsTimeOutWithAnOfflineHint() throws {
        // The default timeout gives an offline machine its answer within 15 s over every default mirror.
        XCTAssertLessThanOrEqual(MNISTLocator.requestTimeout * Double(MNISTLocator.defaultMirrors.count), 15)
        // A mirror that accepts the connection (the kernel's backlog does) and never answers.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(bound, 0)
        XCTAssertEqual(listen(fd, 16), 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let silent = URL(string: "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))/mnist/")!
        let cache = try TemporaryDirectory(); defer { cache.remove() }
        XCTAssertThrowsError(try MNISTLocator.download([Self.labels], into: cache.path, mirrors: [silent, silent], progress: false,
                                                       requestTimeout: 1)) { error in
            guard case let .download(file, attempts)? = error as? DataError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, Self.labels)
            XCTAssertEqual(attempts.count, 2)
            for attempt in attempts {
                guard case let .network(_, detail) = attempt else { return XCTFail("\(attempt)") }
                XCTAssertEqual(detail, "no answer within 1 s")
            }
            XCTAssertTrue("\(error)".contains("this machine looks offline"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache.path), [], "nothing cached")
    }

    func testCorruptedFileFailsTheChecksumAndNothingIsCached() throws {
        let files = try realFiles()
        let info = try XCTUnwrap(MNIST.files.first { $0.gzipName == Self.labels })
        // One label changed (7 → 6) in the decompressed content; a valid gzip stream around it.
        var content = try gunzip(files[Self.labels]!, file: Self.labels, maxOutput: 1 << 20)
        content[8] ^= 1
        let corrupted = ReferenceCoding.gzipStored(content)
        let server = try LoopbackHTTPServer(routes: ["/bad/\(Self.labels)": corrupted, "/good/\(Self.labels)": files[Self.labels]!])
        defer { server.stop() }
        let cache = try TemporaryDirectory(); defer { cache.remove() }

        let url = server.base("bad").appendingPathComponent(Self.labels).absoluteString
        XCTAssertThrowsError(try MNISTLocator.download([Self.labels], into: cache.path, mirrors: [server.base("bad")], progress: false)) { error in
            XCTAssertEqual(error as? DataError, .download(file: Self.labels, attempts: [
                .checksum(url: url, algorithm: "sha256", expected: info.sha256, found: SHA256.hex(content)),
            ]))
            let message = "\(error)"
            XCTAssertTrue(message.contains(info.sha256) && message.contains(SHA256.hex(content)) && message.contains(url), message)
            XCTAssertTrue(message.contains("nothing cached"), message)
        }
        XCTAssertEqual(cache.contents(), [], "a file that failed its checksum must not be cached")

        // Through resolve: the error surfaces and the cache stays empty.
        let xdg = try TemporaryDirectory(); defer { xdg.remove() }
        XCTAssertThrowsError(try MNISTLocator.resolve(dataFlag: nil, environment: ["XDG_CACHE_HOME": xdg.path],
                                                      mirrors: [server.base("bad")], progress: false)) { error in
            guard case .download(Self.labels, _)? = error as? DataError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: xdg.path + "/mnistq/mnist"), [])

        // A corrupt first mirror falls back to a good second one.
        try MNISTLocator.download([Self.labels], into: cache.path, mirrors: [server.base("bad"), server.base("good")], progress: false)
        XCTAssertEqual(try TestData.read(cache.file(Self.labels)), files[Self.labels]!)
        XCTAssertEqual(cache.contents(), [".\(Self.labels).verified", Self.labels], "the file and its verification stamp")
    }

    func testTruncatedDownloadIsRejectedAndNothingIsCached() throws {
        let files = try realFiles()
        let whole = files[Self.images]!
        let server = try LoopbackHTTPServer(routes: ["/cut/\(Self.images)": Array(whole.prefix(whole.count / 2))])
        defer { server.stop() }
        let cache = try TemporaryDirectory(); defer { cache.remove() }
        let url = server.base("cut").appendingPathComponent(Self.images).absoluteString
        XCTAssertThrowsError(try MNISTLocator.download([Self.images], into: cache.path, mirrors: [server.base("cut")], progress: false)) { error in
            XCTAssertEqual(error as? DataError, .download(file: Self.images, attempts: [
                .corrupt(url: url, detail: "compressed data ends early (truncated file?)"),
            ]))
        }
        XCTAssertEqual(cache.contents(), [])
    }

    func testUnreachableMirrorAndHTTPErrorsAreReportedPerMirror() throws {
        // A port that was just closed: the connection is refused.
        let closed = try LoopbackHTTPServer(routes: [:])
        let deadBase = closed.base("mnist")
        closed.stop()
        let server = try LoopbackHTTPServer(routes: [:])
        defer { server.stop() }
        let cache = try TemporaryDirectory(); defer { cache.remove() }
        XCTAssertThrowsError(try MNISTLocator.download([Self.labels], into: cache.path, mirrors: [deadBase, server.base("x")], progress: false)) { error in
            guard case let .download(file, attempts)? = error as? DataError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, Self.labels)
            XCTAssertEqual(attempts.count, 2)
            guard case let .network(url, _) = attempts[0] else { return XCTFail("\(attempts[0])") }
            XCTAssertEqual(url, deadBase.appendingPathComponent(Self.labels).absoluteString)
            XCTAssertEqual(attempts[1], .http(url: server.base("x").appendingPathComponent(Self.labels).absoluteString, status: 404))
        }
        XCTAssertEqual(cache.contents(), [])
    }

    func testPrecedenceDataFlagThenEnvironmentThenCache() throws {
        let real = try TestData.mnistDirectory()
        let cache = try TemporaryDirectory(); defer { cache.remove() }
        let empty = try TemporaryDirectory(); defer { empty.remove() }
        let env = ["MNIST_DIR": real, "XDG_CACHE_HOME": cache.path]

        XCTAssertEqual(try MNISTLocator.resolve(dataFlag: real, environment: [:], allowDownload: false, mirrors: []), real)
        XCTAssertEqual(try MNISTLocator.resolve(dataFlag: nil, environment: env, allowDownload: false, mirrors: []), real)

        // --data wins over MNIST_DIR, and a named directory without the files is an error, not a download.
        XCTAssertThrowsError(try MNISTLocator.resolve(dataFlag: empty.path, environment: env, mirrors: [])) { error in
            guard case let .missingFiles(directory, source, missing, _)? = error as? DataError else { return XCTFail("\(error)") }
            XCTAssertEqual(directory, empty.path)
            XCTAssertEqual(source, "--data")
            XCTAssertEqual(missing, MNIST.files.map(\.gzipName))
        }
        XCTAssertThrowsError(try MNISTLocator.resolve(dataFlag: empty.path + "/typo", environment: [:], mirrors: [])) { error in
            XCTAssertTrue("\(error)".contains("the directory does not exist"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: empty.path + "/typo"), "nothing is created in a named directory")
        XCTAssertThrowsError(try MNISTLocator.resolve(dataFlag: nil, environment: ["MNIST_DIR": empty.path], mirrors: [])) { error in
            guard case let .missingFiles(_, source, _, hint)? = error as? DataError else { return XCTFail("\(error)") }
            XCTAssertEqual(source, "MNIST_DIR")
            XCTAssertTrue(hint.contains("Unset MNIST_DIR"), hint)
        }
        // An empty MNIST_DIR counts as unset; with downloads off, a cache miss lists what is missing.
        XCTAssertThrowsError(try MNISTLocator.resolve(dataFlag: nil, environment: ["MNIST_DIR": "", "XDG_CACHE_HOME": cache.path],
                                                      allowDownload: false, mirrors: [])) { error in
            XCTAssertEqual(error as? DataError, .missingFiles(directory: cache.path + "/mnistq/mnist", source: "download cache",
                                                              missing: MNIST.files.map(\.gzipName),
                                                              hint: "downloads are disabled; allow them, or pass --data DIR / set MNIST_DIR."))
        }
        // Partly filled cache: only the missing file counts.
        let cacheDir = cache.path + "/mnistq/mnist"
        try FileManager.default.createDirectory(atPath: cacheDir, withIntermediateDirectories: true)
        for info in MNIST.files.dropFirst() {
            try FileManager.default.copyItem(atPath: MNIST.path(in: real, for: info.gzipName), toPath: cacheDir + "/" + info.gzipName)
        }
        XCTAssertEqual(MNIST.missingFiles(in: cacheDir), [MNIST.files[0].gzipName])
    }

    func testCacheDirectory() throws {
        XCTAssertEqual(try MNISTLocator.cacheDirectory(environment: ["XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"]), "/x/cache/mnistq/mnist")
        // A relative XDG_CACHE_HOME is ignored, as the XDG spec says.
        XCTAssertEqual(try MNISTLocator.cacheDirectory(environment: ["XDG_CACHE_HOME": "rel", "HOME": "/home/u"]), "/home/u/.cache/mnistq/mnist")
        XCTAssertEqual(try MNISTLocator.cacheDirectory(environment: ["HOME": "/home/u"]), "/home/u/.cache/mnistq/mnist")
    }
}
