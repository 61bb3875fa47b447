// The help of `mnistq` and of every subcommand, compared exactly with the committed text in HelpSnapshots/.
//
// After a deliberate change to a command's flags or help texts, regenerate the snapshots and review their diff:
//   MNISTQ_UPDATE_HELP_SNAPSHOTS=1 swift test <the usual flags> --skip-build --disable-swift-testing --filter HelpSnapshotTests
// That run rewrites HelpSnapshots/*.txt and fails (so an update is never silent); the next run passes.
import Foundation
import XCTest

final class HelpSnapshotTests: CLITestCase {
    static let snapshotFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("HelpSnapshots")
    /// Every subcommand, in the order `mnistq --help` lists them.
    static let commands = ["train", "eval", "quantize", "inspect", "classify", "export", "report"]
    /// Help is wrapped to the terminal's width; the snapshots are taken at a fixed one.
    static let columns = "100"

    func testHelpIsExactlyTheCommittedSnapshot() throws {
        let update = ProcessInfo.processInfo.environment["MNISTQ_UPDATE_HELP_SNAPSHOTS"] == "1"
        for command in [nil] + Self.commands.map(Optional.some) {
            let name = command ?? "mnistq"
            let help = try run((command.map { [$0] } ?? []) + ["--help"], environment: ["COLUMNS": Self.columns], timeout: 10)
            XCTAssertEqual(help.status, 0, "\(name) --help: \(help.stderr)")
            XCTAssertEqual(help.stderr, "", "\(name) --help")
            let snapshot = Self.snapshotFolder.appendingPathComponent("\(name).txt")
            if update {
                try Data(help.stdout.utf8).write(to: snapshot)
                XCTFail("rewrote \(snapshot.lastPathComponent); review the diff, commit it and run the tests again")
                continue
            }
            let expected = try String(contentsOf: snapshot, encoding: .utf8)
            XCTAssertEqual(help.stdout, expected, "\(name) --help differs from HelpSnapshots/\(name).txt (regenerate: see this file's header)")
            // `mnistq help NAME` is the same text.
            if let command {
                XCTAssertEqual(try run(["help", command], environment: ["COLUMNS": Self.columns], timeout: 10).stdout, expected, "help \(command)")
            }
        }
        // No snapshot for a command that no longer exists.
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.snapshotFolder.path).sorted()
        XCTAssertEqual(files, (["mnistq"] + Self.commands).map { "\($0).txt" }.sorted())
    }
}
