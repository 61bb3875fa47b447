// Shared fixtures of the quantizer tests: data locations, the golden float model, one default quantization.
import Foundation
@testable import MNISTQData
@testable import MNISTQQuantizer
import MNISTQRuntime
import MNISTQTrainer
import MNISTQTestSupport
import XCTest

enum QuantizerTestData {
    static var packageRoot: URL { TestPaths.packageRoot }
    static var mnistDirectory: String { TestPaths.mnistDirectory }
    static var goldenDirectory: String { TestPaths.goldenDirectory }

    private static let cachedMNIST = Result { try MNIST.load(directory: mnistDirectory) }
    private static let cachedGolden = Result { try CNNParameters.loadRaw(directory: goldenDirectory, prefix: "trained") }

    static func mnist() throws -> MNIST {
        do { return try cachedMNIST.get() } catch {
            XCTFail("MNIST not found in \(mnistDirectory) (set MNIST_DIR to the folder with the four .gz files): \(error)")
            throw error
        }
    }

    static func golden() throws -> CNNParameters {
        do { return try cachedGolden.get() } catch {
            XCTFail("golden trained model not found in \(goldenDirectory) (set MNISTQ_GOLDEN_DIR): \(error)")
            throw error
        }
    }

    /// One quantization of the golden model with the default options, written to a temporary file and verified
    /// by loading it back (QuantizationJob), shared by the tests that only read it.
    private static let cachedDefaultOutcome: Result<(QuantizationOutcome, String), any Error> = Result {
        let data = try MNIST.load(directory: mnistDirectory)
        let parameters = try CNNParameters.loadRaw(directory: goldenDirectory, prefix: "trained")
        let path = temporaryPath("golden-default.mnq8")
        let outcome = try QuantizationJob.run(parameters: parameters, training: data.train, test: data.test,
                                              options: QuantizationOptions(), maxDropPP: nil, outputPath: path,
                                              sourceDescription: "golden")
        return (outcome, path)
    }

    static func defaultOutcome() throws -> (outcome: QuantizationOutcome, path: String) {
        _ = try mnist(); _ = try golden()
        do { return try cachedDefaultOutcome.get() } catch {
            XCTFail("quantizing the golden model failed: \(error)")
            throw error
        }
    }

    /// A fresh path in a per-process temporary directory.
    static func temporaryPath(_ name: String) -> String {
        let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("mnistq-quantizer-tests-\(getpid())")
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return (dir as NSString).appendingPathComponent(name)
    }
}
