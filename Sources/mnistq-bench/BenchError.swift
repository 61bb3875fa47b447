// Errors of the benchmark tool, and the inputs every benchmark finds the same way.
import Foundation

enum BenchError: Error, CustomStringConvertible {
    /// Wrong arguments or an unreadable input: the text says which, often with the usage line.
    case usage(String)
    var description: String {
        switch self {
        case .usage(let text): return text
        }
    }
}

/// The MNIST folder of every benchmark: $MNIST_DIR, else ../shared/mnist (tools/ run the benchmarks from the package root).
var benchMNISTDirectory: String { ProcessInfo.processInfo.environment["MNIST_DIR"] ?? "../shared/mnist" }

/// The bytes of the model file named by `--model`; a usage error when it cannot be read.
func readBenchModelFile(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw BenchError.usage("--model: cannot read \(path)") }
    return [UInt8](data)
}
