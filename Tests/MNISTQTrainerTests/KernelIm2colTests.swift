// im2col5x5 (plain and transposed) / col2im5x5 against direct loops, and the adjoint identity between them.
import XCTest
@testable import MNISTQTrainer

final class KernelIm2colTests: XCTestCase {
    /// Allowed relative error of the Double inner products in the adjoint identity (float sums of ≤ 25 terms per pixel).
    static let adjointRelativeTolerance = 1e-5
    /// (channels, side): the CNN's two convolutions plus images smaller than the kernel.
    static let shapes: [(channels: Int, side: Int)] = [(1, 28), (16, 14), (3, 5), (2, 3), (1, 1), (2, 7), (2, 8), (3, 9), (1, 11), (2, 17)]

    /// The definition: columns[c·25 + ky·5 + kx, y·side + x] = input[c, y+ky−2, x+kx−2] or 0 outside.
    func directIm2col(_ input: [Float], channels: Int, side: Int) -> [Float] {
        var out = [Float](repeating: 0, count: channels * 25 * side * side)
        for ch in 0..<channels { for ky in 0..<5 { for kx in 0..<5 { for y in 0..<side { for x in 0..<side {
            let sy = y + ky - 2, sx = x + kx - 2
            guard sy >= 0, sy < side, sx >= 0, sx < side else { continue }
            out[(ch * 25 + ky * 5 + kx) * side * side + y * side + x] = input[(ch * side + sy) * side + sx]
        } } } } }
        return out
    }

    /// The tests of this class on every float kernel path this CPU runs (a plain run covers only the fastest).
    func testEveryFloatKernelPath() {
        onEveryFloatKernelPath(self) { _ in
            testIm2colMatchesDirectLoops()
            testTransposedIm2colIsTheTransposeOfIm2col()
            testCol2imMatchesDirectLoopsWithAndWithoutAccumulate()
            testCol2imIsTheAdjointOfIm2col()
            testStridedLayoutMatchesPerImageCalls()
        }
    }

    func testIm2colMatchesDirectLoops() {
        var random = KernelTestRandom(seed: 11)
        for (channels, side) in Self.shapes {
            let input = random.floats(channels * side * side)
            // Start from garbage: im2col must write every entry, zeros included.
            var columns = [Float](repeating: .nan, count: channels * 25 * side * side)
            input.withUnsafeBufferPointer { ip in
                columns.withUnsafeMutableBufferPointer { cp in
                    im2col5x5(input: ip.baseAddress!, channels: channels, side: side, columns: cp.baseAddress!)
                }
            }
            XCTAssertEqual(columns, directIm2col(input, channels: channels, side: side), "channels \(channels) side \(side)")
        }
    }

    func testTransposedIm2colIsTheTransposeOfIm2col() {
        var random = KernelTestRandom(seed: 13)
        for (channels, side) in Self.shapes {
            let input = random.floats(channels * side * side)
            let rows = channels * 25, plane = side * side
            var columns = [Float](repeating: .nan, count: rows * plane)
            input.withUnsafeBufferPointer { ip in
                columns.withUnsafeMutableBufferPointer { cp in
                    im2col5x5Transposed(input: ip.baseAddress!, channels: channels, side: side, columns: cp.baseAddress!)
                }
            }
            let direct = directIm2col(input, channels: channels, side: side)
            var expected = [Float](repeating: 0, count: rows * plane)
            for r in 0..<rows { for p in 0..<plane { expected[p * rows + r] = direct[r * plane + p] } }
            XCTAssertEqual(columns, expected, "channels \(channels) side \(side)")
        }
    }

    func testCol2imMatchesDirectLoopsWithAndWithoutAccumulate() {
        var random = KernelTestRandom(seed: 12)
        for (channels, side) in Self.shapes {
            let plane = side * side
            let columns = random.floats(channels * 25 * plane)
            let start = random.floats(channels * plane)
            for accumulate in [false, true] {
                var expected = accumulate ? start.map(Double.init) : [Double](repeating: 0, count: channels * plane)
                for ch in 0..<channels { for ky in 0..<5 { for kx in 0..<5 { for y in 0..<side { for x in 0..<side {
                    let sy = y + ky - 2, sx = x + kx - 2
                    guard sy >= 0, sy < side, sx >= 0, sx < side else { continue }
                    expected[(ch * side + sy) * side + sx] += Double(columns[(ch * 25 + ky * 5 + kx) * plane + y * side + x])
                } } } } }
                var grad = start
                columns.withUnsafeBufferPointer { cp in
                    grad.withUnsafeMutableBufferPointer { gp in
                        col2im5x5(columns: cp.baseAddress!, channels: channels, side: side, gradInput: gp.baseAddress!, accumulate: accumulate)
                    }
                }
                for i in 0..<grad.count where abs(Double(grad[i]) - expected[i]) > 1e-5 * (1 + abs(expected[i])) {
                    XCTFail("channels \(channels) side \(side) accumulate \(accumulate): grad[\(i)] = \(grad[i]), expected \(expected[i])")
                    break
                }
            }
        }
    }

