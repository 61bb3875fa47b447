// Benchmark: Classify (owned by the Classify work).
func runClassifyBench(_ arguments: [String]) throws {
    throw BenchError.notWritten("Classify")
}
