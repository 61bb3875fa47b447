// The trainer's math against PyTorch: batch-0 logits, loss, every gradient, and parameters after 1 and 3 SGD steps.
import XCTest
@testable import MNISTQTrainer

final class GoldenPyTorchTests: XCTestCase {
    // Measured worst |ours − PyTorch| (threads 1, 2, 3): logits 1.9e-8, gradients 1.1e-8, parameters after
    // 3 steps 1.5e-8, momentum 3.7e-8 — float rounding of different summation orders. The tolerances below are
    // ~10× that; a wrong index, tie rule or missing term moves values by ≥ 1e-4.
    /// Logits and loss (|values| ≈ 0.1..3).
    static let valueRelative: Float = 1e-5, valueAbsolute: Float = 2e-7
    /// Gradients: many entries are ~0, where only the absolute part is meaningful (typical |g| ≈ 1e-4..1e-1).
    static let gradientRelative: Float = 1e-4, gradientAbsolute: Float = 1e-7
    /// Parameters after SGD steps (|p| ≈ 0.02..0.2).
    static let parameterRelative: Float = 1e-5, parameterAbsolute: Float = 2e-7
    /// Momentum after 3 steps: sums of three gradients.
    static let momentumRelative: Float = 1e-4, momentumAbsolute: Float = 3e-7

    func makeTrainer(threads: Int) throws -> (SGDTrainer, [UInt8], [UInt8]) {
        let initial = try CNNParameters.loadRaw(directory: TrainerTestData.goldenDirectory(), prefix: "init")
        let (pixels, labels) = try TrainerTestData.goldenBatch()
        return (SGDTrainer(parameters: initial, maxBatch: 64, threads: threads), pixels, labels)
    }

    func batchIndices(_ batch: Int) -> [Int32] { (0..<64).map { Int32(batch * 64 + $0) } }

    /// The golden comparisons below on every float kernel path this CPU runs (a plain run covers only the fastest).
    func testGoldenStepsOnEveryFloatKernelPath() throws {
        try onEveryFloatKernelPath(self) { _ in
            try testBatch0LogitsLossAndGradientsMatchPyTorch()
            try testParametersAfterOneAndThreeStepsMatchPyTorch()
        }
    }

    func testBatch0LogitsLossAndGradientsMatchPyTorch() throws {
        for threads in [1, 3] {
            let (trainer, pixels, labels) = try makeTrainer(threads: threads)
            let indices = batchIndices(0)
            let result = pixels.withUnsafeBufferPointer { px in labels.withUnsafeBufferPointer { lb in indices.withUnsafeBufferPointer { ix in
                trainer.computeGradients(pixels: px.baseAddress!, labels: lb.baseAddress!, indices: ix.baseAddress!, count: 64)
            } } }
            let expectedLoss = try TrainerTestData.floats("step0.loss.f32", count: 1)[0]
            XCTAssertEqual(Float(result.loss), expectedLoss, accuracy: Self.valueAbsolute + Self.valueRelative * expectedLoss, "loss (threads \(threads))")

            // Logits from a separate forward pass over the same images.
            let ws = CNNWorkspace(capacity: 64)
            pixels.withUnsafeBufferPointer { ws.loadInput(pixels: $0.baseAddress!, first: 0, count: 64) }
            ws.forward(parameters: trainer.parameters.storage, count: 64)
            let logits = (0..<64).flatMap { ws.logits(of: $0) }
            assertClose(logits, try TrainerTestData.floats("step0.logits.f32", count: 640),
                        relative: Self.valueRelative, absolute: Self.valueAbsolute, "logits")

            let gradients = trainer.gradients.parameters
            for (i, name) in CNNShape.names.enumerated() {
                let expected = try TrainerTestData.floats("step0.grad.\(name).f32", count: CNNShape.counts[i])
                assertClose(gradients.tensors[i], expected, relative: Self.gradientRelative, absolute: Self.gradientAbsolute,
                            "gradient of \(name) (threads \(threads))")
            }
        }
    }

    func testParametersAfterOneAndThreeStepsMatchPyTorch() throws {
        for threads in [1, 2] {
            let (trainer, pixels, labels) = try makeTrainer(threads: threads)
            for step in 0..<3 {
                let indices = batchIndices(step)
                _ = pixels.withUnsafeBufferPointer { px in labels.withUnsafeBufferPointer { lb in indices.withUnsafeBufferPointer { ix in
                    trainer.step(pixels: px.baseAddress!, labels: lb.baseAddress!, indices: ix.baseAddress!, count: 64,
                                 learningRate: 0.1, momentum: 0.9)
                } } }
                if step == 0 || step == 2 {
                    let prefix = step == 0 ? "step1" : "step3"
                    let expected = try CNNParameters.loadRaw(directory: TrainerTestData.goldenDirectory(), prefix: prefix)
                    let actual = trainer.parameters.parameters
                    for (i, name) in CNNShape.names.enumerated() {
                        assertClose(actual.tensors[i], expected.tensors[i], relative: Self.parameterRelative,
                                    absolute: Self.parameterAbsolute, "\(prefix) \(name) (threads \(threads))")
                    }
                }
            }
            let expectedMomentum = try CNNParameters.loadRaw(directory: TrainerTestData.goldenDirectory(), prefix: "step3.momentum")
            let momentum = trainer.momentum.parameters
            for (i, name) in CNNShape.names.enumerated() {
                assertClose(momentum.tensors[i], expectedMomentum.tensors[i], relative: Self.momentumRelative,
                            absolute: Self.momentumAbsolute, "step3 momentum \(name) (threads \(threads))")
            }
        }
    }
}
