// sgemm against a plain Double triple loop: every transpose combination, accumulate on/off, odd sizes, strides.
import XCTest
@testable import MNISTQTrainer
import MNISTQSupport

final class KernelGEMMTests: XCTestCase {
    /// Allowed |sgemm − exact| relative to Σ|a·b| + |C₀| of that entry (float rounding of a K-term sum
    /// stays far below this; a wrong index, a dropped tail or a missing accumulate breaks it by orders of magnitude).
    static let relativeTolerance = 1e-5
    /// Value written around the matrices and in the stride padding of C; sgemm must leave it alone.
    static let sentinel: Float = 12345

    /// Runs one case and compares it with the Double reference; returns a description of the first failure.
    func check(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, padA: Int, padB: Int, padC: Int,
               accumulate: Bool, seed: UInt64,
               kernel: (Bool, Bool, Int, Int, Int, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int,
                        UnsafeMutablePointer<Float>, Int, Bool) -> Void) -> String? {
        var random = KernelTestRandom(seed: seed)
        let aRows = transposeA ? k : m, aCols = transposeA ? m : k
        let bRows = transposeB ? n : k, bCols = transposeB ? k : n
        let lda = aCols + padA, ldb = bCols + padB, ldc = n + padC
        let a = random.floats(max(1, aRows * lda))
        let b = random.floats(max(1, bRows * ldb))
        var c = random.floats(max(1, m * ldc))
        for i in 0..<m { for j in n..<ldc { c[i * ldc + j] = Self.sentinel } }
        let c0 = c
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    kernel(transposeA, transposeB, m, n, k, ap.baseAddress!, lda, bp.baseAddress!, ldb,
                           cp.baseAddress!, ldc, accumulate)
                }
            }
        }
        let label = "tA=\(transposeA) tB=\(transposeB) m=\(m) n=\(n) k=\(k) pads=(\(padA),\(padB),\(padC)) acc=\(accumulate)"
        for i in 0..<m {
            for j in 0..<ldc {
                let got = c[i * ldc + j]
                if j >= n {
                    if got != Self.sentinel { return "\(label): stride padding C[\(i),\(j)] changed to \(got)" }
                    continue
                }
                var exact = accumulate ? Double(c0[i * ldc + j]) : 0
                var magnitude = accumulate ? abs(Double(c0[i * ldc + j])) : 0
                for p in 0..<k {
                    let av = Double(transposeA ? a[p * lda + i] : a[i * lda + p])
                    let bv = Double(transposeB ? b[j * ldb + p] : b[p * ldb + j])
                    exact += av * bv
                    magnitude += abs(av * bv)
                }
                if abs(Double(got) - exact) > Self.relativeTolerance * magnitude + 1e-30 {
                    return "\(label): C[\(i),\(j)] = \(got), expected \(exact)"
                }
            }
        }
        return nil
    }

    /// Odd sizes around the register-tile edges plus the MNIST CNN's training shapes.
    static let shapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (1, 17, 3), (3, 1, 17), (5, 7, 0), (6, 16, 1), (7, 17, 63), (17, 65, 3), (63, 65, 17),
        (65, 63, 64), (13, 33, 129), (12, 84, 29), (20, 36, 40), (84, 12, 300),
        (16, 784, 25), (32, 196, 400), (32, 400, 196), (400, 196, 32), (16, 25, 784), (64, 120, 1568),
        (64, 1568, 120), (120, 1568, 64), (64, 10, 84),
    ]

    func runAllCases(_ kernel: (Bool, Bool, Int, Int, Int, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int,
                                UnsafeMutablePointer<Float>, Int, Bool) -> Void) {
        var seed: UInt64 = 1
        for (m, n, k) in Self.shapes {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    for accumulate in [false, true] {
                        // Alternate tight and padded strides so both layouts meet every shape.
                        let pad = Int(seed % 3) * 3
                        seed += 1
                        if let failure = check(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                               padA: pad, padB: (pad + 1) % 4, padC: pad == 0 ? 2 : 0,
                                               accumulate: accumulate, seed: seed, kernel: kernel) {
                            XCTFail(failure)
                            return
                        }
                    }
                }
            }
        }
    }

    func testSGEMMMatchesDoubleLoopForAllTransposesAndSizes() {
        runAllCases { tA, tB, m, n, k, a, lda, b, ldb, c, ldc, acc in
            sgemm(transposeA: tA, transposeB: tB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: acc)
        }
    }

    func testReferenceSGEMMMatchesDoubleLoop() {
        runAllCases { tA, tB, m, n, k, a, lda, b, ldb, c, ldc, acc in
            sgemmReference(transposeA: tA, transposeB: tB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: acc)
        }
    }

    /// The shape tests above on every float kernel path this CPU runs (a plain run covers only the fastest).
    func testSGEMMMatchesDoubleLoopOnEveryFloatKernelPath() {
        onEveryFloatKernelPath(self) { _ in
            runAllCases { tA, tB, m, n, k, a, lda, b, ldb, c, ldc, acc in
                sgemm(transposeA: tA, transposeB: tB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: acc)
            }
        }
    }

    /// Every path gives the portable path's bits for every shape, transpose and accumulate flag: training results
    /// (and checkpoints resumed elsewhere) must not depend on the CPU.
    func testEveryFloatKernelPathGivesTheSameBits() {
        var seed: UInt64 = 500
        for (m, n, k) in Self.shapes where k > 0 {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    for accumulate in [false, true] {
                        seed += 1
                        var random = KernelTestRandom(seed: seed)
                        let lda = (transposeA ? m : k) + 1, ldb = (transposeB ? k : n) + 2, ldc = n + 3
                        let a = random.floats((transposeA ? k : m) * lda), b = random.floats((transposeB ? n : k) * ldb)
                        let c0 = random.floats(m * ldc)
                        var results: [(FloatKernelPath, [UInt32])] = []
                        onEveryFloatKernelPath(self) { path in
                            var c = c0
                            c.withUnsafeMutableBufferPointer { cp in
                                sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda,
                                      b: b, ldb: ldb, c: cp.baseAddress!, ldc: ldc, accumulate: accumulate)
                            }
                            results.append((path, c.map(\.bitPattern)))
                        }
                        for (path, bits) in results.dropFirst() where bits != results[0].1 {
                            let i = bits.indices.first { bits[$0] != results[0].1[$0] } ?? 0
                            XCTFail("tA=\(transposeA) tB=\(transposeB) m=\(m) n=\(n) k=\(k) acc=\(accumulate): \(path) gives "
                                    + "\(Float(bitPattern: bits[i])) at \(i), \(results[0].0) \(Float(bitPattern: results[0].1[i]))")
                            return
                        }
                    }
                }
            }
        }
    }

    /// A zero-sized product must not touch C at all (m or n == 0) or must give C / zeros (k == 0).
    func testEmptyDimensions() {
        var c: [Float] = [7, 7, 7, 7]
        let a: [Float] = [1], b: [Float] = [1]
        c.withUnsafeMutableBufferPointer { cp in
            sgemm(transposeA: false, transposeB: false, m: 0, n: 2, k: 3, a: a, lda: 3, b: b, ldb: 2, c: cp.baseAddress!, ldc: 2, accumulate: false)
            sgemm(transposeA: false, transposeB: false, m: 2, n: 0, k: 3, a: a, lda: 3, b: b, ldb: 2, c: cp.baseAddress!, ldc: 2, accumulate: false)
        }
        XCTAssertEqual(c, [7, 7, 7, 7])
        c.withUnsafeMutableBufferPointer { cp in
            sgemm(transposeA: false, transposeB: false, m: 2, n: 2, k: 0, a: a, lda: 1, b: b, ldb: 2, c: cp.baseAddress!, ldc: 2, accumulate: true)
        }
        XCTAssertEqual(c, [7, 7, 7, 7])
        c.withUnsafeMutableBufferPointer { cp in
            sgemm(transposeA: false, transposeB: false, m: 2, n: 2, k: 0, a: a, lda: 1, b: b, ldb: 2, c: cp.baseAddress!, ldc: 2, accumulate: false)
        }
        XCTAssertEqual(c, [0, 0, 0, 0])
    }
}


/// The package's seeded generator (SplitMix64) with the float draws kernel tests use, the same numbers on every run.
struct KernelTestRandom {
    var generator: SplitMix64
    init(seed: UInt64) { generator = SplitMix64(seed: seed) }
    mutating func next() -> UInt64 { generator.next() }
    /// Uniform in [-1, 1).
    mutating func nextFloat() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
    mutating func floats(_ count: Int) -> [Float] { (0..<count).map { _ in nextFloat() } }
}
