// Error-feedback (GPTQ-style) rounding: lower layer output error than round-to-nearest on the data it saw.
@testable import MNISTQQuantizer
import XCTest

final class ErrorFeedbackRoundingTests: XCTestCase {
    /// ‖(W − s·Q)·X‖² over all samples and rows.
    private func outputError(_ w: [Float], _ q: [Int8], _ scales: [Double], rows: Int, k: Int, x: [UInt8], n: Int) -> Double {
        var total = 0.0
        for r in 0..<rows {
            for s in 0..<n {
                var e = 0.0
                for i in 0..<k { e += (Double(w[r * k + i]) - scales[r] * Double(q[r * k + i])) * Double(x[s * k + i]) }
                total += e * e
            }
        }
        return total
    }

    func testBeatsNearestRoundingOnCorrelatedInputsAndStaysInRange() throws {
        let rows = 12, k = 40, n = 500
        var state: UInt64 = 2024
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        let w = (0..<(rows * k)).map { _ in Float(next() * 2 - 1) }
        // Correlated, ReLU-like inputs: a shared per-sample level plus noise, many zeros.
        var x = [UInt8](repeating: 0, count: n * k)
        for s in 0..<n {
            let level = next() * 150
            for i in 0..<k { x[s * k + i] = UInt8(clamping: Int(max(0, level + next() * 100 - 40))) }
        }
        let scales = (0..<rows).map { r in Double((0..<k).map { abs(w[r * k + $0]) }.max()!) / 127 }
        let nearest = (0..<(rows * k)).map { Int8((Double(w[$0]) / scales[$0 / k]).rounded()) }
        let feedback = try XCTUnwrap(ErrorFeedbackRounding.round(weights: w, rows: rows, k: k, scales: scales, inputs: x, samples: n))
        XCTAssert(feedback.allSatisfy { (-127...127).contains($0) })
        XCTAssertNotEqual(feedback, nearest)
        let eNearest = outputError(w, nearest, scales, rows: rows, k: k, x: x, n: n)
        let eFeedback = outputError(w, feedback, scales, rows: rows, k: k, x: x, n: n)
        XCTAssertLessThan(eFeedback, 0.5 * eNearest, "error feedback should at least halve the output error here")
    }

    func testAllZeroInputsFallBackToDampedIdentityAndRoundToNearest() throws {
        // With no signal the damped Hessian is a multiple of the identity: no feedback, plain nearest rounding.
        let w: [Float] = [0.5, -0.26, 0.1, 1.0]
        let scales = [1.0 / 127]
        let q = try XCTUnwrap(ErrorFeedbackRounding.round(weights: w, rows: 1, k: 4, scales: scales,
                                                          inputs: [UInt8](repeating: 0, count: 40), samples: 10))
        XCTAssertEqual(q, w.map { Int8((Double($0) * 127).rounded()) })
    }
}
