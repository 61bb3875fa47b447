// Bias-gradient row sums against a Double loop.
import XCTest
@testable import MNISTQTrainer

final class KernelReductionTests: XCTestCase {
    /// Allowed |sum − exact| relative to Σ|x| (a float sum of ≤ 784 terms in any order stays far inside).
    static let rowSumRelativeTolerance = 1e-5

    func testRowSumsAddToExistingSums() {
        var random = KernelTestRandom(seed: 23)
        for (rows, columns, pad) in [(1, 1, 0), (3, 15, 1), (2, 16, 0), (4, 17, 3), (32, 196, 0), (16, 784, 0), (5, 33, 2), (120, 64, 0)] {
            let stride = columns + pad
            let matrix = random.floats(rows * stride)
            let start = random.floats(rows)
            var sums = start
            matrix.withUnsafeBufferPointer { mp in
                sums.withUnsafeMutableBufferPointer { sp in
                    addRowSums(matrix: mp.baseAddress!, rows: rows, columns: columns, rowStride: stride, sums: sp.baseAddress!)
                }
            }
            for r in 0..<rows {
                var exact = Double(start[r]), magnitude = abs(Double(start[r]))
                for j in 0..<columns { exact += Double(matrix[r * stride + j]); magnitude += abs(Double(matrix[r * stride + j])) }
                XCTAssertLessThanOrEqual(abs(Double(sums[r]) - exact), Self.rowSumRelativeTolerance * magnitude,
                                         "rows \(rows) columns \(columns) row \(r): \(sums[r]) vs \(exact)")
            }
        }
    }
}
