// Post-training int8 quantization of the float CNN: calibration, per-channel weights, bias correction.
import MNISTQData
import MNISTQRuntime
import MNISTQTrainer

/// How weights get their scales.
public enum WeightGranularity: String, Sendable, CaseIterable, Codable {
    /// One scale per output channel (the default; what the runtime is built for).
    case perChannel = "per-channel"
    /// One scale for the whole tensor (stored repeated per channel).
    case perTensor = "per-tensor"
}

/// How a weight scale is picked from the weights it covers.
public enum WeightScaleMethod: String, Sendable, CaseIterable, Codable {
    /// Largest magnitude maps to 127.
    case maxabs
    /// The clip in [0.5, 1] × max-abs minimising Σ (w − ŵ)² over the covered weights.
    case mse
}

/// How float weights become int8 once their scales are fixed.
public enum WeightRounding: String, Sendable, CaseIterable, Codable {
    /// Each weight to its nearest int8 step.
    case nearest
    /// fc2 and fc3: GPTQ-style error feedback on the calibration inputs (see `ErrorFeedbackRounding`); others nearest.
    /// (fc1 too would cost ~10 s for its 1568×1568 Hessian and measured no gain in logit SQNR.)
    case gptq
}

/// Settings of one quantization run. Same settings + same float model + same data → byte-identical layers.
public struct QuantizationOptions: Sendable, Equatable, Codable {
    /// Calibration images drawn (without replacement, seeded) from the MNIST training split.
    public var calibrationImages: Int
    /// How each activation's clip (real value of uint8 255) is chosen.
    public var method: CalibrationMethod
    /// Percentile for `.percentile`, in percent (0 < p ≤ 100).
    public var percentile: Double
    public var granularity: WeightGranularity
    public var weightScale: WeightScaleMethod
    /// Shift each int32 bias so the mean int8 pre-activation on the calibration images equals the float one
    /// (undoes the systematic part of weight and input rounding, layer by layer).
    public var biasCorrection: Bool
    /// Seeds the choice of calibration images.
    public var seed: UInt64
    /// Exponent of the activation range equalization (see `Equalization`); 0 turns it off.
    public var equalization: Double
    /// Default `.gptq`: +0.4 to +1.1 dB logit SQNR on held-out training images over `.nearest` (golden model and
    /// two trainer models), for well under a second.
    public var rounding: WeightRounding

    /// 2,000: on the golden model, per-layer SQNR reaches the 10,000-image values here (fc1 42.6 dB, logits
    /// 45.5 dB; 250 images give 41.9 and 45.0) while held-out agreement is at its noise floor (2–6 of 20,000
    /// differ) from 250 to 10,000 images; more images only cost calibration time.
    public static let defaultCalibrationImages = 2000

    enum CodingKeys: String, CodingKey {
        case calibrationImages = "calibration_images", method, percentile, granularity
        case weightScale = "weight_scale", biasCorrection = "bias_correction", seed, equalization, rounding
    }

    public init(calibrationImages: Int = QuantizationOptions.defaultCalibrationImages, method: CalibrationMethod = .minmax,
                percentile: Double = 99.99, granularity: WeightGranularity = .perChannel,
                weightScale: WeightScaleMethod = .maxabs, biasCorrection: Bool = true, seed: UInt64 = 0,
                equalization: Double = 0, rounding: WeightRounding = .gptq) {
        self.calibrationImages = calibrationImages; self.method = method; self.percentile = percentile
        self.granularity = granularity; self.weightScale = weightScale; self.biasCorrection = biasCorrection
        self.seed = seed; self.equalization = equalization; self.rounding = rounding
    }
}

/// Why a quantization could not be done.
public struct QuantizationError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The result of quantizing: the int8 layers and the float parameters whose activations they approximate.
public struct QuantizedNetwork: Sendable, Equatable {
    package var layers: [QuantizedLayer]
    /// Function-equivalent to the input float model (equal to it without equalization); its hidden activations are
    /// the ones the int8 layers' uint8 outputs stand for, so per-layer SQNR compares against these.
    public var floatReference: CNNParameters
}

