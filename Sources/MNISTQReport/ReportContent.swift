// What a report shows, gathered from the model files, the training metrics and the MNIST test images.
import Foundation
import MNISTQData
import MNISTQQuantizer
import MNISTQRuntime
import MNISTQTrainer

/// The int8 model as the public runtime API shows it.
public struct Int8ModelFacts: Sendable {
    public struct Layer: Sendable {
        public var name: String
        public var kind: QuantizedLayerKind
        public var outputCount: Int
        public var inputCount: Int
        public var inputScale: Double
        public var outputScale: Double
        /// One per output channel.
        public var weightScales: [Double]
    }
    package var header: ModelHeader
    public var metadata: [(key: String, value: String)]
    public var fileByteCount: Int
    public var payloadByteCount: Int
    public var compressedPayloadByteCount: Int
    public var parameterCount: Int
    public var arenaByteCount: Int
    public var kernelName: String
    public var layers: [Layer]

    public func metadataValue(_ key: String) -> String? { metadata.first { $0.key == key }?.value }
}

/// The int8 and float models on the 10,000 test images.
public struct TestResults: Sendable {
    /// True digit of every test image.
    public var labels: [UInt8]
    /// The int8 model's digit of every image (nil without a usable int8 model).
    public var int8Predictions: [UInt8]?
    /// The int8 model's softmax probability of its digit, per image.
    public var int8Confidences: [Float]?
    /// The float model's digit of every image (nil without a usable float model).
    public var floatPredictions: [UInt8]?
    /// Per-layer SQNR and scales (float and int8 both present), as `mnistq quantize` measures them.
    public var layerFidelity: [LayerFidelity]?
    /// Data URIs (PNG) of the images the page shows, by test image index.
    public var imageURIs: [Int: String]

    public var total: Int { labels.count }
    public var int8Correct: Int? { int8Predictions.map { correct($0) } }
    public var floatCorrect: Int? { floatPredictions.map { correct($0) } }
    /// Images where float and int8 predict the same digit.
    public var agreeing: Int? {
        guard let q = int8Predictions, let f = floatPredictions else { return nil }
        return zip(q, f).filter { $0 == $1 }.count
    }
    /// Indices of the images the int8 model gets wrong, ascending.
    public var int8Mistakes: [Int] {
        guard let q = int8Predictions else { return [] }
        return labels.indices.filter { q[$0] != labels[$0] }
    }
    /// Indices where float and int8 disagree, ascending.
    public var disagreements: [Int] {
        guard let q = int8Predictions, let f = floatPredictions else { return [] }
        return labels.indices.filter { q[$0] != f[$0] }
    }
    /// confusion[true][predicted] of `predictions`.
    public func confusion(_ predictions: [UInt8]) -> [[Int]] {
        var counts = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10)
        for (p, label) in zip(predictions, labels) { counts[Int(label)][Int(p)] += 1 }
        return counts
    }
    /// Accuracy per true digit (as `mnistq eval --json` reports it).
    public func perClassAccuracy(_ predictions: [UInt8]) -> [Double] {
        let m = confusion(predictions)
        return (0..<10).map { d in
            let total = m[d].reduce(0, +)
            return total > 0 ? Double(m[d][d]) / Double(total) : 0
        }
    }

    func correct(_ predictions: [UInt8]) -> Int { zip(predictions, labels).filter { $0 == $1 }.count }
}

/// Everything one report page shows, plus what could not be shown and why.
public struct ReportContent: Sendable {
    public var modelPath: String
    public var floatPath: String?
    public var dataDirectory: String?
    /// The int8 model, when it loaded.
    public var int8: Int8ModelFacts?
    /// Bytes of the int8 model file (0 when it could not be read).
    public var int8FileByteCount: Int
    /// The file's first bytes (at most 20), shown when the model does not load.
    public var int8FileHead: [UInt8]
    /// How the float model was found ("float model file", "directory of trained.*.f32 tensors").
    public var floatKind: String?
    /// The training run's metrics.
    public var history: TrainingHistory?
    /// Test-set results (nil without MNIST or without any usable model).
    public var test: TestResults?
    /// Things the page cannot show, each with the reason and a hint.
    public var missing: [String]
    /// Other remarks (how numbers were measured when that differs from `mnistq quantize`).
    public var remarks: [String]
    /// The mnistq command that wrote the page.
    public var generator: String
}
