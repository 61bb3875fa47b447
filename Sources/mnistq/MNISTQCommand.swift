// The `mnistq` command: a thin CLI over the libraries; only this layer maps errors to exit codes.
import ArgumentParser
import Foundation

@main
struct MNISTQCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mnistq",
        abstract: "Train, quantize and run a handwritten-digit classifier (the classic MNIST CNN) down to int8.",
        subcommands: [TrainCommand.self, EvalCommand.self, QuantizeCommand.self, InspectCommand.self, ClassifyCommand.self,
                      ExportCommand.self, ReportCommand.self]
    )

    /// Exit codes: 0 success, 1 failure while working (e.g. some inputs failed), 2 usage error or unusable input.
    /// ArgumentParser's own code for usage errors is 64 (EX_USAGE); scripts expect 2, as with most Unix tools.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
