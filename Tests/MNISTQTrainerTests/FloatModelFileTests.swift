// The float model file: byte-exact round trip, specific errors for damaged files, the golden model as input.
import XCTest
@testable import MNISTQTrainer
import MNISTQData

final class FloatModelFileTests: XCTestCase {
    func temporaryPath(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "mnistq-trainer-tests-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir + "/" + name
    }

    func sampleParameters() -> CNNParameters {
        var r = SeededRandom(seed: 3)
        var p = initializeCNN(random: &r)
        p.tensors[1][0] = -0.0   // signed zero must survive
        return p
    }

    func testRoundTripIsByteExact() throws {
        let params = sampleParameters()
        let path = temporaryPath("roundtrip.mnqf")
        try FloatModelFile.save(params, to: path)
        let bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        XCTAssertEqual(bytes, FloatModelFile.encode(params))
        XCTAssertEqual(Array(bytes[0..<4]), Array("MNQF".utf8))
        let back = try FloatModelFile.load(path: path)
        XCTAssertEqual(back.tensors.map { $0.map(\.bitPattern) }, params.tensors.map { $0.map(\.bitPattern) })
        XCTAssertEqual(FloatModelFile.encode(back), bytes)
        // Header (12) + names/shapes + 212,542 floats + CRC.
        XCTAssertEqual(bytes.count, 850_438)
    }

    func testDamagedFilesGiveSpecificErrors() throws {
        let good = FloatModelFile.encode(sampleParameters())
        func decodeError(_ bytes: [UInt8]) -> FloatModelFileError? {
            do { _ = try FloatModelFile.decode(bytes, file: "m.mnqf"); return nil } catch { return error as? FloatModelFileError }
        }
        var badMagic = good; badMagic[0] = UInt8(ascii: "X")
        guard case .badMagic? = decodeError(badMagic) else { return XCTFail("bad magic: \(String(describing: decodeError(badMagic)))") }
        var badVersion = good; badVersion[4] = 9
        XCTAssertEqual(decodeError(badVersion), .unsupportedVersion(file: "m.mnqf", found: 9, supported: 1))
        guard case .truncated? = decodeError(Array(good.prefix(good.count - 1000))) else { return XCTFail("truncated") }
        guard case .truncated? = decodeError(Array(good.prefix(30))) else { return XCTFail("truncated header") }
        var flipped = good; flipped[good.count / 2] ^= 0x40
        guard case .checksumMismatch? = decodeError(flipped) else { return XCTFail("checksum: \(String(describing: decodeError(flipped)))") }
        guard case .badField(_, "file length", _, _)? = decodeError(good + [0]) else { return XCTFail("extra byte") }
        // A wrong shape is reported by name even though the CRC is fine for it.
        XCTAssertTrue("\(decodeError(badVersion)!)".contains("version 9"))
        let missing = temporaryPath("does-not-exist.mnqf")
        XCTAssertThrowsError(try FloatModelFile.load(path: missing)) { error in
            guard case .unreadable? = error as? FloatModelFileError else { return XCTFail("\(error)") }
        }
    }

    func testNonFiniteWeightsAreRefused() throws {
        var params = sampleParameters()
        params.tensors[4][17] = .nan
        let bytes = FloatModelFile.encode(params)
        XCTAssertThrowsError(try FloatModelFile.decode(bytes, file: "nan.mnqf")) { error in
            XCTAssertEqual(error as? FloatModelFileError, .nonFinite(file: "nan.mnqf", tensor: "fc1.weight", index: 17))
        }
    }

    /// The golden PyTorch model (trained.*.f32) evaluated by the batched im2col path: PyTorch reports 98.97%
    /// and lists its predictions; float rounding may flip an image whose two best logits nearly tie, so up to
    /// `allowedDisagreements` predictions may differ.
    static let allowedDisagreements = 3

    func testGoldenTrainedModelLoadsAndMatchesPyTorchPredictions() throws {
        let params = try CNNParameters.loadRaw(directory: TrainerTestData.goldenDirectory(), prefix: "trained")
        let test = try MNIST.loadTest(directory: TrainerTestData.mnistDirectory())
        let expected = try TrainerTestData.bytes("trained.test_predictions.u8")
        let model = FloatCNN(parameters: params)
        let predictions = model.predict(images: test.images, threads: 2)
        let disagreements = zip(predictions, expected).filter { $0 != $1 }.count
        XCTAssertLessThanOrEqual(disagreements, Self.allowedDisagreements)
        XCTAssertEqual(model.accuracy(on: test, threads: 2), 0.9897, accuracy: Double(Self.allowedDisagreements) / 10_000)
        // Thread count does not change any prediction.
        XCTAssertEqual(model.predict(images: test.images, threads: 1), predictions)
        // The batched path agrees with the plain per-image forward pass on the first 100 logits.
        let firstLogits = try TrainerTestData.floats("trained.test_logits_first100.f32", count: 1000)
        var trace = FloatCNN.Trace()
        for i in 0..<100 {
            model.forward(pixels: test.pixels(of: i), trace: &trace)
            assertClose(trace.logits, Array(firstLogits[(i * 10)..<(i * 10 + 10)]), relative: 1e-4, absolute: 1e-4, "logits of test image \(i)")
        }
        // Saved and reloaded, it is the same model.
        let path = temporaryPath("golden.mnqf")
        try FloatModelFile.save(params, to: path)
        XCTAssertEqual(try FloatModelFile.load(path: path), params)
    }
}
