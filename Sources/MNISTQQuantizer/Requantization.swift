// Integer rescaling: turning a real scale ratio into the multiplier + shift pair of the runtime contract.
import MNISTQRuntime

/// The fixed-point form of a positive real factor, as `QuantizedLayer` stores it per output channel.
package struct Requantization: Sendable, Equatable {
    /// In [2^30, 2^31 − 1].
    package var multiplier: Int32
    /// In 1...62.
    package var shift: Int8

    package init(multiplier: Int32, shift: Int8) { self.multiplier = multiplier; self.shift = shift }

    /// Smallest and largest representable factor: multiplier 2^30 with shift 62, and (2^31 − 1) with shift 1.
    package static let representableRange: ClosedRange<Double> = 0x1p-32 ... (0x1p30 - 0x1p-1)

    /// The pair whose value `multiplier · 2^−shift` is closest to `real`, with the multiplier normalised into
    /// [2^30, 2^31 − 1] so it keeps 31 significant bits (relative error ≤ 2^−31).
    ///
    /// Examples: 0.5 → (2^30, 31); 1.0 → (2^30, 30); 0.75 → (3·2^29, 31);
    /// 1 − 2^−40 rounds up to 2^31, which does not fit, so it becomes (2^30, 30) = exactly 1.0.
    /// Returns nil when `real` is not finite or lies outside `representableRange`.
    package static func from(real: Double) -> Requantization? {
        guard real.isFinite, real > 0 else { return nil }
        // real = fraction · 2^exponent with fraction in [0.5, 1); multiplier = fraction · 2^31, shift = 31 − exponent.
        let exponent = real.exponent + 1
        let fraction = real / Double(sign: .plus, exponent: exponent, significand: 1)
        var mantissa = (fraction * 0x1p31).rounded(.toNearestOrAwayFromZero)
        var shift = 31 - exponent
        if mantissa >= 0x1p31 { mantissa /= 2; shift -= 1 }
        guard (1...62).contains(shift) else { return nil }
        return Requantization(multiplier: Int32(mantissa), shift: Int8(shift))
    }

    /// The exact real factor this pair represents.
    package var real: Double { Double(multiplier) * Double(sign: .plus, exponent: -Int(shift), significand: 1) }

    /// The contract's rescale: `(acc · multiplier + 2^(shift−1)) >> shift` in 64 bits (round half up),
    /// before any clamp. For example with the pair for 0.5: 3 → 2 (1.5 rounds up), −3 → −1 (−1.5 rounds up).
    /// The runtime's own function, so the quantizer cannot drift from what inference computes.
    @inlinable
    package func apply(_ accumulator: Int32) -> Int64 {
        requantize_s32(accumulator, multiplier: multiplier, shift: shift)
    }
}
