// mnistq-bench: speed and memory benchmarks (never run as tests). Usage: mnistq-bench <gemm|int8|classify|memory|photos> [options]
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
let benches: [String: ([String]) throws -> Void] = [
    "gemm": runGEMMBench,
    "int8": runInt8Bench,
    "classify": runClassifyBench,
    "memory": runMemoryBench,
    "photos": runPhotoBench,
]
guard let name = arguments.first, let bench = benches[name] else {
    FileHandle.standardError.write("usage: mnistq-bench <\(benches.keys.sorted().joined(separator: "|"))> [options]\n".data(using: .utf8)!)
    exit(2)
}
do {
    try bench(Array(arguments.dropFirst()))
} catch {
    FileHandle.standardError.write("mnistq-bench \(name): \(error)\n".data(using: .utf8)!)
    exit(1)
}
