// Integer rescaling of Int32 accumulators (the `QuantizedLayer` contract): multiply, round half up, shift, clamp.

/// Rescales an accumulator: `(Int64(acc) · Int64(multiplier) + 2^(shift−1)) >> shift`, arithmetic shift.
///
/// The shift rounds toward −∞, so adding half a step first rounds to nearest with ties going up (toward +∞),
/// for negative values too:
/// - `acc = 3, multiplier = 2^30, shift = 31` → 3/2 = 1.5 → `2`
/// - `acc = −3, multiplier = 2^30, shift = 31` → −1.5 → `−1` (half up, not away from zero)
/// - `acc = −5, multiplier = 2^30, shift = 31` → −2.5 → `−2`
///
/// - Parameters:
///   - acc: any Int32.
///   - multiplier: any Int32 (the format keeps it in [2^30, 2^31 − 1]).
///   - shift: 1...62.
/// - Returns: the rescaled value; |result| ≤ 2^61, so it never overflows: |acc · multiplier| ≤ 2^62 and the
///   rounding term is at most 2^61, so the Int64 sum stays below 2^63.
@inlinable @inline(__always)
package func requantize_s32(_ acc: Int32, multiplier: Int32, shift: Int8) -> Int64 {
    let s = Int64(truncatingIfNeeded: shift)
    return (Int64(acc) &* Int64(multiplier) &+ (Int64(1) &<< (s &- 1))) &>> s
}

/// Rescales and clamps to 0...255 (the clamp at 0 is the fused ReLU). Parameter ranges as in `requantize_s32`.
@inlinable @inline(__always)
package func requantizeReluToUInt8_s32(_ acc: Int32, multiplier: Int32, shift: Int8) -> UInt8 {
    let r = requantize_s32(acc, multiplier: multiplier, shift: shift)
    return UInt8(truncatingIfNeeded: max(0, min(255, r)))
}

/// Rescales and saturates to Int32 (the logits layer). Parameter ranges as in `requantize_s32`.
@inlinable @inline(__always)
package func requantizeToInt32_s32(_ acc: Int32, multiplier: Int32, shift: Int8) -> Int32 {
    let r = requantize_s32(acc, multiplier: multiplier, shift: shift)
    return Int32(truncatingIfNeeded: max(Int64(Int32.min), min(Int64(Int32.max), r)))
}
