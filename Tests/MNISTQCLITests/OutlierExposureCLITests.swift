// `mnistq train --outlier-exposure` and `mnistq quantize --ood-score max-logit`: options checked, bad outlier files
// refused clearly, and a small run end to end whose model carries the max-logit calibration.
import Foundation
import MNISTQQuantizer
import MNISTQRuntime
import XCTest

final class OutlierExposureCLITests: CLITestCase {
    var quick: [String] {
        ["--data", Self.mnistDirectory, "--limit-train", "2048", "--validation-split", "256", "--warmup-steps", "0",
         "--batch-size", "32", "--threads", "2", "--epochs", "1", "--quiet"]
    }

    /// `count` 28×28 images of hollow boxes as an IDX file (magic 0x803): things that are not digits.
    func writeBoxes(_ name: String, count: Int) throws {
        var bytes: [UInt8] = [0, 0, 8, 3]
        for value in [UInt32(count), 28, 28] { bytes += withUnsafeBytes(of: value.bigEndian, Array.init) }
        for i in 0..<count {
            var image = [UInt8](repeating: 0, count: 784)
            let x0 = 2 + i % 9, y0 = 3 + (i / 9) % 8, side = 10 + i % 5
            for y in y0..<(y0 + side) { for x in x0..<(x0 + side) where y == y0 || y == y0 + side - 1 || x == x0 || x == x0 + side - 1 {
                image[y * 28 + x] = 255
            } }
            bytes += image
        }
        try write(name, bytes)
    }

    func testOptionsAreCheckedAndBadOutlierFilesRefused() throws {
        let weightAlone = try run(["train"] + quick + ["--outlier-weight", "1", "--out", "m.mnqf"], timeout: 10)
        XCTAssertNotEqual(weightAlone.status, 0)
        XCTAssertTrue(weightAlone.stderr.contains("need --outlier-exposure FILE"), weightAlone.stderr)

        let missing = try run(["train"] + quick + ["--outlier-exposure", "nosuch.idx", "--out", "m.mnqf"], timeout: 30)
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.hasPrefix("mnistq train: ") && missing.stderr.contains("nosuch.idx"), missing.stderr)

        var small: [UInt8] = [0, 0, 8, 3]
        for value in [UInt32(1), 5, 5] { small += withUnsafeBytes(of: value.bigEndian, Array.init) }
        try write("small.idx", small + [UInt8](repeating: 9, count: 25))
        let wrongSize = try run(["train"] + quick + ["--outlier-exposure", "small.idx", "--out", "m.mnqf"], timeout: 30)
        XCTAssertEqual(wrongSize.status, 2)
        XCTAssertTrue(wrongSize.stderr.contains("small.idx: 5×5 images, expected 28×28"), wrongSize.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("m.mnqf").path))

        let badForm = try run(["quantize", "--model", "m.mnqf", "--ood-score", "energy"], timeout: 10)
        XCTAssertNotEqual(badForm.status, 0)
        XCTAssertTrue(badForm.stderr.contains("--ood-score"), badForm.stderr)
    }

    func testASmallRunEndToEndCarriesTheMaxLogitScore() throws {
        try writeBoxes("boxes.idx", count: 300)
        let train = try run(["train"] + quick + ["--outlier-exposure", "boxes.idx", "--out", "oe.mnqf"])
        XCTAssertEqual(train.status, 0, train.stderr)
        // The checkpoint does not record the outliers: resuming with other outlier options is refused.
        let resume = try run(["train", "--resume", "oe.ckpt", "--outlier-exposure", "boxes.idx"], timeout: 10)
        XCTAssertNotEqual(resume.status, 0)
        XCTAssertTrue(resume.stderr.contains("--outlier-exposure"), resume.stderr)

        let quantize = try run(["quantize", "--model", "oe.mnqf", "--data", Self.mnistDirectory, "--ood-score", "max-logit",
                                "--out", "oe.mnq8", "--quiet"])
        XCTAssertEqual(quantize.status, 0, quantize.stderr)
        let model = try Model(bytes: [UInt8](try Data(contentsOf: directory.appendingPathComponent("oe.mnq8"))))
        let calibration = try XCTUnwrap(model.outOfDistributionCalibration)
        XCTAssertEqual(OutOfDistributionCalibrator.ScoreForm(of: calibration), .maxLogit)
        XCTAssertEqual(calibration.distanceMultiplier, [Int32](repeating: 0, count: 10))
        XCTAssertTrue(model.metadata.contains { $0.key == "ood-calibration" && $0.value.hasSuffix("0.3% unsure, max-logit") },
                      "\(model.metadata)")
    }
}
