// Seeded, serialisable randomness for initialisation, hold-out selection and per-epoch shuffles.
import MNISTQSupport

/// xoshiro256** (Blackman & Vigna), seeded through SplitMix64. Its whole state is four `UInt64`s, so a
/// checkpoint stores it and a resumed run draws exactly the numbers an uninterrupted run would.
struct SeededRandom: RandomNumberGenerator, Sendable, Equatable {
    /// The generator state; never all zero (SplitMix64 seeding guarantees it).
    package private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose sequence depends only on `seed`.
    package init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        state = (sm.next(), sm.next(), sm.next(), sm.next())
    }

    /// Restores a saved state. Returns nil for the all-zero state, which xoshiro can never leave.
    package init?(state: (UInt64, UInt64, UInt64, UInt64)) {
        if state == (0, 0, 0, 0) { return nil }
        self.state = state
    }

    package static func == (a: SeededRandom, b: SeededRandom) -> Bool { a.state == b.state }

    package mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 &- k)) }

    /// A float uniform on [0, 1) with 24 random bits (every value a multiple of 2⁻²⁴, so exactly representable).
    mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// A float uniform on [−bound, bound): `−bound + 2·bound·u`, the way `torch.Tensor.uniform_` maps its draw.
    mutating func nextUniform(bound: Float) -> Float {
        -bound + (2 * bound) * nextUnitFloat()
    }

    /// An integer uniform on 0..<upperBound without modulo bias (Lemire's multiply-and-reject).
    mutating func nextIndex(below upperBound: Int) -> Int {
        precondition(upperBound > 0)
        let bound = UInt64(upperBound)
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold { product = next().multipliedFullWidth(by: bound) }
        }
        return Int(product.high)
    }

    /// Fisher–Yates shuffle in place, drawing only from this generator (the standard library's `shuffle`
    /// does not promise a stable algorithm across Swift versions, and checkpoints need one).
    package mutating func shuffle<T>(_ array: inout [T]) {
        var i = array.count - 1
        while i > 0 {
            let j = nextIndex(below: i + 1)
            if i != j { array.swapAt(i, j) }
            i -= 1
        }
    }
}
