// Weight rounding that minimises a linear layer's output error on calibration inputs (GPTQ-style error feedback).

/// Rounds each row of a linear layer's weights to int8 one input at a time, pushing each rounding error onto the
/// not-yet-rounded weights in the direction that best cancels it on the calibration inputs (the optimal-brain-
/// quantization update with the inverse Hessian's Cholesky factor, as in GPTQ). Minimises ‖(W − s·Q)·X‖² greedily
/// instead of rounding each weight to nearest; the per-row scales s stay as chosen.
package enum ErrorFeedbackRounding {
    /// Damping added to the Hessian's diagonal, relative to its mean (keeps it invertible for dead inputs).
    static let damping = 0.01

    /// - Parameters:
    ///   - weights: [rows, k] float weights.
    ///   - scales: per-row int8 step.
    ///   - inputs: n samples of k uint8 inputs (the layer's actual quantized inputs), sample-major.
    /// - Returns: [rows, k] int8 weights in −127...127, or nil if the Hessian is numerically unusable.
    package static func round(weights: [Float], rows: Int, k: Int, scales: [Double], inputs: [UInt8], samples n: Int) -> [Int8]? {
        // H = Σ x xᵀ (symmetric, k×k), from integer inputs (the input scale cancels out).
        var h = [Double](repeating: 0, count: k * k)
        var x = [Double](repeating: 0, count: k)
        h.withUnsafeMutableBufferPointer { hp in
            for s in 0..<n {
                for i in 0..<k { x[i] = Double(inputs[s * k + i]) }
                for i in 0..<k where x[i] != 0 {
                    let xi = x[i]
                    let row = hp.baseAddress! + i * k
                    for j in i..<k { row[j] += xi * x[j] }
                }
            }
            for i in 0..<k { for j in 0..<i { hp[i * k + j] = hp[j * k + i] } }
        }
        var meanDiagonal = 0.0
        for i in 0..<k { meanDiagonal += h[i * k + i] }
        meanDiagonal /= Double(k)
        let lambda = damping * max(meanDiagonal, 1)
        for i in 0..<k { h[i * k + i] += lambda }
        guard let lower = cholesky(h, k), let upper = inverseCholeskyUpper(lower, k) else { return nil }

        var q = [Int8](repeating: 0, count: rows * k)
        var w = [Double](repeating: 0, count: k)
        for r in 0..<rows {
            let s = scales[r]
            for i in 0..<k { w[i] = Double(weights[r * k + i]) }
            for i in 0..<k {
                let qi = min(max((w[i] / s).rounded(), -127), 127)
                q[r * k + i] = Int8(qi)
                let error = (w[i] - qi * s) / upper[i * k + i]
                for j in (i + 1)..<max(k, i + 1) { w[j] -= error * upper[i * k + j] }
            }
        }
        return q
    }

    /// Lower Cholesky factor L of a symmetric positive definite k×k matrix (A = L·Lᵀ); nil if not positive definite.
    static func cholesky(_ a: [Double], _ k: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: k * k)
        for j in 0..<k {
            var d = a[j * k + j]
            for p in 0..<j { d -= l[j * k + p] * l[j * k + p] }
            guard d > 0, d.isFinite else { return nil }
            let ljj = d.squareRoot()
            l[j * k + j] = ljj
            for i in (j + 1)..<max(k, j + 1) {
                var s = a[i * k + j]
                for p in 0..<j { s -= l[i * k + p] * l[j * k + p] }
                l[i * k + j] = s / ljj
            }
        }
        return l
    }

    /// Upper factor U with H⁻¹ = Uᵀ·U, from H's lower Cholesky factor L (H⁻¹ = L⁻ᵀ·L⁻¹, then Cholesky again).
    static func inverseCholeskyUpper(_ l: [Double], _ k: Int) -> [Double]? {
        // L⁻¹ by forward substitution, column by column.
        var li = [Double](repeating: 0, count: k * k)
        for c in 0..<k {
            li[c * k + c] = 1 / l[c * k + c]
            for i in (c + 1)..<max(k, c + 1) {
                var s = 0.0
                for p in c..<i { s -= l[i * k + p] * li[p * k + c] }
                li[i * k + c] = s / l[i * k + i]
            }
        }
        // H⁻¹ = (L⁻¹)ᵀ L⁻¹.
        var inverse = [Double](repeating: 0, count: k * k)
        for i in 0..<k {
            for j in i..<k {
                var s = 0.0
                for p in j..<k { s += li[p * k + i] * li[p * k + j] }
                inverse[i * k + j] = s; inverse[j * k + i] = s
            }
        }
        guard let m = cholesky(inverse, k) else { return nil }
        var u = [Double](repeating: 0, count: k * k)
        for i in 0..<k { for j in i..<k { u[i * k + j] = m[j * k + i] } }
        return u
    }
}
