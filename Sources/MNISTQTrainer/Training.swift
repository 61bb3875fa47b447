// The training loop: seeded init, hold-out, per-epoch shuffles, schedules, divergence guard, early stopping.
import Foundation

/// One row of the per-epoch table and the metrics CSV.
package struct EpochMetrics: Sendable, Equatable {
    /// 1-based epoch number.
    package var epoch: Int
    /// Mean training loss over the epoch's steps (NaN if it diverged).
    package var trainLoss: Double
    /// Fraction of the epoch's training images classified correctly during their step.
    package var trainAccuracy: Double
    package var validationLoss: Double?
    package var validationAccuracy: Double?
    package var testAccuracy: Double?
    /// Learning rate of the epoch's last step.
    package var learningRate: Double
    /// Wall time of the whole epoch: SGD steps, evaluation and bookkeeping.
    package var seconds: Double
    /// Wall time of the epoch's SGD steps alone (what PyTorch's benchmark loop times).
    var trainSeconds: Double
    /// Images the epoch's SGD steps went through.
    package var trainImages: Int
    /// What the safeguards did at the end of this epoch ("" when nothing happened).
    package var note: String

    package init(epoch: Int, trainLoss: Double, trainAccuracy: Double, validationLoss: Double?, validationAccuracy: Double?,
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
package struct TrainingData: Sendable {
    /// [N, 28·28] uint8 pixels.
    package var trainPixels: [UInt8]
    package var trainLabels: [UInt8]
    package var testPixels: [UInt8]?
    package var testLabels: [UInt8]?
    /// How many of the training images, at the end, are extra labelled digits (`train --extra-digits`, e.g. photo-style
    /// renderings of the training split): trained on every epoch, never held out for validation, so the hold-out is
    /// the same choice among the first images as in a run without them.
    package private(set) var extraDigitCount = 0

    package init(trainPixels: [UInt8], trainLabels: [UInt8], testPixels: [UInt8]? = nil, testLabels: [UInt8]? = nil) {
        self.trainPixels = trainPixels; self.trainLabels = trainLabels; self.testPixels = testPixels; self.testLabels = testLabels
    }

    /// Appends extra labelled digits ([count, 28·28] pixels, labels 0...9) to the training images.
    package mutating func appendExtraDigits(pixels: [UInt8], labels: [UInt8]) throws(TrainingError) {
        guard pixels.count == labels.count * CNNSize.inputPixels else {
            throw .data("extra digits: \(pixels.count) pixels for \(labels.count) labels, expected \(labels.count * CNNSize.inputPixels)")
        }
        if let bad = labels.firstIndex(where: { $0 > 9 }) {
            throw .data("extra digits: label \(labels[bad]) of image \(bad) is not a digit 0...9")
        }
        trainPixels += pixels
        trainLabels += labels
        extraDigitCount += labels.count
    }
}

/// What the loop reports while it runs.
package enum TrainingEvent {
    /// After each step: 1-based epoch, steps done in this epoch, steps per epoch, images done, mean loss so far.
    case step(epoch: Int, step: Int, steps: Int, images: Int, meanLoss: Double)
    /// After each epoch, with its metrics (already in `history`).
    case epochEnd(EpochMetrics)
    /// A safeguard acted (divergence guard, early stop, best-weights restore) — always worth a log line.
    case notice(String)
}

/// A training run that can be checkpointed after any epoch and resumed to bit-identical results (with the
/// same thread count, which fixes how each batch is split and summed).
package final class Training {
    package let configuration: TrainingConfiguration
    let sgd: SGDTrainer
    /// Completed epochs.
    package internal(set) var epochsDone = 0
    /// Completed SGD steps over the whole run (drives the schedule).
    package internal(set) var globalStep = 0
    /// The generator for shuffles; its state is part of every checkpoint.
    var random: SeededRandom
    /// Product of the guard's learning-rate reductions (1 until it fires).
    var learningRateScale: Float = 1
    /// The weights and momentum of the best epoch so far (initially the initial weights).
    let bestParameters: ParameterVector
    let bestMomentum: ParameterVector
    var bestHasMomentum = false
    /// Monitored accuracy of the best epoch (validation, or training accuracy without a hold-out); −1 before any.
    var bestMetric = -1.0
    /// 1-based; 0 = the initial weights.
    var bestEpoch = 0
    var epochsWithoutImprovement = 0
    /// Set when early stopping ended the run.
    package internal(set) var stoppedEarly = false
    package internal(set) var history: [EpochMetrics] = []

    let data: TrainingData
    /// Indices (into data.trainPixels) of the images trained on, in hold-out order; shuffled copies per epoch.
    let trainIndices: [Int32]
    let validationPixels: [UInt8]
    let validationLabels: [UInt8]
    var order: [Int32]
    /// Outlier exposure's per-step batch assembly (nil: digits only).
    let outlierBatch: OutlierBatch?

    /// Number of images trained on per epoch.
    package var trainCount: Int { trainIndices.count }
    package var validationCount: Int { validationLabels.count }
    /// Extra labelled digits trained on (see `TrainingData.extraDigitCount`).
    package var extraDigitCount: Int { data.extraDigitCount }
    var stepsPerEpoch: Int { (trainCount + configuration.batchSize - 1) / configuration.batchSize }
    package var finished: Bool { stoppedEarly || epochsDone >= configuration.epochs }

    /// A fresh run: draws the initial weights from `seed`, then chooses the hold-out.
    package convenience init(configuration: TrainingConfiguration, data: TrainingData, threads: Int,
                             outlierExposure: OutlierExposure? = nil) throws {
        try configuration.validate()
        var random = SeededRandom(seed: configuration.seed)
        let initial = initializeCNN(random: &random)
        try self.init(configuration: configuration, data: data, threads: threads, initial: initial, random: random,
                      outlierExposure: outlierExposure)
    }

    /// A run starting from given weights (e.g. PyTorch's initial weights) and generator state.
    init(configuration: TrainingConfiguration, data: TrainingData, threads: Int,
         initial: CNNParameters, random: SeededRandom, outlierExposure: OutlierExposure? = nil) throws {
        try configuration.validate()
        let n = data.trainLabels.count
        let pixels = CNNSize.inputPixels
        guard data.trainPixels.count == n * pixels else {
            throw TrainingError.data("\(data.trainPixels.count) training pixels for \(n) labels, expected \(n * pixels)")
        }
        let heldOutFrom = n - data.extraDigitCount
        guard configuration.validationCount < heldOutFrom else {
            throw TrainingError.data("--validation-split \(configuration.validationCount) leaves no training images (the training set has \(heldOutFrom))")
        }
        self.configuration = configuration
        self.data = data
        self.random = random
        let split = configuration.holdOut(imageCount: heldOutFrom)
        let validation = split.validation
        var train = split.train
        if let limit = configuration.trainLimit { train = Array(train.prefix(limit)) }
        train += (heldOutFrom..<n).map { Int32($0) }  // the extra digits, after any --limit-train cut
        trainIndices = train
        order = train
        validationPixels = validation.flatMap { data.trainPixels[(Int($0) * pixels)..<(Int($0) * pixels + pixels)] }
        validationLabels = validation.map { data.trainLabels[Int($0)] }
        sgd = SGDTrainer(parameters: initial, maxBatch: configuration.batchSize + (outlierExposure?.perBatch ?? 0), threads: threads)
        outlierBatch = outlierExposure.map { OutlierBatch($0) }
        bestParameters = ParameterVector(copying: sgd.parameters)
        bestMomentum = ParameterVector()
    }

    /// Whether the run ends with the best validation epoch's weights rather than the last ones.
    var keepsBest: Bool { configuration.restoreBest && validationCount > 0 && bestEpoch > 0 }

    /// The weights to keep at the end: the best epoch's (when validation picks them) or the current ones.
    package var finalParameters: CNNParameters { (keepsBest ? bestParameters : sgd.parameters).parameters }

    /// The epoch whose weights `finalParameters` holds.
    package var keptEpoch: Int { keepsBest ? bestEpoch : epochsDone }

    /// The test images and labels given in `TrainingData` (empty when none).
    package var testPixels: [UInt8] { data.testPixels ?? [] }
    package var testLabels: [UInt8] { data.testLabels ?? [] }

    /// Runs epochs until the configured count, early stopping, or `maxEpochs` more epochs (for tests and
    /// interrupted runs). `afterEpoch` runs after each epoch's bookkeeping (the CLI writes the checkpoint there).
    package func run(maxEpochs: Int? = nil, threads: Int,
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

    /// One epoch in named phases: shuffle, SGD steps, evaluation, safeguards, metrics.
    func runEpoch(threads: Int, onEvent: (TrainingEvent) -> Void) throws {
        let epoch = epochsDone + 1
        let start = Date()
        var notes: [String] = []
        shuffleOrder()
        let steps = runSteps(epoch: epoch, notes: &notes, onEvent: onEvent)
        let trainSeconds = Date().timeIntervalSince(start)
        let (validation, testAccuracy) = evaluateEpoch(threads: threads)
        epochsDone = epoch
        // The monitored metric: validation accuracy, or the epoch's running training accuracy without a hold-out.
        let metric = validation?.accuracy ?? steps.accuracy
        applySafeguards(epoch: epoch, metric: metric, trainLoss: steps.meanLoss, validation: validation,
                        notes: &notes, onEvent: onEvent)
        let metrics = EpochMetrics(epoch: epoch, trainLoss: steps.meanLoss, trainAccuracy: steps.accuracy,
                                   validationLoss: validation?.meanLoss, validationAccuracy: validation?.accuracy,
                                   testAccuracy: testAccuracy, learningRate: steps.lastLearningRate,
                                   seconds: Date().timeIntervalSince(start), trainSeconds: trainSeconds,
                                   trainImages: steps.images, note: notes.joined(separator: "; "))
        history.append(metrics)
        onEvent(.epochEnd(metrics))
    }

    /// Each epoch shuffles the hold-out order from scratch, so the order depends only on the generator.
    func shuffleOrder() {
        order = trainIndices
        random.shuffle(&order)
    }

    /// What an epoch's SGD steps add up to.
    struct StepTotals {
        var lossSum = 0.0, lossSteps = 0, correct = 0, images = 0
        var lastLearningRate = 0.0
        /// Mean loss over the steps the guard kept (NaN when it kept none).
        var meanLoss: Double { lossSteps > 0 ? lossSum / Double(lossSteps) : .nan }
        /// Fraction of the epoch's images classified correctly during their (kept) step.
        var accuracy: Double { Double(correct) / Double(max(images, 1)) }
    }

    /// The epoch's SGD steps over `order`; a step whose loss is not finite or explodes makes the divergence guard
    /// restore the best weights and lower the learning rate (the step then counts for nothing but its images).
    func runSteps(epoch: Int, notes: inout [String], onEvent: (TrainingEvent) -> Void) -> StepTotals {
        let c = configuration
        let steps = stepsPerEpoch
        var totals = StepTotals()
        data.trainPixels.withUnsafeBufferPointer { px in
            data.trainLabels.withUnsafeBufferPointer { lb in
                order.withUnsafeBufferPointer { ord in
                    for s in 0..<steps {
                        let first = s * c.batchSize, count = min(c.batchSize, ord.count - first)
                        let lr = c.learningRate(step: globalStep, stepsPerEpoch: steps) * learningRateScale
                        totals.lastLearningRate = Double(lr)
                        let distortions = c.augmentation.map { RowDistortions(augmentation: $0, seed: c.seed, step: globalStep) }
                        let r = outlierBatch?.step(sgd, pixels: px.baseAddress!, labels: lb.baseAddress!,
                                                   indices: ord.baseAddress! + first, count: count, globalStep: globalStep,
                                                   learningRate: lr, momentum: c.momentum, distortions: distortions)
                            ?? sgd.step(pixels: px.baseAddress!, labels: lb.baseAddress!, indices: ord.baseAddress! + first,
                                        count: count, learningRate: lr, momentum: c.momentum, distortions: distortions)
                        globalStep += 1
                        totals.images += count
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
                        totals.lossSum += r.loss; totals.lossSteps += 1; totals.correct += r.correct
                        onEvent(.step(epoch: epoch, step: s + 1, steps: steps, images: totals.images,
                                      meanLoss: totals.lossSum / Double(max(totals.lossSteps, 1))))
                    }
                }
            }
        }
        return totals
    }

    /// Validation (when there is a hold-out) and test accuracy (when test data was given) of the current weights.
    func evaluateEpoch(threads: Int) -> (validation: Evaluation?, testAccuracy: Double?) {
        var validation: Evaluation? = nil
        if validationCount > 0 {
            validation = FloatEvaluator.evaluate(parameters: sgd.parameters, pixels: validationPixels, labels: validationLabels, threads: threads)
        }
        var testAccuracy: Double? = nil
        if let tp = data.testPixels, let tl = data.testLabels {
            testAccuracy = FloatEvaluator.evaluate(parameters: sgd.parameters, pixels: tp, labels: tl, threads: threads).accuracy
        }
        return (validation, testAccuracy)
    }

    /// End-of-epoch bookkeeping: the divergence guard on a collapse, else the best epoch so far, else early stopping.
    func applySafeguards(epoch: Int, metric: Double, trainLoss: Double, validation: Evaluation?,
                         notes: inout [String], onEvent: (TrainingEvent) -> Void) {
        let c = configuration
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
    }
}

func percent(_ x: Double) -> String { String(format: "%.2f%%", 100 * x) }

// MARK: - Saving and restoring the run's state (the body of a checkpoint; Checkpoint adds the frame)

extension Training {
    /// Appends the run's progress in checkpoint order: epochs done, global step, the four generator state words,
    /// lr scale, best metric and epoch, epochs without improvement, early-stop flag, momentum flags, the four
    /// flat vectors (weights, momentum, best weights, best momentum) and the metrics history.
    func writeState(to w: inout ByteWriter) {
        w.u32(UInt32(epochsDone)); w.u64(UInt64(globalStep))
        let s = random.state
        w.u64(s.0); w.u64(s.1); w.u64(s.2); w.u64(s.3)
        w.f32(learningRateScale); w.f64(bestMetric); w.u32(UInt32(bestEpoch)); w.u32(UInt32(epochsWithoutImprovement))
        w.u32(stoppedEarly ? 1 : 0); w.u32(sgd.hasMomentum ? 1 : 0); w.u32(bestHasMomentum ? 1 : 0)
        for v in [sgd.parameters, sgd.momentum, bestParameters, bestMomentum] { w.floats(v.storage, count: v.count) }
        w.u32(UInt32(history.count))
        for m in history {
            w.u32(UInt32(m.epoch)); w.f64(m.trainLoss); w.f64(m.trainAccuracy)
            w.f64(m.validationLoss ?? .nan); w.f64(m.validationAccuracy ?? .nan); w.f64(m.testAccuracy ?? .nan)
            w.f64(m.learningRate); w.f64(m.seconds); w.f64(m.trainSeconds); w.u32(UInt32(m.trainImages)); w.string(m.note)
        }
    }

    /// A run restored from what `writeState(to:)` wrote, for `configuration` and `data` (checked by the caller);
    /// errors name `file`. The reader stops after the history.
    convenience init(configuration: TrainingConfiguration, data: TrainingData, threads: Int,
                     restoringFrom r: inout ByteReader, file: String) throws {
        let epochsDone = Int(try r.u32())
        let globalStep = Int(try r.u64())
        let state = (try r.u64(), try r.u64(), try r.u64(), try r.u64())
        guard let random = SeededRandom(state: state) else {
            throw TrainingError.checkpoint(file: file, detail: "random generator state is all zero (damaged file)")
        }
        let scale = try r.f32(), bestMetric = try r.f64()
        let bestEpoch = Int(try r.u32()), noImprove = Int(try r.u32())
        let stopped = try r.u32() != 0, hasMomentum = try r.u32() != 0, bestHasMomentum = try r.u32() != 0
        let vectors = try (0..<4).map { _ -> ParameterVector in
            let v = ParameterVector(); try r.floats(into: v.storage, count: v.count); return v
        }
        try self.init(configuration: configuration, data: data, threads: threads, initial: vectors[0].parameters, random: random)
        sgd.momentum.copy(from: vectors[1]); sgd.hasMomentum = hasMomentum
        bestParameters.copy(from: vectors[2]); bestMomentum.copy(from: vectors[3]); self.bestHasMomentum = bestHasMomentum
        self.epochsDone = epochsDone; self.globalStep = globalStep; learningRateScale = scale
        self.bestMetric = bestMetric; self.bestEpoch = bestEpoch; epochsWithoutImprovement = noImprove; stoppedEarly = stopped
        let entries = Int(try r.u32())
        guard entries <= epochsDone else {
            throw TrainingError.checkpoint(file: file, detail: "history has \(entries) epochs but \(epochsDone) are done")
        }
        for _ in 0..<entries {
            let epoch = Int(try r.u32())
            let values = try (0..<8).map { _ in try r.f64() }
            let trainImages = Int(try r.u32())
            guard let note = try r.string(maxBytes: 4096) else {
                throw TrainingError.checkpoint(file: file, detail: "history note longer than 4096 bytes")
            }
            func opt(_ x: Double) -> Double? { x.isNaN ? nil : x }
            history.append(EpochMetrics(epoch: epoch, trainLoss: values[0], trainAccuracy: values[1],
                                        validationLoss: opt(values[2]), validationAccuracy: opt(values[3]),
                                        testAccuracy: opt(values[4]), learningRate: values[5], seconds: values[6],
                                        trainSeconds: values[7], trainImages: trainImages, note: note))
        }
    }

    /// Lets a run that stopped early continue when it is extended to more epochs (its patience starts again).
    func resumeAfterEarlyStop() {
        guard stoppedEarly else { return }
        stoppedEarly = false
        epochsWithoutImprovement = 0
    }
}
