// Errors of the benchmark tool.
enum BenchError: Error, CustomStringConvertible {
    case notWritten(String)
    case usage(String)
    var description: String {
        switch self {
        case .notWritten(let name): return "the \(name) benchmark is not written yet"
        case .usage(let text): return text
        }
    }
}
