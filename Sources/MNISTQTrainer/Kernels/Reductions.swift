// Row sums for bias gradients, vectorised (a scalar running sum is bound by one add latency per element).

/// sums[r] += Σ_j matrix[r·rowStride + j] for r < rows, j < columns (bias gradient of a convolution:
/// gradOutput [channels, plane] → [channels]). Summation order differs from a left-to-right loop
/// (16 lanes, then a tree), so results match it to float rounding, not bit for bit.
package func addRowSums(matrix: UnsafePointer<Float>, rows: Int, columns: Int, rowStride: Int,
                       sums: UnsafeMutablePointer<Float>) {
    guard rows > 0, columns > 0 else { return }
    for r in 0..<rows {
        let row = UnsafeRawPointer(matrix + r &* rowStride)
        var s0 = SIMD16<Float>(), s1 = SIMD16<Float>()
        var j = 0
        while j &+ 32 <= columns {
            s0 += row.loadUnaligned(fromByteOffset: j &* 4, as: SIMD16<Float>.self)
            s1 += row.loadUnaligned(fromByteOffset: (j &+ 16) &* 4, as: SIMD16<Float>.self)
            j &+= 32
        }
        if j &+ 16 <= columns {
            s0 += row.loadUnaligned(fromByteOffset: j &* 4, as: SIMD16<Float>.self)
            j &+= 16
        }
        var tail: Float = 0
        while j < columns {
            tail += matrix[r &* rowStride &+ j]
            j &+= 1
        }
        sums[r] += (s0 + s1).sum() + tail
    }
}
