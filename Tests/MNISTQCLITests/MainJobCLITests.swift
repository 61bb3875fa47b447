// The main job through the real binary: train → eval → quantize → eval → inspect, plus the documented exit codes.
import Foundation
import MNISTQRuntime
import XCTest

final class MainJobCLITests: CLITestCase {
    static var goldenDirectory: String {
        ProcessInfo.processInfo.environment["MNISTQ_GOLDEN_DIR"] ?? packageRoot.appendingPathComponent("../shared/golden").standardized.path
    }

    func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }

    /// A small but complete run: every file the commands promise exists, and each step reads the previous one's output.
    func testTrainEvalQuantizeInspectChain() throws {
        let data = ["--data", Self.mnistDirectory]
        let train = try run(["train"] + data + ["--epochs", "1", "--limit-train", "8192", "--validation-split", "512",
                                                "--warmup-steps", "0", "--threads", "2", "--seed", "3", "--out", "small.mnqf", "--quiet"])
        XCTAssertEqual(train.status, 0, train.stderr)
        for side in ["small.mnqf", "small.ckpt", "small.metrics.csv", "small.curve.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent(side).path), "train did not write \(side)")
        }

        let floatEval = try run(["eval", "--model", "small.mnqf", "--json"] + data)
        XCTAssertEqual(floatEval.status, 0, floatEval.stderr)
        let floatReport = try json(floatEval.stdout)
        XCTAssertEqual(floatReport["total"] as? Int, 10000)
        XCTAssertEqual(floatReport["model_kind"] as? String, "float")
        let floatAccuracy = try XCTUnwrap(floatReport["accuracy"] as? Double)
        // 7,680 training images for one epoch (120 steps, no warm-up) is far from a good model (≈ 77%), but far above chance (10%).
        XCTAssertGreaterThan(floatAccuracy, 0.50)
        XCTAssertEqual(floatReport["correct"] as? Int, Int((floatAccuracy * 10000).rounded()))

        let quantize = try run(["quantize", "--model", "small.mnqf", "--calibration-images", "256", "--out", "small.mnq8",
                                "--json", "--quiet"] + data)
        XCTAssertEqual(quantize.status, 0, quantize.stderr)
        let bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent("small.mnq8")))
        XCTAssertNoThrow(try Model(bytes: bytes))

        let int8Eval = try run(["eval", "--model", "small.mnq8", "--json"] + data)
        XCTAssertEqual(int8Eval.status, 0, int8Eval.stderr)
        let int8Report = try json(int8Eval.stdout)
        XCTAssertEqual(int8Report["model_kind"] as? String, "int8")
        let int8Accuracy = try XCTUnwrap(int8Report["accuracy"] as? Double)
        XCTAssertLessThan(abs(int8Accuracy - floatAccuracy), 0.005, "int8 \(int8Accuracy) vs float \(floatAccuracy)")

        let inspect = try run(["inspect", "small.mnq8"])
        XCTAssertEqual(inspect.status, 0, inspect.stderr)
        XCTAssertTrue(inspect.stdout.contains("source-model: small.mnqf"), inspect.stdout)
    }

    /// The shipped sample model and the PyTorch golden model evaluate to their recorded accuracies, exactly.
    func testEvalOfSampleAndGoldenModels() throws {
        let sampleBytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.modelPath)))
        let recorded = try XCTUnwrap(Double(try XCTUnwrap(try Model(bytes: sampleBytes).metadataValue(forKey: "int8-accuracy"))))
        let sample = try run(["eval", "--model", Self.modelPath, "--json", "--data", Self.mnistDirectory])
        XCTAssertEqual(sample.status, 0, sample.stderr)
        XCTAssertEqual(try json(sample.stdout)["correct"] as? Int, Int((recorded * 10000).rounded()))

        let golden = try run(["eval", "--model", Self.goldenDirectory, "--json", "--data", Self.mnistDirectory])
        XCTAssertEqual(golden.status, 0, golden.stderr)
        XCTAssertEqual(try json(golden.stdout)["correct"] as? Int, 9897, "PyTorch measured 98.97% for the golden model")
    }

    /// Usage errors exit 2 with a message; an unusable model exits 2 and names the file.
    func testUsageErrorsAndUnusableModelsExit2() throws {
        for arguments in [["train", "--epochs", "0"], ["train", "--batch-size", "-1"], ["quantize", "--max-drop", "-1"],
                          ["quantize", "--calibration-images", "0"], ["eval"], ["nonsense"]] {
            let result = try run(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
            XCTAssertFalse(result.stderr.isEmpty, "\(arguments) printed no error")
        }
        try write("junk.mnq8", Array("this is not a model".utf8))
        let junk = try run(["eval", "--model", "junk.mnq8", "--data", Self.mnistDirectory])
        XCTAssertEqual(junk.status, 2, junk.stderr)
        XCTAssertTrue(junk.stderr.contains("junk.mnq8"), junk.stderr)
    }
}
