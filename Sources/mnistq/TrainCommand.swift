// `mnistq train`: train the float CNN with the reference hyperparameters plus safeguards (or the bare recipe).
import ArgumentParser
import Foundation
import MNISTQData
import MNISTQSupport
import MNISTQTrainer

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the float MNIST CNN (SGD with momentum) and write a float model file.",
        discussion: """
        Defaults: the reference hyperparameters (10 epochs, batch 64, lr 0.1, momentum 0.9, PyTorch's default \
        init, input pixel/255) plus safeguards: 500 warm-up steps then cosine learning-rate decay, 5,000 training \
        images held out for validation, early stopping (patience 3) keeping the best validation epoch's weights \
        (ties go to the later epoch), and a divergence \
        guard (a non-finite or exploding loss, or accuracy collapsing, restores the best weights and halves the \
        learning rate). `--recipe reference` runs the bare recipe exactly: all 60,000 images, constant lr, no \
        hold-out, no guard, no early stopping.

        Writes the model (default ./mnistq-float.mnqf), and next to it <name>.ckpt (checkpoint, replaced \
        atomically after every epoch), <name>.metrics.csv and <name>.curve.svg. `--resume FILE.ckpt` continues \
        a run with the checkpoint's settings; with the same --threads the final weights are bit-identical to \
        an uninterrupted run. Per-epoch table on stdout, progress line on stderr.
        """
    )

    enum Recipe: String, ExpressibleByArgument, CaseIterable { case safe, reference }

    @Option(help: "Folder with the four MNIST .gz files (default: $MNIST_DIR, then the per-user cache, downloading if needed).")
    var data: String?

    @Option(help: "Epochs (default 10).")
    var epochs: Int?

    @Option(name: .customLong("batch-size"), help: "Images per SGD step (default 64).")
    var batchSize: Int?

    @Option(help: "Base learning rate (default 0.1).")
    var lr: Float?

    @Option(help: "SGD momentum (default 0.9).")
    var momentum: Float?

    @Option(help: "Seed for initialisation, hold-out and shuffles (default 0).")
    var seed: UInt64?

    @Option(help: "Worker threads (default: all cores). A batch is split into this many slices.")
    var threads: Int?

    @Option(help: "Output float model file.")
    var out: String = "mnistq-float.mnqf"

    @Option(help: "Continue from a checkpoint (.ckpt) with its settings.")
    var resume: String?

    @Option(help: "safe (default: reference hyperparameters plus safeguards) or reference (the bare recipe, exactly).")
    var recipe: Recipe = .safe

    @Option(name: .customLong("lr-schedule"), help: "none, step or cosine (default cosine; reference: none).")
    var lrSchedule: LearningRateSchedule?

    @Option(name: .customLong("warmup-steps"), help: "Linear learning-rate warm-up steps (default 500; reference: 0).")
    var warmupSteps: Int?

    @Option(name: .customLong("validation-split"), help: "Training images held out for validation (default 5000; 0 = none; reference: 0).")
    var validationSplit: Int?

    @Option(help: "Early stopping after this many epochs in a row below the best validation accuracy (default 3; 0 = off).")
    var patience: Int?

    @Flag(name: .customLong("no-guard"), help: "Turn off the divergence guard.")
    var noGuard = false

    @Option(help: "Checkpoint file (default: the model path with .ckpt instead of .mnqf).")
    var checkpoint: String?

    @Option(name: .customLong("limit-train"), help: ArgumentHelp("Train on only the first N training images (quick experiments, tests).", visibility: .hidden))
    var limitTrain: Int?

    @Option(name: .customLong("stop-after"), help: ArgumentHelp("Stop after N epochs of this invocation (simulates an interruption).", visibility: .hidden))
    var stopAfter: Int?

    @Flag(help: "No progress line and no table; only errors and the final summary.")
    var quiet = false

    var explicitSettings: [String] {
        var names: [String] = []
        if epochs != nil { names.append("--epochs") }
        if batchSize != nil { names.append("--batch-size") }
        if lr != nil { names.append("--lr") }
        if momentum != nil { names.append("--momentum") }
        if seed != nil { names.append("--seed") }
        if lrSchedule != nil { names.append("--lr-schedule") }
        if warmupSteps != nil { names.append("--warmup-steps") }
        if validationSplit != nil { names.append("--validation-split") }
        if patience != nil { names.append("--patience") }
        if noGuard { names.append("--no-guard") }
        if limitTrain != nil { names.append("--limit-train") }
        if recipe != .safe { names.append("--recipe") }
        return names
    }

    func makeConfiguration() -> TrainingConfiguration {
        var c = recipe == .reference ? TrainingConfiguration.reference : TrainingConfiguration()
        if let epochs { c.epochs = epochs }
        if let batchSize { c.batchSize = batchSize }
        if let lr { c.learningRate = lr }
        if let momentum { c.momentum = momentum }
        if let seed { c.seed = seed }
        if let lrSchedule { c.schedule = lrSchedule }
        if let warmupSteps { c.warmupSteps = warmupSteps }
        if let validationSplit { c.validationCount = validationSplit }
        if let patience { c.patience = patience }
        if noGuard { c.divergenceGuard = false }
        if c.validationCount == 0 { c.restoreBest = false }
        c.trainLimit = limitTrain
        return c
    }

    func validate() throws {
        if let threads, !InputLimits.threads.contains(threads) { throw ValidationError("--threads is \(threads), expected 1...256") }
        if let stopAfter, stopAfter < 1 { throw ValidationError("--stop-after is \(stopAfter), expected ≥ 1") }
        if resume != nil {
            let conflicting = explicitSettings
            if !conflicting.isEmpty {
                throw ValidationError("--resume continues with the checkpoint's settings; remove \(conflicting.joined(separator: ", ")).")
            }
        } else {
            do { try makeConfiguration().validate() } catch { throw ValidationError("\(error)") }
        }
    }

    /// `model.mnqf` → `model` (side files: model.ckpt, model.metrics.csv, model.curve.svg); any other name is
    /// used whole (`m.bin` → m.bin.ckpt, …).
    var base: String { out.hasSuffix(".mnqf") ? String(out.dropLast(5)) : out }

    func run() throws {
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let checkpointPath = checkpoint ?? base + ".ckpt"
        func log(_ s: String) { if !quiet { print(s); fflush(stdout) } }
        func notice(_ s: String) { FileHandle.standardError.write(Data(("mnistq train: " + s + "\n").utf8)) }

        let training: Training
        do {
            let dir = try MNISTLocator.resolve(dataFlag: data, progress: !quiet)
            let mnist = try MNIST.load(directory: dir)
            let trainingData = TrainingData(trainPixels: mnist.train.images.pixels, trainLabels: mnist.train.labels,
                                            testPixels: mnist.test.images.pixels, testLabels: mnist.test.labels)
            if let resume {
                let (header, resumed) = try Checkpoint.resumeWithHeader(path: resume, data: trainingData, threads: threadCount)
                if header.shards != threadCount {
                    notice("the checkpoint was written with \(header.shards) threads, this run uses \(threadCount): results will differ from an uninterrupted run by float rounding (pass --threads \(header.shards) for bit-identical weights)")
                }
                training = resumed
                log("resuming \(resume) after epoch \(training.epochsDone) of \(training.configuration.epochs)")
            } else {
                training = try Training(configuration: makeConfiguration(), data: trainingData, threads: threadCount)
            }
        } catch {
            notice("\(error)")
            throw ExitCode(2)
        }
        let c = training.configuration
        log("training on \(training.trainCount) images (\(training.validationCount) held out for validation), "
            + "\(c.epochs) epochs, batch \(c.batchSize), lr \(c.learningRate) (\(c.schedule.rawValue)"
            + (c.warmupSteps > 0 ? ", warm-up \(c.warmupSteps) steps" : "") + "), momentum \(c.momentum), seed \(c.seed), "
            + "\(threadCount) threads, guard \(c.divergenceGuard ? "on" : "off"), early stopping "
            + (c.patience > 0 && c.validationCount > 0 ? "patience \(c.patience)" : "off"))
        log(TrainingReport.tableHeader)
        for m in training.history { log(TrainingReport.tableRow(m)) }

        var progress: ProgressLine? = nil
        var progressEpoch = 0
        do {
            try training.run(maxEpochs: stopAfter, threads: threadCount, onEvent: { event in
                switch event {
                case let .step(epoch, step, steps, images, meanLoss):
                    if progressEpoch != epoch {
                        progressEpoch = epoch
                        progress = ProgressLine(label: "epoch \(epoch)/\(c.epochs)", total: training.trainCount, unit: "images", quiet: quiet)
                    }
                    progress?.update(done: images, extra: "step \(step)/\(steps)  loss \(String(format: "%.4f", meanLoss))")
                    // Finish at the last step so "done in" is the training time, without the evaluation after it.
                    if step == steps { progress?.finish(); progress = nil }
                case let .epochEnd(m):
                    progress?.finish(); progress = nil; progressEpoch = 0
                    log(TrainingReport.tableRow(m))
                case let .notice(message):
                    if let p = progress { p.finish() }
                    progress = nil; progressEpoch = 0
                    notice(message)
                }
            }, afterEpoch: { t in
                try Checkpoint.save(t, to: checkpointPath)
                try TrainingReport.write(t.history, base: base, title: "mnistq train (seed \(c.seed))")
            })
        } catch {
            notice("\(error)")
            throw ExitCode(1)
        }
        if !training.finished {
            log("stopped after epoch \(training.epochsDone) as asked; continue with: mnistq train --resume \(checkpointPath) --threads \(threadCount) --out \(out)")
            return
        }
        let final = training.finalParameters
        do { try FloatModelFile.save(final, to: out) } catch {
            notice("\(error)")
            throw ExitCode(1)
        }
        let test = FloatEvaluator.evaluate(parameters: ParameterVector(final), pixels: training.testPixels, labels: training.testLabels, threads: threadCount)
        print("test accuracy \(String(format: "%.2f%%", 100 * test.accuracy)) (\(test.correct)/\(test.total)) "
              + "of the kept weights (epoch \(training.keptEpoch)); wrote \(out), \(base).metrics.csv, \(base).curve.svg, \(checkpointPath)")
    }
}

extension LearningRateSchedule: ExpressibleByArgument {}
