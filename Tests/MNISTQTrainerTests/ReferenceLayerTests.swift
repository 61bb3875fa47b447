// The fast layers and network passes against the plain reference ones (llm.c style): the variants that sum in the
// reference's order give its bits exactly, the sgemm variants agree to float rounding.
import XCTest
@testable import MNISTQTrainer

final class ReferenceLayerTests: XCTestCase {
    /// |fast − reference| ≤ absolutePerTerm·K + relative·|reference| for the sgemm variants (another summation
    /// order): with inputs and weights in [−1, 1) the partial sums of a K-term dot product grow like √K, and so does
    /// the rounding a different order gives (K·1e-6 is a generous bound; one 1568-term fc1 output differed by 2e-5).
    static let relative: Float = 1e-5, absolutePerTerm: Float = 1e-6

    func testConv2dVariantsMatchTheReference() {
        var random = KernelTestRandom(seed: 11)
        for (inC, outC, side) in [(1, 16, 28), (16, 32, 14), (2, 3, 6), (3, 5, 1)] {
            let plane = side * side
            let input = random.floats(inC * plane), weight = random.floats(outC * inC * 25), bias = random.floats(outC)
            var reference = [Float](repeating: .nan, count: outC * plane)
            Conv2d.forwardReference(input: input, inChannels: inC, outChannels: outC, side: side, weight: weight, bias: bias,
                                    output: &reference)
            var columns = [Float](repeating: .nan, count: inC * 25 * plane)
            var inOrder = [Float](repeating: .nan, count: outC * plane)
            Conv2d.forwardInReferenceOrder(input: input, inChannels: inC, outChannels: outC, side: side, weight: weight,
                                           bias: bias, columns: &columns, output: &inOrder)
            XCTAssertEqual(inOrder.map(\.bitPattern), reference.map(\.bitPattern), "in reference order, \(inC)→\(outC) side \(side)")
            onEveryFloatKernelPath(self) { path in
                var fast = [Float](repeating: .nan, count: outC * plane)
                Conv2d.forward(input: input, inChannels: inC, outChannels: outC, side: side, weight: weight, bias: bias,
                               columns: &columns, output: &fast)
                assertClose(fast, reference, relative: Self.relative, absolute: Self.absolutePerTerm * Float(inC * 25),
                            "sgemm \(path), \(inC)→\(outC) side \(side)")
            }
        }
    }

    func testLinearVariantsMatchTheReference() {
        var random = KernelTestRandom(seed: 12)
        for (inF, outF) in [(1568, 120), (120, 84), (84, 10), (7, 3)] {
            let batch = 3
            let input = random.floats(batch * inF), weight = random.floats(outF * inF), bias = random.floats(outF)
            var reference = [Float](repeating: .nan, count: batch * outF), inOrder = reference
            for b in 0..<batch {
                input.withUnsafeBufferPointer { x in
                    reference.withUnsafeMutableBufferPointer { r in
                        Linear.forwardReference(input: x.baseAddress! + b * inF, inFeatures: inF, outFeatures: outF,
                                                weight: weight, bias: bias, output: r.baseAddress! + b * outF)
                    }
                    inOrder.withUnsafeMutableBufferPointer { r in
                        Linear.forwardInReferenceOrder(input: x.baseAddress! + b * inF, inFeatures: inF, outFeatures: outF,
                                                       weight: weight, bias: bias, output: r.baseAddress! + b * outF)
                    }
                }
            }
            XCTAssertEqual(inOrder.map(\.bitPattern), reference.map(\.bitPattern), "in reference order, \(inF)→\(outF)")
            onEveryFloatKernelPath(self) { path in
                var fast = [Float](repeating: .nan, count: batch * outF)
                Linear.forward(input: input, batch: batch, inFeatures: inF, outFeatures: outF, weight: weight, bias: bias, output: &fast)
                assertClose(fast, reference, relative: Self.relative, absolute: Self.absolutePerTerm * Float(inF), "sgemm \(path), \(inF)→\(outF)")
            }
        }
    }

    /// The whole network on the golden trained weights and the first golden-batch images: `FloatCNN.forward` (what
    /// the quantizer calibrates with) gives every tensor of the reference pass bit for bit; `CNNWorkspace.forward`
    /// (training, evaluation) its logits to float rounding.
    func testNetworkPassesMatchTheReferencePass() throws {
        let parameters = try CNNParameters.loadRaw(directory: TrainerTestData.goldenDirectory(), prefix: "trained")
        let batch = try TrainerTestData.goldenBatch()
        let cnn = FloatCNN(parameters: parameters)
        let images = 8, pixels = CNNSize.inputPixels
        let workspace = CNNWorkspace(capacity: images, forTraining: false)
        let flat = ParameterVector(parameters)
        batch.pixels.withUnsafeBufferPointer { workspace.loadInput(pixels: $0.baseAddress!, first: 0, count: images) }
        workspace.forward(parameters: flat.storage, count: images)
        var trace = FloatCNN.Trace()
        for i in 0..<images {
            let image = batch.pixels[(i * pixels)..<((i + 1) * pixels)]
            let reference = cnn.forwardReference(pixels: image)
            cnn.forward(pixels: image, trace: &trace)
            for (name, fast, plain) in [("conv1", trace.conv1, reference.conv1), ("pool1", trace.pool1, reference.pool1),
                                        ("conv2", trace.conv2, reference.conv2), ("pool2", trace.pool2, reference.pool2),
                                        ("fc1", trace.fc1, reference.fc1), ("hidden1", trace.hidden1, reference.hidden1),
                                        ("fc2", trace.fc2, reference.fc2), ("hidden2", trace.hidden2, reference.hidden2),
                                        ("logits", trace.logits, reference.logits)] {
                XCTAssertEqual(fast.map(\.bitPattern), plain.map(\.bitPattern), "image \(i) \(name)")
            }
            assertClose(workspace.logits(of: i), reference.logits, relative: 1e-4, absolute: 1e-4, "image \(i) batched logits")
        }
    }
}
