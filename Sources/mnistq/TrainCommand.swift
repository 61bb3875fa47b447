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
        epochs in all. Ctrl-C prints the exact command that resumes from the last checkpoint.

        A run that ends at chance level (test accuracy below 20%, e.g. --lr 1) writes no model and exits 1. \
        Per-epoch table on stdout, progress line on stderr. Exit status: 0 trained, 1 failed or at chance level, \
        2 unusable input or --out, 130 interrupted.
        """
    )

    enum Recipe: String, ExpressibleByArgument, CaseIterable { case safe, reference }

    @Option(help: "Folder with the four MNIST .gz files (default: $MNIST_DIR, then the per-user cache, downloading if needed).")
    var data: String?

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

    @Option(help: "Worker threads (default: all cores). A batch is split into this many slices.")
    var threads: Int?

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

    @Option(name: .customLong("limit-train"), help: ArgumentHelp("Train on only the first N training images (quick experiments, tests).", visibility: .hidden))
    var limitTrain: Int?

    @Option(name: .customLong("stop-after"), help: ArgumentHelp("Stop after N epochs of this invocation (simulates an interruption).", visibility: .hidden))
    var stopAfter: Int?

    @Flag(help: "No progress line and no table; only errors and the final summary.")
    var quiet = false

    @OptionGroup var outliers: OutlierExposureOptions

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
        return names + outliers.explicitSettings
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
    static func base(of out: String) -> String { out.hasSuffix(".mnqf") ? String(out.dropLast(5)) : out }

    /// The model path of a checkpoint written before checkpoints recorded it: `run.ckpt` → `run.mnqf`.
    static func modelPath(besideCheckpoint checkpoint: String) -> String {
        (checkpoint.hasSuffix(".ckpt") ? String(checkpoint.dropLast(5)) : checkpoint) + ".mnqf"
    }

    func notice(_ s: String) { FileHandle.standardError.write(Data(("mnistq train: " + escapeMessage(s) + "\n").utf8)) }

    /// The command that continues this run from `checkpoint`: the program as invoked, absolute checkpoint path.
    func resumeCommand(checkpoint: String, threads: Int) -> String {
        let program = CommandLine.arguments.first.map { $0.contains("/") ? $0 : "mnistq" } ?? "mnistq"
        var words = [program, "train", "--resume", absolutePath(checkpoint)]
        if let data { words += ["--data", data] }
        words += ["--threads", "\(threads)"]
        if let epochs, resume != nil { words += ["--epochs", "\(epochs)"] }
        return words.map(shellQuoted).joined(separator: " ")
    }

    func run() throws {
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        func log(_ s: String) { if !quiet { print(s); fflush(stdout) } }

        // Where this run writes. A resumed run writes to its own files (recorded in the checkpoint); checked
        // before any data is loaded, so a bad --out costs nothing.
        var out = self.out ?? "mnistq-float.mnqf"
        var checkpointPath = checkpoint ?? TrainCommand.base(of: out) + ".ckpt"
        var resumedHeader: Checkpoint.Header?
        if let resume {
            do { resumedHeader = try Checkpoint.header(path: resume) } catch {
                notice("--resume \(resume): \(error)")
                throw ExitCode(2)
            }
            checkpointPath = checkpoint ?? resume
        }
        do {
            if resume == nil {
                try OutputCheck.writableLocation(out, flag: "--out")
                try OutputCheck.writableLocation(checkpointPath, flag: "--checkpoint")
                if !force {
                    for (path, what) in [(out, "a model"), (checkpointPath, "a checkpoint")] where OutputCheck.exists(path) {
                        throw OutputLocationError(description: "\(RawPath(path).display) exists (\(what) of another run); pass --force to replace it, choose another --out, or continue that run with --resume \(RawPath(checkpointPath).display)")
                    }
                }
            }
        } catch {
            notice("\(error)")
            throw ExitCode(2)
        }

        let training: Training
        let trainingData: TrainingData
        do {
            let dir = try MNISTLocator.resolve(dataFlag: data, progress: !quiet)
            let mnist = try MNIST.load(directory: dir)
            trainingData = TrainingData(trainPixels: mnist.train.images.pixels, trainLabels: mnist.train.labels,
                                        testPixels: mnist.test.images.pixels, testLabels: mnist.test.labels)
        } catch {
            notice("\(error)")
            throw ExitCode(2)
        }
        if let resume, let stored = resumedHeader {
            let resumed: Training
            do {
                let (header, t) = try Checkpoint.resumeWithHeader(path: resume, data: trainingData, threads: threadCount, epochs: epochs)
                resumed = t
                out = self.out ?? header.modelPath ?? TrainCommand.modelPath(besideCheckpoint: resume)
                try OutputCheck.writableLocation(out, flag: "--out")
            } catch {
                notice("\(error)")
                throw ExitCode(2)
            }
            if stored.shards != threadCount {
                notice("the checkpoint was written with \(stored.shards) threads, this run uses \(threadCount): results will differ from an uninterrupted run by float rounding (pass --threads \(stored.shards) for bit-identical weights)")
            }
            training = resumed
            if training.finished && epochs == nil {
                log("the run in \(resume) is finished (\(training.epochsDone) of \(training.configuration.epochs) epochs); pass --epochs N to extend it")
            } else {
                log("resuming \(resume) after epoch \(training.epochsDone) of \(training.configuration.epochs); writing \(RawPath(out).display)")
            }
        } else {
            do {
                let configuration = makeConfiguration()
                training = try Training(configuration: configuration, data: trainingData, threads: threadCount,
                                        outlierExposure: outliers.load(batchSize: configuration.batchSize, seed: configuration.seed))
            } catch {
                notice("\(error)")
                throw ExitCode(2)
            }
        }
        let base = TrainCommand.base(of: out)
        let modelPath = absolutePath(out)
        let c = training.configuration
        log("training on \(training.trainCount) images (\(training.validationCount) held out for validation), "
            + "\(c.epochs) epochs, batch \(c.batchSize), lr \(c.learningRate) (\(c.schedule.rawValue)"
            + (c.warmupSteps > 0 ? ", warm-up \(c.warmupSteps) steps" : "") + "), momentum \(c.momentum), seed \(c.seed), "
            + "\(threadCount) threads, guard \(c.divergenceGuard ? "on" : "off"), early stopping "
            + (c.patience > 0 && c.validationCount > 0 ? "patience \(c.patience)" : "off"))
        log(TrainingReport.tableHeader)
        for m in training.history { log(TrainingReport.tableRow(m)) }

        // Ctrl-C (and SIGTERM): wait for a checkpoint being written, then print how to continue.
        let interruption = InterruptionWatch(
            hasCheckpoint: resume != nil || training.epochsDone > 0,
            message: { saved in
                saved ? "interrupted; the last checkpoint is \(RawPath(checkpointPath).display). Continue with:\n  " + resumeCommand(checkpoint: checkpointPath, threads: threadCount)
                    : "interrupted before the first epoch ended; there is no checkpoint yet (start again with the same command)"
            })

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
                try interruption.whileSaving {
                    try Checkpoint.save(t, to: checkpointPath, modelPath: modelPath)
                    try TrainingReport.write(t.history, base: base, title: "mnistq train (seed \(c.seed))")
                }
            })
        } catch {
            notice("\(error)")
            throw ExitCode(1)
        }
        if !training.finished {
            log("stopped after epoch \(training.epochsDone) as asked; continue with: " + resumeCommand(checkpoint: checkpointPath, threads: threadCount))
            return
        }
        let final = training.finalParameters
        let test = FloatEvaluator.evaluate(parameters: ParameterVector(final), pixels: training.testPixels, labels: training.testLabels, threads: threadCount)
        // A collapsed run (every ReLU dead, or weights blown up) guesses: 10% on MNIST. Such a model must not
        // land where `quantize` picks it up, whether or not the divergence guard ever fired.
        if test.accuracy < TrainCommand.chanceLevelAccuracy {
            let hint = c.learningRate > 0.1
                ? String(format: "a lower learning rate (--lr %g now; the default 0.1 is stable with the safeguards)", Double(c.learningRate))
                    + (c.divergenceGuard ? "" : ", and the divergence guard (leave out --no-guard)")
                : "a longer run (\(training.globalStep) SGD steps were done; warm-up is \(c.warmupSteps) steps), or check the training data"
            notice(String(format: "the run ended at chance level: test accuracy %.2f%% (%d/%d; guessing gives about 10%%) with the kept weights of epoch %d; no model written to %@. Hint: %@",
                          100 * test.accuracy, test.correct, test.total, training.keptEpoch, RawPath(out).display, hint))
            throw ExitCode(1)
        }
        do { try FloatModelFile.save(final, to: out) } catch {
            notice("\(error)")
            throw ExitCode(1)
        }
        print("test accuracy \(String(format: "%.2f%%", 100 * test.accuracy)) (\(test.correct)/\(test.total)) "
              + "of the kept weights (epoch \(training.keptEpoch)); wrote \(RawPath(out).display), \(RawPath(base).display).metrics.csv, \(RawPath(base).display).curve.svg, \(RawPath(checkpointPath).display)")
        print("next: mnistq quantize --model \(RawPath(out).display) (writes mnistq-int8.mnq8), then one page with the curves, "
              + "accuracy and misclassified digits: mnistq report --model mnistq-int8.mnq8 --float \(RawPath(out).display) --out report.html")
    }

    /// Below this test accuracy a run counts as failed (chance is 10%; one epoch of a working run gives > 90%).
    static let chanceLevelAccuracy = 0.2
}

/// `path` made absolute against the current directory (no symlinks resolved).
func absolutePath(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    return (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
}

/// A word for a POSIX shell: as is when it is plain, else in single quotes.
func shellQuoted(_ word: String) -> String {
    let plain = !word.isEmpty && word.unicodeScalars.allSatisfy {
        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_./=:,+@%".unicodeScalars.contains($0)
    }
    return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// Turns SIGINT/SIGTERM into a message and exit status 130/143, never in the middle of a checkpoint write.
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
                FileHandle.standardError.write(Data(("\nmnistq train: " + message(self.hasCheckpoint) + "\n").utf8))
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
