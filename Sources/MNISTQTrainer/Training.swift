// The training loop: seeded init, hold-out, per-epoch shuffles, schedules, divergence guard, early stopping.
import Foundation

/// One row of the per-epoch table and the metrics CSV.
public struct EpochMetrics: Sendable, Equatable {
    /// 1-based epoch number.
    public var epoch: Int
    /// Mean training loss over the epoch's steps (NaN if it diverged).
    public var trainLoss: Double
    /// Fraction of the epoch's training images classified correctly during their step.
    public var trainAccuracy: Double
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    public var testAccuracy: Double?
    /// Learning rate of the epoch's last step.
    public var learningRate: Double
    /// Wall time of the whole epoch: SGD steps, evaluation and bookkeeping.
    public var seconds: Double
    /// Wall time of the epoch's SGD steps alone (what PyTorch's benchmark loop times).
    public var trainSeconds: Double
    /// Images the epoch's SGD steps went through.
    public var trainImages: Int
    /// What the safeguards did at the end of this epoch ("" when nothing happened).
    public var note: String

    public init(epoch: Int, trainLoss: Double, trainAccuracy: Double, validationLoss: Double?, validationAccuracy: Double?,
                testAccuracy: Double?, learningRate: Double, seconds: Double, trainSeconds: Double, trainImages: Int,
                note: String) {
        self.epoch = epoch; self.trainLoss = trainLoss; self.trainAccuracy = trainAccuracy
        self.validationLoss = validationLoss; self.validationAccuracy = validationAccuracy; self.testAccuracy = testAccuracy
        self.learningRate = learningRate; self.seconds = seconds; self.trainSeconds = trainSeconds
        self.trainImages = trainImages; self.note = note
    }
}

/// Training images and labels (plus, optionally, the test split reported after each epoch — never used to
/// choose anything).
public struct TrainingData: Sendable {
    /// [N, 784] uint8 pixels.
    public var trainPixels: [UInt8]
    public var trainLabels: [UInt8]
    public var testPixels: [UInt8]?
    public var testLabels: [UInt8]?

    public init(trainPixels: [UInt8], trainLabels: [UInt8], testPixels: [UInt8]? = nil, testLabels: [UInt8]? = nil) {
        self.trainPixels = trainPixels; self.trainLabels = trainLabels; self.testPixels = testPixels; self.testLabels = testLabels
    }
}

/// What the loop reports while it runs.
public enum TrainingEvent {
    /// After each step: 1-based epoch, steps done in this epoch, steps per epoch, images done, mean loss so far.
    case step(epoch: Int, step: Int, steps: Int, images: Int, meanLoss: Double)
    /// After each epoch, with its metrics (already in `history`).
    case epochEnd(EpochMetrics)
    /// A safeguard acted (divergence guard, early stop, best-weights restore) — always worth a log line.
    case notice(String)
}

/// A training run that can be checkpointed after any epoch and resumed to bit-identical results (with the
/// same thread count, which fixes how each batch is split and summed).
public final class Training {
    public let configuration: TrainingConfiguration
    public let sgd: SGDTrainer
    /// Completed epochs.
    public internal(set) var epochsDone = 0
    /// Completed SGD steps over the whole run (drives the schedule).
    public internal(set) var globalStep = 0
    /// The generator for shuffles; its state is part of every checkpoint.
    public internal(set) var random: SeededRandom
    /// Product of the guard's learning-rate reductions (1 until it fires).
    public internal(set) var learningRateScale: Float = 1
    /// The weights and momentum of the best epoch so far (initially the initial weights).
    public let bestParameters: ParameterVector
    public let bestMomentum: ParameterVector
    public internal(set) var bestHasMomentum = false
    /// Monitored accuracy of the best epoch (validation, or training accuracy without a hold-out); −1 before any.
    public internal(set) var bestMetric = -1.0
    /// 1-based; 0 = the initial weights.
    public internal(set) var bestEpoch = 0
    public internal(set) var epochsWithoutImprovement = 0
    /// Set when early stopping ended the run.
    public internal(set) var stoppedEarly = false
    public internal(set) var history: [EpochMetrics] = []

    let data: TrainingData
    /// Indices (into data.trainPixels) of the images trained on, in hold-out order; shuffled copies per epoch.
    let trainIndices: [Int32]
    let validationPixels: [UInt8]
    let validationLabels: [UInt8]
    var order: [Int32]
    /// Outlier exposure's per-step batch assembly (nil: digits only).
    let outlierBatch: OutlierBatch?

    /// Number of images trained on per epoch.
    public var trainCount: Int { trainIndices.count }
    public var validationCount: Int { validationLabels.count }
    public var stepsPerEpoch: Int { (trainCount + configuration.batchSize - 1) / configuration.batchSize }
    public var finished: Bool { stoppedEarly || epochsDone >= configuration.epochs }

