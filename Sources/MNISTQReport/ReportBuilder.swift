// Gathers a report's content: loads what it can, evaluates on the test images, and notes what is missing and why.
import Foundation
import MNISTQData
import MNISTQQuantizer
import MNISTQRuntime
import MNISTQSupport
import MNISTQTrainer

/// What to report on.
package struct ReportRequest: Sendable {
    /// The int8 model file (`mnistq quantize` output).
    package var modelPath: String
    /// The float model it was quantized from: a `.mnqf` file or a directory of trained.*.f32 tensors.
    package var floatPath: String?
    /// A metrics CSV to use instead of the one found beside the float (or int8) model.
    package var metricsPath: String?
    /// `--data`; nil: `$MNIST_DIR`, then the per-user cache.
    package var dataFlag: String?
    /// The command line, shown on the page.
    package var generator: String

    package init(modelPath: String, floatPath: String? = nil, metricsPath: String? = nil, dataFlag: String? = nil,
                generator: String = "mnistq report") {
        self.modelPath = modelPath; self.floatPath = floatPath; self.metricsPath = metricsPath
        self.dataFlag = dataFlag; self.generator = generator
    }
}

/// Reports (phase, done, total) while working; `@Sendable`, since the fidelity pass calls it from a worker thread.
package typealias ReportProgress = @Sendable (_ phase: String, _ done: Int, _ total: Int) -> Void

