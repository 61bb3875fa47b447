// Single-precision matrix multiply (row-major, optional transposes) for the float trainer. The register-tiled FMA
// kernels are C (Sources/_MNISTQFloatKernels), built for AVX-512F, AVX2+FMA and portable C and chosen at run time
// (see `FloatKernelPath`): Swift without -target-cpu assumes SSE2 and turns every vector FMA into a library call.
import _MNISTQFloatKernels

/// C[m×n] = (accumulate ? C : 0) + op(A)[m×k] · op(B)[k×n], all row-major.
///
/// `op(X)` is X transposed when the flag is set: A is stored k×m when `transposeA`, B is stored n×k when
/// `transposeB`. `lda`, `ldb`, `ldc` are row strides in elements (≥ the stored row length). Zero-sized
/// dimensions are allowed: with k == 0 the result is C (accumulate) or zeros. Single-threaded; callers
/// parallelise by giving each thread its own C. Each calling thread keeps one scratch buffer of ≤ 133 KB for its
/// lifetime (allocated on its first call); Aᵀ·Bᵀ (not a CNN shape) also allocates a copy of A.
/// C must not overlap A or B. Results differ from `sgemmReference` only by float summation order, and are the
/// same bits on every `FloatKernelPath`.
///
/// Kernels: when op(B) rows are contiguous (B not transposed) a broadcast kernel runs over strips of B two vectors
/// wide. For C = A·Bᵀ the same kernel computes Cᵀ = B·Aᵀ over a transposed copy of A when m > 16, and a
/// dot-product kernel runs otherwise. With both flags set, op(A) is copied to row-major form first.
package func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    guard m > 0, n > 0 else { return }
    if k <= 0 {
        if !accumulate { for i in 0..<m { (c + i &* ldc).update(repeating: 0, count: n) } }
        return
    }
    mnistq_sgemm_f32(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, a, lda, b, ldb, c, ldc, accumulate ? 1 : 0)
}

/// The plain loop that defines `sgemm`'s result (same contract); the fast path is tested against it
/// and the benchmark uses it as its baseline.
package func sgemmReference(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                           c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    guard m > 0, n > 0 else { return }
    // (row, column) strides of op(A) and op(B) in memory.
    let aRow = transposeA ? 1 : lda, aCol = transposeA ? lda : 1
    let bRow = transposeB ? 1 : ldb, bCol = transposeB ? ldb : 1
    for i in 0..<m {
        let cRow = c + i &* ldc
        if !accumulate {
            for j in 0..<n { cRow[j] = 0 }
        }
        for p in 0..<k {
            let aip = a[i &* aRow &+ p &* aCol]
            let bp = b + p &* bRow
            for j in 0..<n { cRow[j] += aip * bp[j &* bCol] }
        }
    }
}