    /// A fresh run: draws the initial weights from `seed`, then chooses the hold-out.
    public convenience init(configuration: TrainingConfiguration, data: TrainingData, threads: Int,
                            outlierExposure: OutlierExposure? = nil) throws {
        try configuration.validate()
        var random = SeededRandom(seed: configuration.seed)
        let initial = initializeCNN(random: &random)
        try self.init(configuration: configuration, data: data, threads: threads, initial: initial, random: random,
                      outlierExposure: outlierExposure)
    }

    /// A run starting from given weights (e.g. PyTorch's initial weights) and generator state.
    public init(configuration: TrainingConfiguration, data: TrainingData, threads: Int,
                initial: CNNParameters, random: SeededRandom, outlierExposure: OutlierExposure? = nil) throws {
        try configuration.validate()
        let n = data.trainLabels.count
        guard data.trainPixels.count == n * 784 else {
            throw TrainingError.data("\(data.trainPixels.count) training pixels for \(n) labels, expected \(n * 784)")
        }
        guard configuration.validationCount < n else {
            throw TrainingError.data("--validation-split \(configuration.validationCount) leaves no training images (the training set has \(n))")
        }
        self.configuration = configuration
        self.data = data
        self.random = random
        // The hold-out comes from its own generator derived from the seed, so changing its size never
        // changes the initial weights or the shuffles' generator.
        var all = (0..<n).map { Int32($0) }
        if configuration.validationCount > 0 {
            var holdout = SeededRandom(seed: configuration.seed ^ 0x7A11_DA7E_5EED_0001)
            holdout.shuffle(&all)
        }
        let validation = all.prefix(configuration.validationCount).sorted()
        var train = Array(all.dropFirst(configuration.validationCount)).sorted()
        if let limit = configuration.trainLimit { train = Array(train.prefix(limit)) }
        trainIndices = train
        order = train
        validationPixels = validation.flatMap { data.trainPixels[(Int($0) * 784)..<(Int($0) * 784 + 784)] }
        validationLabels = validation.map { data.trainLabels[Int($0)] }
        sgd = SGDTrainer(parameters: initial, maxBatch: configuration.batchSize + (outlierExposure?.perBatch ?? 0), threads: threads)
        outlierBatch = outlierExposure.map { OutlierBatch($0, digitsPerBatch: configuration.batchSize) }
        bestParameters = ParameterVector(copying: sgd.parameters)
        bestMomentum = ParameterVector()
    }

    /// Whether the run ends with the best validation epoch's weights rather than the last ones.
    var keepsBest: Bool { configuration.restoreBest && validationCount > 0 && bestEpoch > 0 }

    /// The weights to keep at the end: the best epoch's (when validation picks them) or the current ones.
    public var finalParameters: CNNParameters { (keepsBest ? bestParameters : sgd.parameters).parameters }

    /// The epoch whose weights `finalParameters` holds.
    public var keptEpoch: Int { keepsBest ? bestEpoch : epochsDone }

    /// The test images and labels given in `TrainingData` (empty when none).
    public var testPixels: [UInt8] { data.testPixels ?? [] }
    public var testLabels: [UInt8] { data.testLabels ?? [] }

    /// Runs epochs until the configured count, early stopping, or `maxEpochs` more epochs (for tests and
    /// interrupted runs). `afterEpoch` runs after each epoch's bookkeeping (the CLI writes the checkpoint there).
    public func run(maxEpochs: Int? = nil, threads: Int,
                    onEvent: (TrainingEvent) -> Void = { _ in },
                    afterEpoch: (Training) throws -> Void = { _ in }) throws {
        var ran = 0
        while !finished && (maxEpochs.map { ran < $0 } ?? true) {
            try runEpoch(threads: threads, onEvent: onEvent)
            ran += 1
            try afterEpoch(self)
        }
        if finished && keepsBest && bestEpoch != epochsDone {
            onEvent(.notice("keeping the weights of epoch \(bestEpoch) (best validation accuracy \(percent(bestMetric)))"))
        }
    }

    func restoreBest() {
        sgd.parameters.copy(from: bestParameters)
        sgd.momentum.copy(from: bestMomentum)
        sgd.hasMomentum = bestHasMomentum
    }

