// Single-precision matrix multiply (row-major, optional transposes) for the float trainer.

/// C[m×n] = (accumulate ? C : 0) + op(A)[m×k] · op(B)[k×n], all row-major.
///
/// `op(X)` is X transposed when the flag is set: A is stored k×m when `transposeA`, B is stored n×k when
/// `transposeB`. `lda`, `ldb`, `ldc` are row strides in elements (≥ the stored row length). Zero-sized
/// dimensions are allowed: with k == 0 the result is C (accumulate) or zeros. Single-threaded; callers
/// parallelise by giving each thread its own C. C must not overlap A or B.
public func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    sgemmReference(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                   a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
}

/// The plain loop that defines `sgemm`'s result (same contract); the fast path is tested against it
/// and the benchmark uses it as its baseline.
public func sgemmReference(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
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
