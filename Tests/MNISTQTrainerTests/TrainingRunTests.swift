// Training runs on real MNIST: resume is bit-identical, a short run learns, checkpoints reject damage.
import XCTest
@testable import MNISTQTrainer
import MNISTQData

final class TrainingRunTests: XCTestCase {
    /// MNIST, loaded once for all tests of this class.
    nonisolated(unsafe) static var cached: TrainingData?

    func data() throws -> TrainingData {
        if let d = Self.cached { return d }
        let mnist = try MNIST.load(directory: TrainerTestData.mnistDirectory())
        let d = TrainingData(trainPixels: mnist.train.images.pixels, trainLabels: mnist.train.labels,
                             testPixels: mnist.test.images.pixels, testLabels: mnist.test.labels)
        Self.cached = d
        return d
    }

    /// Training images only: the tiny runs below need no per-epoch test evaluation.
    func trainOnly() throws -> TrainingData {
        let d = try data()
        return TrainingData(trainPixels: d.trainPixels, trainLabels: d.trainLabels)
    }

    func temporaryPath(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "mnistq-trainer-tests-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir + "/" + name
    }

    /// A tiny run: 3 epochs of 640 images (the last batch partial), 256 held out, 2 shards.
    func tinyConfiguration() -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.epochs = 3; c.trainLimit = 600; c.validationCount = 256; c.seed = 5; c.warmupSteps = 4
        return c
    }

    func testResumeFromCheckpointGivesBitIdenticalWeights() throws {
        let d = try trainOnly()
        let straight = try Training(configuration: tinyConfiguration(), data: d, threads: 2)
        try straight.run(threads: 2)
        XCTAssertEqual(straight.epochsDone, 3)

        let path = temporaryPath("resume.ckpt")
        let first = try Training(configuration: tinyConfiguration(), data: d, threads: 2)
        try first.run(maxEpochs: 1, threads: 2, afterEpoch: { try Checkpoint.save($0, to: path) })
        XCTAssertEqual(first.epochsDone, 1)
        XCTAssertEqual(try Checkpoint.header(path: path).epochsDone, 1)
        let resumed = try Checkpoint.resume(path: path, data: d, threads: 2)
        XCTAssertEqual(resumed.configuration, tinyConfiguration())
        XCTAssertEqual(resumed.history.map(\.trainLoss), first.history.map(\.trainLoss))
        try resumed.run(threads: 2)

        XCTAssertTrue(resumed.sgd.parameters.bitwiseEqual(straight.sgd.parameters), "weights differ after resume")
        XCTAssertTrue(resumed.sgd.momentum.bitwiseEqual(straight.sgd.momentum), "momentum differs after resume")
        XCTAssertEqual(resumed.random, straight.random)
        XCTAssertEqual(resumed.history.map(\.trainLoss), straight.history.map(\.trainLoss))
        XCTAssertEqual(resumed.finalParameters, straight.finalParameters)
        // A different seed really gives different weights (the comparison above can fail).
        var other = tinyConfiguration(); other.seed = 6; other.epochs = 1
        let different = try Training(configuration: other, data: d, threads: 2)
        try different.run(threads: 2)
        XCTAssertFalse(different.sgd.parameters.bitwiseEqual(straight.sgd.parameters))
    }

    /// Resume is bit-identical on every float kernel path this CPU runs (a plain run covers only the fastest), and
    /// every path trains to the same bits, so a checkpoint can be resumed on another CPU. Shorter than the run above:
    /// the portable path on x86-64 calls fmaf for every multiply-add.
    func testResumeOnEveryFloatKernelPathAndTheSameWeightsOnEach() throws {
        let d = try trainOnly()
        var configuration = tinyConfiguration()
        configuration.epochs = 2; configuration.trainLimit = 300
        var finals: [(FloatKernelPath, ParameterVector)] = []
        try onEveryFloatKernelPath(self) { path in
            let straight = try Training(configuration: configuration, data: d, threads: 2)
            try straight.run(threads: 2)
            let checkpoint = temporaryPath("resume-\(path).ckpt")
            let first = try Training(configuration: configuration, data: d, threads: 2)
            try first.run(maxEpochs: 1, threads: 2, afterEpoch: { try Checkpoint.save($0, to: checkpoint) })
            let resumed = try Checkpoint.resume(path: checkpoint, data: d, threads: 2)
            try resumed.run(threads: 2)
            XCTAssertEqual(resumed.epochsDone, 2)
            XCTAssertTrue(resumed.sgd.parameters.bitwiseEqual(straight.sgd.parameters), "weights differ after resume")
            XCTAssertTrue(resumed.sgd.momentum.bitwiseEqual(straight.sgd.momentum), "momentum differs after resume")
            finals.append((path, straight.sgd.parameters))
        }
        for (path, parameters) in finals.dropFirst() {
            XCTAssertTrue(parameters.bitwiseEqual(finals[0].1), "\(path) trains to other weights than \(finals[0].0)")
        }
    }

    func testDamagedCheckpointIsRejected() throws {
        let d = try trainOnly()
        var c = tinyConfiguration(); c.epochs = 1; c.trainLimit = 64
        let t = try Training(configuration: c, data: d, threads: 1)
        try t.run(threads: 1)
        let path = temporaryPath("damaged.ckpt")
        try Checkpoint.save(t, to: path)
        var bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        bytes[bytes.count / 2] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Checkpoint.resume(path: path, data: d, threads: 1)) { error in
            XCTAssertTrue("\(error)".contains("CRC-32 mismatch"), "\(error)")
        }
        // A float model file is not a checkpoint.
        let model = temporaryPath("not-a-checkpoint.mnqf")
        try FloatModelFile.save(t.finalParameters, to: model)
        XCTAssertThrowsError(try Checkpoint.resume(path: model, data: d, threads: 1)) { error in
            XCTAssertTrue("\(error)".contains("not a training checkpoint"), "\(error)")
        }
    }

    func testLearningRateSchedules() {
        var c = TrainingConfiguration()
        c.epochs = 10
        // Default warm-up: linear from lr/500 over the first 500 steps, cosine factor on top.
        XCTAssertEqual(c.warmupSteps, 500)
        XCTAssertEqual(c.learningRate(step: 0, stepsPerEpoch: 1000), 0.1 / 500, accuracy: 1e-9)
        XCTAssertEqual(c.learningRate(step: 249, stepsPerEpoch: 1000), Float(0.1 * 0.5 * (1 + cos(Double.pi * 249 / 10_000))) * 0.5, accuracy: 1e-8)
        c.warmupSteps = 0
        XCTAssertEqual(c.learningRate(step: 0, stepsPerEpoch: 100), 0.1)
        XCTAssertEqual(c.learningRate(step: 500, stepsPerEpoch: 100), 0.05, accuracy: 1e-7)
        XCTAssertLessThan(c.learningRate(step: 999, stepsPerEpoch: 100), 1e-5)
        c.schedule = .step
        XCTAssertEqual(c.learningRate(step: 499, stepsPerEpoch: 100), 0.1)
        XCTAssertEqual(c.learningRate(step: 500, stepsPerEpoch: 100), 0.01, accuracy: 1e-9)
        XCTAssertEqual(c.learningRate(step: 800, stepsPerEpoch: 100), 0.001, accuracy: 1e-10)
        c = .reference
        XCTAssertEqual(c.learningRate(step: 0, stepsPerEpoch: 938), 0.1)
        XCTAssertEqual(c.learningRate(step: 9_000, stepsPerEpoch: 938), 0.1)
        XCTAssertEqual(c.validationCount, 0); XCTAssertFalse(c.divergenceGuard); XCTAssertEqual(c.patience, 0)
    }

    func testDivergenceGuardRestoresWeightsAndLowersLearningRate() throws {
        // lr 50 blows the loss up within a few steps; the guard must restore finite weights and keep halving.
        let d = try trainOnly()
        var c = tinyConfiguration(); c.epochs = 1; c.learningRate = 50; c.schedule = .none; c.warmupSteps = 0
        let t = try Training(configuration: c, data: d, threads: 2)
        var notices: [String] = []
        try t.run(threads: 2, onEvent: { if case let .notice(m) = $0 { notices.append(m) } })
        XCTAssertFalse(notices.isEmpty, "the guard never fired")
        XCTAssertTrue(notices[0].contains("divergence guard"), notices[0])
        XCTAssertLessThan(t.learningRateScale, 1)
        XCTAssertTrue(t.sgd.parameters.values.allSatisfy { $0.isFinite })
        // Without the guard the same run ends with non-finite or useless weights.
        c.divergenceGuard = false
        let bare = try Training(configuration: c, data: d, threads: 2)
        try bare.run(threads: 2)
        let ok = bare.sgd.parameters.values.allSatisfy { $0.isFinite } && (bare.history.last?.validationAccuracy ?? 0) > 0.5
        XCTAssertFalse(ok, "lr 50 did not diverge without the guard, so this test proves nothing")
    }

    /// One epoch with the default safeguards on all 55,000 training images (5,000 held out), all cores.
    static let oneEpochMinimumTestAccuracy = 0.975

    func testOneEpochReachesRequiredTestAccuracy() throws {
        let d = try data()
        var c = TrainingConfiguration()
        c.epochs = 1
        let threads = ProcessInfo.processInfo.activeProcessorCount
        let t = try Training(configuration: c, data: d, threads: threads)
        try t.run(threads: threads)
        let test = FloatEvaluator.evaluate(parameters: ParameterVector(t.finalParameters), pixels: d.testPixels!,
                                           labels: d.testLabels!, threads: threads)
        print("one epoch: test accuracy \(test.accuracy), validation \(t.history[0].validationAccuracy ?? -1), \(t.history[0].seconds) s")
        XCTAssertGreaterThanOrEqual(test.accuracy, Self.oneEpochMinimumTestAccuracy)
        XCTAssertEqual(test.total, 10_000)
    }
}
