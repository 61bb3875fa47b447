// `mnistq train --extra-digits IMAGES --extra-labels LABELS`: the files are paired and checked, a run trains on them
// beside MNIST's training split, and --resume refuses them (the checkpoint does not record them).
import Foundation
import XCTest

final class ExtraDigitsCLITests: CLITestCase {
    var quick: [String] {
        ["--data", Self.mnistDirectory, "--limit-train", "2048", "--validation-split", "256", "--warmup-steps", "0",
         "--batch-size", "32", "--threads", "2", "--epochs", "1"]
    }

    /// An IDX image file of `count` 28×28 vertical bars (a crude "1") and its label file, all labelled `label`.
    func writeOnes(_ name: String, count: Int, labels: [UInt8]? = nil) throws {
        var images: [UInt8] = [0, 0, 8, 3]
        for value in [UInt32(count), 28, 28] { images += withUnsafeBytes(of: value.bigEndian, Array.init) }
        for i in 0..<count {
            var image = [UInt8](repeating: 0, count: 784)
            let x = 11 + i % 6
            for y in 5..<23 { image[y * 28 + x] = 255; image[y * 28 + x + 1] = 200 }
            images += image
        }
        let values = labels ?? [UInt8](repeating: 1, count: count)
        var labelBytes: [UInt8] = [0, 0, 8, 1]
        labelBytes += withUnsafeBytes(of: UInt32(values.count).bigEndian, Array.init)
        try write(name + "-images.idx", images)
        try write(name + "-labels.idx", labelBytes + values)
    }

    func testFilesArePairedAndChecked() throws {
        try writeOnes("ones", count: 20)
        let unpaired = try run(["train"] + quick + ["--extra-digits", "ones-images.idx", "--out", "m.mnqf"], timeout: 10)
        XCTAssertNotEqual(unpaired.status, 0, unpaired.stderr)
        XCTAssertTrue(unpaired.stderr.contains("each --extra-digits file needs its --extra-labels file"), unpaired.stderr)

        try writeOnes("short", count: 20, labels: [UInt8](repeating: 1, count: 19))
        let short = try run(["train"] + quick + ["--extra-digits", "short-images.idx", "--extra-labels", "short-labels.idx",
                                                  "--out", "m.mnqf"], timeout: 30)
        XCTAssertEqual(short.status, 2, short.stderr)
        XCTAssertTrue(short.stderr.contains("short-labels.idx") && short.stderr.contains("19"), short.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("m.mnqf").path))
    }

    func testARunTrainsOnTheExtrasAndResumeRefusesThem() throws {
        try writeOnes("ones", count: 300)
        let train = try run(["train"] + quick + ["--extra-digits", "ones-images.idx", "--extra-labels", "ones-labels.idx",
                                                  "--out", "x.mnqf"])
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertTrue(train.stdout.contains("training on 2348 images (256 held out for validation, 300 of them --extra-digits)"),
                      train.stdout)
        let resume = try run(["train", "--resume", "x.ckpt", "--extra-digits", "ones-images.idx",
                              "--extra-labels", "ones-labels.idx", "--epochs", "2"], timeout: 10)
        XCTAssertNotEqual(resume.status, 0)
        XCTAssertTrue(resume.stderr.contains("remove --extra-digits, --extra-labels"), resume.stderr)
        // Without the options, the checkpoint's training set (MNIST + extras) does not match: a clear refusal.
        let bare = try run(["train", "--resume", "x.ckpt", "--data", Self.mnistDirectory, "--epochs", "2"], timeout: 30)
        XCTAssertEqual(bare.status, 2, bare.stderr)
        XCTAssertTrue(bare.stderr.contains("a run trained with --extra-digits cannot be resumed"), bare.stderr)
    }

    /// A run stopped early does not offer a `--resume` command that would be refused: it says why there is none.
    func testAStoppedRunWithExtrasSaysItCannotBeResumed() throws {
        try writeOnes("ones", count: 40)
        let stopped = try run(["train"] + quick.dropLast(2) + ["--epochs", "2", "--stop-after", "1",
                              "--extra-digits", "ones-images.idx", "--extra-labels", "ones-labels.idx", "--out", "s.mnqf"])
        XCTAssertEqual(stopped.status, 0, stopped.stderr)
        XCTAssertTrue(stopped.stdout.contains("stopped after epoch 1 as asked; a run with --extra-digits cannot be resumed (its checkpoint does not record those files); run the same command again to start over"), stopped.stdout)
        XCTAssertFalse(stopped.stdout.contains("train --resume"), stopped.stdout)
    }
}
