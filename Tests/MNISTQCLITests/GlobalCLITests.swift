// What every command shares (issue 9): --version, `mnistq <command>: …` errors, `help nosuch`, snake_case JSON keys.
import Foundation
import XCTest

final class GlobalCLITests: CLITestCase {
    static let commands = ["train", "eval", "quantize", "inspect", "classify", "export"]

    func testVersionEverywhereAndHelpForAnUnknownCommand() throws {
        for arguments in [["--version"]] + Self.commands.map({ [$0, "--version"] }) {
            let result = try run(arguments, timeout: 10)
            XCTAssertEqual(result.status, 0, "\(arguments)")
            XCTAssertTrue(result.stdout.hasPrefix("mnistq "), result.stdout)
            XCTAssertEqual(result.stdout.split(separator: "\n").count, 1, result.stdout)
        }
        let unknown = try run(["help", "nosuch"], timeout: 10)
        XCTAssertEqual(unknown.status, 2)
        XCTAssertEqual(unknown.stdout, "")
        XCTAssertEqual(unknown.stderr, "mnistq help: no command named 'nosuch'; the commands are train, eval, quantize, inspect, classify, export, report (mnistq --help)\n")
    }

    /// The shared option groups keep every old name: `--jobs` is `--threads`, checked the same way everywhere.
    func testThreadsAndJobsAreOneOption() throws {
        try write("a.raw", try mnistTest().images[0].pixels)
        let common = ["classify", "--model", Self.modelPath, "--format", "csv", "-q", "a.raw"]
        let jobs = try run(common + ["--jobs", "1"], timeout: 10), threads = try run(common + ["--threads", "1"], timeout: 10)
        XCTAssertEqual(jobs.status, 0, jobs.stderr)
        XCTAssertEqual(threads.status, 0, threads.stderr)
        XCTAssertEqual(jobs.stdout, threads.stdout)
        for (command, flag) in [("classify", "--jobs"), ("classify", "--threads"), ("train", "--jobs"), ("train", "--threads"), ("report", "--threads")] {
            let result = try run([command, flag, "0"] + (command == "train" ? [] : ["--model", "x.mnq8"]) + (command == "classify" ? ["a.raw"] : []), timeout: 10)
            XCTAssertEqual(result.status, 2, "\(command) \(flag) 0")
            XCTAssertTrue(result.stderr.hasPrefix("mnistq \(command): --threads is 0, expected 1...256\n"), "\(command) \(flag) 0: \(result.stderr)")
        }
    }

    func testErrorsNameTheCommand() throws {
        try write("junk.mnq8", Array("junk".utf8))
        let cases: [([String], Int32)] = [
            (["eval", "--model", "junk.mnq8", "--data", Self.mnistDirectory], 2),
            (["inspect", "junk.mnq8"], 2),
            (["export", "--flash", "junk.mnq8", "out.mnqi"], 2),
            (["quantize", "--model", "junk.mnq8"], 2),
            (["classify", "--top-k", "0", "x.png"], 2),
            (["train", "--epochs", "0"], 2),
            (["classify", "-q", "--model", Self.modelPath, "junk\u{1B}[2J.png"], 1),
        ]
        for (arguments, status) in cases {
            let result = try run(arguments, timeout: 10)
            XCTAssertEqual(result.status, status, "\(arguments): \(result.stderr)")
            let errorLines = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("Usage:") && !$0.hasPrefix("  See ") && !$0.hasPrefix("classified ") }
            XCTAssertFalse(errorLines.isEmpty, "\(arguments)")
            for line in errorLines { XCTAssertTrue(line.hasPrefix("mnistq \(arguments[0]): "), "\(arguments): \(line)") }
            XCTAssertFalse(result.stderr.utf8.contains(0x1B), "control characters are escaped in error lines")
        }
    }

    /// Which `-xy` groups are flags comes from each command's own definition: `-q` and `-h` are every command's, `-r`
    /// only classify's; anything else before `--` is a file name starting with '-', refused (not read as flags).
    func testShortFlagGroupsFollowEachCommandsDefinition() throws {
        let help = try run(["train", "-qh"], environment: ["COLUMNS": HelpSnapshotTests.columns], timeout: 10)
        XCTAssertEqual(help.status, 0, help.stderr)
        XCTAssertEqual(help.stdout, try String(contentsOf: HelpSnapshotTests.snapshotFolder.appendingPathComponent("train.txt"), encoding: .utf8))
        let notTrains = try run(["train", "-rq"], timeout: 10)
        XCTAssertEqual(notTrains.status, 2)
        XCTAssertEqual(notTrains.stderr, "mnistq train: '-rq' is not an option; a file whose name starts with '-' goes after `--` (mnistq train -- -rq) or as ./-rq\n")
        XCTAssertEqual(notTrains.stdout, "")
        // In the place of an option's value the check stays out of the way: ArgumentParser says what is wrong.
        let value = try run(["classify", "--model", "-rq", "a.raw"], timeout: 10)
        XCTAssertEqual(value.status, 2)
        XCTAssertTrue(value.stderr.hasPrefix("mnistq classify: Missing value for '--model <model>'"), value.stderr)
    }

    /// Keys of every JSON document the commands print are snake_case (no capitals).
    func testJSONKeysAreSnakeCase() throws {
        func keys(_ value: Any) -> [String] {
            if let object = value as? [String: Any] { return object.keys + object.values.flatMap(keys) }
            if let array = value as? [Any] { return array.flatMap(keys) }
            return []
        }
        try write("a.raw", try mnistTest().images[0].pixels)
        let documents = [
            try run(["inspect", "--json", Self.modelPath], timeout: 10).stdout,
            try run(["eval", "--json", "--model", Self.modelPath, "--data", Self.mnistDirectory]).stdout,
            try run(["classify", "--format", "json", "--model", Self.modelPath, "a.raw"], timeout: 10).stdout,
        ]
        for document in documents {
            let all = keys(try JSONSerialization.jsonObject(with: Data(document.utf8)))
            XCTAssertFalse(all.isEmpty, document)
            for key in all { XCTAssertEqual(key, key.lowercased(), "not snake_case: \(key)") }
        }
        let inspect = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(documents[0].utf8)) as? [String: Any])
        XCTAssertNotNil(inspect["arena_bytes"])
        XCTAssertNotNil((inspect["header"] as? [String: Any])?["payload_length"])
    }
}
