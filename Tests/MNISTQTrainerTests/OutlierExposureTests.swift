// Outlier exposure: the uniform-target loss and its gradient, the seeded draws, and that a tiny run with outliers
// learns to give them a flat softmax while still learning the digits.
import MNISTQData
@testable import MNISTQTrainer
import XCTest

final class OutlierExposureTests: XCTestCase {
    /// gradLogits of an outlier row is d(scale · loss)/dz of loss = weight · (logsumexp(z) − mean(z)).
    func testUniformTargetGradientMatchesFiniteDifferences() {
        let logits: [Float] = [2.5, -1.0, 0.3, 4.0, -3.2, 0.0, 1.1, -0.4, 2.2, 0.9]
        let weight: Float = 0.75, scale: Float = 0.125
        func loss(_ z: [Float]) -> Double {
            var gradient = [Float](repeating: 0, count: 10), correct = 0
            return SoftmaxCrossEntropy.forwardBackward(logits: z, labels: [OutlierExposure.outlierLabel], batch: 1, classes: 10,
                                                       gradientScale: scale, gradLogits: &gradient, correct: &correct,
                                                       outlierWeight: weight)
        }
        var gradient = [Float](repeating: 0, count: 10), correct = 0
        let total = SoftmaxCrossEntropy.forwardBackward(logits: logits, labels: [OutlierExposure.outlierLabel], batch: 1, classes: 10,
                                                        gradientScale: scale, gradLogits: &gradient, correct: &correct,
                                                        outlierWeight: weight)
        XCTAssertEqual(correct, 0, "an outlier row is never counted correct")
        let lse = log(logits.map { exp(Double($0)) }.reduce(0, +))
        XCTAssertEqual(total, Double(weight) * (lse - Double(logits.reduce(0, +)) / 10), accuracy: 1e-5)
        XCTAssertEqual(gradient.reduce(0, +), 0, accuracy: 1e-6, "softmax − uniform sums to zero")
        for j in 0..<10 {
            var plus = logits, minus = logits
            plus[j] += 1e-2; minus[j] -= 1e-2
            let numeric = Double(scale) * (loss(plus) - loss(minus)) / 2e-2
            XCTAssertEqual(Double(gradient[j]), numeric, accuracy: 2e-4, "logit \(j)")
        }
        // A uniform softmax is the minimum: zero gradient, loss weight · ln 10.
        let flat = [Float](repeating: 1.5, count: 10)
        XCTAssertEqual(loss(flat), Double(weight) * log(10), accuracy: 1e-5)
    }

    func testDrawsAreSeededSpreadAndInRange() throws {
        let exposure = try OutlierExposure(pixels: [UInt8](repeating: 0, count: 37 * 784), perBatch: 8, weight: 0.5, seed: 3)
        var seen = Set<Int>()
        for step in 0..<40 {
            for slot in 0..<8 {
                let i = exposure.draw(step: step, slot: slot)
                XCTAssertTrue((0..<37).contains(i))
                XCTAssertEqual(i, exposure.draw(step: step, slot: slot))
                seen.insert(i)
            }
        }
        XCTAssertEqual(seen.count, 37, "320 draws reach all 37 images")
        let other = try OutlierExposure(pixels: exposure.pixels, perBatch: 8, weight: 0.5, seed: 4)
        XCTAssertNotEqual((0..<8).map { exposure.draw(step: 0, slot: $0) }, (0..<8).map { other.draw(step: 0, slot: $0) },
                          "the seed matters")
    }

    /// The draws are the ones the samples' outlier-exposed model was trained with (values of the SplitMix64 finaliser
    /// at seed + golden · (step · perBatch + slot + 1), computed outside Swift), so that model stays reproducible.
    func testDrawsAreTheSplitMix64ValuesTheShippedModelUsed() throws {
        let small = try OutlierExposure(pixels: [UInt8](repeating: 0, count: 37 * 784), perBatch: 8, weight: 0.5, seed: 3)
        XCTAssertEqual([(0, 0), (0, 1), (5, 3), (39, 7), (1000, 2)].map { small.draw(step: $0.0, slot: $0.1) }, [23, 21, 7, 9, 24])
        let shipped = try OutlierExposure(pixels: [UInt8](repeating: 0, count: 111_648 * 784), perBatch: 64, weight: 0.5,
                                          seed: 0x0071_1E55_0E5E_ED01)
        XCTAssertEqual([(0, 0), (859, 63), (8600, 5)].map { shipped.draw(step: $0.0, slot: $0.1) }, [49000, 73137, 75180])
    }

