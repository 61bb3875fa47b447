// The sweep of temporary files left by killed atomic writes: only AtomicFile's own pattern, only files older than
// this process, never a file a live writer holds, once per directory.
import Foundation
import XCTest
@testable import MNISTQSupport

final class StaleTemporaryFileTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "mnistq-stale-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Creates `name` with `bytes` bytes, last modified `age` seconds before this process started (negative: after).
    private func makeFile(_ name: String, age: Double, bytes: Int = 10) throws -> String {
        let path = directory + "/" + name
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(count: bytes)))
        let time = StaleTemporaryFiles.processStartTime - age
        var times = [timeval(tv_sec: Int(time), tv_usec: 0), timeval(tv_sec: Int(time), tv_usec: 0)]
        XCTAssertEqual(utimes(path, &times), 0)
        return path
    }

    private func names() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    func testPattern() {
        XCTAssertTrue(StaleTemporaryFiles.matchesPattern(".model.ckpt.tmp-Ab3xYz"))
        XCTAssertTrue(StaleTemporaryFiles.matchesPattern(".a.tmp-000000"))
        XCTAssertFalse(StaleTemporaryFiles.matchesPattern("model.ckpt.tmp-Ab3xYz"), "no leading dot")
        XCTAssertFalse(StaleTemporaryFiles.matchesPattern("..tmp-Ab3xYz"), "empty name")
        XCTAssertFalse(StaleTemporaryFiles.matchesPattern(".model.tmp-Ab3xY"), "five random characters")
        XCTAssertFalse(StaleTemporaryFiles.matchesPattern(".model.tmp-Ab3xYzz"), "seven random characters")
        XCTAssertFalse(StaleTemporaryFiles.matchesPattern(".model.tmp-Ab3-Yz"), "not mkstemp's alphabet")
        XCTAssertFalse(StaleTemporaryFiles.matchesPattern(".model.temp-Ab3xYz"))
        XCTAssertFalse(StaleTemporaryFiles.matchesPattern(".bashrc"))
    }

    func testAtomicWriteRemovesOnlyOldFilesOfItsOwnPattern() throws {
        _ = try makeFile(".model.ckpt.tmp-Ab3xYz", age: 60, bytes: 3_000_000)   // a killed checkpoint write
        _ = try makeFile(".other.mnq8.tmp-QQQQQQ", age: 5)                      // another file's killed write
        _ = try makeFile(".model.ckpt.tmp-NEWNEW", age: -5)                     // newer than this process: kept
        _ = try makeFile("model.ckpt.tmp-Ab3xYz", age: 60)                      // not the pattern: kept
        _ = try makeFile(".notes.tmp-abc", age: 60)                             // not the pattern: kept
        try FileManager.default.createDirectory(atPath: directory + "/.dir.tmp-ZZZZZZ", withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: directory + "/.link.tmp-LLLLLL", withDestinationPath: "/etc/hostname")

        try AtomicFile.write([1, 2, 3] as [UInt8], to: directory + "/model.ckpt")

        XCTAssertEqual(try names(), [".dir.tmp-ZZZZZZ", ".link.tmp-LLLLLL", ".model.ckpt.tmp-NEWNEW", ".notes.tmp-abc",
                                     "model.ckpt", "model.ckpt.tmp-Ab3xYz"])
    }

    func testAFileALiveWriterHoldsIsKept() throws {
        let path = try makeFile(".model.ckpt.tmp-Locked", age: 60)
        let fd = open(path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertEqual(flock(fd, LOCK_EX), 0)
        // flock locks belong to the open file description: a second open in this process conflicts like another
        // process's would.
        XCTAssertEqual(StaleTemporaryFiles.remove(in: directory), [])
        close(fd)
        XCTAssertEqual(StaleTemporaryFiles.remove(in: directory), [".model.ckpt.tmp-Locked"])
    }

    func testTheSweepRunsOncePerDirectory() throws {
        try AtomicFile.write([1] as [UInt8], to: directory + "/a.bin")
        _ = try makeFile(".a.bin.tmp-Later1", age: 60)
        try AtomicFile.write([2] as [UInt8], to: directory + "/a.bin")
        XCTAssertEqual(try names(), [".a.bin.tmp-Later1", "a.bin"], "the directory was swept by the first write")
    }

    func testProcessStartTimeIsInThePastAndRecent() {
        let now = Date().timeIntervalSince1970
        XCTAssertLessThanOrEqual(StaleTemporaryFiles.processStartTime, now)
        XCTAssertGreaterThan(StaleTemporaryFiles.processStartTime, now - 24 * 3600)
    }
}
