// Finite-difference gradient checks of every layer's backward pass (small shapes, seeded random values).
import XCTest
@testable import MNISTQTrainer

/// Seeded values for the checks.
struct CheckRandom {
    var r: SeededRandom
    init(_ seed: UInt64) { r = SeededRandom(seed: seed) }
    mutating func floats(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in r.nextUniform(bound: scale) } }
}

final class GradientCheckTests: XCTestCase {
    /// Step of the central difference. The checked functions are linear in the perturbed value (conv, linear:
    /// exact up to rounding) or smooth (softmax CE), so a large step costs no truncation error and keeps the
    /// float rounding of the loss (~1e-7 relative) small after dividing by 2·step.
    static let step: Float = 1e-2
    /// Allowed |analytic − numeric| ≤ absolute + relative·|numeric|.
    static let relative = 2e-3, absolute = 2e-4

    /// L = Σ weights ⊙ output, computed in Double so the difference quotient sees only the layer's rounding.
    func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }

    func assertGradient(_ analytic: Float, _ loss: (Float) -> Double, at value: Float, step: Float = step, _ what: String) {
        let numeric = (loss(value + step) - loss(value - step)) / (2 * Double(step))
        XCTAssertLessThanOrEqual(abs(Double(analytic) - numeric), Self.absolute + Self.relative * abs(numeric),
                                 "\(what): analytic \(analytic), numeric \(numeric)")
    }

    func testConv2dGradients() {
        var rnd = CheckRandom(1)
        let inC = 2, outC = 3, side = 6, plane = 36
        var input = rnd.floats(inC * plane), weight = rnd.floats(outC * inC * 25, scale: 0.3), bias = rnd.floats(outC)
        let r = rnd.floats(outC * plane)   // L = Σ r ⊙ output
        func forward(_ input: [Float], _ weight: [Float], _ bias: [Float]) -> [Float] {
            var columns = [Float](repeating: 0, count: inC * 25 * plane), out = [Float](repeating: 0, count: outC * plane)
            Conv2d.forward(input: input, inChannels: inC, outChannels: outC, side: side, weight: weight, bias: bias,
                           columns: &columns, output: &out)
            return out
        }
        var columns = [Float](repeating: 0, count: inC * 25 * plane), out = [Float](repeating: 0, count: outC * plane)
        Conv2d.forward(input: input, inChannels: inC, outChannels: outC, side: side, weight: weight, bias: bias, columns: &columns, output: &out)
        var gw = [Float](repeating: 0, count: weight.count), gb = [Float](repeating: 0, count: outC)
        var gcols = [Float](repeating: 0, count: columns.count), gin = [Float](repeating: .nan, count: input.count)
        columns.withUnsafeBufferPointer { unfolded in
            Conv2d.backward(gradOutput: r, unfolded: .columns(unfolded.baseAddress!), inChannels: inC, outChannels: outC,
                            side: side, weight: weight, gradWeight: &gw, gradBias: &gb, gradColumns: &gcols, gradInput: &gin)
        }
        // The variant training runs for conv2 (unfolding the input itself, transposed) gives the same gradients.
        var gwT = [Float](repeating: 0, count: weight.count), gbT = [Float](repeating: 0, count: outC)
        var ginT = [Float](repeating: .nan, count: input.count)
        var scratch = [Float](repeating: .nan, count: columns.count)
        input.withUnsafeBufferPointer { x in
            scratch.withUnsafeMutableBufferPointer { t in
                Conv2d.backward(gradOutput: r, unfolded: .transposing(input: x.baseAddress!, scratch: t.baseAddress!),
                                inChannels: inC, outChannels: outC, side: side, weight: weight, gradWeight: &gwT,
                                gradBias: &gbT, gradColumns: &gcols, gradInput: &ginT)
            }
        }
        assertClose(gwT, gw, relative: 1e-5, absolute: 1e-6, "conv dW, transposed unfolding")
        XCTAssertEqual(gbT, gb); XCTAssertEqual(ginT, gin)
        for i in stride(from: 0, to: weight.count, by: 7) {
            let saved = weight[i]
            assertGradient(gw[i], { v in weight[i] = v; defer { weight[i] = saved }; return self.dot(r, forward(input, weight, bias)) }, at: saved, "conv dW[\(i)]")
        }
        for o in 0..<outC {
            let saved = bias[o]
            assertGradient(gb[o], { v in bias[o] = v; defer { bias[o] = saved }; return self.dot(r, forward(input, weight, bias)) }, at: saved, "conv db[\(o)]")
        }
        for i in 0..<input.count {   // every input pixel, borders included (padding paths)
            let saved = input[i]
            assertGradient(gin[i], { v in input[i] = v; defer { input[i] = saved }; return self.dot(r, forward(input, weight, bias)) }, at: saved, "conv dX[\(i)]")
        }
    }

    func testLinearGradients() {
        var rnd = CheckRandom(2)
        let batch = 3, inF = 7, outF = 5
        var input = rnd.floats(batch * inF), weight = rnd.floats(outF * inF), bias = rnd.floats(outF)
        let r = rnd.floats(batch * outF)
        func forward() -> [Float] {
            var out = [Float](repeating: 0, count: batch * outF)
            Linear.forward(input: input, batch: batch, inFeatures: inF, outFeatures: outF, weight: weight, bias: bias, output: &out)
            return out
        }
        var gw = [Float](repeating: 0, count: weight.count), gb = [Float](repeating: 0, count: outF)
        var gin = [Float](repeating: .nan, count: input.count)
        Linear.backward(gradOutput: r, input: input, batch: batch, inFeatures: inF, outFeatures: outF, weight: weight,
                        gradWeight: &gw, gradBias: &gb, gradInput: &gin)
        for i in 0..<weight.count {
            let saved = weight[i]
            assertGradient(gw[i], { v in weight[i] = v; defer { weight[i] = saved }; return self.dot(r, forward()) }, at: saved, "linear dW[\(i)]")
        }
        for o in 0..<outF {
            let saved = bias[o]
            assertGradient(gb[o], { v in bias[o] = v; defer { bias[o] = saved }; return self.dot(r, forward()) }, at: saved, "linear db[\(o)]")
        }
        for i in 0..<input.count {
            let saved = input[i]
            assertGradient(gin[i], { v in input[i] = v; defer { input[i] = saved }; return self.dot(r, forward()) }, at: saved, "linear dX[\(i)]")
        }
    }

    func testReLUMaxPoolGradients() {
        // Values on a grid 0.05 apart (shuffled) so no window has a tie and a 1e-3 step crosses no kink.
        var rnd = CheckRandom(3)
        let channels = 2, side = 6
        var input = (0..<(channels * side * side)).map { Float($0 - 30) * 0.05 + 0.025 }
        rnd.r.shuffle(&input)
        let r = rnd.floats(channels * 9)
        func forward() -> [Float] {
            var out = [Float](repeating: 0, count: channels * 9), arg = [Int32](repeating: 0, count: channels * 9)
            MaxPool2d.forwardReLUReference(input: input, channels: channels, side: side, output: &out, argmax: &arg)
            return out
        }
        var out = [Float](repeating: 0, count: channels * 9), arg = [Int32](repeating: 0, count: channels * 9)
        MaxPool2d.forwardReLUReference(input: input, channels: channels, side: side, output: &out, argmax: &arg)
        var gin = [Float](repeating: .nan, count: input.count)
        MaxPool2d.backwardReLUReference(gradOutput: r, argmax: arg, input: input, channels: channels, side: side, gradInput: &gin)
        for i in 0..<input.count {
            let saved = input[i]
            assertGradient(gin[i], { v in input[i] = v; defer { input[i] = saved }; return self.dot(r, forward()) }, at: saved, step: 1e-3, "pool dX[\(i)]")
        }
        XCTAssertTrue(gin.contains { $0 != 0 } && gin.contains { $0 == 0 }, "both routed and blocked gradients are exercised")
    }

    func testMaxPoolTieKeepsFirstMaximumInRowMajorOrder() {
        // Window [[1, 3], [3, 2]]: PyTorch routes the gradient to the first 3 (top right), not the bottom left.
        let input: [Float] = [1, 3, 3, 2]
        var out: [Float] = [0], arg: [Int32] = [0]
        MaxPool2d.forwardReLUReference(input: input, channels: 1, side: 2, output: &out, argmax: &arg)
        XCTAssertEqual(out, [3]); XCTAssertEqual(arg, [1])
        var gin = [Float](repeating: 0, count: 4)
        MaxPool2d.backwardReLUReference(gradOutput: [5], argmax: arg, input: input, channels: 1, side: 2, gradInput: &gin)
        XCTAssertEqual(gin, [0, 5, 0, 0])
        // All-negative window: output 0 and no gradient at all (ReLU's derivative at ≤ 0 is 0).
        let negative: [Float] = [-1, -2, -3, -4]
        MaxPool2d.forwardReLUReference(input: negative, channels: 1, side: 2, output: &out, argmax: &arg)
        XCTAssertEqual(out, [0])
        MaxPool2d.backwardReLUReference(gradOutput: [5], argmax: arg, input: negative, channels: 1, side: 2, gradInput: &gin)
        XCTAssertEqual(gin, [0, 0, 0, 0])
    }

    func testSoftmaxCrossEntropyGradientAndStability() {
        var rnd = CheckRandom(4)
        let batch = 4, classes = 10
        var logits = rnd.floats(batch * classes, scale: 3)
        let labels: [UInt8] = [3, 0, 9, 5]
        func loss() -> Double {
            var g = [Float](repeating: 0, count: logits.count), c = 0
            return SoftmaxCrossEntropy.forwardBackward(logits: logits, labels: labels, batch: batch, classes: classes,
                                                       gradientScale: 1, gradLogits: &g, correct: &c) / Double(batch)
        }
        var grad = [Float](repeating: 0, count: logits.count), correct = 0
        _ = SoftmaxCrossEntropy.forwardBackward(logits: logits, labels: labels, batch: batch, classes: classes,
                                                gradientScale: 1 / Float(batch), gradLogits: &grad, correct: &correct)
        for i in 0..<logits.count {
            let saved = logits[i]
            assertGradient(grad[i], { v in logits[i] = v; defer { logits[i] = saved }; return loss() }, at: saved, step: 1e-2, "CE dlogit[\(i)]")
        }
        // Huge logits must not overflow: loss of [1000, 0, …] with label 0 is ~0, with label 1 it is 1000.
        var big = [Float](repeating: 0, count: 10); big[0] = 1000
        var g = [Float](repeating: 0, count: 10), c = 0
        let l0 = SoftmaxCrossEntropy.forwardBackward(logits: big, labels: [0], batch: 1, classes: 10, gradientScale: 1, gradLogits: &g, correct: &c)
        let l1 = SoftmaxCrossEntropy.forwardBackward(logits: big, labels: [1], batch: 1, classes: 10, gradientScale: 1, gradLogits: &g, correct: &c)
        XCTAssertEqual(l0, 0, accuracy: 1e-6)
        XCTAssertEqual(l1, 1000, accuracy: 1e-3)
        XCTAssertTrue(g.allSatisfy { $0.isFinite })
    }
}
