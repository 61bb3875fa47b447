// `train --augment`: the warp's geometry, the seeded draws, and that a checkpoint records the distortions so that a
// resumed run draws the same ones (bit-identical weights).
import Foundation
import MNISTQData
@testable import MNISTQTrainer
import XCTest

final class DigitAugmentationTests: XCTestCase {
    /// A 28×28 image with a few bright pixels off every symmetry axis.
    static let marks: [UInt8] = {
        var image = [UInt8](repeating: 0, count: CNNSize.inputPixels)
        for (x, y, value) in [(10, 5, 200), (20, 12, 255), (3, 25, 90), (13, 13, 17)] { image[y * 28 + x] = UInt8(value) }
        return image
    }()

    func warped(_ image: [UInt8], _ map: DigitAugmentation.InverseMap) -> [Float] {
        var out = [Float](repeating: -1, count: CNNSize.inputPixels)
        image.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { DigitAugmentation.warp(src.baseAddress!, with: map, into: $0.baseAddress!) }
        }
        return out
    }

    func testZeroRangesLeaveEveryPixelExactlyAsLoaded() {
        let none = DigitAugmentation(maxRotationDegrees: 0, maxScaleChange: 0, maxShear: 0, maxShift: 0)
        let image = (0..<CNNSize.inputPixels).map { UInt8(($0 * 37) % 256) }
        for (step, slot) in [(0, 0), (17, 63), (123_456, 5)] {
            XCTAssertEqual(warped(image, none.inverseMap(seed: 9, step: step, slot: slot)), image.map { Float($0) / 255 })
        }
    }

    func testShiftAndQuarterTurnMovePixelsWhereTheyBelong() {
        // Forward shift (+1, −2): source (x, y) lands at (x + 1, y − 2); the inverse map samples (x − 1, y + 2).
        let shifted = warped(Self.marks, .init(m00: 1, m01: 0, m10: 0, m11: 1, offsetX: -1, offsetY: 2))
        XCTAssertEqual(shifted[3 * 28 + 11], 200 / 255)
        XCTAssertEqual(shifted[10 * 28 + 21], 1)
        XCTAssertEqual(shifted[23 * 28 + 4], 90 / 255)
        XCTAssertEqual(shifted.filter { $0 != 0 }.count, 4, "whole-pixel shifts do not blur")
        // A quarter turn about the centre c = 13.5: output (x, y) samples source (y, 27 − x), so source (x, y) shows at
        // output (27 − y, x).
        let turned = warped(Self.marks, .init(m00: 0, m01: 1, m10: -1, m11: 0, offsetX: 0, offsetY: 0))
        for (x, y, value) in [(10, 5, 200), (20, 12, 255), (3, 25, 90), (13, 13, 17)] {
            XCTAssertEqual(turned[x * 28 + (27 - y)], Float(value) / 255, "source (\(x), \(y))")
        }
        // Half a pixel to the right: each mark splits evenly between two neighbours; the ink is kept.
        let half = warped(Self.marks, .init(m00: 1, m01: 0, m10: 0, m11: 1, offsetX: -0.5, offsetY: 0))
        XCTAssertEqual(half[5 * 28 + 10], 100 / 255, accuracy: 1e-6)
        XCTAssertEqual(half[5 * 28 + 11], 100 / 255, accuracy: 1e-6)
        XCTAssertEqual(half.reduce(0, +), Self.marks.reduce(0) { $0 + Float($1) } / 255, accuracy: 1e-5)
        // Far outside the image: nothing.
        XCTAssertEqual(warped(Self.marks, .init(m00: 1, m01: 0, m10: 0, m11: 1, offsetX: 40, offsetY: 0)).max(), 0)
    }

    func testDrawsAreSeededWithinTheRangesAndDifferPerSlot() {
        let a = DigitAugmentation()
        let smallest: Float = 1 / (1.1 * 1.1) - 1e-4, largest: Float = 1 / (0.9 * 0.9) + 1e-4
        var sizes: [Float] = []
        for slot in 0..<200 {
            let m = a.inverseMap(seed: 3, step: 11, slot: slot)
            let n = a.inverseMap(seed: 3, step: 11, slot: slot)
            XCTAssertEqual([m.m00, m.m01, m.m10, m.m11, m.offsetX, m.offsetY], [n.m00, n.m01, n.m10, n.m11, n.offsetX, n.offsetY])
            let det = m.m00 * m.m11 - m.m01 * m.m10   // 1 / (sx · sy)
            XCTAssertTrue(det >= smallest && det <= largest, "det \(det)")
            // |A⁻¹ · shift| ≤ ‖A⁻¹‖ · 1.5·√2 < 2.5 pixels
            XCTAssertLessThan((m.offsetX * m.offsetX + m.offsetY * m.offsetY).squareRoot(), 2.5)
            sizes.append(det)
        }
        XCTAssertGreaterThan(Set(sizes).count, 190, "each slot draws its own distortion")
        XCTAssertNotEqual(a.inverseMap(seed: 3, step: 11, slot: 0).m00, a.inverseMap(seed: 4, step: 11, slot: 0).m00)
        XCTAssertNotEqual(a.inverseMap(seed: 3, step: 11, slot: 0).m00, a.inverseMap(seed: 3, step: 12, slot: 0).m00)
    }

    func testBadRangesAreRefusedByName() {
        var c = TrainingConfiguration()
        c.augmentation = DigitAugmentation(maxRotationDegrees: 90, maxScaleChange: 0.1, maxShear: 0.1, maxShift: 1)
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("--augment-rotation is 90.0"), "\($0)") }
        c.augmentation = DigitAugmentation(maxRotationDegrees: 5, maxScaleChange: .nan, maxShear: 0.1, maxShift: 1)
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("--augment-scale"), "\($0)") }
        c.augmentation = DigitAugmentation(maxRotationDegrees: 5, maxScaleChange: 0.1, maxShear: 0.1, maxShift: -1)
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("--augment-shift"), "\($0)") }
    }

    /// Two epochs straight and one epoch + checkpoint + resume + one epoch give the same bits: the checkpoint records
    /// the ranges, and the draws depend only on (seed, step, slot). Distortions change what is learned, and a version 3
    /// checkpoint (no distortions recorded) resumes without them.
    func testCheckpointRecordsTheDistortionsAndResumesToTheSameBits() throws {
        let mnist = try MNIST.loadTrain(directory: TrainerTestData.mnistDirectory())
        let data = TrainingData(trainPixels: mnist.images.pixels, trainLabels: mnist.labels)
        var c = TrainingConfiguration()
        c.epochs = 2; c.trainLimit = 640; c.validationCount = 100; c.seed = 5; c.warmupSteps = 0
        c.augmentation = DigitAugmentation(maxRotationDegrees: 8, maxScaleChange: 0.2, maxShear: 0.1, maxShift: 2)

        let straight = try Training(configuration: c, data: data, threads: 2)
        try straight.run(threads: 2)

        let first = try Training(configuration: c, data: data, threads: 2)
        try first.run(maxEpochs: 1, threads: 2)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("augment-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("run.ckpt").path
        try Checkpoint.save(first, to: path)
        XCTAssertEqual(try Checkpoint.header(path: path).configuration.augmentation, c.augmentation)
        let resumed = try Checkpoint.resume(path: path, data: data, threads: 2)
        XCTAssertEqual(resumed.configuration, c)
        try resumed.run(threads: 2)
        XCTAssertTrue(resumed.sgd.parameters.bitwiseEqual(straight.sgd.parameters))

        var plain = c
        plain.augmentation = nil
        let undistorted = try Training(configuration: plain, data: data, threads: 2)
        try undistorted.run(threads: 2)
        XCTAssertFalse(undistorted.sgd.parameters.bitwiseEqual(straight.sgd.parameters))

        let v3 = folder.appendingPathComponent("v3.ckpt").path
        try Data(Checkpoint.encode(first, version: 3)).write(to: URL(fileURLWithPath: v3))
        let old = try Checkpoint.resumeWithHeader(path: v3, data: data, threads: 2)
        XCTAssertEqual(old.header.version, 3)
        XCTAssertNil(old.training.configuration.augmentation)
        XCTAssertEqual(old.training.epochsDone, 1)
    }
}
