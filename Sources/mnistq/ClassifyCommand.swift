import ArgumentParser

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "classify", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("'classify' is not implemented yet") }
}
