// The CLI fixes of issue 9 for train and quantize: outputs checked before work, --force, --resume writing to the
// run's own files, extending a finished run, Ctrl-C's resume command, chance-level runs, --max-drop reports.
import Foundation
import MNISTQRuntime
import XCTest

final class TrainQuantizeCLITests: CLITestCase {
    static var goldenDirectory: String {
        ProcessInfo.processInfo.environment["MNISTQ_GOLDEN_DIR"] ?? packageRoot.appendingPathComponent("../shared/golden").standardized.path
    }
    var data: [String] { ["--data", Self.mnistDirectory] }
    /// A run that learns in one short epoch (no warm-up), on 2 threads so resumes are bit-identical.
    var quick: [String] { data + ["--limit-train", "2048", "--validation-split", "256", "--warmup-steps", "0", "--batch-size", "32", "--threads", "2"] }

    func exists(_ relative: String, in folder: URL? = nil) -> Bool {
        FileManager.default.fileExists(atPath: (folder ?? directory).appendingPathComponent(relative).path)
    }

    func testOutputIsCheckedBeforeAnyWorkAndAnotherRunsModelNeedsForce() throws {
        // A folder that does not exist: refused at once (no data loaded, nothing created).
        for command in [["train"] + data, ["quantize", "--model", Self.goldenDirectory] + data] {
            let result = try run(command + ["--out", "far/away/m.bin"], timeout: 10)
            XCTAssertEqual(result.status, 2, result.stderr)
            XCTAssertEqual(result.stderr, "mnistq \(command[0]): --out far/away/m.bin: the folder far/away does not exist; create it first (mkdir -p far/away) — mnistq creates no folders for its outputs\n")
            XCTAssertFalse(exists("far"))
        }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("dir.mnqf"), withIntermediateDirectories: false)
        let folder = try run(["train"] + data + ["--out", "dir.mnqf"], timeout: 10)
        XCTAssertEqual(folder.status, 2)
        XCTAssertTrue(folder.stderr.contains("--out dir.mnqf: is a folder"), folder.stderr)

        // train: an existing model (another run's) is replaced only with --force.
        try write("old.mnqf", Array("someone's model".utf8))
        let refused = try run(["train"] + quick + ["--epochs", "1", "--out", "old.mnqf", "--quiet"], timeout: 10)
        XCTAssertEqual(refused.status, 2)
        XCTAssertEqual(refused.stderr, "mnistq train: old.mnqf exists (a model of another run); pass --force to replace it, choose another --out, or continue that run with --resume old.ckpt\n")
        XCTAssertEqual(try Data(contentsOf: directory.appendingPathComponent("old.mnqf")), Data("someone's model".utf8))
        let forced = try run(["train"] + quick + ["--epochs", "1", "--out", "old.mnqf", "--quiet", "--force"])
        XCTAssertEqual(forced.status, 0, forced.stderr)

