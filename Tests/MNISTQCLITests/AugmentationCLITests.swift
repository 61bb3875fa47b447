// `mnistq train --augment`: the ranges need the flag, bad ranges are refused by name, a run says what it distorts,
// and `--resume` continues with the checkpoint's distortions (refusing to be given them again).
import Foundation
import XCTest

final class AugmentationCLITests: CLITestCase {
    var quick: [String] {
        ["--data", Self.mnistDirectory, "--limit-train", "2048", "--validation-split", "256", "--warmup-steps", "0",
         "--batch-size", "32", "--threads", "2"]
    }

    func testRangesNeedTheFlagAndAreChecked() throws {
        let alone = try run(["train"] + quick + ["--augment-rotation", "5", "--out", "m.mnqf"], timeout: 10)
        XCTAssertEqual(alone.status, 2, alone.stderr)
        XCTAssertTrue(alone.stderr.contains("--augment-rotation sets a range of --augment; add --augment"), alone.stderr)
        let wide = try run(["train"] + quick + ["--augment", "--augment-shift", "9", "--out", "m.mnqf"], timeout: 10)
        XCTAssertEqual(wide.status, 2, wide.stderr)
        XCTAssertTrue(wide.stderr.contains("--augment-shift is 9.0, expected a number in [0, 7.0]"), wide.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("m.mnqf").path))
    }

    func testARunDistortsAndItsResumeKeepsTheDistortions() throws {
        let train = try run(["train"] + quick + ["--epochs", "2", "--stop-after", "1", "--augment", "--augment-scale", "0.2",
                                                  "--out", "a.mnqf"])
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertTrue(train.stdout.contains("distortions ±10.0°, size ±0.2, slant ±0.15, shift ±1.5 px"), train.stdout)
        XCTAssertTrue(train.stdout.contains("train --resume"), "a distorted run can be resumed: \(train.stdout)")
        let again = try run(["train", "--resume", "a.ckpt", "--augment"], timeout: 10)
        XCTAssertEqual(again.status, 2, again.stderr)
        XCTAssertTrue(again.stderr.contains("remove --augment"), again.stderr)
        let resume = try run(["train", "--resume", "a.ckpt", "--data", Self.mnistDirectory, "--threads", "2"])
        XCTAssertEqual(resume.status, 0, resume.stderr)
        XCTAssertTrue(resume.stdout.contains("distortions ±10.0°, size ±0.2, slant ±0.15, shift ±1.5 px"), resume.stdout)
    }
}
