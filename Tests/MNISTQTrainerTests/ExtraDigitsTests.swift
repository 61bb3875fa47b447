// Extra labelled digits (`train --extra-digits`): appended to the training images, trained on every epoch, never held
// out, and the hold-out among the original images is the same choice as without them.
@testable import MNISTQTrainer
import XCTest

final class ExtraDigitsTests: XCTestCase {
    /// `count` distinct synthetic 28×28 images (image i holds i in its first two pixels) with labels i mod 10.
    func images(_ count: Int, offset: Int = 0) -> (pixels: [UInt8], labels: [UInt8]) {
        var pixels = [UInt8](repeating: 0, count: count * 784)
        for i in 0..<count {
            pixels[i * 784] = UInt8((i + offset) & 0xFF); pixels[i * 784 + 1] = UInt8((i + offset) >> 8)
            pixels[i * 784 + 400] = 255
        }
        return (pixels, (0..<count).map { UInt8($0 % 10) })
    }

    func configuration() -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.epochs = 1; c.validationCount = 100; c.seed = 9
        return c
    }

    func testExtrasAreNeverHeldOutAndTheHoldOutStaysTheSame() throws {
        let base = images(1000), extra = images(300, offset: 1000)
        let plain = try Training(configuration: configuration(), data: TrainingData(trainPixels: base.pixels, trainLabels: base.labels), threads: 1)
        var data = TrainingData(trainPixels: base.pixels, trainLabels: base.labels)
        try data.appendExtraDigits(pixels: extra.pixels, labels: extra.labels)
        XCTAssertEqual(data.extraDigitCount, 300)
        let withExtras = try Training(configuration: configuration(), data: data, threads: 1)

        XCTAssertEqual(withExtras.validationPixels, plain.validationPixels, "the same validation images")
        XCTAssertEqual(withExtras.validationLabels, plain.validationLabels)
        XCTAssertEqual(withExtras.trainIndices, plain.trainIndices + (1000..<1300).map { Int32($0) }, "every extra is trained on")
        XCTAssertEqual(withExtras.trainCount, 900 + 300)

        // The package's hold-out function (what `mnistq-bench photos --split train` leaves out) is the run's hold-out.
        let split = configuration().holdOut(imageCount: 1000)
        XCTAssertEqual(split.validation.flatMap { base.pixels[(Int($0) * 784)..<(Int($0) * 784 + 784)] }, plain.validationPixels)
        XCTAssertEqual(split.train, plain.trainIndices)
        XCTAssertTrue(Set(split.validation).isDisjoint(with: split.train))

        // --limit-train cuts the original images only; the extras are all kept.
        var limited = configuration(); limited.trainLimit = 50
        XCTAssertEqual(try Training(configuration: limited, data: data, threads: 1).trainCount, 50 + 300)
    }

    func testBadExtrasAndAHoldOutThatOnlyExtrasCouldFillAreRefused() throws {
        let base = images(200)
        var data = TrainingData(trainPixels: base.pixels, trainLabels: base.labels)
        XCTAssertThrowsError(try data.appendExtraDigits(pixels: [UInt8](repeating: 0, count: 784), labels: [10])) {
            XCTAssertTrue("\($0)".contains("label 10 of image 0 is not a digit"), "\($0)")
        }
        XCTAssertThrowsError(try data.appendExtraDigits(pixels: [UInt8](repeating: 0, count: 783), labels: [1]))
        XCTAssertEqual(data.extraDigitCount, 0, "a refused file adds nothing")
        XCTAssertEqual(data.trainLabels.count, 200)

        let extra = images(500, offset: 200)
        try data.appendExtraDigits(pixels: extra.pixels, labels: extra.labels)
        var c = configuration(); c.validationCount = 200
        XCTAssertThrowsError(try Training(configuration: c, data: data, threads: 1)) {
            XCTAssertTrue("\($0)".contains("leaves no training images (the training set has 200)"), "\($0)")
        }
    }
}
