// Library-level behaviour of a quantization run: --max-drop, determinism, calibration choices, bad input.
import Foundation
@testable import MNISTQData
@testable import MNISTQQuantizer
import MNISTQRuntime
import MNISTQTrainer
import XCTest

final class QuantizationJobTests: XCTestCase {
    func testMaxDropExceededThrowsAndWritesNoFile() throws {
        let data = try QuantizerTestData.mnist(), parameters = try QuantizerTestData.golden()
        let path = QuantizerTestData.temporaryPath("max-drop.mnq8")
        try? FileManager.default.removeItem(atPath: path)
        // A negative limit demands that int8 beat float by a full point, which cannot happen here.
        XCTAssertThrowsError(try QuantizationJob.run(parameters: parameters, training: data.train, test: data.test,
                                                     options: QuantizationOptions(calibrationImages: 200), maxDropPP: -1,
                                                     outputPath: path, sourceDescription: "golden")) { error in
            guard case QuantizationJobError.dropTooLarge(let drop, let limit, _, _) = error else {
                return XCTFail("expected dropTooLarge, got \(error)")
            }
            XCTAssertEqual(limit, -1)
            XCTAssertGreaterThan(drop, -1)
            XCTAssert("\(error)".contains("no file written"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "nothing may be written when the drop is too large")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
            .filter { $0.contains("max-drop") }
        XCTAssertEqual(leftovers, [], "no temporary file either")
    }

    func testSameSeedGivesByteIdenticalFilesAndOtherSeedsOtherCalibration() throws {
        let data = try QuantizerTestData.mnist(), parameters = try QuantizerTestData.golden()
        let options = QuantizationOptions(calibrationImages: 300, seed: 7)
        let a = try Quantizer.quantize(parameters: parameters, training: data.train, options: options)
        let b = try Quantizer.quantize(parameters: parameters, training: data.train, options: options)
        let metadata = [(key: "created-by", value: "test")]
        let fileA = try Int8ModelWriter.encode(layers: a.layers, metadata: metadata)
        let fileB = try Int8ModelWriter.encode(layers: b.layers, metadata: metadata)
        XCTAssertEqual(fileA, fileB)
        XCTAssertEqual(try Model(bytes: fileA).layers, a.layers)

        let c = try Quantizer.quantize(parameters: parameters, training: data.train,
                                       options: QuantizationOptions(calibrationImages: 300, seed: 8))
        XCTAssertNotEqual(a.layers, c.layers, "a different seed calibrates on different images")
    }

    /// Equalization rescales hidden channels; the float function must stay the same up to float rounding.
    static let equalizedLogitTolerance: Float = 1e-4

    func testEqualizationPreservesTheFloatFunction() throws {
        let data = try QuantizerTestData.mnist(), parameters = try QuantizerTestData.golden()
        let network = try Quantizer.quantize(parameters: parameters, training: data.train,
                                             options: QuantizationOptions(calibrationImages: 100, equalization: 1))
        XCTAssertNotEqual(network.floatReference, parameters, "equalization changed nothing")
        var a = FloatCNN.Trace(), b = FloatCNN.Trace()
        for i in 0..<50 {
            FloatCNN(parameters: parameters).forward(pixels: data.test.pixels(of: i), trace: &a)
            FloatCNN(parameters: network.floatReference).forward(pixels: data.test.pixels(of: i), trace: &b)
            let (a, b) = (a.logits, b.logits)
            for k in 0..<10 { XCTAssertEqual(a[k], b[k], accuracy: Self.equalizedLogitTolerance, "image \(i) logit \(k)") }
        }
        let plain = try Quantizer.quantize(parameters: parameters, training: data.train,
                                           options: QuantizationOptions(calibrationImages: 100))
        XCTAssertEqual(plain.floatReference, parameters, "without equalization the reference is the model itself")
    }

    func testCalibrationIndicesAreSeededDistinctAndInRange() {
        let a = Quantizer.calibrationIndices(count: 2000, available: 60_000, seed: 0)
        XCTAssertEqual(a, Quantizer.calibrationIndices(count: 2000, available: 60_000, seed: 0))
        XCTAssertEqual(Set(a).count, 2000)
        XCTAssertEqual(a, a.sorted())
        XCTAssert(a.allSatisfy { (0..<60_000).contains($0) })
        XCTAssertNotEqual(a, Quantizer.calibrationIndices(count: 2000, available: 60_000, seed: 1))
        XCTAssertEqual(Quantizer.calibrationIndices(count: 100, available: 10, seed: 3), Array(0..<10))
    }

    func testHistogramClipsAreHandCheckable() {
        var h = ActivationHistogram()
        // 1,000 values: 900 zeros, then 1, 2, …, 100.
        h.add([Float](repeating: 0, count: 900) + (1...100).map { Float($0) })
        XCTAssertEqual(h.total, 1000)
        XCTAssertEqual(h.clip(method: .minmax, percentile: 100), 100)
        // The 95th percentile is the 950th smallest value = 50 (bins are 2^−11 wide relative, centred).
        XCTAssertEqual(h.percentile(0.95), 50, accuracy: 50 * 0x1p-11)
        XCTAssertEqual(h.percentile(1.0), 100, accuracy: 100 * 0x1p-11)
        // Uniform values to 100 lose more to clipping than they gain in resolution: MSE keeps nearly all.
        XCTAssertGreaterThan(h.mseOptimalClip(), 90)
    }

    func testRejectsBadOptionsAndNonFiniteModels() throws {
        let data = try QuantizerTestData.mnist()
        var parameters = try QuantizerTestData.golden()
        XCTAssertThrowsError(try Quantizer.quantize(parameters: parameters, training: data.train,
                                                    options: QuantizationOptions(calibrationImages: 0)))
        XCTAssertThrowsError(try Quantizer.quantize(parameters: parameters, training: data.train,
                                                    options: QuantizationOptions(method: .percentile, percentile: 0)))
        parameters.tensors[4][17] = .nan
        XCTAssertThrowsError(try Quantizer.quantize(parameters: parameters, training: data.train,
                                                    options: QuantizationOptions(calibrationImages: 10))) { error in
            XCTAssert("\(error)".contains("fc1.weight"), "\(error)")
        }
    }

    func testFloatModelSourceErrorsNameThePath() {
        XCTAssertThrowsError(try FloatModelSource.load(path: "/nonexistent/model.mnqf")) { error in
            XCTAssert("\(error)".contains("/nonexistent/model.mnqf"), "\(error)")
        }
        let empty = QuantizerTestData.temporaryPath("empty-dir")
        try? FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        XCTAssertThrowsError(try FloatModelSource.load(path: empty)) { error in
            XCTAssert("\(error)".contains("trained.conv1.weight.f32"), "\(error)")
        }
    }
}
