// The "not a digit" score: an optional section of the model (flag bit 1) and the integer arithmetic that reads it.

/// The calibration of the out-of-distribution score, as the model file stores it (<doc:ModelFormat#Out-of-distribution-section>).
///
/// The score of an image the network calls digit `c`, with top score `top` (fc3's int32 logit of `c`) and fc2's 84
/// uint8 features `f` (the penultimate layer, after ReLU), is computed with integers only:
///
/// ```
/// e = (reference[c] − top) · evidenceMultiplier[c]                          (Int64)
/// D = Σ_j weight[c][j] · |f[j] − centroid[c][j]|                            (Int32, ≤ 255 · 255 · 84)
/// d = (D − distanceOffset[c]) · distanceMultiplier[c]                       (Int64)
/// score = (e + d) >> 32                                                     (arithmetic shift; |score| < 2^29)
/// ```
///
/// `e` is how far the evidence for `c` falls short of what digits of class `c` typically get; `d` is a weighted L1
/// distance of the features to class `c`'s centroid. The multipliers are per-class integer scales chosen at quantize
/// time so that 1000 score units are one class-specific spread (see the quantizer's calibration): the image is
/// reported "unsure" when `score > threshold`, whatever its class.
public struct OutOfDistributionCalibration: Equatable, Sendable {
    /// Scores above this are out of distribution (the default of `mnistq classify --ood-threshold`).
    public var threshold: Int32
    /// Softmax confidence below which `classify` reports "unsure" (the default of `--min-confidence`), 0...1.
    /// Informational (Float): the softmax is post-processing, outside the integer inference.
    public var minimumConfidence: Float
    /// Per class: the typical top score of images of that class.
    package var reference: [Int32]
    /// Per class: the scale of the evidence term, 0 ... 2^28.
    package var evidenceMultiplier: [Int32]
    /// Per class: the typical distance, subtracted before scaling, 0 ... 255 · 255 · 84.
    package var distanceOffset: [Int32]
    /// Per class: the scale of the distance term, 0 ... 2^28.
    package var distanceMultiplier: [Int32]
    /// Per class, 84 values: the centroid of fc2's features, `[class][feature]`.
    package var centroid: [UInt8]
    /// Per class, 84 values: the weight of each feature's distance, `[class][feature]`.
    package var weight: [UInt8]

    package init(threshold: Int32, minimumConfidence: Float, reference: [Int32], evidenceMultiplier: [Int32],
                distanceOffset: [Int32], distanceMultiplier: [Int32], centroid: [UInt8], weight: [UInt8]) {
        self.threshold = threshold
        self.minimumConfidence = minimumConfidence
        self.reference = reference
        self.evidenceMultiplier = evidenceMultiplier
        self.distanceOffset = distanceOffset
        self.distanceMultiplier = distanceMultiplier
        self.centroid = centroid
        self.weight = weight
    }