    func runEpoch(threads: Int, onEvent: (TrainingEvent) -> Void) throws {
        let c = configuration
        let epoch = epochsDone + 1
        let start = Date()
        // Each epoch shuffles the hold-out order from scratch, so the order depends only on the generator.
        order = trainIndices
        random.shuffle(&order)
        let steps = stepsPerEpoch
        var lossSum = 0.0, lossSteps = 0, correct = 0, seen = 0
        var notes: [String] = []
        var lastLearningRate = 0.0
        data.trainPixels.withUnsafeBufferPointer { px in
            data.trainLabels.withUnsafeBufferPointer { lb in
                order.withUnsafeBufferPointer { ord in
                    for s in 0..<steps {
                        let first = s * c.batchSize, count = min(c.batchSize, order.count - first)
                        let lr = c.learningRate(step: globalStep, stepsPerEpoch: steps) * learningRateScale
                        lastLearningRate = Double(lr)
                        let r = outlierBatch?.step(sgd, pixels: px.baseAddress!, labels: lb.baseAddress!,
                                                   indices: ord.baseAddress! + first, count: count, globalStep: globalStep,
                                                   learningRate: lr, momentum: c.momentum)
                            ?? sgd.step(pixels: px.baseAddress!, labels: lb.baseAddress!, indices: ord.baseAddress! + first,
                                        count: count, learningRate: lr, momentum: c.momentum)
                        globalStep += 1
                        seen += count
                        if c.divergenceGuard && !(r.loss.isFinite && r.loss <= TrainingConfiguration.explodingLoss) {
                            learningRateScale *= TrainingConfiguration.guardLearningRateFactor
                            restoreBest()
                            let what = r.loss.isFinite ? "exploded to \(String(format: "%.3g", r.loss))" : "is \(r.loss)"
                            let message = "divergence guard: epoch \(epoch) step \(s + 1): loss \(what); restored the weights of "
                                + (bestEpoch > 0 ? "epoch \(bestEpoch)" : "the start") + ", learning rate ×\(learningRateScale) of the schedule"
                            notes.append("guard: loss \(what) at step \(s + 1)")
                            onEvent(.notice(message))
                            continue
                        }
                        lossSum += r.loss; lossSteps += 1; correct += r.correct
                        onEvent(.step(epoch: epoch, step: s + 1, steps: steps, images: seen, meanLoss: lossSum / Double(max(lossSteps, 1))))
                    }
                }
            }
        }
        let trainSeconds = Date().timeIntervalSince(start)
        let trainLoss = lossSteps > 0 ? lossSum / Double(lossSteps) : .nan
        let trainAccuracy = Double(correct) / Double(max(seen, 1))
        var validation: Evaluation? = nil
        if validationCount > 0 {
            validation = FloatEvaluator.evaluate(parameters: sgd.parameters, pixels: validationPixels, labels: validationLabels, threads: threads)
        }
        var testAccuracy: Double? = nil
        if let tp = data.testPixels, let tl = data.testLabels {
            testAccuracy = FloatEvaluator.evaluate(parameters: sgd.parameters, pixels: tp, labels: tl, threads: threads).accuracy
        }
        epochsDone = epoch
        // The monitored metric: validation accuracy, or the epoch's running training accuracy without a hold-out.
        let metric = validation?.accuracy ?? trainAccuracy
        let collapsed = !trainLoss.isFinite || (validation.map { !$0.meanLoss.isFinite } ?? false)
            || (bestEpoch > 0 && metric < bestMetric - TrainingConfiguration.collapseDrop)
        if c.divergenceGuard && collapsed {
            learningRateScale *= TrainingConfiguration.guardLearningRateFactor
            restoreBest()
            let message = "divergence guard: epoch \(epoch): \(validation != nil ? "validation" : "training") accuracy \(percent(metric)) "
                + "(best \(percent(max(bestMetric, 0))) at epoch \(bestEpoch)); restored the weights of "
                + (bestEpoch > 0 ? "epoch \(bestEpoch)" : "the start") + ", learning rate ×\(learningRateScale) of the schedule"
            notes.append("guard: accuracy \(percent(metric)), restored epoch \(bestEpoch)")
            onEvent(.notice(message))
        } else if metric >= bestMetric {
            // Ties go to the later epoch (trained longer, at a lower learning rate under the schedules).
            bestMetric = metric
            bestEpoch = epoch
            bestParameters.copy(from: sgd.parameters)
            bestMomentum.copy(from: sgd.momentum)
            bestHasMomentum = sgd.hasMomentum
            epochsWithoutImprovement = 0
        } else {
            epochsWithoutImprovement += 1
            if c.patience > 0 && validationCount > 0 && epochsWithoutImprovement >= c.patience && epoch < c.epochs {
                stoppedEarly = true
                notes.append("early stop")
                onEvent(.notice("early stopping: validation accuracy below the best for \(epochsWithoutImprovement) epochs (best \(percent(bestMetric)) at epoch \(bestEpoch))"))
            }
        }
        let metrics = EpochMetrics(epoch: epoch, trainLoss: trainLoss, trainAccuracy: trainAccuracy,
                                   validationLoss: validation?.meanLoss, validationAccuracy: validation?.accuracy,
                                   testAccuracy: testAccuracy, learningRate: lastLearningRate,
                                   seconds: Date().timeIntervalSince(start), trainSeconds: trainSeconds,
                                   trainImages: seen, note: notes.joined(separator: "; "))
        history.append(metrics)
        onEvent(.epochEnd(metrics))
    }
}

func percent(_ x: Double) -> String { String(format: "%.2f%%", 100 * x) }
