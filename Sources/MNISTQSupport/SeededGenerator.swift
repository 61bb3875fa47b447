// The package's one seeded generator: calibration image choice, PhotoSet renderings, the trainer's xoshiro seeding,
// benchmarks and tests all draw from SplitMix64, so one seed gives one sequence on every machine.

/// SplitMix64 (Steele, Lea & Flood; the constants of Vigna's reference): 64 bits of state, the same sequence on
/// every platform. Not for cryptography.
package struct SplitMix64: RandomNumberGenerator, Sendable, Equatable {
    package var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `range` (modulo reduction: a bias below 2^-40 for the small ranges used here, and the same values
    /// on every machine, which `Int.random(in:using:)` does not promise across Swift versions).
    package mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    /// A value in [0, 1) with 53 random bits.
    package mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