    /// The section's bytes (<doc:ModelFormat#Out-of-distribution-section>), the same in packed files and in-place images.
    func encoded() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(OutOfDistributionLayout.byteCount)
        out.appendLittleEndian(UInt32(bitPattern: threshold))
        out.appendLittleEndian(minimumConfidence.bitPattern)
        for array in [reference, evidenceMultiplier, distanceOffset, distanceMultiplier] {
            for value in array { out.appendLittleEndian(UInt32(bitPattern: value)) }
        }
        out += centroid
        out += weight
        return out
    }

    /// Reads a section of ``OutOfDistributionLayout/byteCount`` bytes at `base` (unchecked; see ``validate(_:)``).
    static func read(_ base: UnsafeRawPointer) -> OutOfDistributionCalibration {
        let section = UnsafeRawBufferPointer(start: base, count: OutOfDistributionLayout.byteCount)
        func int32s(_ offset: Int) -> [Int32] {
            (0..<10).map { Int32(bitPattern: section.loadLittleEndian(UInt32.self, at: offset + 4 * $0)) }
        }
        return OutOfDistributionCalibration(
            threshold: Int32(bitPattern: section.loadLittleEndian(UInt32.self, at: OutOfDistributionLayout.threshold)),
            minimumConfidence: Float(bitPattern: section.loadLittleEndian(UInt32.self, at: OutOfDistributionLayout.minimumConfidence)),
            reference: int32s(OutOfDistributionLayout.reference),
            evidenceMultiplier: int32s(OutOfDistributionLayout.evidenceMultiplier),
            distanceOffset: int32s(OutOfDistributionLayout.distanceOffset),
            distanceMultiplier: int32s(OutOfDistributionLayout.distanceMultiplier),
            centroid: Array(UnsafeRawBufferPointer(rebasing: section[OutOfDistributionLayout.centroid..<OutOfDistributionLayout.weight])),
            weight: Array(UnsafeRawBufferPointer(rebasing: section[OutOfDistributionLayout.weight..<OutOfDistributionLayout.byteCount])))
    }

    /// The section's range checks, on the values (the writer's side).
    func validate() throws(ModelError) {
        let counts = [reference.count, evidenceMultiplier.count, distanceOffset.count, distanceMultiplier.count]
        for count in counts where count != 10 {
            throw .badOutOfDistributionSection(field: "per-class arrays", reason: "hold 10 values each")
        }
        if centroid.count != 840 || weight.count != 840 {
            throw .badOutOfDistributionSection(field: "centroid/weight", reason: "hold 10 × 84 values each")
        }
        if let problem = encoded().withUnsafeBytes({ OutOfDistributionCalibration.problem(at: $0.baseAddress!) }) { throw problem }
    }

    /// ``validate(_:)``'s verdict as a value (for callers inside closures that cannot throw typed errors).
    static func problem(at base: UnsafeRawPointer) -> ModelError? {
        do { try validate(base) } catch { return error }
        return nil
    }

    /// The section's range checks where it lies (allocation-free unless it throws): multipliers in 0 ... 2^28,
    /// distance offsets in 0 ... 255 · 255 · 84, minimum confidence in 0...1. Within them the score's Int64
    /// arithmetic cannot overflow and the result fits an Int32 (|score| < 2^29).
    static func validate(_ base: UnsafeRawPointer) throws(ModelError) {
        let section = UnsafeRawBufferPointer(start: base, count: OutOfDistributionLayout.byteCount)
        let confidence = Float(bitPattern: section.loadLittleEndian(UInt32.self, at: OutOfDistributionLayout.minimumConfidence))
        if !(confidence >= 0 && confidence <= 1) {
            throw .badOutOfDistributionSection(field: "minimumConfidence", reason: "must be a number in 0...1")
        }
        for c in 0..<10 {
            let evidence = section.loadLittleEndian(UInt32.self, at: OutOfDistributionLayout.evidenceMultiplier + 4 * c)
            let distance = section.loadLittleEndian(UInt32.self, at: OutOfDistributionLayout.distanceMultiplier + 4 * c)
            if evidence > OutOfDistributionLayout.maximumMultiplier || distance > OutOfDistributionLayout.maximumMultiplier {
                throw .badOutOfDistributionSection(field: "multiplier", reason: "must be in 0...268435456 (2^28)")
            }
            let offset = section.loadLittleEndian(UInt32.self, at: OutOfDistributionLayout.distanceOffset + 4 * c)
            if offset > OutOfDistributionLayout.maximumDistance {
                throw .badOutOfDistributionSection(field: "distanceOffset", reason: "must be in 0...5462100 (255 · 255 · 84)")
            }
        }
    }
}

/// Byte offsets inside the out-of-distribution section (all little-endian; the section starts 4-byte aligned in
/// both kinds of file, 64-byte aligned in an in-place image). Shared by the writer, the reader and the score.
package enum OutOfDistributionLayout {
    static let threshold = 0
    static let minimumConfidence = 4
    static let reference = 8
    static let evidenceMultiplier = 48
    static let distanceOffset = 88
    static let distanceMultiplier = 128
    static let centroid = 168
    static let weight = centroid + 840
    /// Bytes of the section: 1,848.
    package static let byteCount = weight + 840
    /// Features the score reads: fc2's outputs.
    package static let featureCount = 84
    /// Largest multiplier: keeps `(reference − top) · multiplier` below 2^61 for any Int32 top score.
    static let maximumMultiplier: UInt32 = 1 << 28
    /// Largest weighted distance: 255 · 255 · 84.
    static let maximumDistance: UInt32 = 255 * 255 * 84
}

/// The score of <doc:ModelFormat#Out-of-distribution-section> for digit `digit` with top score `top`, features read
/// through `feature` (index 0..<84 → value 0...255). Integers only, allocation-free; the section was checked at load.
@inline(__always)
func outOfDistributionScore(section: UnsafeRawPointer, digit: Int, top: Int32, feature: (Int) -> Int32) -> Int32 {
    @inline(__always) func int32(_ offset: Int) -> Int64 {
        Int64(Int32(littleEndian: section.loadUnaligned(fromByteOffset: offset + 4 * digit, as: Int32.self)))
    }
    let centroid = section + OutOfDistributionLayout.centroid + digit * 84
    let weight = section + OutOfDistributionLayout.weight + digit * 84
    var distance: Int32 = 0
    for j in 0..<84 {
        let delta = feature(j) &- Int32(centroid.load(fromByteOffset: j, as: UInt8.self))
        distance &+= Int32(weight.load(fromByteOffset: j, as: UInt8.self)) &* (delta < 0 ? 0 &- delta : delta)
    }
    let evidence = (int32(OutOfDistributionLayout.reference) &- Int64(top)) &* int32(OutOfDistributionLayout.evidenceMultiplier)
    let spread = (Int64(distance) &- int32(OutOfDistributionLayout.distanceOffset)) &* int32(OutOfDistributionLayout.distanceMultiplier)
    return Int32(truncatingIfNeeded: (evidence &+ spread) &>> 32)
}

/// The digit (lowest on a tie) and top score of ten scores.
@inline(__always)
func topOfScores(_ scores: UnsafePointer<Int32>) -> (digit: Int, top: Int32) {
    var digit = 0
    for d in 1..<10 where scores[d] > scores[digit] { digit = d }
    return (digit, scores[digit])
}
