// Fidelity of an int8 network against its float model on the test images: accuracy, agreement, SQNR, confusion.
import Foundation
import MNISTQData
import MNISTQRuntime
import MNISTQTrainer

/// Signal-to-quantization-noise ratio of one layer's output: 10·log10(Σ f² / Σ (f − q·scale)²) over all test
/// images, where f is the float network's activation (after ReLU/pool; logits for fc3) and q the int8 one.
public struct LayerFidelity: Sendable, Codable, Equatable {
    public var name: String
    public var sqnrDB: Double
    public var inputScale: Double
    public var outputScale: Double
    public var minWeightScale: Double
    public var maxWeightScale: Double
    enum CodingKeys: String, CodingKey {
        case name, sqnrDB = "sqnr_db", inputScale = "input_scale", outputScale = "output_scale"
        case minWeightScale = "min_weight_scale", maxWeightScale = "max_weight_scale"
    }
}

/// Float versus int8 on a labelled image set.
public struct FidelityReport: Sendable, Codable, Equatable {
    public var total: Int
    public var floatCorrect: Int
    public var int8Correct: Int
    /// Images where the int8 and float predictions are the same digit.
    public var agreeing: Int
    public var layers: [LayerFidelity]
    /// confusion[label][int8 prediction].
    public var confusion: [[Int]]
    /// Indices of the images where int8 and float disagree (at most the first 100).
    public var disagreements: [Int]
    /// Int8 predictions of every image (not encoded in JSON).
    public var int8Predictions: [UInt8]
    /// Float predictions of every image (not encoded in JSON).
    public var floatPredictions: [UInt8]

    public var floatAccuracy: Double { Double(floatCorrect) / Double(max(total, 1)) }
    public var int8Accuracy: Double { Double(int8Correct) / Double(max(total, 1)) }
    public var agreement: Double { Double(agreeing) / Double(max(total, 1)) }
    /// Float accuracy − int8 accuracy in percentage points (negative: int8 is better).
    public var dropPP: Double { Double(floatCorrect - int8Correct) / Double(max(total, 1)) * 100 }

    enum CodingKeys: String, CodingKey {
        case total, floatCorrect = "float_correct", int8Correct = "int8_correct", agreeing
        case floatAccuracy = "float_accuracy", int8Accuracy = "int8_accuracy", agreement, dropPP = "drop_pp"
        case layers, confusion, disagreements
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(total, forKey: .total); try c.encode(floatCorrect, forKey: .floatCorrect)
        try c.encode(int8Correct, forKey: .int8Correct); try c.encode(agreeing, forKey: .agreeing)
        try c.encode(floatAccuracy, forKey: .floatAccuracy); try c.encode(int8Accuracy, forKey: .int8Accuracy)
        try c.encode(agreement, forKey: .agreement); try c.encode(dropPP, forKey: .dropPP)
        try c.encode(layers, forKey: .layers); try c.encode(confusion, forKey: .confusion)
        try c.encode(disagreements, forKey: .disagreements)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        total = try c.decode(Int.self, forKey: .total); floatCorrect = try c.decode(Int.self, forKey: .floatCorrect)
        int8Correct = try c.decode(Int.self, forKey: .int8Correct); agreeing = try c.decode(Int.self, forKey: .agreeing)
        layers = try c.decode([LayerFidelity].self, forKey: .layers); confusion = try c.decode([[Int]].self, forKey: .confusion)
        disagreements = try c.decode([Int].self, forKey: .disagreements)
        int8Predictions = []; floatPredictions = []
    }

    init(total: Int, floatCorrect: Int, int8Correct: Int, agreeing: Int, layers: [LayerFidelity], confusion: [[Int]],
         disagreements: [Int], int8Predictions: [UInt8], floatPredictions: [UInt8]) {
        self.total = total; self.floatCorrect = floatCorrect; self.int8Correct = int8Correct; self.agreeing = agreeing
        self.layers = layers; self.confusion = confusion; self.disagreements = disagreements
        self.int8Predictions = int8Predictions; self.floatPredictions = floatPredictions
    }

