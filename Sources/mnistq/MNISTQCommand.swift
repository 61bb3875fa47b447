// The `mnistq` command: a thin CLI over the libraries; only this layer maps errors to exit codes.
import ArgumentParser

@main
struct MNISTQCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mnistq",
        abstract: "Train, quantize and run a handwritten-digit classifier (the classic MNIST CNN) down to int8.",
        subcommands: [TrainCommand.self, EvalCommand.self, QuantizeCommand.self, InspectCommand.self, ClassifyCommand.self]
    )
}
