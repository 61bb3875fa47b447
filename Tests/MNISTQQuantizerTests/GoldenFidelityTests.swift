// The golden PyTorch model: our float predictions match PyTorch's, and its int8 quantization keeps them.
import Foundation
import MNISTQData
import MNISTQQuantizer
import MNISTQRuntime
import MNISTQTrainer
import XCTest

final class GoldenFidelityTests: XCTestCase {
    /// Our float sums run in a different order from PyTorch's (MKL-DNN), so an image whose top two logits are
    /// within float rounding could flip; none does today, one is allowed.
    static let allowedFloatPredictionMismatches = 1
    /// Logits of test images 0..<100 versus PyTorch's: float32 rounding of 3 M-MAC sums.
    static let logitTolerance: Float = 1e-4
    /// Hard bounds of issue 3 (the goal is tighter: ≤ 0.02 pp and ≥ 99.95%).
    static let maximumDropPP = 0.2
    static let minimumAgreement = 0.995

    func testFloatModelReproducesPyTorchPredictionsAndLogits() throws {
        let data = try QuantizerTestData.mnist(), parameters = try QuantizerTestData.golden()
        let dir = QuantizerTestData.goldenDirectory
        guard let golden = FileManager.default.contents(atPath: "\(dir)/trained.test_predictions.u8").map({ [UInt8]($0) }),
              golden.count == 10_000 else {
            return XCTFail("\(dir)/trained.test_predictions.u8 missing or not 10,000 bytes")
        }
        let ours = Fidelity.floatPredictions(parameters: parameters, split: data.test)
        let mismatches = zip(ours, golden).filter { $0 != $1 }.count
        XCTAssertLessThanOrEqual(mismatches, Self.allowedFloatPredictionMismatches)
        let accuracy = Double(zip(ours, data.test.labels).filter { $0 == $1 }.count) / 10_000
        XCTAssertEqual(accuracy, 0.9897, accuracy: 0.0001, "manifest: trained_test_accuracy 0.9897")

        let logits = try readRawFloats(path: "\(dir)/trained.test_logits_first100.f32", count: 1000)
        for i in 0..<100 {
            let mine = Fidelity.floatLogits(parameters: parameters, pixels: data.test.pixels(of: i))
            // Equal to the trainer's plain FloatCNN bit for bit (same summation order).
            var trace = FloatCNN.Trace()
            FloatCNN(parameters: parameters).forward(pixels: data.test.pixels(of: i), trace: &trace)
            XCTAssertEqual(mine, trace.logits, "image \(i): FloatForward differs from FloatCNN")
            for k in 0..<10 {
                XCTAssertEqual(mine[k], logits[i * 10 + k], accuracy: Self.logitTolerance, "image \(i) logit \(k)")
            }
        }
    }

    func testDefaultInt8KeepsAccuracyAndAgreesWithFloat() throws {
        let (outcome, path) = try QuantizerTestData.defaultOutcome()
        let r = outcome.report
        XCTAssertEqual(r.total, 10_000)
        XCTAssertEqual(r.floatCorrect, 9897)
        XCTAssertLessThanOrEqual(abs(r.dropPP), Self.maximumDropPP, "float \(r.floatAccuracy) int8 \(r.int8Accuracy)")
        XCTAssertGreaterThanOrEqual(r.agreement, Self.minimumAgreement)
        XCTAssertEqual(r.confusion.joined().reduce(0, +), 10_000)
        XCTAssertEqual((0..<10).map { r.confusion[$0][$0] }.reduce(0, +), r.int8Correct)
        XCTAssertEqual(r.layers.map(\.name), ["conv1", "conv2", "fc1", "fc2", "fc3"])
        for layer in r.layers { XCTAssertGreaterThan(layer.sqnrDB, 30, "\(layer.name) SQNR") }

        // The file on disk is what was verified: it loads, and the runtime's predictions equal the report's.
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: path).map { [UInt8]($0) })
        XCTAssertEqual(bytes, outcome.fileBytes)
        XCTAssertLessThanOrEqual(bytes.count, 200_000, "issue 3 size goal")
        let model = try Model(bytes: bytes)
        XCTAssertEqual(model.layers, outcome.layers)
        XCTAssertEqual(model.metadataValue(forKey: "calibration-method"), "minmax")
        let data = try QuantizerTestData.mnist()
        let predictions = model.classifyBatch(pixels: data.test.images.pixels, scratch: InferenceScratch(for: model)).map { UInt8($0.digit) }
        XCTAssertEqual(predictions, r.int8Predictions)
    }

    func testQuantizerExecutorEqualsRuntimeReferenceScores() throws {
        let (outcome, _) = try QuantizerTestData.defaultOutcome()
        let data = try QuantizerTestData.mnist()
        let network = Int8Network(layers: outcome.layers)
        let arena = UnsafeMutableRawPointer.allocate(byteCount: network.arenaByteCount, alignment: 64)
        defer { arena.deallocate() }
        var scores = [Int32](repeating: 0, count: 10)
        for i in stride(from: 0, to: 10_000, by: 50) {
            let mine = Fidelity.int8Scores(layers: outcome.layers, pixels: data.test.pixels(of: i))
            Array(data.test.pixels(of: i)).withUnsafeBufferPointer { px in
                scores.withUnsafeMutableBufferPointer { network.runReference(pixels: px.baseAddress!, arena: arena, scores: $0.baseAddress!) }
            }
            XCTAssertEqual(mine, scores, "image \(i)")
        }
    }
}
