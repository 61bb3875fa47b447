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
        atomically after every epoch), <name>.metrics.csv and <name>.curve.svg. --out is checked before any work: \
        its folder must exist (none is created) and be writable, and an existing model or checkpoint there (another \
        run's) is replaced only with --force.

        `--resume FILE.ckpt` continues a run with the checkpoint's settings and writes to that run's own files \
        (the checkpoint records its model path); with the same --threads the final weights are bit-identical to \
        an uninterrupted run. `--resume FILE.ckpt --epochs N` extends a run (finished or stopped early) to N \
        epochs in all. Ctrl-C prints the exact command that resumes from the last checkpoint. Each SGD batch is \
        split into --threads slices, one per thread.

        A run that ends at chance level (test accuracy below 20%, e.g. --lr 1) writes no model and exits 1. \
        Per-epoch table on stdout, progress line on stderr. Exit status: 0 trained, 1 failed or at chance level, \
        2 unusable input or --out, 130 interrupted.
        """
    )

    enum Recipe: String, ExpressibleByArgument, CaseIterable { case safe, reference }

    @OptionGroup var mnist: DataOption

    @Option(help: "Epochs (default 10). With --resume: the new total, to extend a run.")
    var epochs: Int?

    @Option(name: .customLong("batch-size"), help: "Images per SGD step (default 64).")
    var batchSize: Int?

    @Option(help: "Base learning rate (default 0.1).")
    var lr: Float?

    @Option(help: "SGD momentum (default 0.9).")
    var momentum: Float?

    @Option(help: "Seed for initialisation, hold-out and shuffles (default 0).")
    var seed: UInt64?

    @OptionGroup var workers: ThreadsOption

    @Option(help: "Output float model file (default mnistq-float.mnqf; with --resume, the run's own model).")
    var out: String?

    @Option(help: "Continue from a checkpoint (.ckpt) with its settings, writing to the run's own files.")
    var resume: String?

    @Flag(help: "Replace an existing model or checkpoint at --out (another run's).")
    var force = false

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

    @Option(name: .customLong("limit-train"), help: ArgumentHelp("Train on only the first N MNIST training images, plus any --extra-digits (quick experiments, tests).", visibility: .hidden))
    var limitTrain: Int?

    @Option(name: .customLong("stop-after"), help: ArgumentHelp("Stop after N epochs of this invocation (simulates an interruption).", visibility: .hidden))
    var stopAfter: Int?

    @OptionGroup var verbosity: QuietOption

    @OptionGroup var outliers: OutlierExposureOptions

    @OptionGroup var extraDigits: ExtraDigitsOptions

    @OptionGroup var distortions: AugmentationOptions

    var explicitSettings: [String] {
        var names: [String] = []
        if epochs != nil && resume == nil { names.append("--epochs") }  // with --resume: extends the run
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
        return names + outliers.explicitSettings + extraDigits.explicitSettings + distortions.explicitSettings
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
        c.augmentation = distortions.augmentation
        return c
    }

    func validate() throws {
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
    static func base(of out: String) -> String { out.hasSuffix(".mnqf") ? String(out.dropLast(5)) : out }

    /// The model path of a checkpoint written before checkpoints recorded it: `run.ckpt` → `run.mnqf`.
    static func modelPath(besideCheckpoint checkpoint: String) -> String {
        (checkpoint.hasSuffix(".ckpt") ? String(checkpoint.dropLast(5)) : checkpoint) + ".mnqf"
    }

    /// Why this run has no resume command, or nil: its checkpoint does not record --outlier-exposure or
    /// --extra-digits files, so `--resume` would refuse it (extra digits) or go on without its outliers.
    var unresumableReason: String? {
        let unrecorded = [outliers.unrecordedFileOption, extraDigits.unrecordedFileOption].compactMap { $0 }
        if unrecorded.isEmpty { return nil }
        return "a run with \(unrecorded.joined(separator: " and ")) cannot be resumed (its checkpoint does not record those files); run the same command again to start over"
    }

    /// The command that continues this run from `checkpoint`: the program as invoked, absolute checkpoint path.
    func resumeCommand(checkpoint: String, threads: Int) -> String {
        let program = CommandLine.arguments.first.map { $0.contains("/") ? $0 : "mnistq" } ?? "mnistq"
        var words = [program, "train", "--resume", absolutePath(checkpoint)]
        if let data = mnist.data { words += ["--data", data] }
        words += ["--threads", "\(threads)"]
        if let epochs, resume != nil { words += ["--epochs", "\(epochs)"] }
        return words.map(shellQuoted).joined(separator: " ")
    }

    /// Where a run writes: the model, its checkpoint, and (for `--resume`) what the checkpoint says of itself.
    struct RunFiles {
        var out: String
        var checkpoint: String
        var resumedHeader: Checkpoint.Header?
        /// `model.mnqf` → `model`: the metrics and curve go next to the model.
        var base: String { TrainCommand.base(of: out) }
    }

    func run() throws {
        var files = try plannedFiles()
        let data = try loadData()
        let training = try startOrResume(data: data, files: &files)
        announce(training)
        try trainEpochs(training, files: files)
        if !training.finished {
            log("stopped after epoch \(training.epochsDone) as asked; " + (unresumableReason ?? "continue with: " + resumeCommand(checkpoint: files.checkpoint, threads: workers.count)))
            return
        }
        try finish(training, files: files)
    }

    /// The epoch table and other running commentary on stdout (not with --quiet).
    func log(_ s: String) { if !verbosity.quiet { print(s); flushStandardOutput() } }

    /// Phase 1: where this run writes. A resumed run writes to its own files (recorded in the checkpoint); checked
    /// before any data is loaded, so a bad --out costs nothing.
    func plannedFiles() throws -> RunFiles {
        let out = self.out ?? "mnistq-float.mnqf"
        var files = RunFiles(out: out, checkpoint: checkpoint ?? TrainCommand.base(of: out) + ".ckpt", resumedHeader: nil)
        if let resume {
            do { files.resumedHeader = try Checkpoint.header(path: resume) } catch {
                throw CommandFailure.usage("--resume \(resume): \(error)")
            }
            files.checkpoint = checkpoint ?? resume
            return files
        }
        do {
            try OutputCheck.writableLocation(files.out, flag: "--out")
            try OutputCheck.writableLocation(files.checkpoint, flag: "--checkpoint")
            if !force {
                for (path, what) in [(files.out, "a model"), (files.checkpoint, "a checkpoint")] where OutputCheck.exists(path) {
                    throw OutputLocationError(description: "\(RawPath(path).display) exists (\(what) of another run); pass --force to replace it, choose another --out, or continue that run with --resume \(RawPath(files.checkpoint).display)")
                }
            }
        } catch {
            throw CommandFailure.usage("\(error)")
        }
        return files
    }

    /// Phase 2: the MNIST training and test images.
    func loadData() throws -> TrainingData {
        let directory = try mnist.directory(progress: !verbosity.quiet)
        do {
            let mnist = try MNIST.load(directory: directory)
            var data = TrainingData(trainPixels: mnist.train.images.pixels, trainLabels: mnist.train.labels,
                                    testPixels: mnist.test.images.pixels, testLabels: mnist.test.labels)
            try extraDigits.append(to: &data)
            return data
        } catch {
            throw CommandFailure.usage("\(error)")
        }
    }

    /// Phase 3: a new run from the settings, or the checkpoint's run (whose model path becomes `files.out`).
    func startOrResume(data: TrainingData, files: inout RunFiles) throws -> Training {
        let threadCount = workers.count
        guard let resume, let stored = files.resumedHeader else {
            do {
                let configuration = makeConfiguration()
                return try Training(configuration: configuration, data: data, threads: threadCount,
                                    outlierExposure: outliers.load(batchSize: configuration.batchSize, seed: configuration.seed))
            } catch {
                throw CommandFailure.usage("\(error)")
            }
        }
        let training: Training
        do {
            let (header, resumed) = try Checkpoint.resumeWithHeader(path: resume, data: data, threads: threadCount, epochs: epochs)
            training = resumed
            files.out = out ?? header.modelPath ?? TrainCommand.modelPath(besideCheckpoint: resume)
            try OutputCheck.writableLocation(files.out, flag: "--out")
        } catch {
            throw CommandFailure.usage("\(error)")
        }
        if stored.shards != threadCount {
            Self.diagnose("the checkpoint was written with \(stored.shards) threads, this run uses \(threadCount): results will differ from an uninterrupted run by float rounding (pass --threads \(stored.shards) for bit-identical weights)")
        }
        if training.finished && epochs == nil {
            log("the run in \(resume) is finished (\(training.epochsDone) of \(training.configuration.epochs) epochs); pass --epochs N to extend it")
        } else {
            log("resuming \(resume) after epoch \(training.epochsDone) of \(training.configuration.epochs); writing \(RawPath(files.out).display)")
        }
        return training
    }

    /// Phase 4: the settings line and the table of the epochs done so far.
    func announce(_ training: Training) {
        let c = training.configuration
        let extras = training.extraDigitCount > 0 ? ", \(training.extraDigitCount) of them --extra-digits" : ""
        log("training on \(training.trainCount) images (\(training.validationCount) held out for validation\(extras)), "
            + "\(c.epochs) epochs, batch \(c.batchSize), lr \(c.learningRate) (\(c.schedule.rawValue)"
            + (c.warmupSteps > 0 ? ", warm-up \(c.warmupSteps) steps" : "") + "), momentum \(c.momentum), seed \(c.seed), "
            + "\(workers.count) threads, guard \(c.divergenceGuard ? "on" : "off"), early stopping "
            + (c.patience > 0 && c.validationCount > 0 ? "patience \(c.patience)" : "off")
            + (c.augmentation.map { a in
                ", distortions ±\(a.maxRotationDegrees)°, size ±\(a.maxScaleChange), slant ±\(a.maxShear), shift ±\(a.maxShift) px"
            } ?? ""))
        log(TrainingReport.tableHeader)
        for m in training.history { log(TrainingReport.tableRow(m)) }
    }

    /// Phase 5: the epochs, with a progress line, a table row and a checkpoint (+ metrics and curve) after each;
    /// Ctrl-C (and SIGTERM) waits for a checkpoint being written, then prints how to continue.
    func trainEpochs(_ training: Training, files: RunFiles) throws {
        let threadCount = workers.count
        let c = training.configuration
        let interruption = InterruptionWatch(
            hasCheckpoint: resume != nil || training.epochsDone > 0,
            message: { saved in
                saved ? "interrupted; the last checkpoint is \(RawPath(files.checkpoint).display)" + (unresumableReason.map { "; \($0)" } ?? ". Continue with:\n  " + resumeCommand(checkpoint: files.checkpoint, threads: threadCount))
                    : "interrupted before the first epoch ended; there is no checkpoint yet (start again with the same command)"
            })
        let modelPath = absolutePath(files.out)
        var progress: ProgressLine? = nil
        var progressEpoch = 0
        do {
            try training.run(maxEpochs: stopAfter, threads: threadCount, onEvent: { event in
                switch event {
                case let .step(epoch, step, steps, images, meanLoss):
                    if progressEpoch != epoch {
                        progressEpoch = epoch
                        progress = ProgressLine(label: "epoch \(epoch)/\(c.epochs)", total: training.trainCount, unit: "images", quiet: verbosity.quiet)
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
                    Self.diagnose(message)
                }
            }, afterEpoch: { t in
                try interruption.whileSaving {
                    try Checkpoint.save(t, to: files.checkpoint, modelPath: modelPath)
                    try TrainingReport.write(t.history, base: files.base, title: "mnistq train (seed \(c.seed))")
                }
            })
        } catch {
            throw CommandFailure.failed("\(error)")
        }
    }

    /// Phase 6: test accuracy of the kept weights; a model only when the run beat chance; the summary.
    func finish(_ training: Training, files: RunFiles) throws {
        let c = training.configuration
        let out = files.out
        let final = training.finalParameters
        let test = FloatEvaluator.evaluate(parameters: ParameterVector(final), pixels: training.testPixels, labels: training.testLabels, threads: workers.count)
        // A collapsed run (every ReLU dead, or weights blown up) guesses: 10% on MNIST. Such a model must not
        // land where `quantize` picks it up, whether or not the divergence guard ever fired.
        if test.accuracy < TrainCommand.chanceLevelAccuracy {
            let hint = c.learningRate > 0.1
                ? String(format: "a lower learning rate (--lr %g now; the default 0.1 is stable with the safeguards)", Double(c.learningRate))
                    + (c.divergenceGuard ? "" : ", and the divergence guard (leave out --no-guard)")
                : "a longer run (\(training.globalStep) SGD steps were done; warm-up is \(c.warmupSteps) steps), or check the training data"
            throw CommandFailure.failed(String(format: "the run ended at chance level: test accuracy %.2f%% (%d/%d; guessing gives about 10%%) with the kept weights of epoch %d; no model written to %@. Hint: %@",
                                               100 * test.accuracy, test.correct, test.total, training.keptEpoch, RawPath(out).display, hint))
        }
        do { try FloatModelFile.save(final, to: out) } catch {
            throw CommandFailure.failed("\(error)")
        }
        let base = RawPath(files.base).display
        print("test accuracy \(String(format: "%.2f%%", 100 * test.accuracy)) (\(test.correct)/\(test.total)) "
              + "of the kept weights (epoch \(training.keptEpoch)); wrote \(RawPath(out).display), \(base).metrics.csv, \(base).curve.svg, \(RawPath(files.checkpoint).display)")
        print("next: mnistq quantize --model \(RawPath(out).display) (writes mnistq-int8.mnq8), then one page with the curves, "
              + "accuracy and misclassified digits: mnistq report --model mnistq-int8.mnq8 --float \(RawPath(out).display) --out report.html")
    }

    /// Below this test accuracy a run counts as failed (chance is 10%; one epoch of a working run gives > 90%).
    static let chanceLevelAccuracy = 0.2
}

/// Turns SIGINT/SIGTERM into a message and exit status 130/143, never in the middle of a checkpoint write.
/// `@unchecked Sendable`: the signal handlers run on a global queue; `hasCheckpoint` is read and written only with
/// `lock` held, and `sources` is written only in `init`, before any handler can run.
final class InterruptionWatch: @unchecked Sendable {
    private let lock = NSLock()
    private var hasCheckpoint: Bool
    private var sources: [DispatchSourceSignal] = []

    init(hasCheckpoint: Bool, message: @escaping (Bool) -> String) {
        self.hasCheckpoint = hasCheckpoint
        for (number, status) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                lock.lock()  // held for good: a checkpoint write in progress ends first, none starts after
                FileHandle.standardError.write(Data("\n".utf8))  // below the progress line
                TrainCommand.diagnose(message(self.hasCheckpoint))
                Foundation.exit(status)
            }
            source.resume()
            sources.append(source)
        }
    }

    func whileSaving(_ body: () throws -> Void) throws {
        lock.lock(); defer { lock.unlock() }
        try body()
        hasCheckpoint = true
    }
}

extension LearningRateSchedule: ExpressibleByArgument {}