    func testBadOutlierSetsAreRefused() {
        XCTAssertThrowsError(try OutlierExposure(pixels: [], perBatch: 8, weight: 0.5, seed: 0))
        XCTAssertThrowsError(try OutlierExposure(pixels: [UInt8](repeating: 0, count: 783), perBatch: 8, weight: 0.5, seed: 0))
        XCTAssertThrowsError(try OutlierExposure(pixels: [UInt8](repeating: 0, count: 784), perBatch: 0, weight: 0.5, seed: 0))
        XCTAssertThrowsError(try OutlierExposure(pixels: [UInt8](repeating: 0, count: 784), perBatch: 8, weight: .nan, seed: 0))
    }

    /// Outliers that are easy to tell from digits (random boxes and bars, drawn here): after a tiny run with them the
    /// network's softmax on new ones is much flatter than after the same run without them, and digits still train.
    func testATinyRunLearnsToFlattenOutliers() throws {
        let mnist = try MNIST.loadTrain(directory: TrainerTestData.mnistDirectory())
        let data = TrainingData(trainPixels: mnist.images.pixels, trainLabels: mnist.labels)
        var configuration = TrainingConfiguration()
        configuration.epochs = 3; configuration.trainLimit = 3200; configuration.validationCount = 500
        configuration.seed = 7; configuration.warmupSteps = 20
        var random = SeededRandom(seed: 11)
        func boxes(_ count: Int) -> [UInt8] {
            var pixels = [UInt8](repeating: 0, count: count * 784)
            for i in 0..<count {
                let x0 = Int(random.next() % 10) + 2, y0 = Int(random.next() % 10) + 2
                let x1 = x0 + 8 + Int(random.next() % 6), y1 = y0 + 8 + Int(random.next() % 6)
                for y in y0..<y1 { for x in x0..<x1 where y == y0 || y == y1 - 1 || x == x0 || x == x1 - 1 || (y - y0) % 3 == 0 {
                    pixels[i * 784 + y * 28 + x] = 255
                } }
            }
            return pixels
        }
        let exposure = try OutlierExposure(pixels: boxes(400), perBatch: 32, weight: 0.5, seed: 1)
        let fresh = boxes(200)
        func meanTopProbability(_ parameters: CNNParameters) -> Double {
            let count = fresh.count / 784
            let workspace = CNNWorkspace(capacity: count, forTraining: false), weights = ParameterVector(parameters)
            fresh.withUnsafeBufferPointer { workspace.loadInput(pixels: $0.baseAddress!, first: 0, count: count) }
            workspace.forward(parameters: weights.storage, count: count)
            return (0..<count).reduce(0.0) { sum, b in
                let logits = workspace.logits(of: b).map(Double.init), top = logits.max()!
                return sum + 1 / logits.reduce(0) { $0 + exp($1 - top) }
            } / Double(count)
        }
        let plain = try Training(configuration: configuration, data: data, threads: 2)
        try plain.run(threads: 2)
        let exposed = try Training(configuration: configuration, data: data, threads: 2, outlierExposure: exposure)
        try exposed.run(threads: 2)
        let plainTop = meanTopProbability(plain.finalParameters), exposedTop = meanTopProbability(exposed.finalParameters)
        XCTAssertLessThan(exposedTop, 0.3, "mean top probability on new outliers with outlier exposure (plain run: \(plainTop))")
        XCTAssertGreaterThan(plainTop, exposedTop + 0.2, "outlier exposure flattens the softmax on outliers")
        XCTAssertGreaterThan(exposed.history.last!.validationAccuracy!, 0.85, "digits still train (plain run: \(plain.history.last!.validationAccuracy!))")
    }
}
