// Benchmark: GEMM (owned by the GEMM work).
func runGEMMBench(_ arguments: [String]) throws {
    throw BenchError.notWritten("GEMM")
}