    /// <im2col(x), y> = <x, col2im(y)>: the backward pass is the exact transpose of the forward unfolding.
    func testCol2imIsTheAdjointOfIm2col() {
        var random = KernelTestRandom(seed: 13)
        for (channels, side) in Self.shapes {
            let plane = side * side
            let x = random.floats(channels * plane)
            let y = random.floats(channels * 25 * plane)
            var columns = [Float](repeating: 0, count: y.count)
            var back = [Float](repeating: .nan, count: x.count)
            x.withUnsafeBufferPointer { xp in
                columns.withUnsafeMutableBufferPointer { cp in
                    im2col5x5(input: xp.baseAddress!, channels: channels, side: side, columns: cp.baseAddress!)
                }
            }
            y.withUnsafeBufferPointer { yp in
                back.withUnsafeMutableBufferPointer { bp in
                    col2im5x5(columns: yp.baseAddress!, channels: channels, side: side, gradInput: bp.baseAddress!, accumulate: false)
                }
            }
            var left = 0.0, right = 0.0, scale = 0.0
            for i in 0..<y.count { left += Double(columns[i]) * Double(y[i]); scale += abs(Double(columns[i]) * Double(y[i])) }
            for i in 0..<x.count { right += Double(x[i]) * Double(back[i]) }
            XCTAssertLessThanOrEqual(abs(left - right), Self.adjointRelativeTolerance * (scale + 1),
                                     "channels \(channels) side \(side): <im2col x, y> = \(left), <x, col2im y> = \(right)")
        }
    }

    /// Several images unfolded side by side ([channels·25, images·plane], row stride images·plane) equal the
    /// per-image unfoldings, and the strided col2im gives each image's per-image col2im.
    func testStridedLayoutMatchesPerImageCalls() {
        var random = KernelTestRandom(seed: 14)
        for (channels, side) in [(16, 14), (1, 28), (2, 5)] {
            let plane = side * side, images = 3, stride = images * plane
            let input = random.floats(images * channels * plane)
            var wide = [Float](repeating: .nan, count: channels * 25 * stride)
            input.withUnsafeBufferPointer { ip in
                wide.withUnsafeMutableBufferPointer { wp in
                    for image in 0..<images {
                        im2col5x5(input: ip.baseAddress! + image * channels * plane, channels: channels, side: side,
                                  columns: wp.baseAddress! + image * plane, columnsRowStride: stride)
                    }
                }
            }
            for image in 0..<images {
                let single = directIm2col(Array(input[(image * channels * plane)..<((image + 1) * channels * plane)]),
                                          channels: channels, side: side)
                for row in 0..<channels * 25 {
                    XCTAssertEqual(Array(wide[(row * stride + image * plane)..<(row * stride + (image + 1) * plane)]),
                                   Array(single[(row * plane)..<((row + 1) * plane)]), "image \(image) row \(row) side \(side)")
                }
            }
            let grads = random.floats(channels * 25 * stride)
            for image in 0..<images {
                var packed = [Float](repeating: 0, count: channels * 25 * plane)
                for row in 0..<channels * 25 {
                    for x in 0..<plane { packed[row * plane + x] = grads[row * stride + image * plane + x] }
                }
                var expected = [Float](repeating: .nan, count: channels * plane)
                var got = [Float](repeating: .nan, count: channels * plane)
                packed.withUnsafeBufferPointer { pp in
                    expected.withUnsafeMutableBufferPointer { ep in
                        col2im5x5(columns: pp.baseAddress!, channels: channels, side: side, gradInput: ep.baseAddress!, accumulate: false)
                    }
                }
                grads.withUnsafeBufferPointer { gp in
                    got.withUnsafeMutableBufferPointer { op in
                        col2im5x5(columns: gp.baseAddress! + image * plane, channels: channels, side: side, columnsRowStride: stride,
                                  gradInput: op.baseAddress!, accumulate: false)
                    }
                }
                XCTAssertEqual(got, expected, "image \(image) side \(side)")
            }
        }
    }
}
