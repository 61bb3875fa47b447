// `mnistq report`: one self-contained HTML page about a model (curves, accuracy, the digits it gets wrong, scales).
import ArgumentParser
import Foundation
import MNISTQReport
import MNISTQSupport

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML page about an int8 model and the float model it came from.",
        discussion: """
        The page (inline SVG, images as data URIs, no external files or scripts; opens offline) shows the learning \
        curves from the training metrics with the kept epoch, learning rate and guard events marked; float and int8 \
        test accuracy, agreement and the confusion matrix; every misclassified test image with its true digit, int8 \
        digit, confidence and float digit; the images where float and int8 disagree; per-layer SQNR and scales; and \
        the model file's header and metadata.

        The metrics are read from --metrics, else from NAME.metrics.csv beside --float NAME.mnqf, else beside the \
        int8 model under the name of its source model (as `mnistq train` and `mnistq quantize` leave them). \
        Whatever cannot be read (no float model, no metrics, a model of another format version, no MNIST) is \
        listed on the page, and the rest is still shown. Exit status: 0 page written (even with parts missing), \
        1 the page could not be written, 2 usage error.
        """
    )

    @Option(help: "The int8 model file (.mnq8).")
    var model: String

    @Option(name: .customLong("float"), help: "The float model it was quantized from: a .mnqf file or a directory of trained.*.f32 files.")
    var floatModel: String?

    @Option(help: "Training metrics CSV (default: beside the float model, or beside the int8 model).")
    var metrics: String?

    @OptionGroup var mnist: DataOption

    @Option(help: "Output HTML file.")
    var out: String = "report.html"

    @OptionGroup var workers: ThreadsOption

    @OptionGroup var verbosity: QuietOption

    func validate() throws {
        guard !model.isEmpty else { throw ValidationError("--model must name an int8 model file") }
        guard !out.isEmpty else { throw ValidationError("--out must name a file") }
    }

    func run() throws {
        var command = "mnistq report --model \(model)"
        if let floatModel { command += " --float \(floatModel)" }
        if let metrics { command += " --metrics \(metrics)" }
        if let data = mnist.data { command += " --data \(data)" }
        command += " --out \(out)"
        let request = ReportRequest(modelPath: model, floatPath: floatModel, metricsPath: metrics, dataFlag: mnist.data, generator: command)
        let progress = ProgressPrinter(quiet: verbosity.quiet)
        let started = Date()
        let content = ReportBuilder.build(request, threads: workers.count, progress: verbosity.quiet ? nil : progress.callback)
        progress.finish()
        let html = HTMLReport.render(content)
        do { try AtomicFile.write(html, to: out) } catch {
            throw CommandFailure.failed("\(out): \(error)")
        }
        for missing in content.missing { Self.diagnose("not shown: \(missing)") }
        let seconds = Date().timeIntervalSince(started)
        var line = "wrote \(out) (\(html.utf8.count) bytes, \(String(format: "%.1f", seconds)) s)"
        if let t = content.test, t.int8Predictions != nil { line += "; \(t.int8Mistakes.count) misclassified images shown" }
        if !content.missing.isEmpty { line += "; \(content.missing.count) part(s) not shown, listed on the page" }
        print(line)
    }
}
