// The quantizer's own plain int8 executor of the QuantizedLayer contract, used while calibrating layer by layer.
import MNISTQRuntime

/// Integer activations of one image through the five quantized layers.
struct Int8Activations {
    /// conv1 out [16, 14, 14], conv2 out [32, 7, 7], fc1 out (120), fc2 out (84): uint8, zero point 0.
    var pool1 = [UInt8](repeating: 0, count: 16 * 196)
    var pool2 = [UInt8](repeating: 0, count: 1568)
    var hidden1 = [UInt8](repeating: 0, count: 120)
    var hidden2 = [UInt8](repeating: 0, count: 84)
    /// fc3 scores; real logit ≈ score · outputScale.
    var scores = [Int32](repeating: 0, count: 10)

    /// Predicted digit: the first index of the highest score.
    var prediction: Int { Int8Forward.argmax(scores) }
}

/// Reusable buffers for repeated int8 forward passes (one instance per thread). Follows the arithmetic of
/// `QuantizedLayer`'s doc comment literally; the runtime's executors must agree with it bit for bit.
struct Int8Forward {
    /// im2col rows, [in·25, side²]; sized for the larger layer (conv2: 400 × 196 ≥ conv1: 25 × 784).
    private var columns = [UInt8](repeating: 0, count: 400 * 196)
    private(set) var accumulators = [Int32](repeating: 0, count: 16 * 784)

    init() {}

    /// Runs all five layers on one image.
    mutating func run(layers: [QuantizedLayer], pixels: ArraySlice<UInt8>, into out: inout Int8Activations) {
        let input = Array(pixels)
        convolve(layers[0], input: input, side: 28, output: &out.pool1)
        convolve(layers[1], input: out.pool1, side: 14, output: &out.pool2)
        linear(layers[2], input: out.pool2, output: &out.hidden1)
        linear(layers[3], input: out.hidden1, output: &out.hidden2)
        scores(layers[4], input: out.hidden2, output: &out.scores)
    }

    /// Conv accumulators (bias included, before pooling) into `accumulators` as [out, side²].
    mutating func convolutionAccumulators(_ layer: QuantizedLayer, input: [UInt8], side: Int) {
        let positions = side * side, rows = layer.inputCount * 25
        let needed = layer.outputCount * positions
        if accumulators.count < needed { accumulators = [Int32](repeating: 0, count: needed) }
        if columns.count < rows * positions { columns = [UInt8](repeating: 0, count: rows * positions) }
        input.withUnsafeBufferPointer { x in
            columns.withUnsafeMutableBufferPointer { col in
                for c in 0..<layer.inputCount {
                    for ky in 0..<5 {
                        for kx in 0..<5 {
                            let row = (c * 25 + ky * 5 + kx) * positions
                            for y in 0..<side {
                                let iy = y + ky - 2
                                for xx in 0..<side {
                                    let ix = xx + kx - 2
                                    col[row + y * side + xx] = (iy >= 0 && iy < side && ix >= 0 && ix < side)
                                        ? x[(c * side + iy) * side + ix] : 0
                                }
                            }
                        }
                    }
                }
            }
        }
        columns.withUnsafeBufferPointer { col in
            layer.weights.withUnsafeBufferPointer { w in
                accumulators.withUnsafeMutableBufferPointer { acc in
                    for oc in 0..<layer.outputCount {
                        let o = acc.baseAddress! + oc * positions
                        let b = layer.bias[oc]
                        for pos in 0..<positions { o[pos] = b }
                        for k in 0..<rows {
                            let wk = Int32(w[oc * rows + k])
                            if wk == 0 { continue }
                            let c = col.baseAddress! + k * positions
                            for pos in 0..<positions { o[pos] = o[pos] &+ wk &* Int32(c[pos]) }
                        }
                    }
                }
            }
        }
    }

    /// Conv + 2×2 max of the accumulators + rescale + clamp to 0...255.
    mutating func convolve(_ layer: QuantizedLayer, input: [UInt8], side: Int, output: inout [UInt8]) {
        convolutionAccumulators(layer, input: input, side: side)
        let half = side / 2, positions = side * side
        for oc in 0..<layer.outputCount {
            let rq = Requantization(multiplier: layer.multiplier[oc], shift: layer.shift[oc])
            for y in 0..<half {
                for x in 0..<half {
                    let base = oc * positions + 2 * y * side + 2 * x
                    let m = max(max(accumulators[base], accumulators[base + 1]),
                                max(accumulators[base + side], accumulators[base + side + 1]))
                    output[(oc * half + y) * half + x] = UInt8(clamping: rq.apply(m))
                }
            }
        }
    }

    /// Linear accumulators (bias included).
    static func linearAccumulators(_ layer: QuantizedLayer, input: [UInt8], into acc: inout [Int32]) {
        let n = layer.inputCount
        input.withUnsafeBufferPointer { x in
            layer.weights.withUnsafeBufferPointer { w in
                for o in 0..<layer.outputCount {
                    var sum: Int32 = 0
                    let row = w.baseAddress! + o * n
                    for i in 0..<n { sum = sum &+ Int32(row[i]) &* Int32(x[i]) }
                    acc[o] = sum &+ layer.bias[o]
                }
            }
        }
    }

    mutating func linear(_ layer: QuantizedLayer, input: [UInt8], output: inout [UInt8]) {
        Self.linearAccumulators(layer, input: input, into: &accumulators)
        for o in 0..<layer.outputCount {
            let rq = Requantization(multiplier: layer.multiplier[o], shift: layer.shift[o])
            output[o] = UInt8(clamping: rq.apply(accumulators[o]))
        }
    }

    mutating func scores(_ layer: QuantizedLayer, input: [UInt8], output: inout [Int32]) {
        Self.linearAccumulators(layer, input: input, into: &accumulators)
        for o in 0..<layer.outputCount {
            let rq = Requantization(multiplier: layer.multiplier[o], shift: layer.shift[o])
            output[o] = Int32(clamping: rq.apply(accumulators[o]))
        }
    }

    static func argmax<T: Comparable>(_ values: [T]) -> Int {
        var best = 0
        for i in 1..<values.count where values[i] > values[best] { best = i }
        return best
    }
}
