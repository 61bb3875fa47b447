// `mnistq classify`: decode, preprocess and classify image files in parallel, streaming results in input order.
import ArgumentParser
import Foundation
import MNISTQData
import MNISTQImage
import MNISTQRuntime
import MNISTQSupport

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify digit images (JPEG, PNG, PGM, raw 28x28, IDX) with an int8 model.",
        discussion: """
        Inputs: files; folders (the files directly in them, sorted by name; subfolders too with --recursive; \
        hidden names skipped; each folder visited once, so symbolic-link loops end); `-` for one image on \
        standard input; --files-from FILE (or - for standard input) with one path per line or NUL-separated \
        (find -print0). Only regular files are read: a FIFO, socket or device gets its own error row and never \
        blocks the batch. Paths are used byte for byte (names need not be UTF-8) and shown with control \
        characters, backslashes and non-UTF-8 bytes escaped (\\x1b, \\\\, \\xff). A file whose name starts \
        with '-' goes after `--` (mnistq classify -- -scan.png) or as ./-scan.png.

        Formats are recognised by content, not by file name: JPEG, PNG (also interlaced), PGM (binary P5 and \
        ASCII P2, 8 or 16 bits), PPM (P6), raw 28x28 bytes, IDX. Each image is made MNIST-like first (background \
        detected and dark-on-light inverted, cropped to the ink, scaled to fit 20x20, centred by mass in 28x28); \
        a 28x28 image with a dark background is used as is. A raw file of N x \(ModelFormat.inputPixelCount) bytes and an IDX image file give \
        N results, named FILE#0 ... FILE#(N-1) when N > 1. Large JPEGs are decoded at 1/2-1/8 size (shorter side \
        kept >= 256 px).

        Model search order: --model FILE, then $MNISTQ_MODEL, then ./samples/mnistq-int8.mnq8, then \
        samples/mnistq-int8.mnq8 in the directories above the mnistq executable (so a binary built inside the \
        package checkout finds the package's sample model).

        Labels (for the accuracy summary): --labels with a CSV of path,label lines (the path as printed, or just \
        the file name) or an IDX label file (label i applies to image #i of multi-image inputs); otherwise a \
        parent folder named 0-9.

        Not a digit: an image is reported with status "unsure" (the digit it would have said is still given) when \
        its confidence is below --min-confidence or its out-of-distribution score is above --ood-threshold. The \
        score (JSON ood_score, CSV ood_score) is an integer the int8 runtime computes from the network's penultimate \
        features; higher means less like the training digits. Both defaults are stored in the model by `mnistq \
        quantize`; a model without the score (quantized before mnistq 0.4.0) uses only --min-confidence (default \
        0.5). Unsure is not an error: it does not change the exit status.

        --shard K/N keeps the K-th of N parts of the inputs (K = 1...N). A file's part is a hash of its path \
        below the folder argument (or of the path as given), so N workers running the same command with K = \
        1...N classify every file exactly once, whatever machine or order they list the files in.

        Results go to stdout in input order; --format jsonl writes one JSON object per line, each line as soon as \
        it and every earlier input are done. Per-file errors go to stderr and appear as rows with status \
        "error". A progress line goes to stderr when stdout is not a terminal or there are 1000+ files. The \
        summary (stderr) gives counts, images/s of the classification itself (model loading and folder listing \
        excluded), accuracy when labels are known, and how worker time split between decoding (file reading \
        included), preprocessing and inference. --quiet leaves only results and error lines. Exit status: 0 all \
        inputs classified, 1 some inputs failed, 2 usage error or unusable model.
        """
    )

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case table, csv, json, jsonl
    }

    @Argument(help: ArgumentHelp("Image files, folders, or - for one image on standard input.", valueName: "path"))
    var paths: [String] = []

    @Option(name: .customLong("files-from"), help: ArgumentHelp(
        "Also classify the paths listed in this file (- for standard input), one per line or NUL-separated.",
        valueName: "file"))
    var filesFrom: String?

    @Option(help: "The int8 model file (.mnq8). Default: see the model search order above.")
    var model: String?

    @Flag(name: [.short, .long], help: "Also classify the files in subfolders of folders given as PATH (hidden files skipped).")
    var recursive = false

    @Option(help: "Keep only part K of N of the inputs (K = 1...N), split by a hash of each path.")
    var shard: ShardSelector?

    @Option(help: "Output format: table, csv, json or jsonl (JSON rows also carry the ten int32 scores).")
    var format: OutputFormat = .table

    @Option(name: .customLong("top-k"), help: "How many ranked guesses to show per image (1-10).")
    var topK = 3

    @OptionGroup var workers: ThreadsOption

    @Option(help: "Known labels: a CSV of path,label or an IDX label file.")
    var labels: String?

    @Flag(name: .customLong("no-preprocess"), help: "Use images as is; each must already be 28x28 MNIST-style.")
    var noPreprocess = false

    @Flag(name: .customLong("no-progress"), help: "Never show the progress line.")
    var noProgress = false

    @OptionGroup var verbosity: QuietOption

    @Option(name: .customLong("save-inputs"), help: ArgumentHelp(
        "Also write each image as the model sees it (28x28 PGM) into this folder, to inspect a wrong answer.",
        valueName: "folder"))
    var saveInputs: String?

    @Option(name: .customLong("min-confidence"), help: ArgumentHelp(
        "Report \"unsure\" below this softmax confidence, 0-1 (default: the model's, else 0.5).", valueName: "p"))
    var minConfidence: Float?

    @Option(name: .customLong("ood-threshold"), help: ArgumentHelp(
        "Report \"unsure\" when the out-of-distribution score exceeds this integer (default: the model's).", valueName: "score"))
    var oodThreshold: Int32?

    func validate() throws {
        if paths.isEmpty && filesFrom == nil { throw ValidationError("give at least one image file or folder (or --files-from FILE)") }
        if paths.filter({ $0 == "-" }).count > 1 { throw ValidationError("- (standard input) can be given only once") }
        if paths.contains("-") && filesFrom == "-" {
            throw ValidationError("- and --files-from - both want standard input; give the list or the image there, not both")
        }
        if let minConfidence, !(minConfidence >= 0 && minConfidence <= 1) {
            throw ValidationError("--min-confidence must be in 0...1, got \(minConfidence)")
        }
        if !(1...10).contains(topK) { throw ValidationError("--top-k must be 1...10, got \(topK)") }
    }

    func run() throws {
        let loaded: Model
        do {
            // The model file is checked like an input first (opened non-blocking, regular files only): a FIFO or
            // device given as --model (or $MNISTQ_MODEL) is refused instead of blocking the loader.
            if let path = model ?? ProcessInfo.processInfo.environment["MNISTQ_MODEL"].flatMap({ $0.isEmpty ? nil : $0 }),
               OutputCheck.exists(path) {
                try ClassifyInputFile.requireRegularFile(RawPath(path))
            }
            loaded = try ModelLocator.load(explicit: model).model
        } catch let error as InputFileError {
            let reason = error.description.components(separatedBy: " (hint:")[0]  // the hints are about image inputs
            throw CommandFailure.usage("unusable model \(reason)")
        } catch let error as ModelLocatorError {
            throw CommandFailure.usage("\(error)")
        }
        let labelSource: ClassifyLabelSource
        do {
            labelSource = try ClassifyLabelSource(path: labels.map { RawArguments().option("labels", $0) })
        } catch {
            throw CommandFailure.usage("--labels \(RawPath(labels ?? "").display): \(error)")
        }
        if let saveInputs {
            do {
                try FileManager.default.createDirectory(atPath: saveInputs, withIntermediateDirectories: true)
            } catch {
                throw CommandFailure.usage("--save-inputs \(RawPath(saveInputs).display): \(error.localizedDescription)")
            }
        }
        let calibration = loaded.outOfDistributionCalibration
        if oodThreshold != nil && calibration == nil {
            throw CommandFailure.usage("--ood-threshold: the model has no out-of-distribution score (it was quantized before mnistq 0.4.0); re-quantize it with `mnistq quantize`, or use --min-confidence alone")
        }
        let verdict = ClassifyVerdict(minimumConfidence: minConfidence ?? calibration?.minimumConfidence ?? 0.5,
                                      outOfDistributionThreshold: oodThreshold ?? calibration?.threshold)
        let inputs: [ClassifyInputFile]
        do { inputs = try expandInputs() } catch {
            throw CommandFailure.usage("--files-from \(error)")
        }
        let classifier = ImageClassifier(model: loaded, preprocess: !noPreprocess)
        let workerCount = min(workers.count, max(1, inputs.count))
        let stdoutIsTerminal = isatty(STDOUT_FILENO) != 0
        let progress = ProgressLine(label: "classify", total: inputs.count, unit: "files",
                                    quiet: verbosity.quiet || noProgress || (stdoutIsTerminal && inputs.count < 1000))
        let writer = ClassifyResultWriter(inputCount: inputs.count, format: format, topK: topK,
                                         showLabels: labelSource.mayLabel || inputs.contains { $0.folderLabel != nil },
                                         progress: progress)
        let start = monotonicSeconds()
        let nextInput = ClassifyWorkCounter()
        DispatchQueue.concurrentPerform(iterations: workerCount) { _ in
            let scratch = InferenceScratch(for: loaded)
            var timing = ClassifyStageTiming()
            while true {
                let index = nextInput.next()
                if index >= inputs.count { break }
                let rows = classifyInput(inputs[index], number: index, classifier: classifier, scratch: scratch,
                                         labels: labelSource, verdict: verdict, timing: &timing)
                writer.deliver(rows, at: index)
            }
            writer.add(timing)
        }
        let elapsed = monotonicSeconds() - start
        writer.finish()
        progress.finish(done: inputs.count)
        if !verbosity.quiet { FileHandle.standardError.write(Data(writer.summary(elapsed: elapsed).utf8)) }
        if writer.errorCount > 0 { throw CommandFailure.alreadyReported }
    }

    // MARK: - Inputs

    /// Arguments, then --files-from entries, each expanded (folders → their files); then --shard.
    func expandInputs() throws -> [ClassifyInputFile] {
        var expander = InputExpander(recursive: recursive)
        var arguments = RawArguments()
        for path in paths {
            if path == "-" { expander.addStandardInput() } else { expander.add(arguments.positional(path)) }
        }
        if let filesFrom {
            let list = try readPathList(filesFrom == "-" ? nil : RawArguments().option("files-from", filesFrom))
            for path in list { expander.add(path) }
        }
        if !verbosity.quiet {
            for note in expander.notes { Self.diagnose("note: \(note)") }
        }
        guard let shard else { return expander.inputs }
        return expander.inputs.filter { shard.contains($0.shardKey) }
    }

    // MARK: - Work

    /// Writes a model input as `<folder>/<input number>-<file name>.pgm` (a debugging aid; failures are reported, not fatal).
    func saveInput(_ pixels: [UInt8], name: String, number: Int, folder: String) {
        let base = (name as NSString).lastPathComponent.replacingOccurrences(of: "#", with: "-").replacingOccurrences(of: "\\", with: "_")
        let path = (folder as NSString).appendingPathComponent(String(format: "%05d-", number) + base + ".pgm")
        do {
            try AtomicFile.write(Array("P5\n28 28\n255\n".utf8) + pixels, to: path)
        } catch {
            Self.diagnose("warning: --save-inputs: \(error)")
        }
    }

    /// Reads, decodes, preprocesses and classifies one input file; one row per image (or one error row).
    func classifyInput(_ input: ClassifyInputFile, number: Int, classifier: ImageClassifier, scratch: InferenceScratch,
                       labels: ClassifyLabelSource, verdict: ClassifyVerdict, timing: inout ClassifyStageTiming) -> [ClassifyResultRow] {
        var clock = monotonicSeconds()
        func lap(_ stage: WritableKeyPath<ClassifyStageTiming, Double>) {
            let now = monotonicSeconds()
            timing[keyPath: stage] += now - clock
            clock = now
        }
        let decoded: DecodedFile
        do {
            let limits = DecodeLimits.standard
            decoded = try ImageDecoder.decode(try input.read(limits: limits), file: input.path, limits: limits,
                                              jpegMinimumSide: classifier.jpegMinimumSide)
            lap(\.decode)
        } catch {
            lap(\.decode)
            return [ClassifyResultRow(path: input.path, label: labels.label(for: input.path, index: nil) ?? input.folderLabel,
                              outcome: .failure(escapeMessage("\(error)")))]
        }
        // Raw and IDX files are image sequences: IDX labels apply by index, and names get "#index" when there is
        // more than one image.
        let sequence = decoded.format == .raw || decoded.format == .idx
        var rows: [ClassifyResultRow] = []
        rows.reserveCapacity(decoded.images.count)
        for (index, image) in decoded.images.enumerated() {
            let name = decoded.images.count > 1 ? "\(input.path)#\(index)" : input.path
            let label = labels.label(for: name, index: sequence ? index : nil) ?? input.folderLabel
            do {
                let pixels = try classifier.modelInput(for: image, file: name)
                lap(\.preprocess)
                if let saveInputs { saveInput(pixels, name: name, number: number, folder: saveInputs) }
                let classification = classifier.model.classify(pixels: pixels, scratch: scratch)
                lap(\.inference)
                let guesses = ImageClassifier.topGuesses(classification, count: topK)
                rows.append(ClassifyResultRow(path: name, label: label,
                                      outcome: .success(guesses, scores: classification.scores,
                                                        outOfDistributionScore: classification.outOfDistributionScore,
                                                        unsure: verdict.isUnsure(confidence: guesses[0].probability,
                                                                                 outOfDistributionScore: classification.outOfDistributionScore))))
            } catch {
                lap(\.preprocess)
                rows.append(ClassifyResultRow(path: name, label: label, outcome: .failure(escapeMessage("\(error)"))))
            }
        }
        timing.images += decoded.images.count
        return rows
    }
}
