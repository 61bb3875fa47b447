// `mnistq quantize`: float model → calibrated int8 model file, with a fidelity report on the test images.
import ArgumentParser
import Foundation
import MNISTQData
import MNISTQQuantizer
import MNISTQSupport
import MNISTQTrainer

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a float model to an int8 model file and report its fidelity on the test images.",
        discussion: """
            Calibrates on MNIST training images, quantizes weights to int8 (symmetric, per output channel) and \
            activations to uint8, writes the model file atomically, loads it back, and reports float and int8 \
            test accuracy, agreement, per-layer SQNR and the int8 confusion matrix.

            --out is checked before any work: its folder must exist (none is created) and be writable, and an \
            existing file is replaced only when it is an int8 model quantized from the same float model (re-running \
            with other settings), else only with --force. With --max-drop exceeded the whole report is still \
            printed (text or --json, with "written": false), no file is written, hints name only settings not \
            tried yet, and the exit status is 1. Exit status: 0 written, 1 failed (--max-drop, write error), 2 \
            unusable input or --out.
            """
    )

    @Option(help: "Float model: a file from `mnistq train`, or a directory of trained.*.f32 files (e.g. ../shared/golden).")
    var model: String = "mnistq-float.mnqf"

    @OptionGroup var mnist: DataOption

    @Option(help: "Training images used for calibration.")
    var calibrationImages: Int = QuantizationOptions.defaultCalibrationImages

    @Option(help: "How activation ranges are chosen from the calibration images.")
    var method: CalibrationMethod = QuantizationOptions().method

    @Option(help: "Percentile (in percent) for --method percentile.")
    var percentile: Double = QuantizationOptions().percentile

    @Option(help: "One weight scale per output channel or per tensor.")
    var granularity: WeightGranularity = QuantizationOptions().granularity

    @Option(help: "How a weight scale is chosen (largest magnitude, or least squared error).")
    var weightScale: WeightScaleMethod = QuantizationOptions().weightScale

    @Flag(help: "Skip bias correction.")
    var noBiasCorrection = false

    @Option(help: "Activation range equalization exponent in 0...1 (0 = off, 1 = every channel uses the full uint8 range).")
    var equalization: Double = QuantizationOptions().equalization

    @Option(help: "Weight rounding: to nearest, or GPTQ-style error feedback on the calibration inputs (fc2, fc3).")
    var rounding: WeightRounding = QuantizationOptions().rounding

    @Option(help: "Seed for choosing the calibration images.")
    var seed: UInt64 = 0

    @Option(name: .customLong("ood-score"), help: "Form of the \"not a digit\" score: class-conditional (default) or max-logit (for a model trained with --outlier-exposure).")
    var oodScore: OutOfDistributionCalibrator.ScoreForm = .classConditional

    @Option(help: "Output int8 model file.")
    var out: String = "mnistq-int8.mnq8"

    @Option(help: "Fail (exit 1, no file written) if float accuracy − int8 accuracy exceeds this many percentage points.")
    var maxDrop: Double?

    @Flag(help: "Replace --out even when it is not a model quantized from the same float model.")
    var force = false

    @Option(help: "Where to write the int8 confusion matrix as SVG (default: next to --out, .confusion.svg).")
    var confusionSvg: String?

    @Option(help: ArgumentHelp("Also report agreement on this many held-out training images (never calibration images).",
                               discussion: "For choosing settings without looking at the test images."))
    var holdoutImages: Int = 0

    @OptionGroup var output: JSONOption

    @OptionGroup var verbosity: QuietOption

    func validate() throws {
        guard calibrationImages >= 1 && calibrationImages <= 60_000 else {
            throw ValidationError("--calibration-images must be in 1...60000 (found \(calibrationImages))")
        }
        guard equalization >= 0 && equalization <= 1 else {
            throw ValidationError("--equalization must be in 0...1 (found \(equalization))")
        }
        guard percentile > 0 && percentile <= 100 else {
            throw ValidationError("--percentile must be in (0, 100] (found \(percentile))")
        }
        guard holdoutImages >= 0 && holdoutImages <= 50_000 else {
            throw ValidationError("--holdout-images must be in 0...50000 (found \(holdoutImages))")
        }
        if let maxDrop { guard maxDrop.isFinite && maxDrop >= 0 else {
            throw ValidationError("--max-drop must be a number of percentage points ≥ 0 (found \(maxDrop))")
        } }
    }

    /// --out (and the SVG) can be written, and replacing what is there is what the user wants.
    func checkOutputs(source: String) throws {
        do {
            try OutputCheck.writableLocation(out, flag: "--out")
            if let confusionSvg { try OutputCheck.writableLocation(confusionSvg, flag: "--confusion-svg") }
        } catch { throw CommandFailure.usage("\(error)") }
        guard !force, OutputCheck.exists(out) else { return }
        switch OutputCheck.int8ModelSource(out) {
        case nil:
            throw CommandFailure.usage("--out \(RawPath(out).display) exists and is not an int8 model file; refusing to replace it (pass --force to replace it, or choose another --out)")
        case let existing? where existing != source:
            throw CommandFailure.usage("--out \(RawPath(out).display) is a model quantized from \(existing.isEmpty ? "an unnamed source" : existing), not from \(source); refusing to replace another run's model (pass --force to replace it, or choose another --out)")
        default: return
        }
    }

    /// Settings that might lower the drop and were not used in this run (so a hint never repeats what was tried).
    func untriedHints(_ options: QuantizationOptions) -> [String] {
        var hints: [String] = []
        for method in CalibrationMethod.allCases where method != options.method { hints.append("--method \(method.rawValue)") }
        if options.method == .percentile && options.percentile < 99.99 { hints.append("--percentile 99.99") }
        if options.calibrationImages < 10_000 { hints.append("--calibration-images \(min(60_000, max(10_000, options.calibrationImages * 5)))") }
        if options.granularity != .perChannel { hints.append("--granularity per-channel") }
        if options.weightScale != .mse { hints.append("--weight-scale mse") }
        if !options.biasCorrection { hints.append("bias correction (leave out --no-bias-correction)") }
        if options.rounding != .gptq { hints.append("--rounding gptq") }
        if options.equalization == 0 { hints.append("--equalization 0.5") }
        return hints
    }

    func run() throws {
        let parameters: CNNParameters
        do { parameters = try FloatModelSource.load(path: model) } catch {
            throw CommandFailure.usage("\(error)")
        }
        let source = (model as NSString).lastPathComponent
        try checkOutputs(source: source)
        let quiet = verbosity.quiet
        let directory = try mnist.directory(progress: !quiet)
        let training: MNISTSplit, test: MNISTSplit
        do {
            training = try MNIST.loadTrain(directory: directory)
            test = try MNIST.loadTest(directory: directory)
        } catch { throw CommandFailure.usage("\(error)") }
        let options = QuantizationOptions(calibrationImages: calibrationImages, method: method, percentile: percentile,
                                          granularity: granularity, weightScale: weightScale,
                                          biasCorrection: !noBiasCorrection, seed: seed, equalization: equalization,
                                          rounding: rounding)
        let progress = ProgressPrinter(quiet: quiet)
        let started = Date()
        let measured: (network: QuantizedNetwork, report: FidelityReport)
        do {
            measured = try QuantizationJob.measure(parameters: parameters, training: training, test: test, options: options,
                                                   progress: progress.callback)
        } catch {
            progress.finish()
            throw CommandFailure.failed("\(error)")
        }
        let refusal = QuantizationJob.check(measured.report, maxDropPP: maxDrop)
        var outcome: QuantizationOutcome?
        if refusal == nil {
            do {
                outcome = try QuantizationJob.write(network: measured.network, report: measured.report, training: training, test: test,
                                                    options: options, outputPath: out, sourceDescription: source,
                                                    outOfDistributionScore: oodScore, progress: progress.callback)
            } catch {
                progress.finish()
                throw CommandFailure.failed("\(error)")
            }
        }
        var holdout: FidelityReport?
        if holdoutImages > 0 {
            let indices = Quantizer.holdoutIndices(count: holdoutImages, available: training.count, options: options)
            holdout = try Fidelity.measure(parameters: parameters, reference: measured.network.floatReference,
                                           layers: measured.network.layers, split: training, indices: indices,
                                           progress: progress.callback)
        }
        progress.finish()
        let seconds = Date().timeIntervalSince(started)
        let svgPath = confusionSvg ?? ((out as NSString).deletingPathExtension + ".confusion.svg")
        if outcome != nil {
            let svg = try SVGConfusionMatrix(title: "int8 confusion matrix (\((out as NSString).lastPathComponent))",
                                             counts: measured.report.confusion)
            do { try AtomicFile.write(svg.render(), to: svgPath) } catch { throw CommandFailure.failed("\(error)") }
        }
        let hints = refusal == nil ? [] : untriedHints(options)
        let summary = QuantizeSummary(report: measured.report, options: options, model: model, out: out,
                                      written: outcome != nil, fileBytes: outcome?.fileBytes.count,
                                      confusionSVG: outcome != nil ? svgPath : nil, seconds: seconds,
                                      holdout: holdout.map { HoldoutSummary(total: $0.total, agreeing: $0.agreeing, agreement: $0.agreement,
                                                                            layers: $0.layers) },
                                      error: refusal.map { "\($0)" }, hints: refusal == nil ? nil : hints)
        if output.json {
            try printJSON(summary)
        } else {
            print(measured.report.text, terminator: "")
            print("")
            if let h = holdout {
                print(String(format: "held-out training  agreement %.3f%%  (%d of %d images differ), SQNR dB ", h.agreement * 100,
                             h.total - h.agreeing, h.total) + h.layers.map { String(format: "%.1f", $0.sqnrDB) }.joined(separator: " "))
            }
            if let outcome {
                print("model file         \(RawPath(out).display)  (\(outcome.fileBytes.count) bytes, loaded back and verified)")
                print("confusion SVG      \(RawPath(svgPath).display)")
            } else {
                print("model file         not written (--max-drop \(maxDrop.map { String($0) } ?? "") exceeded)")
            }
            print(String(format: "time               %.1f s", seconds))
            print("report             mnistq report --model \(out) --float \(model) --out \((out as NSString).deletingPathExtension).report.html")
        }
        flushStandardOutput()
        if let refusal {
            let hint = hints.isEmpty ? "every setting that usually lowers the drop was already used; the float model itself may be the limit"
                : "settings not tried in this run: " + hints.joined(separator: ", ")
            throw CommandFailure.failed("\(refusal). Hint: \(hint)")
        }
    }
}