/// Reports (phase, done, total) while working; called from the working thread.
public typealias QuantizationProgress = (_ phase: String, _ done: Int, _ total: Int) -> Void

/// The five layers in network order, derived from the model format's network (`ModelFormat.network`).
enum LayerGeometry {
    static let names = ModelFormat.network.map(\.name)
    static let kinds = ModelFormat.network.map(\.kind)
    static let outputs = ModelFormat.network.map(\.outputCount)
    static let inputs = ModelFormat.network.map(\.inputCount)
    /// Weights per output channel.
    static let fanIn = ModelFormat.network.map(\.weightsPerOutput)
    /// Input side for conv layers (0 for linear ones): the image side, halved by each conv's 2×2 max-pool.
    static let sides: [Int] = {
        var side = Int(Double(Int8Network.pixelCount).squareRoot())
        return kinds.map { kind in
            guard kind == .conv5x5ReluMaxPool else { return 0 }
            defer { side /= 2 }
            return side
        }
    }()
    /// Accumulators per output channel and image: side² for the same-padded convs (before pooling), 1 for linear.
    static let positions = sides.map { $0 == 0 ? 1 : $0 * $0 }
    /// Elements of each layer's uint8 input per image.
    static let inputSizes = zip(inputs, positions).map { $0 * $1 }
    /// Elements of each layer's uint8 output per image (conv: pooled, a quarter of the positions).
    static let outputSizes = zip(outputs, zip(kinds, positions)).map { count, kp in
        kp.0 == .conv5x5ReluMaxPool ? count * kp.1 / 4 : count
    }
}

public enum Quantizer {
    /// Pixels are uint8 0...255 standing for pixel/255, so the first layer's input scale is exactly 1/255.
    public static let pixelScale: Double = 1.0 / 255

    /// The calibration image indices for `count` images out of `available`, seeded: a partial Fisher–Yates
    /// shuffle driven by SplitMix64, returned in ascending order.
    public static func calibrationIndices(count: Int, available: Int, seed: UInt64) -> [Int] {
        let n = min(count, available)
        var pool = Array(0..<available)
        var state = seed
        for i in 0..<n {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            let j = i + Int(z % UInt64(available - i))
            pool.swapAt(i, j)
        }
        return pool[0..<n].sorted()
    }

    /// `count` training images that are NOT among the calibration images of `options` (seeded, ascending):
    /// a held-out set for choosing settings without looking at the test images.
    public static func holdoutIndices(count: Int, available: Int, options: QuantizationOptions) -> [Int] {
        let calibration = Set(calibrationIndices(count: options.calibrationImages, available: available, seed: options.seed))
        let rest = (0..<available).filter { !calibration.contains($0) }
        let picked = calibrationIndices(count: count, available: rest.count, seed: options.seed &+ 0x5EED)
        return picked.map { rest[$0] }
    }

