// AtomicFile: replaces content, creates directories, leaves no temporary file, reports the path on failure.
import Foundation
import XCTest
@testable import MNISTQSupport

final class AtomicFileTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "mnistq-atomic-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testWriteCreatesParentsAndReplacesContentWithoutLeftovers() throws {
        let path = directory + "/a/b/model.bin"
        try AtomicFile.write([1, 2, 3, 4, 5] as [UInt8], to: path)
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), [1, 2, 3, 4, 5])

        // Replacing with shorter content must not leave a tail of the old file.
        try AtomicFile.write(Data([9, 8]), to: path)
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), [9, 8])

        try AtomicFile.write("héllo\n", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "héllo\n")

        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory + "/a/b"), ["model.bin"])
    }

    func testWriteOfEmptyAndLargeBuffers() throws {
        let path = directory + "/x.bin"
        try AtomicFile.write([UInt8](), to: path)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)).count, 0)
        let big = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        try AtomicFile.write(big, to: path)
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), big)
    }

    func testFailureNamesThePathAndLeavesNoTemporaryFile() throws {
        // The destination is an existing non-empty directory: rename over it must fail.
        let target = directory + "/occupied"
        try FileManager.default.createDirectory(atPath: target + "/inner", withIntermediateDirectories: true)
        XCTAssertThrowsError(try AtomicFile.write([1, 2, 3] as [UInt8], to: target)) { error in
            guard let e = error as? AtomicWriteError else { return XCTFail("unexpected error \(error)") }
            XCTAssertEqual(e.path, target)
            XCTAssertEqual(e.operation, "rename")
            XCTAssertTrue(e.description.hasPrefix("\(target): cannot write file (rename failed: "), e.description)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).sorted(), ["occupied"])

        // A parent that is a regular file cannot become a directory.
        let blocker = directory + "/file"
        try AtomicFile.write([0] as [UInt8], to: blocker)
        XCTAssertThrowsError(try AtomicFile.write([1] as [UInt8], to: blocker + "/child.bin")) { error in
            guard let e = error as? AtomicWriteError else { return XCTFail("unexpected error \(error)") }
            XCTAssertEqual(e.path, blocker + "/child.bin")
            XCTAssertTrue(e.operation.hasPrefix("create directory"), e.operation)
        }
    }
}
