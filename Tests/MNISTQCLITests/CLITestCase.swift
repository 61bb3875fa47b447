// Shared plumbing of the CLI tests: a temp folder per test, the built `mnistq` binary run as a subprocess.
import Foundation
import MNISTQImage
import MNISTQRuntime
import XCTest

class CLITestCase: XCTestCase {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static var mnistDirectory: String {
        ProcessInfo.processInfo.environment["MNIST_DIR"] ?? packageRoot.appendingPathComponent("../shared/mnist").standardized.path
    }
    static var modelPath: String {
        ProcessInfo.processInfo.environment["MNISTQ_MODEL"] ?? packageRoot.appendingPathComponent("samples/mnistq-int8.mnq8").path
    }

    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mnistq-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    // MARK: Helpers

    /// The `mnistq` binary built next to this test bundle.
    func binary() throws -> String {
        let testExecutable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var folder = URL(fileURLWithPath: testExecutable).deletingLastPathComponent()
        if folder.lastPathComponent == "MacOS" { folder = folder.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }
        let path = folder.appendingPathComponent("mnistq").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            XCTFail("mnistq binary not found at \(path) (it is built with the tests)")
            throw CocoaError(.fileNoSuchFile)
        }
        return path
    }

    struct Run { var status: Int32; var stdout: String; var stderr: String }

    /// Runs the binary with `arguments`; `stdin` is fed as standard input (else nothing). A run still going after
    /// `timeout` seconds is killed and fails the test: a hang must show up as a failure, never as a stuck test run.
    func run(_ arguments: [String], environment: [String: String] = [:], stdin: [UInt8]? = nil, timeout: Double = 120,
             in folder: URL? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> Run {
        try launch(try binary(), arguments, shown: "mnistq " + arguments.joined(separator: " "), environment: environment,
                   stdin: stdin, timeout: timeout, in: folder, file: file, line: line)
    }

    /// Runs `mnistq ARGUMENTS` through /bin/sh, so arguments can hold bytes a Swift String cannot (printf escapes):
    /// `ARGUMENTS` is shell text, the binary is `$MNISTQ_BIN`.
    func run(shell arguments: String, timeout: Double = 10, file: StaticString = #filePath, line: UInt = #line) throws -> Run {
        let script = directory.appendingPathComponent(".run.sh")
        try Data("exec \"$MNISTQ_BIN\" \(arguments)\n".utf8).write(to: script)
        return try launch("/bin/sh", [script.path], shown: "mnistq " + arguments, environment: ["MNISTQ_BIN": try binary()],
                          stdin: nil, timeout: timeout, in: nil, file: file, line: line)
    }

    /// The one runner behind `run`: `executable` in `folder` (default: the test's folder) with the test's environment
    /// minus MNISTQ_MODEL plus `environment`, stdout and stderr captured through files.
    private func launch(_ executable: String, _ arguments: [String], shown: String, environment: [String: String],
                        stdin: [UInt8]?, timeout: Double, in folder: URL?, file: StaticString, line: UInt) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = folder ?? directory
        let input = directory.appendingPathComponent(".stdin")
        _ = FileManager.default.createFile(atPath: input.path, contents: Data(stdin ?? []))
        process.standardInput = try FileHandle(forReadingFrom: input)
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "MNISTQ_MODEL")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = directory.appendingPathComponent(".stdout"), err = directory.appendingPathComponent(".stderr")
        // A failure here surfaces at once: FileHandle(forWritingTo:) below throws for a file that is not there.
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        let finished = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { process.waitUntilExit(); finished.signal() }
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            finished.wait()
            XCTFail("\(shown) still running after \(timeout) s: killed", file: file, line: line)
        }
        return Run(status: process.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
                   stderr: try String(contentsOf: err, encoding: .utf8))
    }

    func write(_ relativePath: String, _ bytes: [UInt8]) throws {
        let url = directory.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    func mnistTest() throws -> (images: [GrayImage], labels: [UInt8]) {
        do {
            let images = try ImageDecoder.decodeFile(atPath: Self.mnistDirectory + "/t10k-images-idx3-ubyte.gz").images
            let labels = try IDXImageDecoder.decodeLabels(try ImageDecoder.readFile(atPath: Self.mnistDirectory + "/t10k-labels-idx1-ubyte.gz"),
                                                          file: "t10k-labels")
            return (images, labels)
        } catch {
            XCTFail("MNIST test set not found in \(Self.mnistDirectory) (set MNIST_DIR): \(error)")
            throw error
        }
    }

    func classifier() throws -> ImageClassifier {
        do {
            return ImageClassifier(model: try Model(bytes: try ImageDecoder.readFile(atPath: Self.modelPath)))
        } catch {
            XCTFail("no usable int8 model at \(Self.modelPath) (set MNISTQ_MODEL): \(error)")
            throw error
        }
    }

}
