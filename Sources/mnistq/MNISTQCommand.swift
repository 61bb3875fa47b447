// The `mnistq` command: a thin CLI over the libraries; only this layer maps errors to exit codes.
import ArgumentParser
import Foundation
import MNISTQRuntime

@main
struct MNISTQCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mnistq",
        abstract: "Train, quantize and run a handwritten-digit classifier (the classic MNIST CNN) down to int8.",
        discussion: """
        Every command accepts --version and --help. Errors are printed as `mnistq <command>: ...` on stderr. \
        `--` ends the options: what follows is taken as file names even when it starts with '-'.
        """,
        version: "mnistq \(MNISTQVersion.string)",
        subcommands: [TrainCommand.self, EvalCommand.self, QuantizeCommand.self, InspectCommand.self, ClassifyCommand.self,
                      ExportCommand.self, ReportCommand.self]
    )

    static var commandNames: [String] { configuration.subcommands.map { $0._commandName } }

    /// Short flags per command (what `-rq` may combine) and the long flags that take no value.
    static let shortFlags: [String: Set<Character>] = ["classify": ["r", "q", "h"]]
    static let valuelessLongFlags: Set<String> = ["--recursive", "--no-preprocess", "--no-progress", "--quiet", "--help",
                                                  "--version", "--json", "--force", "--no-guard", "--no-bias-correction",
                                                  "--flash", "--c-array"]

    /// An argument before `--` like `-dash.jpg`: ArgumentParser reads it as the short flags -d -a -s -h, and -h
    /// prints the help and exits 0, so the file is silently not classified. Such an argument is a usage error.
    static func dashedFileName(in arguments: [String], command: String?) -> String? {
        let allowed = shortFlags[command ?? ""] ?? ["h"]
        var previous = ""
        for argument in arguments {
            if argument == "--" { return nil }
            defer { previous = argument }
            if previous.hasPrefix("--") && !previous.contains("=") && !valuelessLongFlags.contains(previous) { continue }
            guard argument.count > 2, argument.hasPrefix("-"), !argument.hasPrefix("--") else { continue }
            if Double(argument) != nil { continue }  // a negative number
            if !argument.dropFirst().allSatisfy(allowed.contains) { return argument }
        }
        return nil
    }

    /// Exit codes: 0 success, 1 failure while working (e.g. some inputs failed), 2 usage error or unusable input.
    /// ArgumentParser's own code for usage errors is 64 (EX_USAGE); scripts expect 2, as with most Unix tools.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let command = arguments.first(where: { commandNames.contains($0) }) ?? (arguments.first == "help" ? "help" : nil)
        let prefix = "mnistq" + (command.map { " " + $0 } ?? "") + ": "
        func fail(_ message: String, status: Int32) -> Never {
            FileHandle.standardError.write(Data((prefix + escapeMessage(message) + "\n").utf8))
            Foundation.exit(status)
        }
        // `mnistq help NAME` with an unknown NAME: ArgumentParser would print the top-level help and exit 0.
        if arguments.first == "help", let name = arguments.dropFirst().first, !name.hasPrefix("-"), !commandNames.contains(name) {
            fail("no command named '\(name)'; the commands are \(commandNames.joined(separator: ", ")) (mnistq --help)", status: 2)
        }
        if let dashed = dashedFileName(in: arguments, command: command) {
            fail("'\(dashed)' is not an option; a file whose name starts with '-' goes after `--` (mnistq \(command ?? "classify") -- \(dashed)) or as ./\(dashed)", status: 2)
        }
        do {
            var parsed = try parseAsRoot(arguments)
            try parsed.run()
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            let status = exitCode(for: error)
            if status == .success { exit(withError: error) }  // --help, --version
            var message = fullMessage(for: error)
            if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
            while message.hasSuffix("\n") { message.removeLast() }
            if status == .validationFailure {
                if let dashed = arguments.first(where: { $0.count > 1 && $0.hasPrefix("-") && !$0.hasPrefix("--") }),
                   message.contains(dashed) || message.contains("Unknown option") {
                    message += "\n(a file whose name starts with '-' goes after `--`, e.g. mnistq \(command ?? "classify") -- \(dashed), or as ./\(dashed))"
                }
                fail(message, status: 2)
            }
            fail(message, status: 1)
        }
    }
}
