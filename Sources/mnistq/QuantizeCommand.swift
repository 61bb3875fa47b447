import ArgumentParser

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "quantize", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("'quantize' is not implemented yet") }
}