        // quantize: a model quantized from the same float model is replaced (a re-run with other settings); a file
        // from elsewhere or a model of another float model needs --force.
        let common = ["quantize", "--model", "old.mnqf", "--calibration-images", "64", "--quiet", "--json"] + data
        XCTAssertEqual(try run(common + ["--out", "q.mnq8"]).status, 0)
        XCTAssertEqual(try run(common + ["--out", "q.mnq8", "--method", "percentile"]).status, 0, "same source: replaced")
        try write("notes.mnq8", Array("my notes".utf8))
        let notModel = try run(common + ["--out", "notes.mnq8"], timeout: 10)
        XCTAssertEqual(notModel.status, 2)
        XCTAssertEqual(notModel.stderr, "mnistq quantize: --out notes.mnq8 exists and is not an int8 model file; refusing to replace it (pass --force to replace it, or choose another --out)\n")
        let other = try run(["quantize", "--model", Self.goldenDirectory, "--calibration-images", "64", "--quiet", "--out", "q.mnq8"] + data, timeout: 10)
        XCTAssertEqual(other.status, 2)
        XCTAssertEqual(other.stderr, "mnistq quantize: --out q.mnq8 is a model quantized from old.mnqf, not from golden; refusing to replace another run's model (pass --force to replace it, or choose another --out)\n")
    }

    func testResumeWritesToTheRunsOwnFilesAndExtendsAFinishedRun() throws {
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("runs"), withIntermediateDirectories: false)
        let first = try run(["train"] + quick + ["--epochs", "2", "--stop-after", "1", "--out", "runs/r.mnqf"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let binary = try binary()
        let checkpoint = directory.appendingPathComponent("runs/r.ckpt").path
        XCTAssertTrue(first.stdout.contains("continue with: \(binary) train --resume \(checkpoint) --data \(Self.mnistDirectory) --threads 2\n"), first.stdout)
        XCTAssertFalse(exists("runs/r.mnqf"))

        // Resumed from another folder, without --out: the run's own model path, not ./mnistq-float.mnqf.
        let elsewhere = directory.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: false)
        let resumed = try run(["train", "--resume", checkpoint, "--threads", "2", "--quiet"] + data, in: elsewhere)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(exists("runs/r.mnqf"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path), [], "nothing written in the current folder")
        let twoEpochs = try Data(contentsOf: directory.appendingPathComponent("runs/r.mnqf"))

        // The finished run extended to 3 epochs: a third metrics row, a new model in the same place.
        let extended = try run(["train", "--resume", checkpoint, "--epochs", "3", "--threads", "2"] + data, in: elsewhere)
        XCTAssertEqual(extended.status, 0, extended.stderr)
        XCTAssertTrue(extended.stdout.contains("resuming \(checkpoint) after epoch 2 of 3"), extended.stdout)
        let metrics = try String(contentsOf: directory.appendingPathComponent("runs/r.metrics.csv"), encoding: .utf8)
        XCTAssertEqual(metrics.split(separator: "\n").count, 4, metrics)
        XCTAssertNotEqual(try Data(contentsOf: directory.appendingPathComponent("runs/r.mnqf")), twoEpochs)
        let shorter = try run(["train", "--resume", checkpoint, "--epochs", "3"] + data, in: elsewhere)
        XCTAssertEqual(shorter.status, 2)
        XCTAssertTrue(shorter.stderr.contains("the run has done 3 epochs already; --epochs 3 must be more than that to extend it"), shorter.stderr)
        XCTAssertEqual(try run(["train", "--resume", checkpoint, "--lr", "0.2"] + data).status, 2, "other settings still conflict with --resume")
    }

    func testCtrlCPrintsTheExactResumeCommand() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try binary())
        process.arguments = ["train"] + quick + ["--epochs", "1000", "--patience", "0", "--out", "long.mnqf", "--quiet"]
        process.currentDirectoryURL = directory
        let err = directory.appendingPathComponent(".train-stderr")
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Wait for the first checkpoint (bounded), then interrupt.
        let checkpoint = directory.appendingPathComponent("long.ckpt").path
        for _ in 0..<600 where !FileManager.default.fileExists(atPath: checkpoint) { usleep(100_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint))
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        let stderr = try String(contentsOf: err, encoding: .utf8)
        let command = "\(try binary()) train --resume \(checkpoint) --data \(Self.mnistDirectory) --threads 2"
        XCTAssertTrue(stderr.hasSuffix("mnistq train: interrupted; the last checkpoint is long.ckpt. Continue with:\n  \(command)\n"), stderr)
        // The printed command runs (one more epoch here, so the test stays short).
        let resumed = try run(Array(command.split(separator: " ").dropFirst().map(String.init)) + ["--stop-after", "1", "--quiet"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
    }

    func testChanceLevelRunExitsNonZeroAndWritesNoModel() throws {
        // --lr 1 kills every ReLU within the first epoch; the guard is on and does not save it.
        let result = try run(["train"] + data + ["--lr", "1", "--epochs", "1", "--limit-train", "2048", "--validation-split", "256",
                                                  "--threads", "2", "--out", "bad.mnqf", "--quiet"])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("mnistq train: the run ended at chance level: test accuracy "), result.stderr)
        XCTAssertTrue(result.stderr.contains("no model written to bad.mnqf. Hint: a lower learning rate (--lr 1 now"), result.stderr)
        XCTAssertFalse(exists("bad.mnqf"))
    }

    func testMaxDropFailurePrintsTheWholeReportAndOnlyUntriedHints() throws {
        // Clipping activations at their 20th percentile wrecks the int8 model (about 10% accuracy).
        let arguments = ["quantize", "--model", Self.goldenDirectory, "--calibration-images", "64", "--method", "percentile",
                         "--percentile", "20", "--max-drop", "0.5", "--out", "q.mnq8", "--quiet"] + data
        let text = try run(arguments)
        XCTAssertEqual(text.status, 1)
        for part in ["float accuracy     98.97%", "int8 accuracy ", "drop ", "agreement ", "layer   SQNR dB", "int8 confusion matrix",
                     "model file         not written (--max-drop 0.5 exceeded)"] {
            XCTAssertTrue(text.stdout.contains(part), "report lacks \(part):\n\(text.stdout)")
        }
        let hints = "--method minmax, --method mse, --percentile 99.99, --calibration-images 10000, --weight-scale mse, --equalization 0.5"
        XCTAssertTrue(text.stderr.hasPrefix("mnistq quantize: accuracy drop "), text.stderr)
        XCTAssertTrue(text.stderr.hasSuffix("no file written. Hint: settings not tried in this run: \(hints)\n"), text.stderr)
        XCTAssertFalse(exists("q.mnq8"))
        XCTAssertFalse(exists("q.confusion.svg"))

        let json = try run(arguments + ["--json"])
        XCTAssertEqual(json.status, 1)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(report["written"] as? Bool, false)
        XCTAssertEqual(report["hints"] as? [String], hints.components(separatedBy: ", "))
        XCTAssertEqual(report["float_correct"] as? Int, 9897)
        XCTAssertEqual((report["layers"] as? [Any])?.count, 5)
        XCTAssertGreaterThan(try XCTUnwrap(report["drop_pp"] as? Double), 0.5)
        XCTAssertNil(report["file_bytes"])
    }
}