    /// Quantizes `parameters` using calibration images from `training` (the MNIST training split).
    public static func quantize(parameters original: CNNParameters, training: MNISTSplit, options: QuantizationOptions,
                                progress: QuantizationProgress? = nil) throws -> QuantizedNetwork {
        guard options.calibrationImages >= 1 else {
            throw QuantizationError("--calibration-images must be at least 1 (found \(options.calibrationImages))")
        }
        guard options.equalization >= 0 && options.equalization <= 1 else {
            throw QuantizationError("equalization exponent must be in 0...1 (found \(options.equalization))")
        }
        guard options.percentile > 0 && options.percentile <= 100 else {
            throw QuantizationError("percentile must be in (0, 100] (found \(options.percentile))")
        }
        for (name, tensor) in zip(CNNShape.names, original.tensors) where !tensor.allSatisfy({ $0.isFinite }) {
            throw QuantizationError("float model parameter \(name) contains NaN or infinity; hint: the model diverged, retrain it")
        }
        let indices = calibrationIndices(count: options.calibrationImages, available: training.count, seed: options.seed)
        let n = indices.count
        var parameters = original
        if options.equalization > 0 {
            progress?("equalizing", 0, n)
            let ranges = Equalization.channelRanges(parameters: original, split: training, indices: indices)
            parameters = Equalization.apply(original, factors: Equalization.factors(ranges: ranges, power: options.equalization))
        }

        // Float pass: activation histograms (for output scales) and mean pre-activations (bias-correction targets).
        var histograms = [ActivationHistogram](repeating: ActivationHistogram(), count: 4)
        var floatMeans = LayerGeometry.outputs.map { [Double](repeating: 0, count: $0) }
        let cnn = FloatCNN(parameters: parameters)
        var acts = FloatCNN.Trace()
        for (done, index) in indices.enumerated() {
            cnn.forward(pixels: training.pixels(of: index), trace: &acts)
            histograms[0].add(acts.pool1); histograms[1].add(acts.pool2)
            histograms[2].add(acts.hidden1); histograms[3].add(acts.hidden2)
            Self.addChannelSums(acts.conv1, channels: 16, into: &floatMeans[0])
            Self.addChannelSums(acts.conv2, channels: 32, into: &floatMeans[1])
            Self.addChannelSums(acts.fc1, channels: 120, into: &floatMeans[2])
            Self.addChannelSums(acts.fc2, channels: 84, into: &floatMeans[3])
            Self.addChannelSums(acts.logits, channels: 10, into: &floatMeans[4])
            if done % 256 == 255 || done == n - 1 { progress?("calibrating (float)", done + 1, n) }
        }
        let positions = LayerGeometry.positions.map(Double.init)
        for l in 0..<5 { floatMeans[l] = floatMeans[l].map { $0 / (Double(n) * positions[l]) } }

        var outputScales = [Double]()
        for l in 0..<4 {
            let clip = histograms[l].clip(method: options.method, percentile: options.percentile)
            // An all-zero activation (dead layer) still needs a valid positive scale; any value works.
            outputScales.append(clip > 0 ? clip / 255 : 1.0 / 255)
        }

        // Integer pass, layer by layer: each layer is quantized seeing the int8 outputs of the layers before it.
        var pixels = [UInt8](repeating: 0, count: n * 784)
        for (k, index) in indices.enumerated() {
            let px = training.pixels(of: index)
            for (j, v) in px.enumerated() { pixels[k * 784 + j] = v }
        }
        var inputs = pixels
        var layers = [QuantizedLayer]()
        for l in 0..<5 {
            let inputScale = l == 0 ? pixelScale : outputScales[l - 1]
            let scaleCache = weightScales(weights: parameters.tensors[2 * l], channels: LayerGeometry.outputs[l],
                                          granularity: options.granularity, method: options.weightScale)
            var layer = try makeLayer(index: l, parameters: parameters, inputScale: inputScale, weightScales: scaleCache)
            let inSize = LayerGeometry.inputSizes[l]
            if options.rounding == .gptq && l >= 3 {
                progress?("error-feedback rounding \(LayerGeometry.names[l])", 0, n)
                if let q = ErrorFeedbackRounding.round(weights: parameters.tensors[2 * l], rows: layer.outputCount, k: inSize,
                                                       scales: scaleCache, inputs: inputs, samples: n) {
                    layer.weights = q
                }
                progress?("error-feedback rounding \(LayerGeometry.names[l])", n, n)
            }
            if options.biasCorrection {
                progress?("bias correction \(LayerGeometry.names[l])", 0, n)
                let sums = Self.accumulatorSums(layer, layerIndex: l, inputs: inputs, samples: n)
                progress?("bias correction \(LayerGeometry.names[l])", n, n)
                for c in 0..<layer.outputCount {
                    let meanAccumulator = sums[c] / (Double(n) * positions[l])
                    let unit = inputScale * scaleCache[c]
                    let shift = (floatMeans[l][c] / unit - meanAccumulator).rounded()
                    let corrected = Double(layer.bias[c]) + shift
                    guard abs(corrected) < 0x1p30 else {
                        throw QuantizationError("\(LayerGeometry.names[l]) bias \(c) after correction does not fit in int32 (\(corrected))")
                    }
                    layer.bias[c] = Int32(corrected)
                }
            }
            // After bias correction: the scores layer's output scale bounds the accumulator, corrected bias included.
            try setRescale(&layer, name: LayerGeometry.names[l], inputScale: inputScale,
                           weightScales: scaleCache, outputScale: l < 4 ? outputScales[l] : nil)
            layers.append(layer)
            guard l < 4 else { break }
            inputs = try Int8Passes.lastLayerOutputs(layers: layers, pixels: pixels, count: n)
        }
        return QuantizedNetwork(layers: layers, floatReference: parameters)
    }

