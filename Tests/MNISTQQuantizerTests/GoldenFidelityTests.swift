// The golden PyTorch model: our float predictions match PyTorch's, and its int8 quantization keeps them.
import Foundation
@testable import MNISTQData
@testable import MNISTQQuantizer
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
        let cnn = FloatCNN(parameters: parameters)
        var trace = FloatCNN.Trace()
        for i in 0..<100 {
            cnn.forward(pixels: data.test.pixels(of: i), trace: &trace)
            let mine = trace.logits
            // Every tensor equals the plain-loop definition bit for bit (same summation order).
            let plain = PlainFloatForward(parameters: parameters, pixels: data.test.pixels(of: i))
            XCTAssertEqual(trace.conv1, plain.conv1, "image \(i) conv1"); XCTAssertEqual(trace.pool1, plain.pool1, "image \(i) pool1")
            XCTAssertEqual(trace.conv2, plain.conv2, "image \(i) conv2"); XCTAssertEqual(trace.pool2, plain.pool2, "image \(i) pool2")
            XCTAssertEqual(trace.fc1, plain.fc1, "image \(i) fc1"); XCTAssertEqual(trace.fc2, plain.fc2, "image \(i) fc2")
            XCTAssertEqual(trace.hidden1, plain.fc1.map { max($0, 0) }); XCTAssertEqual(trace.hidden2, plain.fc2.map { max($0, 0) })
            XCTAssertEqual(mine, plain.logits, "image \(i): FloatCNN differs from the plain loops")
            XCTAssertEqual(cnn.predict(pixels: data.test.pixels(of: i)), Int(ours[i]))
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

    func testReportedInt8PredictionsEqualRuntimeReferenceKernels() throws {
        // The report runs the runtime's fast kernels; the reference kernels define the results.
        let (outcome, _) = try QuantizerTestData.defaultOutcome()
        let data = try QuantizerTestData.mnist()
        let network = Int8Network(layers: outcome.layers)
        let arena = UnsafeMutableRawPointer.allocate(byteCount: network.arenaByteCount, alignment: 64)
        defer { arena.deallocate() }
        var scores = [Int32](repeating: 0, count: 10)
        for i in stride(from: 0, to: 10_000, by: 50) {
            Array(data.test.pixels(of: i)).withUnsafeBufferPointer { px in
                scores.withUnsafeMutableBufferPointer { network.runReference(pixels: px.baseAddress!, arena: arena, scores: $0.baseAddress!) }
            }
            let best = scores.indices.reduce(0) { scores[$1] > scores[$0] ? $1 : $0 }
            XCTAssertEqual(Int(outcome.report.int8Predictions[i]), best, "image \(i)")
        }
    }
}
