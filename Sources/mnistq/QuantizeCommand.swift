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
            """
    )

    @Option(help: "Float model: a file from `mnistq train`, or a directory of trained.*.f32 files (e.g. ../shared/golden).")
    var model: String = "mnistq-float.mnqf"

    @Option(help: "Folder with the four MNIST .gz files (default: $MNIST_DIR, then the per-user cache).")
    var data: String?

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

    @Option(help: "Output int8 model file.")
    var out: String = "mnistq-int8.mnq8"

    @Option(help: "Fail (exit 1, no file written) if float accuracy − int8 accuracy exceeds this many percentage points.")
    var maxDrop: Double?

    @Option(help: "Where to write the int8 confusion matrix as SVG (default: next to --out, .confusion.svg).")
    var confusionSvg: String?

    @Option(help: ArgumentHelp("Also report agreement on this many held-out training images (never calibration images).",
                               discussion: "For choosing settings without looking at the test images."))
    var holdoutImages: Int = 0

    @Flag(help: "Print the report as JSON on stdout.")
    var json = false

    @Flag(help: "No progress line on stderr.")
    var quiet = false

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

    func run() throws {
        let parameters: CNNParameters
        do { parameters = try FloatModelSource.load(path: model) } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let directory = try DataDirectory.resolve(data, quiet: quiet)
        let training = try MNIST.loadTrain(directory: directory)
        let test = try MNIST.loadTest(directory: directory)
        let options = QuantizationOptions(calibrationImages: calibrationImages, method: method, percentile: percentile,
                                          granularity: granularity, weightScale: weightScale,
                                          biasCorrection: !noBiasCorrection, seed: seed, equalization: equalization,
                                          rounding: rounding)
        let progress = ProgressPrinter(quiet: quiet)
        let started = Date()
        let outcome: QuantizationOutcome
        do {
            outcome = try QuantizationJob.run(parameters: parameters, training: training, test: test, options: options,
                                              maxDropPP: maxDrop, outputPath: out,
                                              sourceDescription: (model as NSString).lastPathComponent,
                                              progress: progress.callback)
        } catch let error as QuantizationJobError {
            progress.finish()
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
        var holdout: FidelityReport?
        if holdoutImages > 0 {
            let indices = Quantizer.holdoutIndices(count: holdoutImages, available: training.count, options: options)
            holdout = try Fidelity.measure(parameters: parameters, reference: outcome.network.floatReference, layers: outcome.layers, split: training, indices: indices,
                                           progress: progress.callback)
        }
        progress.finish()
        let seconds = Date().timeIntervalSince(started)
        let svgPath = confusionSvg ?? ((out as NSString).deletingPathExtension + ".confusion.svg")
        let svg = try SVGConfusionMatrix(title: "int8 confusion matrix (\((out as NSString).lastPathComponent))",
                                         counts: outcome.report.confusion)
        try AtomicFile.write(svg.render(), to: svgPath)
        let summary = QuantizeSummary(report: outcome.report, options: options, model: model, out: out,
                                      fileBytes: outcome.fileBytes.count, confusionSVG: svgPath, seconds: seconds,
                                      holdout: holdout.map { HoldoutSummary(total: $0.total, agreeing: $0.agreeing, agreement: $0.agreement,
                                                                            layers: $0.layers) })
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            print(outcome.report.text, terminator: "")
            print("")
            if let h = holdout {
                print(String(format: "held-out training  agreement %.3f%%  (%d of %d images differ), SQNR dB ", h.agreement * 100,
                             h.total - h.agreeing, h.total) + h.layers.map { String(format: "%.1f", $0.sqnrDB) }.joined(separator: " "))
            }
            print("model file         \(out)  (\(outcome.fileBytes.count) bytes, loaded back and verified)")
            print("confusion SVG      \(svgPath)")
            print(String(format: "time               %.1f s", seconds))
            print("report             mnistq report --model \(out) --float \(model) --out \((out as NSString).deletingPathExtension).report.html")
        }
    }
}

/// The `--json` document of `mnistq quantize`.
struct QuantizeSummary: Encodable {
    let report: FidelityReport
    let options: QuantizationOptions
    let model: String
    let out: String
    let fileBytes: Int
    let confusionSVG: String
    let seconds: Double
    let holdout: HoldoutSummary?

    enum CodingKeys: String, CodingKey {
        case model, out, options, seconds, holdout
        case fileBytes = "file_bytes", confusionSVG = "confusion_svg"
    }

    func encode(to encoder: Encoder) throws {
        try report.encode(to: encoder)  // report fields at the top level: accuracy figures, layers, confusion
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model); try c.encode(out, forKey: .out); try c.encode(options, forKey: .options)
        try c.encode(fileBytes, forKey: .fileBytes); try c.encode(confusionSVG, forKey: .confusionSVG)
        try c.encode(seconds, forKey: .seconds)
        try c.encodeIfPresent(holdout, forKey: .holdout)
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

/// Renders the library's (phase, done, total) callbacks as one progress line per phase.
final class ProgressPrinter {
    private let quiet: Bool
    private var line: ProgressLine?
    private var phase = ""
    init(quiet: Bool) { self.quiet = quiet }

    var callback: QuantizationProgress {
        { [self] phase, done, total in
            if phase != self.phase {
                line?.finish()
                self.phase = phase
                line = ProgressLine(label: phase, total: total, unit: "images", quiet: quiet)
            }
            line?.update(done: done)
        }
    }

    func finish() { line?.finish(); line = nil; phase = "" }
}

/// MNIST folder: --data, else $MNIST_DIR, else the per-user cache (downloaded and verified when missing).
enum DataDirectory {
    static func resolve(_ flag: String?, quiet: Bool = false) throws -> String {
        do { return try MNISTLocator.resolve(dataFlag: flag, progress: !quiet) } catch let error as DataError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}

extension CalibrationMethod: ExpressibleByArgument {}
extension WeightGranularity: ExpressibleByArgument {}
extension WeightScaleMethod: ExpressibleByArgument {}
extension WeightRounding: ExpressibleByArgument {}
