// What a report shows, gathered from the model files, the training metrics and the MNIST test images.
import Foundation
import MNISTQData
import MNISTQQuantizer
import MNISTQRuntime
import MNISTQTrainer

/// The int8 model as the public runtime API shows it.
package struct Int8ModelFacts: Sendable {
    package struct Layer: Sendable {
        package var name: String
        package var kind: QuantizedLayerKind
        package var outputCount: Int
        package var inputCount: Int
        package var inputScale: Double
        package var outputScale: Double
        /// One per output channel.
        package var weightScales: [Double]
    }
    package var header: ModelHeader
    package var metadata: [(key: String, value: String)]
    package var fileByteCount: Int
    package var payloadByteCount: Int
    package var compressedPayloadByteCount: Int
    package var parameterCount: Int
    package var arenaByteCount: Int
    package var kernelName: String
    package var layers: [Layer]

    package func metadataValue(_ key: String) -> String? { metadata.first { $0.key == key }?.value }
}

/// The int8 and float models on the 10,000 test images.
package struct TestResults: Sendable {
    /// True digit of every test image.
    package var labels: [UInt8]
    /// The int8 model's digit of every image (nil without a usable int8 model).
    package var int8Predictions: [UInt8]?
    /// The int8 model's softmax probability of its digit, per image.
    package var int8Confidences: [Float]?
    /// The float model's digit of every image (nil without a usable float model).
    package var floatPredictions: [UInt8]?
    /// Per-layer SQNR and scales (float and int8 both present), as `mnistq quantize` measures them.
    package var layerFidelity: [LayerFidelity]?
    /// Data URIs (PNG) of the images the page shows, by test image index.
    package var imageURIs: [Int: String]

    package var total: Int { labels.count }
    package var int8Correct: Int? { int8Predictions.map { correct($0) } }
    package var floatCorrect: Int? { floatPredictions.map { correct($0) } }
    /// Images where float and int8 predict the same digit.
    package var agreeing: Int? {
        guard let q = int8Predictions, let f = floatPredictions else { return nil }
        return zip(q, f).filter { $0 == $1 }.count
    }
    /// Indices of the images the int8 model gets wrong, ascending.
    package var int8Mistakes: [Int] {
        guard let q = int8Predictions else { return [] }
        return labels.indices.filter { q[$0] != labels[$0] }
    }
    /// Indices where float and int8 disagree, ascending.
    package var disagreements: [Int] {
        guard let q = int8Predictions, let f = floatPredictions else { return [] }
        return labels.indices.filter { q[$0] != f[$0] }
    }
    /// confusion[true][predicted] of `predictions`.
    package func confusion(_ predictions: [UInt8]) -> [[Int]] {
        var counts = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10)
        for (p, label) in zip(predictions, labels) { counts[Int(label)][Int(p)] += 1 }
        return counts
    }
    /// Accuracy per true digit (as `mnistq eval --json` reports it).
    package func perClassAccuracy(_ predictions: [UInt8]) -> [Double] {
        let m = confusion(predictions)
        return (0..<10).map { d in
            let total = m[d].reduce(0, +)
            return total > 0 ? Double(m[d][d]) / Double(total) : 0
        }
    }

    func correct(_ predictions: [UInt8]) -> Int { zip(predictions, labels).filter { $0 == $1 }.count }
}

/// Everything one report page shows, plus what could not be shown and why.
package struct ReportContent: Sendable {
    package var modelPath: String
    package var floatPath: String?
    package var dataDirectory: String?
    /// The int8 model, when it loaded.
    package var int8: Int8ModelFacts?
    /// Bytes of the int8 model file (0 when it could not be read).
    package var int8FileByteCount: Int
    /// The file's first bytes (at most 20), shown when the model does not load.
    package var int8FileHead: [UInt8]
    /// How the float model was found ("float model file", "directory of trained.*.f32 tensors").
    package var floatKind: String?
    /// The training run's metrics.
    package var history: TrainingHistory?
    /// Test-set results (nil without MNIST or without any usable model).
    package var test: TestResults?
    /// Things the page cannot show, each with the reason and a hint.
    package var missing: [String]
    /// Other remarks (how numbers were measured when that differs from `mnistq quantize`).
    package var remarks: [String]
    /// The mnistq command that wrote the page.
    package var generator: String
}