    /// The human-readable report: accuracies, agreement, SQNR table, confusion matrix.
    public var text: String {
        func pct(_ x: Double) -> String { String(format: "%.2f%%", x * 100) }
        var s = ""
        s += "test images        \(total)\n"
        s += "float accuracy     \(pct(floatAccuracy))  (\(floatCorrect))\n"
        s += "int8 accuracy      \(pct(int8Accuracy))  (\(int8Correct))\n"
        s += "drop               \(String(format: "%+.2f", dropPP)) pp\n"
        s += "agreement          \(pct(agreement))  (\(total - agreeing) of \(total) images differ)\n"
        s += "\nlayer   SQNR dB   input scale   output scale   weight scales (min … max)\n"
        for l in layers {
            s += l.name.padding(toLength: 6, withPad: " ", startingAt: 0)
            s += String(format: "  %7.2f   %11.4g   %12.4g   %.4g … %.4g\n", l.sqnrDB, l.inputScale, l.outputScale,
                        l.minWeightScale, l.maxWeightScale)
        }
        s += "\nint8 confusion matrix (rows: true digit, columns: predicted)\n     "
        for p in 0..<10 { s += String(format: "%6d", p) }
        s += "\n"
        for (label, row) in confusion.enumerated() {
            s += String(format: "%4d ", label)
            for v in row { s += String(format: "%6d", v) }
            s += "\n"
        }
        return s
    }
}