    /// Σ over the `samples` images of `inputs` ([samples, inputSize]) and over output positions of layer `l`'s
    /// Int32 accumulators (bias included, before pooling and rescaling), per output channel.
    ///
    /// By linearity this is samples · positions · bias + Σ_k weight[c, k] · T_k, where T_k sums the inputs that
    /// weight tap k meets (conv: the tap's shifted window, padding reading 0). All of it is exact in Int64
    /// (|T_k| ≤ 60,000 · 784 · 255 < 2^34), so it equals summing every accumulator one by one.
    static func accumulatorSums(_ layer: QuantizedLayer, layerIndex l: Int, inputs: [UInt8], samples n: Int) -> [Double] {
        let inSize = LayerGeometry.inputSizes[l], taps = LayerGeometry.fanIn[l]
        var totals = [Int64](repeating: 0, count: inSize)
        inputs.withUnsafeBufferPointer { x in
            for k in 0..<n {
                let image = x.baseAddress! + k * inSize
                for i in 0..<inSize { totals[i] &+= Int64(image[i]) }
            }
        }
        var tapSums = totals, positions: Int64 = 1
        if l < 2 {
            // T[(c·25 + ky·5 + kx)] = Σ input[c, iy, ix] over iy ∈ [ky−2, side+ky−2) ∩ [0, side), same for ix.
            let side = LayerGeometry.sides[l]
            positions = Int64(LayerGeometry.positions[l])
            tapSums = [Int64](repeating: 0, count: taps)
            for c in 0..<layer.inputCount {
                for ky in 0..<5 {
                    for kx in 0..<5 {
                        var s: Int64 = 0
                        for iy in max(0, ky - 2)..<min(side, side + ky - 2) {
                            for ix in max(0, kx - 2)..<min(side, side + kx - 2) { s &+= totals[(c * side + iy) * side + ix] }
                        }
                        tapSums[c * 25 + ky * 5 + kx] = s
                    }
                }
            }
        }
        return (0..<layer.outputCount).map { c in
            var sum = Int64(n) * positions * Int64(layer.bias[c])
            for k in 0..<taps { sum &+= Int64(layer.weights[c * taps + k]) * tapSums[k] }
            return Double(sum)
        }
    }

    static func addChannelSums(_ values: [Float], channels: Int, into sums: inout [Double]) {
        let per = values.count / channels
        for c in 0..<channels {
            var s: Double = 0
            for j in 0..<per { s += Double(values[c * per + j]) }
            sums[c] += s
        }
    }

