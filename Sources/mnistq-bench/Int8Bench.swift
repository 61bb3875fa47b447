// Benchmark: Int8 (owned by the Int8 work).
func runInt8Bench(_ arguments: [String]) throws {
    throw BenchError.notWritten("Int8")
}
