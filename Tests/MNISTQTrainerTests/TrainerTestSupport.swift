// Locates the golden vectors and MNIST for the trainer tests (env var first, then ../shared next to the package).
import Foundation
import XCTest
@testable import MNISTQTrainer
import MNISTQData

enum TrainerTestData {
    /// The package root, derived from this file's path (Tests/MNISTQTrainerTests/<file>).
    static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    static func directory(env: String, fallback: String, marker: String) throws -> String {
        let dir = ProcessInfo.processInfo.environment[env] ?? (packageRoot as NSString).appendingPathComponent(fallback)
        let path = (dir as NSString).appendingPathComponent(marker)
        guard FileManager.default.fileExists(atPath: path) else {
            XCTFail("missing \(path). Set \(env) to the directory that holds it (default \(fallback) next to the package).")
            throw CocoaError(.fileNoSuchFile)
        }
        return dir
    }

    static func goldenDirectory() throws -> String {
        try directory(env: "MNISTQ_GOLDEN_DIR", fallback: "../shared/golden", marker: "manifest.json")
    }

    static func mnistDirectory() throws -> String {
        try directory(env: "MNIST_DIR", fallback: "../shared/mnist", marker: "t10k-labels-idx1-ubyte.gz")
    }

    static func floats(_ name: String, count: Int) throws -> [Float] {
        try readRawFloats(path: ((try goldenDirectory()) as NSString).appendingPathComponent(name), count: count)
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        let path = ((try goldenDirectory()) as NSString).appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: path) else {
            XCTFail("cannot read \(path)"); throw CocoaError(.fileReadUnknown)
        }
        return [UInt8](data)
    }

    /// The golden batch: 192 images (pixels) and their labels (stored as int64, converted to UInt8).
    static func goldenBatch() throws -> (pixels: [UInt8], labels: [UInt8]) {
        let pixels = try bytes("batch.images.u8")
        let raw = try bytes("batch.labels.i64")
        guard pixels.count == 192 * 784, raw.count == 192 * 8 else {
            XCTFail("golden batch has unexpected size"); throw CocoaError(.fileReadCorruptFile)
        }
        let labels = (0..<192).map { i in UInt8(raw.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)) }) }
        return (pixels, labels)
    }
}

/// Compares `actual` with `expected` element by element: |a − e| ≤ absolute + relative·|e| (NaN always fails).
/// Reports the element that exceeds its tolerance by the most.
func assertClose(_ actual: [Float], _ expected: [Float], relative: Float, absolute: Float, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(what): \(actual.count) values, expected \(expected.count)", file: file, line: line); return
    }
    var worst: Int? = nil, worstExcess: Float = 0
    for i in 0..<actual.count {
        let excess = abs(actual[i] - expected[i]) - (absolute + relative * abs(expected[i]))
        if excess.isNaN { worst = i; break }
        if excess > worstExcess { worst = i; worstExcess = excess }
    }
    if let w = worst {
        XCTFail("\(what): element \(w) is \(actual[w]), expected \(expected[w]) (tolerance abs \(absolute) + rel \(relative))",
                file: file, line: line)
    }
    if ProcessInfo.processInfo.environment["MNISTQ_TEST_VERBOSE"] != nil {
        let maxAbs = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
        print("\(what): max |diff| \(maxAbs)")
    }
}

/// Runs `body` once with each float kernel path this CPU runs in force (`FloatKernelPath.available`, portable
/// included), then restores the path that was in force. When `body` records a failure, one more failure names the
/// path it happened on.
func onEveryFloatKernelPath(_ test: XCTestCase, file: StaticString = #filePath, line: UInt = #line,
                            _ body: (FloatKernelPath) throws -> Void) rethrows {
    let saved = FloatKernelPath.active
    defer { FloatKernelPath.use(saved) }
    let paths = FloatKernelPath.available
    XCTAssertTrue(paths.contains(.portable), "the portable path must always be available", file: file, line: line)
    for path in paths {
        XCTAssertTrue(FloatKernelPath.use(path), "cannot select the available path \(path)", file: file, line: line)
        XCTAssertEqual(FloatKernelPath.active, path, file: file, line: line)
        let failuresBefore = test.testRun?.totalFailureCount ?? 0
        try body(path)
        if (test.testRun?.totalFailureCount ?? 0) > failuresBefore {
            XCTFail("the failures above happened on the \(path) float kernel path", file: file, line: line)
        }
    }
}