    /// Per-channel (or per-tensor) symmetric weight scales: real value of one int8 step.
    static func weightScales(weights: [Float], channels: Int, granularity: WeightGranularity,
                             method: WeightScaleMethod) -> [Double] {
        let per = weights.count / channels
        func scale(_ w: ArraySlice<Float>) -> Double {
            let maxAbs = w.reduce(0) { max($0, Double(abs($1))) }
            guard maxAbs > 0 else { return 1 } // all-zero channel: any positive scale quantizes it exactly
            guard method == .mse else { return maxAbs / 127 }
            var best = maxAbs / 127, bestError = Double.infinity
            for k in stride(from: 1000, through: 500, by: -2) {
                let s = maxAbs * Double(k) / 1000 / 127
                var e = 0.0
                for v in w {
                    let q = min(max((Double(v) / s).rounded(), -127), 127)
                    e += (Double(v) - q * s) * (Double(v) - q * s)
                }
                if e < bestError { bestError = e; best = s }
            }
            return best
        }
        switch granularity {
        case .perTensor:
            return [Double](repeating: scale(weights[...]), count: channels)
        case .perChannel:
            return (0..<channels).map { scale(weights[($0 * per)..<(($0 + 1) * per)]) }
        }
    }

    /// One layer with round-to-nearest weights and biases (before bias correction); its rescale is left empty for
    /// `setRescale` once the bias is final.
    static func makeLayer(index l: Int, parameters: CNNParameters, inputScale: Double,
                          weightScales scales: [Double]) throws -> QuantizedLayer {
        let w = parameters.tensors[2 * l], b = parameters.tensors[2 * l + 1]
        let channels = LayerGeometry.outputs[l], per = LayerGeometry.fanIn[l]
        var q = [Int8](repeating: 0, count: w.count)
        var bias = [Int32](repeating: 0, count: channels)
        for c in 0..<channels {
            for i in 0..<per {
                q[c * per + i] = Int8(min(max((Double(w[c * per + i]) / scales[c]).rounded(), -127), 127))
            }
            let qb = (Double(b[c]) / (inputScale * scales[c])).rounded()
            guard abs(qb) < 0x1p30 else {
                throw QuantizationError("\(LayerGeometry.names[l]) bias \(c) = \(b[c]) does not fit in int32 at scale \(inputScale * scales[c]); hint: the model has extreme biases")
            }
            bias[c] = Int32(qb)
        }
        return QuantizedLayer(kind: LayerGeometry.kinds[l], outputCount: channels, inputCount: LayerGeometry.inputs[l],
                              weights: q, bias: bias, multiplier: [], shift: [],
                              inputScale: Float(inputScale), outputScale: 0, weightScales: scales.map { Float($0) })
    }

    /// Sets the output scale and per-channel multiplier + shift. `outputScale` nil means the scores layer: the
    /// finest scale at which no channel can saturate Int32 (the largest possible |acc| maps to 2^30), so the
    /// argmax is decided at the accumulator's full precision.
    static func setRescale(_ layer: inout QuantizedLayer, name: String, inputScale: Double, weightScales scales: [Double],
                           outputScale: Double?) throws {
        let channels = layer.outputCount, per = layer.weights.count / channels
        let outScale: Double
        if let s = outputScale {
            outScale = s
        } else {
            var needed = 0.0
            for c in 0..<channels {
                var bound = Double(abs(Int(layer.bias[c])))
                for i in 0..<per { bound += 255 * Double(abs(Int(layer.weights[c * per + i]))) }
                needed = max(needed, bound * inputScale * scales[c])
            }
            outScale = needed > 0 ? needed / 0x1p30 : 1
        }
        var multipliers = [Int32](), shifts = [Int8]()
        for c in 0..<channels {
            let real = inputScale * scales[c] / outScale
            guard let rq = Requantization.from(real: real) else {
                throw QuantizationError("\(name) channel \(c): rescale factor \(real) is outside \(Requantization.representableRange); hint: the layer's weights or activations are degenerate")
            }
            multipliers.append(rq.multiplier); shifts.append(rq.shift)
        }
        layer.multiplier = multipliers; layer.shift = shifts; layer.outputScale = Float(outScale)
    }
}
