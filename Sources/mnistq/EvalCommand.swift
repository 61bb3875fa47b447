// `mnistq eval`: test accuracy of an int8 model file, a float model file, or a raw float model directory.
import ArgumentParser
import Foundation
import MNISTQData
import MNISTQImage
import MNISTQQuantizer
import MNISTQRuntime
import MNISTQSupport
import MNISTQTrainer

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Print a model's accuracy on the 10,000 MNIST test images.",
        discussion: "Accepts int8 model files (from `mnistq quantize`), float model files (from `mnistq train`) and directories of trained.*.f32 files; the kind is detected from the file's magic."
    )

    @Option(help: "Model: an int8 file (.mnq8), a float file (.mnqf) or a directory of trained.*.f32 files.")
    var model: String

    @OptionGroup var mnist: DataOption

    @OptionGroup var output: JSONOption

    func validate() throws {
        guard !model.isEmpty else { throw ValidationError("--model must name a file or directory") }
    }

    func run() throws {
        let loaded: LoadedModel
        do { loaded = try LoadedModel.load(path: model) } catch {
            throw CommandFailure.usage("\(error)")
        }
        let test: MNISTSplit
        do { test = try MNIST.loadTest(directory: try mnist.directory()) } catch let error as DataError {
            throw CommandFailure.usage("\(error)")
        }
        let started = Date()
        let predictions = loaded.predictions(on: test)
        let seconds = Date().timeIntervalSince(started)
        var correct = 0
        var perClass = [(correct: Int, total: Int)](repeating: (0, 0), count: 10)
        for (p, label) in zip(predictions, test.labels) {
            if p == label { correct += 1 }
            if label < 10 { perClass[Int(label)].total += 1; if p == label { perClass[Int(label)].correct += 1 } }
        }
        let result = EvalResult(model: model, modelKind: loaded.kind, correct: correct, total: test.count,
                                seconds: seconds,
                                perClassAccuracy: perClass.map { $0.total > 0 ? Double($0.correct) / Double($0.total) : 0 })
        if output.json {
            try printJSON(result)
        } else {
            print("model          \(model) (\(loaded.kind))")
            print(String(format: "test accuracy  %.2f%%  (%d / %d)", result.accuracy * 100, correct, test.count))
            print(String(format: "speed          %.0f images/s (%@)", result.imagesPerSecond, loaded.execution))
        }
    }
}

/// The `--json` document of `mnistq eval` (keys in snake_case: model_kind, images_per_second, per_class_accuracy).
struct EvalResult: Encodable {
    let model: String, modelKind: String
    let correct: Int, total: Int, accuracy: Double
    let seconds: Double, imagesPerSecond: Double
    let perClassAccuracy: [Double]

    init(model: String, modelKind: String, correct: Int, total: Int, seconds: Double, perClassAccuracy: [Double]) {
        self.model = model
        self.modelKind = modelKind
        self.correct = correct
        self.total = total
        accuracy = Double(correct) / Double(max(total, 1))
        self.seconds = seconds
        imagesPerSecond = seconds > 0 ? Double(total) / seconds : 0
        self.perClassAccuracy = perClassAccuracy
    }
}

/// A model of either kind, detected from the file's first bytes.
enum LoadedModel {
    case int8(Model)
    case float(CNNParameters)

    var kind: String {
        switch self { case .int8: return "int8"; case .float: return "float" }
    }

    static func load(path: String) throws -> LoadedModel {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
            // Read like a classify input: regular files only, so a FIFO named as the model cannot hang eval.
            let bytes: [UInt8]
            do { bytes = try ModelFileArgument.read(RawPath(path)) } catch { throw ValidationError("\(error)") }
            if bytes.starts(with: ModelFormat.magic) {
                do { return .int8(try ModelLoader.decode(bytes, path: path)) } catch { throw ValidationError("\(error)") }
            }
            if bytes.starts(with: FloatModelFile.magic) {
                return .float(try FloatModelFile.decode(bytes, file: path))
            }
            let head = bytes.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw ValidationError("\(path): not a model file: it starts with [\(head)], expected \"MNQ8\" (int8 model from `mnistq quantize`) or \"MNQF\" (float model from `mnistq train`)")
        }
        return .float(try FloatModelSource.load(path: path))
    }

    /// How `predictions(on:)` runs, for the speed line.
    var execution: String {
        switch self {
        case .int8: return "single thread"
        case .float: return "batched, \(LoadedModel.floatThreads) threads"
        }
    }

    static let floatThreads = ProcessInfo.processInfo.activeProcessorCount

    func predictions(on split: MNISTSplit) -> [UInt8] {
        switch self {
        case .float(let parameters):
            // The trainer's batched evaluation (im2col + GEMM, every core). Its logits can differ from
            // FloatCNN.forward, which `mnistq quantize` reports, in the last bits; the predictions were equal
            // on all 10,000 test images for the golden model and a trained one.
            return FloatCNN(parameters: parameters).predict(images: split.images, threads: LoadedModel.floatThreads)
        case .int8(let model):
            let scratch = InferenceScratch(for: model)
            return model.classifyBatch(pixels: split.images.pixels, scratch: scratch).map { UInt8($0.digit) }
        }
    }
}
