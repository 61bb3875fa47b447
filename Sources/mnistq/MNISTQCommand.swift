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

    /// An argument before `--` like `-dash.jpg`: ArgumentParser reads it as the short flags -d -a -s -h, and -h
    /// prints the help and exits 0, so the file is silently not classified. Such an argument is a usage error.
    static func dashedFileName(in arguments: [String], command: String?) -> String? {
        let candidates = arguments.prefix(while: { $0 != "--" })
        // Most command lines have no such argument: the definitions are read only when one does.
        guard candidates.contains(where: isShortFlagGroup) else { return nil }
        let names = CommandLineNames(command: command)
        var previous = ""
        for argument in candidates {
            defer { previous = argument }
            // The value of a long option (an unknown one too: ArgumentParser reports it), never a file name.
            if previous.hasPrefix("--") && !previous.contains("=") && !names.longFlags.contains(previous) { continue }
            guard isShortFlagGroup(argument) else { continue }
            if !argument.dropFirst().allSatisfy(names.shortFlags.contains) { return argument }
        }
        return nil
    }

    /// `-abc` (not `-a`, `--abc` or a negative number): one or more short flags, or a file name starting with '-'.
    static func isShortFlagGroup(_ argument: String) -> Bool {
        argument.count > 2 && argument.hasPrefix("-") && !argument.hasPrefix("--") && Double(argument) == nil
    }

    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let command = arguments.first(where: { commandNames.contains($0) }) ?? (arguments.first == "help" ? "help" : nil)
        func fail(_ message: String, status: Int32) -> Never {
            printDiagnostic(message, command: command)
            Foundation.exit(status)
        }
        // `mnistq help NAME` with an unknown NAME: ArgumentParser would print the top-level help and exit 0.
        if arguments.first == "help", let name = arguments.dropFirst().first, !name.hasPrefix("-"), !commandNames.contains(name) {
            fail("no command named '\(name)'; the commands are \(commandNames.joined(separator: ", ")) (mnistq --help)", status: ExitStatus.usage)
        }
        if let dashed = dashedFileName(in: arguments, command: command) {
            fail("'\(dashed)' is not an option; a file whose name starts with '-' goes after `--` (mnistq \(command ?? "classify") -- \(dashed)) or as ./\(dashed)", status: ExitStatus.usage)
        }
        do {
            var parsed = try parseAsRoot(arguments)
            try parsed.run()
        } catch let failure as CommandFailure {
            guard let message = failure.message else { Foundation.exit(failure.status) }
            fail(message, status: failure.status)
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
                fail(message, status: ExitStatus.usage)
            }
            fail(message, status: ExitStatus.failure)
        }
    }
}

/// The option names a command line may use, read from the commands' own definitions (ArgumentParser's tool-info
/// dump), so adding a flag never means updating a list here.
struct CommandLineNames {
    /// Short names of flags (what `-rq` may combine), `h` included.
    private(set) var shortFlags: Set<Character> = []
    /// `--name` of flags (options that take no value).
    private(set) var longFlags: Set<String> = []

    /// The names of `command` (nil: the top level) and of the top level (--help, --version work everywhere).
    init(command: String?) {
        guard let data = MNISTQCommand._dumpHelp().data(using: .utf8),
              let tool = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let root = tool["command"] as? [String: Any] else { return }
        add(root)
        let subcommands = root["subcommands"] as? [[String: Any]] ?? []
        if let command, let sub = subcommands.first(where: { $0["commandName"] as? String == command }) { add(sub) }
    }

    private mutating func add(_ command: [String: Any]) {
        for argument in command["arguments"] as? [[String: Any]] ?? [] {
            let kind = argument["kind"] as? String
            for name in argument["names"] as? [[String: Any]] ?? [] {
                guard let text = name["name"] as? String else { continue }
                let short = name["kind"] as? String == "short"
                guard kind == "flag" else { continue }
                if short, let character = text.first { shortFlags.insert(character) }
                if name["kind"] as? String == "long" { longFlags.insert("--" + text) }
            }
        }
    }
}
