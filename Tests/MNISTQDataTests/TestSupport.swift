// The data tests' own helper: the MNIST folder, failing (not skipping) when it is missing. Paths, temporary
// directories and the reference gzip writer come from MNISTQTestSupport.
import Foundation
import XCTest
@testable import MNISTQData
import MNISTQTestSupport

enum TestData {
    /// `MNIST_DIR`, else ../shared/mnist next to the package. Fails the test (does not skip) when the
    /// files are not there.
    static func mnistDirectory(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let fromEnvironment = !(ProcessInfo.processInfo.environment["MNIST_DIR"] ?? "").isEmpty
        let dir = TestPaths.mnistDirectory
        let missing = MNIST.missingFiles(in: dir)
        if !missing.isEmpty {
            XCTFail("MNIST data not found in \(dir) (\(fromEnvironment ? "MNIST_DIR" : "fallback ../shared/mnist")): missing \(missing.joined(separator: ", ")). Set MNIST_DIR to the folder with the four MNIST .gz files.", file: file, line: line)
            throw XCTSkip("no MNIST data")  // already failed above; stop this test
        }
        return dir
    }

    static func read(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
