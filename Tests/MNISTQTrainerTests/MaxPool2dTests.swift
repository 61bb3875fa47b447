// ReLU + max pooling: the winner-code kernels training runs (C, every path) against the plain reference.
import XCTest
@testable import MNISTQTrainer

final class MaxPool2dTests: XCTestCase {
    /// The production winner-code forwardReLU/backwardReLU route exactly like the reference (argmax) (PyTorch's tie rule, no
    /// gradient through windows whose maximum is ≤ 0), for row widths below, at and above the 4- and 8-window
    /// vector blocks, with ties and negative windows, on every path.
    func testWinnerCodePoolingMatchesArgmaxPoolingOnEveryPath() {
        onEveryFloatKernelPath(self) { path in
            var random = KernelTestRandom(seed: 77)
            for (channels, side) in [(1, 2), (2, 6), (3, 8), (2, 12), (16, 14), (1, 16), (2, 20), (16, 28), (1, 34)] {
                let count = channels * side * side, outCount = channels * (side / 2) * (side / 2)
                // Values on a coarse grid: many ties, many windows entirely ≤ 0.
                let input = (0..<count).map { _ in Float(Int(random.nextFloat() * 3)) * 0.5 - 0.25 }
                let gradOutput = random.floats(outCount)
                var expectedOut = [Float](repeating: 0, count: outCount), argmax = [Int32](repeating: 0, count: outCount)
                MaxPool2d.forwardReLUReference(input: input, channels: channels, side: side, output: &expectedOut, argmax: &argmax)
                var expectedGrad = [Float](repeating: 0, count: count)
                MaxPool2d.backwardReLUReference(gradOutput: gradOutput, argmax: argmax, input: input, channels: channels,
                                                side: side, gradInput: &expectedGrad)
                var out = [Float](repeating: .nan, count: outCount), winner = [Float](repeating: .nan, count: outCount)
                MaxPool2d.forwardReLU(input: input, channels: channels, side: side, output: &out, winner: &winner)
                var grad = [Float](repeating: .nan, count: count)
                MaxPool2d.backwardReLU(gradOutput: gradOutput, winner: winner, channels: channels, side: side, gradInput: &grad)
                XCTAssertEqual(out.map(\.bitPattern), expectedOut.map(\.bitPattern), "\(path) forward, channels \(channels) side \(side)")
                XCTAssertEqual(grad.map(\.bitPattern), expectedGrad.map(\.bitPattern), "\(path) backward, channels \(channels) side \(side)")
            }
        }
    }
}