/// The `--json` document of `mnistq quantize`.
struct QuantizeSummary: Encodable {
    let report: FidelityReport
    let options: QuantizationOptions
    let model: String
    let out: String
    /// False when --max-drop refused the model (then `error` and `hints` say why and what to try).
    let written: Bool
    let fileBytes: Int?
    let confusionSVG: String?
    let seconds: Double
    let holdout: HoldoutSummary?
    let error: String?
    let hints: [String]?

    enum CodingKeys: String, CodingKey {
        case model, out, options, seconds, holdout, written, error, hints
        case fileBytes = "file_bytes", confusionSVG = "confusion_svg"
    }

    func encode(to encoder: Encoder) throws {
        try report.encode(to: encoder)  // report fields at the top level: accuracy figures, layers, confusion
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model); try c.encode(out, forKey: .out); try c.encode(options, forKey: .options)
        try c.encode(written, forKey: .written)
        try c.encodeIfPresent(fileBytes, forKey: .fileBytes); try c.encodeIfPresent(confusionSVG, forKey: .confusionSVG)
        try c.encode(seconds, forKey: .seconds)
        try c.encodeIfPresent(holdout, forKey: .holdout)
        try c.encodeIfPresent(error, forKey: .error); try c.encodeIfPresent(hints, forKey: .hints)
    }
}

/// Float/int8 agreement on held-out training images.
struct HoldoutSummary: Encodable {
    let total: Int
    let agreeing: Int
    let agreement: Double
    /// Per-layer SQNR on the held-out images.
    let layers: [LayerFidelity]
}

extension CalibrationMethod: ExpressibleByArgument {}
extension WeightGranularity: ExpressibleByArgument {}
extension WeightScaleMethod: ExpressibleByArgument {}
extension WeightRounding: ExpressibleByArgument {}
