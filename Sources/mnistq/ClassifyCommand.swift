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
        Formats are recognised by content, not by file name. Each image is made MNIST-like first (background \
        detected and dark-on-light inverted, cropped to the ink, scaled to fit 20x20, centred by mass in 28x28); \
        a 28x28 image with a dark background is used as is. A raw file of N x 784 bytes and an IDX image file give \
        N results, named FILE#0 ... FILE#(N-1) when N > 1. Large JPEGs are decoded at 1/2-1/8 size (shorter side \
        kept >= 256 px).

        Model search order: --model FILE, then $MNISTQ_MODEL, then ./samples/mnistq-int8.mnq8, then \
        samples/mnistq-int8.mnq8 in the directories above the mnistq executable (so a binary built inside the \
        package checkout finds the package's sample model).

        Labels (for the accuracy summary): --labels with a CSV of path,label lines (the path as printed, or just \
        the file name) or an IDX label file (label i applies to image #i of multi-image inputs); otherwise a \
        parent folder named 0-9.

        Results go to stdout in input order (directories sorted by name); per-file errors go to stderr and \
        appear as rows with status "error". A progress line goes to stderr when stdout is not a terminal or \
        there are 1000+ files. The summary (stderr) gives counts, images/s of the classification itself (model \
        loading and folder listing excluded), accuracy when labels are known, and how worker time split between \
        decoding (file reading included), preprocessing and inference. Exit status: 0 all inputs classified, \
        1 some inputs failed, 2 usage error or unusable model.
        """
    )

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case table, csv, json
    }

    @Argument(help: "Image files, or folders with --recursive.")
    var paths: [String] = []

    @Option(help: "The int8 model file (.mnq8). Default: see the model search order above.")
    var model: String?

    @Flag(name: [.short, .long], help: "Classify every file under folders given as PATH (hidden files skipped).")
    var recursive = false

    @Option(help: "Output format: table, csv or json (json rows also carry the ten int32 scores).")
    var format: OutputFormat = .table

    @Option(name: .customLong("top-k"), help: "How many ranked guesses to show per image (1-10).")
    var topK = 3

    @Option(help: "Worker threads (default: all cores).")
    var jobs: Int?

    @Option(help: "Known labels: a CSV of path,label or an IDX label file.")
    var labels: String?

    @Flag(name: .customLong("no-preprocess"), help: "Use images as is; each must already be 28x28 MNIST-style.")
    var noPreprocess = false

    @Flag(name: .customLong("no-progress"), help: "Never show the progress line.")
    var noProgress = false

    @Option(name: .customLong("save-inputs"), help: ArgumentHelp(
        "Also write each image as the model sees it (28x28 PGM) into this folder, to inspect a wrong answer.",
        valueName: "folder"))
    var saveInputs: String?

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give at least one image file or folder") }
        if !(1...10).contains(topK) { throw ValidationError("--top-k must be 1...10, got \(topK)") }
        if let jobs, !InputLimits.threads.contains(jobs) { throw ValidationError("--jobs must be 1...256, got \(jobs)") }
    }

    func run() throws {
        let loaded: Model
        do {
            loaded = try ModelLocator.load(explicit: model).model
        } catch let error as ModelLocatorError {
            FileHandle.standardError.write(Data("mnistq classify: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let labelSource: ClassifyLabelSource
        do {
            labelSource = try ClassifyLabelSource(path: labels)
        } catch {
            FileHandle.standardError.write(Data("mnistq classify: --labels \(labels ?? ""): \(error)\n".utf8))
            throw ExitCode(2)
        }
        if let saveInputs {
            do {
                try FileManager.default.createDirectory(atPath: saveInputs, withIntermediateDirectories: true)
            } catch {
                FileHandle.standardError.write(Data("mnistq classify: --save-inputs \(saveInputs): \(error.localizedDescription)\n".utf8))
                throw ExitCode(2)
            }
        }
        let inputs = expandInputs()
        let classifier = ImageClassifier(model: loaded, preprocess: !noPreprocess)
        let workerCount = min(jobs ?? ProcessInfo.processInfo.activeProcessorCount, max(1, inputs.count))
        let stdoutIsTerminal = isatty(STDOUT_FILENO) != 0
        let progress = ProgressLine(label: "classify", total: inputs.count, unit: "files",
                                    quiet: noProgress || (stdoutIsTerminal && inputs.count < 1000))
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
                                         labels: labelSource, timing: &timing)
                writer.deliver(rows, at: index)
            }
            writer.add(timing)
        }
        let elapsed = monotonicSeconds() - start
        writer.finish()
        progress.finish(done: inputs.count)
        let summary = writer.summary(elapsed: elapsed)
        FileHandle.standardError.write(Data(summary.utf8))
        if writer.errorCount > 0 { throw ExitCode(1) }
    }

    // MARK: - Inputs

    /// Expands folders (with --recursive) into their files sorted by path; keeps the order of the arguments.
    func expandInputs() -> [ClassifyInputFile] {
        var inputs: [ClassifyInputFile] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            if recursive, FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                var found: [String] = []
                walk(path, into: &found)
                inputs += found.sorted().map(ClassifyInputFile.init(path:))
            } else {
                inputs.append(ClassifyInputFile(path: path))
            }
        }
        return inputs
    }

    func walk(_ directory: String, into found: inout [String]) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            found.append(directory)  // reported as unreadable when classified
            return
        }
        for name in names where !name.hasPrefix(".") {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                walk(path, into: &found)
            } else {
                found.append(path)
            }
        }
    }

    // MARK: - Work

    /// Writes a model input as `<folder>/<input number>-<file name>.pgm` (a debugging aid; failures are reported, not fatal).
    func saveInput(_ pixels: [UInt8], name: String, number: Int, folder: String) {
        let base = (name as NSString).lastPathComponent.replacingOccurrences(of: "#", with: "-")
        let path = (folder as NSString).appendingPathComponent(String(format: "%05d-", number) + base + ".pgm")
        do {
            try AtomicFile.write(Array("P5\n28 28\n255\n".utf8) + pixels, to: path)
        } catch {
            FileHandle.standardError.write(Data("warning: --save-inputs: \(error)\n".utf8))
        }
    }

    /// Reads, decodes, preprocesses and classifies one input file; one row per image (or one error row).
    func classifyInput(_ input: ClassifyInputFile, number: Int, classifier: ImageClassifier, scratch: InferenceScratch,
                       labels: ClassifyLabelSource, timing: inout ClassifyStageTiming) -> [ClassifyResultRow] {
        var clock = monotonicSeconds()
        func lap(_ stage: WritableKeyPath<ClassifyStageTiming, Double>) {
            let now = monotonicSeconds()
            timing[keyPath: stage] += now - clock
            clock = now
        }
        let decoded: DecodedFile
        do {
            decoded = try ImageDecoder.decodeFile(atPath: input.path, jpegMinimumSide: classifier.jpegMinimumSide)
            lap(\.decode)
        } catch {
            lap(\.decode)
            return [ClassifyResultRow(path: input.path, label: labels.label(for: input.path, index: nil) ?? input.folderLabel,
                              outcome: .failure("\(error)"))]
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
                rows.append(ClassifyResultRow(path: name, label: label,
                                      outcome: .success(ImageClassifier.topGuesses(classification, count: topK),
                                                                scores: classification.scores)))
            } catch {
                lap(\.preprocess)
                rows.append(ClassifyResultRow(path: name, label: label, outcome: .failure("\(error)")))
            }
        }
        timing.images += decoded.images.count
        return rows
    }
}
