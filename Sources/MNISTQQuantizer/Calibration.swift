// Activation statistics from calibration images and the choice of each activation's clipping range.

/// How an activation's clipping value (the real value of uint8 255) is chosen from calibration data.
package enum CalibrationMethod: String, Sendable, CaseIterable, Codable {
    /// The largest value seen.
    case minmax
    /// The `percentile`-th percentile of all values seen (zeros included).
    case percentile
    /// The clip that minimises the expected squared error (clipping + rounding) over the values seen.
    case mse
}

/// A histogram of non-negative activation values with bins that are uniform in the float bit pattern:
/// 2^11 bins per power of two (relative width 2^−11), so any range from 1e-30 to 1e30 is covered without
/// knowing the maximum beforehand. All values here are ReLU outputs, so negative inputs never occur
/// (they are counted as zero if they did).
package struct ActivationHistogram: Sendable {
    static let dropBits: UInt32 = 12
    /// Bin index = bitPattern >> 12 for positive floats (bin 0 holds exact zeros and denormals).
    private(set) var counts = [UInt64](repeating: 0, count: 1 << (31 - Int(dropBits)))
    /// Values added so far.
    package private(set) var total: UInt64 = 0
    /// Largest value added so far.
    package private(set) var maximum: Float = 0

    package init() {}

    /// Counts every value (negatives as zero).
    package mutating func add(_ values: [Float]) {
        values.withUnsafeBufferPointer { v in
            counts.withUnsafeMutableBufferPointer { c in
                for x in v {
                    let y = max(x, 0)
                    c[Int(y.bitPattern >> Self.dropBits)] &+= 1
                    if y > maximum { maximum = y }
                }
            }
        }
        total &+= UInt64(values.count)
    }

    /// Representative value of bin `index` (its centre; 0 for bin 0).
    static func value(ofBin index: Int) -> Double {
        if index == 0 { return 0 }
        let low = Float(bitPattern: UInt32(index) << dropBits)
        let high = Float(bitPattern: (UInt32(index + 1) << dropBits) &- 1)
        return (Double(low) + Double(high)) / 2
    }

    /// Non-empty bins as (value, count), ascending.
    func nonEmptyBins() -> [(value: Double, count: Double)] {
        counts.indices.compactMap { counts[$0] == 0 ? nil : (Self.value(ofBin: $0), Double(counts[$0])) }
    }

    /// Smallest bin value v with at least `fraction` of all values ≤ v.
    package func percentile(_ fraction: Double) -> Double {
        let target = Double(total) * fraction
        var seen = 0.0
        for (value, count) in nonEmptyBins() {
            seen += count
            if seen >= target { return min(value, Double(maximum)) }
        }
        return Double(maximum)
    }

    /// Clip in (0, maximum] minimising Σ count · E[(x − Q(x))²] for a 255-level uniform quantizer at zero
    /// point 0: x > clip costs (x − clip)², x below half a step rounds to 0 and costs x², anything else
    /// costs the uniform rounding error step²/12. Grid of 1,000 candidates, deterministic.
    package func mseOptimalClip() -> Double {
        let bins = nonEmptyBins()
        let top = Double(maximum)
        guard top > 0 else { return 0 }
        var bestClip = top, bestError = Double.infinity
        for k in stride(from: 1000, through: 20, by: -1) {
            let clip = top * Double(k) / 1000
            let step = clip / 255
            var error = 0.0
            for (value, count) in bins where value > 0 {
                if value > clip { error += count * (value - clip) * (value - clip) }
                else if value < step / 2 { error += count * value * value }
                else { error += count * step * step / 12 }
            }
            if error < bestError { bestError = error; bestClip = clip }
        }
        return bestClip
    }

    /// The clipping value the method chooses (`percentile` in percent, e.g. 99.99).
    package func clip(method: CalibrationMethod, percentile: Double) -> Double {
        switch method {
        case .minmax: return Double(maximum)
        case .percentile: return self.percentile(percentile / 100)
        case .mse: return mseOptimalClip()
        }
    }
}