public enum Fidelity {
    /// Runs the float model and the int8 layers on every image of `split` and compares them.
    /// Predictions are compared with `parameters` (the float model as given); per-layer SQNR with the
    /// activations of `reference` (the network's `floatReference`, which differs after equalization).
    /// `indices` restricts the comparison to those images (default: all). `threads` > 1 splits the images into
    /// contiguous slices run concurrently; every figure is the same bits as with one thread (each image's sums are
    /// kept and added up in image order afterwards).
    package static func measure(parameters: CNNParameters, reference: CNNParameters? = nil, layers: [QuantizedLayer],
                               split: MNISTSplit, indices: [Int]? = nil, threads: Int = 1,
                               progress: QuantizationProgress? = nil) throws -> FidelityReport {
        let indices = indices ?? Array(0..<split.count)
        let cnn = FloatCNN(parameters: parameters)
        let separateReference = reference != nil && reference != parameters
        let referenceCNN = FloatCNN(parameters: reference ?? parameters)
        let network = try Int8Passes.network(prefix: layers)
        let scales = layers.map { Double($0.outputScale) }
        let n = indices.count
        // Per image: Σ f² and Σ (f − q·scale)² of each of the 5 layers, and both predictions.
        var imageSignal = [Double](repeating: 0, count: n * 5), imageNoise = [Double](repeating: 0, count: n * 5)
        var floatPredictions = [UInt8](repeating: 0, count: n), int8Predictions = [UInt8](repeating: 0, count: n)
        let sliceCount = max(1, min(threads, n / 256 + 1))
        imageSignal.withUnsafeMutableBufferPointer { signalOut in
            imageNoise.withUnsafeMutableBufferPointer { noiseOut in
                floatPredictions.withUnsafeMutableBufferPointer { floatOut in
                    int8Predictions.withUnsafeMutableBufferPointer { int8Out in
                        // Each slice writes only its own images' entries.
                        nonisolated(unsafe) let signalOut = signalOut, noiseOut = noiseOut, floatOut = floatOut, int8Out = int8Out
                        DispatchQueue.concurrentPerform(iterations: sliceCount) { slice in
                            let lo = n * slice / sliceCount, hi = n * (slice + 1) / sliceCount
                            let arena = UnsafeMutableRawPointer.allocate(byteCount: network.arenaByteCount, alignment: 64)
                            defer { arena.deallocate() }
                            var f = FloatCNN.Trace(), r = FloatCNN.Trace()
                            func accumulate(_ k: Int, _ l: Int, _ real: [Float], _ ints: [Int32]) {
                                var s = 0.0, e = 0.0
                                for i in 0..<real.count {
                                    let r = Double(real[i]), d = r - Double(ints[i]) * scales[l]
                                    s += r * r; e += d * d
                                }
                                signalOut[k * 5 + l] = s; noiseOut[k * 5 + l] = e
                            }
                            for k in lo..<hi {
                                let px = split.pixels(of: indices[k])
                                cnn.forward(pixels: px, trace: &f)
                                let q = px.withUnsafeBufferPointer { network.layerOutputs(pixels: $0.baseAddress!, reference: false, arena: arena) }
                                let a: FloatCNN.Trace
                                if separateReference { referenceCNN.forward(pixels: px, trace: &r); a = r } else { a = f }
                                accumulate(k, 0, a.pool1, q[0]); accumulate(k, 1, a.pool2, q[1])
                                accumulate(k, 2, a.hidden1, q[2]); accumulate(k, 3, a.hidden2, q[3])
                                accumulate(k, 4, a.logits, q[4])
                                floatOut[k] = UInt8(Classification.indexOfHighest(f.logits))
                                int8Out[k] = UInt8(Classification.indexOfHighest(q[4]))
                                // The first slice reports for all (the slices run at about the same speed).
                                if slice == 0 && ((k - lo) % 500 == 499 || k == hi - 1) {
                                    progress?("evaluating", min(n, (k - lo + 1) * sliceCount), n)
                                }
                            }
                        }
                    }
                }
            }
        }
        var signal = [Double](repeating: 0, count: 5), noise = [Double](repeating: 0, count: 5)
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10)
        var floatCorrect = 0, int8Correct = 0, agreeing = 0, disagreements = [Int]()
        for (k, i) in indices.enumerated() {
            for l in 0..<5 { signal[l] += imageSignal[k * 5 + l]; noise[l] += imageNoise[k * 5 + l] }
            let fp = Int(floatPredictions[k]), qp = Int(int8Predictions[k])
            let label = Int(split.labels[i])
            if fp == label { floatCorrect += 1 }
            if qp == label { int8Correct += 1 }
            if fp == qp { agreeing += 1 } else if disagreements.count < 100 { disagreements.append(i) }
            if label < 10 { confusion[label][qp] += 1 }
        }
        if n > 0 { progress?("evaluating", n, n) }
        let fidelity = layers.enumerated().map { l, layer in
            LayerFidelity(name: LayerGeometry.names[l],
                          sqnrDB: noise[l] > 0 ? 10 * log10(signal[l] / noise[l]) : .infinity,
                          inputScale: Double(layer.inputScale), outputScale: Double(layer.outputScale),
                          minWeightScale: Double(layer.weightScales.min() ?? 0), maxWeightScale: Double(layer.weightScales.max() ?? 0))
        }
        return FidelityReport(total: n, floatCorrect: floatCorrect, int8Correct: int8Correct, agreeing: agreeing,
                              layers: fidelity, confusion: confusion, disagreements: disagreements,
                              int8Predictions: int8Predictions, floatPredictions: floatPredictions)
    }

    /// Float predictions of every image of `split` (first index of the largest logit), by `FloatCNN.forward`.
    public static func floatPredictions(parameters: CNNParameters, split: MNISTSplit) -> [UInt8] {
        let cnn = FloatCNN(parameters: parameters)
        var trace = FloatCNN.Trace()
        return (0..<split.count).map { i in
            cnn.forward(pixels: split.pixels(of: i), trace: &trace)
            return UInt8(Classification.indexOfHighest(trace.logits))
        }
    }
}
