// PyTorch's default initialisation: U(±1/√fan_in) for every weight and bias, reproducible from the seed.
import XCTest
@testable import MNISTQTrainer

final class InitializationTests: XCTestCase {
    /// Sample mean of n draws from U(−b, b) has standard deviation b/√(3n); allow 5 of those.
    static let meanSigmas = 5.0
    /// Relative tolerance on the sample variance vs b²/3 for the large tensors (n ≥ 10,000: the variance
    /// estimate's relative standard deviation is √(4/5n) ≤ 0.9%, so 5% is > 5σ).
    static let varianceRelative = 0.05

    func testBoundsAndMomentsMatchPyTorchDefaults() {
        var random = SeededRandom(seed: 0)
        let p = initializeCNN(random: &random)
        let fanIns = [25, 25, 400, 400, 1568, 1568, 120, 120, 84, 84]
        for (i, name) in CNNShape.names.enumerated() {
            let bound = Float(1 / Double(fanIns[i]).squareRoot())
            XCTAssertEqual(initializationBound(tensor: i), bound, name)
            let t = p.tensors[i].map(Double.init)
            XCTAssertTrue(p.tensors[i].allSatisfy { $0 >= -bound && $0 < bound }, "\(name): value outside [−\(bound), \(bound))")
            let n = Double(t.count), mean = t.reduce(0, +) / n
            let b = Double(bound)
            XCTAssertLessThan(abs(mean), Self.meanSigmas * b / (3 * n).squareRoot(), "\(name) mean \(mean)")
            if t.count >= 10_000 {
                let variance = t.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n
                XCTAssertEqual(variance, b * b / 3, accuracy: Self.varianceRelative * b * b / 3, "\(name) variance")
                // The extremes reach the bounds (a uniform, not a narrower distribution).
                XCTAssertGreaterThan(t.max()!, 0.99 * b, name); XCTAssertLessThan(t.min()!, -0.99 * b, name)
            }
        }
    }

    func testSameSeedSameWeightsDifferentSeedDifferentWeights() {
        var a = SeededRandom(seed: 7), b = SeededRandom(seed: 7), c = SeededRandom(seed: 8)
        let pa = initializeCNN(random: &a), pb = initializeCNN(random: &b), pc = initializeCNN(random: &c)
        XCTAssertEqual(pa, pb)
        XCTAssertNotEqual(pa.tensors[0], pc.tensors[0])
        XCTAssertEqual(a, b)
    }

    func testGeneratorStateRoundTripsAndShuffleIsAPermutation() {
        var r = SeededRandom(seed: 42)
        for _ in 0..<10 { _ = r.next() }
        var copy = SeededRandom(state: r.state)!
        XCTAssertEqual((0..<5).map { _ in r.next() }, (0..<5).map { _ in copy.next() })
        XCTAssertNil(SeededRandom(state: (0, 0, 0, 0)))
        var items = Array(0..<1000)
        r.shuffle(&items)
        XCTAssertNotEqual(items, Array(0..<1000))
        XCTAssertEqual(items.sorted(), Array(0..<1000))
        // nextIndex stays in range, and every value of a small range appears.
        var seen = Set<Int>()
        for _ in 0..<1000 { let v = r.nextIndex(below: 7); XCTAssertTrue((0..<7).contains(v)); seen.insert(v) }
        XCTAssertEqual(seen.count, 7)
    }
}
