// The run-time choice of float kernel path, and the winner-code pooling (C since the float kernels left Swift)
// against the argmax pooling that defines it, on every path.
import XCTest
import Foundation
@testable import MNISTQTrainer

final class FloatKernelPathTests: XCTestCase {
    /// On Linux x86-64 the paths offered are exactly those /proc/cpuinfo's flags allow, and without
    /// MNISTQ_FLOAT_KERNELS the fastest one is in force.
    func testAvailablePathsFollowTheCPUFlags() throws {
        XCTAssertTrue(FloatKernelPath.portable.isAvailable)
        #if os(Linux) && arch(x86_64)
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        guard let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else {
            return XCTFail("no flags line in /proc/cpuinfo")
        }
        let flags = Set(line.split(separator: " ").map(String.init))
        XCTAssertEqual(FloatKernelPath.avx512.isAvailable, flags.contains("avx512f"))
        XCTAssertEqual(FloatKernelPath.avx2.isAvailable, flags.contains("avx2") && flags.contains("fma"))
        if ProcessInfo.processInfo.environment["MNISTQ_FLOAT_KERNELS"] == nil {
            XCTAssertEqual(FloatKernelPath.active, FloatKernelPath.available.last, "the fastest available path is the default")
        }
        #elseif arch(arm64)
        XCTAssertEqual(FloatKernelPath.available, [.portable])
        #endif
        for path in FloatKernelPath.allCases where !path.isAvailable {
            let before = FloatKernelPath.active
            XCTAssertFalse(FloatKernelPath.use(path), "\(path) is not available and must not be selectable")
            XCTAssertEqual(FloatKernelPath.active, before)
        }
    }

    /// forwardReLU/backwardReLU with winner codes route exactly like the argmax versions (PyTorch's tie rule, no
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
                MaxPool2d.forwardReLU(input: input, channels: channels, side: side, output: &expectedOut, argmax: &argmax)
                var expectedGrad = [Float](repeating: 0, count: count)
                MaxPool2d.backwardReLU(gradOutput: gradOutput, argmax: argmax, input: input, channels: channels, side: side,
                                       gradInput: &expectedGrad)
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