package enum ReportBuilder {
    /// Gathers everything `request` allows. Never throws: whatever cannot be loaded or measured is named in
    /// `missing`, and the rest is still reported.
    package static func build(_ request: ReportRequest, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                             progress: ReportProgress? = nil) -> ReportContent {
        var content = ReportContent(modelPath: request.modelPath, floatPath: request.floatPath, dataDirectory: nil, int8: nil,
                                    int8FileByteCount: 0, int8FileHead: [], floatKind: nil, history: nil, test: nil,
                                    missing: [], remarks: [], generator: request.generator)

        // The int8 model, through the public runtime API only.
        var model: Model? = nil
        // Read here rather than through `ModelLoader.load`: the page also shows the file's size and header bytes.
        if let bytes = try? FileReader.read(path: request.modelPath, limit: InputLimits.modelFileBytes, regularFilesOnly: true) {
            content.int8FileByteCount = bytes.count
            content.int8FileHead = Array(bytes.prefix(20))
            do {
                let loaded = try ModelLoader.decode(bytes, path: request.modelPath)
                model = loaded
                content.int8 = facts(of: loaded)
            } catch {
                content.missing.append("int8 model \(error). Without it the page has no int8 accuracy, confusion matrix, gallery or quantization chart.")
            }
        } else {
            content.missing.append("int8 model \(request.modelPath): cannot read the file (missing or not readable). Hint: pass --model with a file from `mnistq quantize`.")
        }

        // The float model.
        var parameters: CNNParameters? = nil
        if let floatPath = request.floatPath {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: floatPath, isDirectory: &isDirectory)
            do {
                parameters = try FloatModelSource.load(path: floatPath)
                content.floatKind = exists && isDirectory.boolValue ? "directory of trained.*.f32 tensors" : "float model file"
            } catch {
                content.missing.append("float model \(floatPath): \(error)")
            }
        } else {
            content.missing.append("float model: not given, so there is no float accuracy, agreement, float prediction or per-layer SQNR. Hint: add --float FILE.mnqf (the model `mnistq quantize` read).")
        }

        // The training metrics: --metrics, else beside the float model, else beside the int8 model under the name
        // of the float model it was made from (its "source-model" metadata).
        var metricsCandidates: [String] = []
        if let metricsPath = request.metricsPath {
            metricsCandidates = [metricsPath]
        } else {
            if let floatPath = request.floatPath { metricsCandidates.append(metricsPath(besideFloatModel: floatPath)) }
            if let source = content.int8?.metadataValue("source-model"), !source.isEmpty, !source.contains("/") {
                let folder = (request.modelPath as NSString).deletingLastPathComponent
                let candidate = metricsPath(besideFloatModel: (folder as NSString).appendingPathComponent(source))
                if !metricsCandidates.contains(candidate) { metricsCandidates.append(candidate) }
            }
        }
        var metricsProblems: [String] = []
        for candidate in metricsCandidates {
            do { content.history = try TrainingHistory.load(path: candidate); break } catch let error as MetricsFileError {
                metricsProblems.append("\(error.file): \(error.detail)")
            } catch { metricsProblems.append("\(candidate): \(error)") }
        }
        if content.history == nil {
            let looked = metricsCandidates.isEmpty ? "nowhere to look (no float model given and no source-model in the int8 model's metadata)"
                                                   : metricsProblems.joined(separator: "; ")
            content.missing.append("training metrics: \(looked), so there are no learning curves. Hint: `mnistq train --out NAME.mnqf` writes NAME.metrics.csv beside the model; pass --float NAME.mnqf or --metrics FILE.")
        }

        // The test images.
        guard model != nil || parameters != nil else { return content }
        let test: MNISTSplit
        do {
            let directory = try MNISTLocator.resolve(dataFlag: request.dataFlag, progress: progress != nil)
            content.dataDirectory = directory
            test = try MNIST.loadTest(directory: directory)
        } catch {
            content.missing.append("MNIST test images, so there is no accuracy, confusion matrix or gallery: \(error)")
            return content
        }
        content.test = evaluate(model: model, parameters: parameters, test: test, threads: threads, progress: progress,
                                content: &content)
        return content
    }

    /// `m.mnqf` → `m.metrics.csv`, as `mnistq train` names it (any other name gets `.metrics.csv` appended).
    package static func metricsPath(besideFloatModel path: String) -> String {
        (path.hasSuffix(".mnqf") ? String(path.dropLast(5)) : path) + ".metrics.csv"
    }

    static func facts(of model: Model) -> Int8ModelFacts {
        let layers = zip(ModelFormat.network, model.layers).map { spec, layer in
            Int8ModelFacts.Layer(name: spec.name, kind: layer.kind, outputCount: layer.outputCount, inputCount: layer.inputCount,
                                 inputScale: Double(layer.inputScale), outputScale: Double(layer.outputScale),
                                 weightScales: layer.weightScales.map(Double.init))
        }
        return Int8ModelFacts(header: model.header, metadata: model.metadata, fileByteCount: model.fileByteCount,
                              payloadByteCount: model.payloadByteCount, compressedPayloadByteCount: model.compressedPayloadByteCount,
                              parameterCount: model.parameterCount, arenaByteCount: model.arenaByteCount,
                              kernelName: "\(model.kernelName)", layers: layers)
    }

    static func evaluate(model: Model?, parameters: CNNParameters?, test: MNISTSplit, threads: Int,
                         progress: ReportProgress?, content: inout ReportContent) -> TestResults {
        var results = TestResults(labels: test.labels, int8Predictions: nil, int8Confidences: nil, floatPredictions: nil,
                                  layerFidelity: nil, imageURIs: [:])
        if let model {
            let scratch = InferenceScratch(for: model)
            let classifications = model.classifyBatch(pixels: test.images.pixels, scratch: scratch)
            results.int8Predictions = classifications.map { UInt8($0.digit) }
            results.int8Confidences = classifications.map { $0.probabilities()[$0.digit] }
            progress?("int8 model", test.count, test.count)
        }
        if let parameters {
            if let model {
                // Per-layer SQNR needs both networks' activations image by image: the quantizer's own measurement,
                // so the page shows what `mnistq quantize` reported.
                // A model that records its conv1 channel order (`ChannelPairing`) is compared with the float model's
                // channels in that order (the same function: only the per-layer comparison needs it).
                let order = model.metadataValue(forKey: ChannelPairing.metadataKey).flatMap { ChannelPairing.order(recorded: $0) }
                do {
                    let fidelity = try Fidelity.measure(parameters: parameters, reference: order.map { ChannelPairing.apply($0, to: parameters) },
                                                        layers: model.layers, split: test, threads: threads, progress: progress)
                    results.floatPredictions = fidelity.floatPredictions
                    results.layerFidelity = fidelity.layers
                    if fidelity.int8Predictions != results.int8Predictions! {
                        content.remarks.append("the runtime's predictions and the quantizer's int8 network differ on some images; the page shows the runtime's (this is a bug, please report it)")
                    }
                } catch {
                    content.missing.append("per-layer SQNR: \(error)")
                    results.floatPredictions = FloatCNN(parameters: parameters).predict(images: test.images, threads: threads)
                }
                if let equalization = content.int8?.metadataValue("equalization"), let e = Double(equalization), e != 0 {
                    content.remarks.append("the model was quantized with activation equalization \(equalization): its hidden layers stand for rescaled float activations, so the SQNR of conv1…fc2 here (against the float model as given) is lower than what `mnistq quantize` reported; the fc3 (logits) SQNR and all predictions are unaffected")
                }
            } else {
                results.floatPredictions = FloatCNN(parameters: parameters).predict(images: test.images, threads: threads)
            }
            progress?("float model", test.count, test.count)
        }
        // Images the page shows: every int8 mistake, every float/int8 disagreement, and float mistakes when there is
        // no int8 model.
        var shown = Set(results.int8Mistakes).union(results.disagreements)
        if results.int8Predictions == nil, let f = results.floatPredictions {
            shown.formUnion(test.labels.indices.filter { f[$0] != test.labels[$0] })
        }
        for index in shown.sorted() {
            results.imageURIs[index] = GrayPNG.dataURI(pixels: test.pixels(of: index), width: 28, height: 28)
        }
        return results
    }
}
