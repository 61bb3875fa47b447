// A faster float forward pass for calibration and evaluation, bit-identical to FloatCNN.forward.
import MNISTQTrainer

/// Float activations of one image, as the quantizer needs them: each layer's output after ReLU (and pool).
///
/// Sums run in FloatCNN's order (bias first, then inputs in PyTorch index order, skipped padding adds
/// nothing), so the results equal `FloatCNN.forward` bit for bit; only the loop nesting differs (im2col rows,
/// so the innermost loop runs over output positions and vectorizes without reassociating any sum).
struct FloatActivations {
    /// After ReLU + pool: [16, 14, 14].
    var pool1 = [Float](repeating: 0, count: 16 * 196)
    /// After ReLU + pool: [32, 7, 7] (= fc1 input).
    var pool2 = [Float](repeating: 0, count: 1568)
    /// fc1 and fc2 before ReLU (bias-correction targets).
    var fc1 = [Float](repeating: 0, count: 120)
    var fc2 = [Float](repeating: 0, count: 84)
    /// After ReLU: fc1 (120), fc2 (84).
    var hidden1 = [Float](repeating: 0, count: 120)
    var hidden2 = [Float](repeating: 0, count: 84)
    var logits = [Float](repeating: 0, count: 10)

    /// Output of quantized-layer `index` (0 conv1 … 4 fc3) as the int8 network sees it.
    func output(ofLayer index: Int) -> [Float] {
        switch index {
        case 0: return pool1
        case 1: return pool2
        case 2: return hidden1
        case 3: return hidden2
        default: return logits
        }
    }
}

/// Reusable buffers + parameters for repeated float forward passes (one instance per thread).
struct FloatForward {
    let parameters: CNNParameters
    private var input = [Float](repeating: 0, count: 784)              // pixel / 255
    private var columns1 = [Float](repeating: 0, count: 25 * 784)      // [25, 28·28]
    /// conv1 before ReLU + pool, [16, 28, 28] (of the last image run).
    private(set) var conv1 = [Float](repeating: 0, count: 16 * 784)
    private var columns2 = [Float](repeating: 0, count: 400 * 196)     // [16·25, 14·14]
    /// conv2 before ReLU + pool, [32, 14, 14] (of the last image run).
    private(set) var conv2 = [Float](repeating: 0, count: 32 * 196)

    init(parameters: CNNParameters) { self.parameters = parameters }

    mutating func run(pixels: ArraySlice<UInt8>, into out: inout FloatActivations) {
        let p = parameters.tensors
        var k = 0
        for v in pixels { input[k] = Float(v) / 255; k += 1 }
        input.withUnsafeBufferPointer { x in
            columns1.withUnsafeMutableBufferPointer { Self.im2col(input: x, channels: 1, side: 28, columns: $0) }
        }
        Self.convolve(columns: columns1, rows: 25, positions: 784, weight: p[0], bias: p[1], outChannels: 16, output: &conv1)
        Self.reluPool(conv1, channels: 16, side: 28, output: &out.pool1)
        out.pool1.withUnsafeBufferPointer { input in
            columns2.withUnsafeMutableBufferPointer { Self.im2col(input: input, channels: 16, side: 14, columns: $0) }
        }
        Self.convolve(columns: columns2, rows: 400, positions: 196, weight: p[2], bias: p[3], outChannels: 32, output: &conv2)
        Self.reluPool(conv2, channels: 32, side: 14, output: &out.pool2)
        Self.linear(out.pool2, weight: p[4], bias: p[5], output: &out.fc1)
        for i in 0..<120 { out.hidden1[i] = max(out.fc1[i], 0) }
        Self.linear(out.hidden1, weight: p[6], bias: p[7], output: &out.fc2)
        for i in 0..<84 { out.hidden2[i] = max(out.fc2[i], 0) }
        Self.linear(out.hidden2, weight: p[8], bias: p[9], output: &out.logits)
    }

    /// columns[(c·25 + ky·5 + kx)·side² + y·side + x] = input[c, y+ky−2, x+kx−2] (0 outside).
    static func im2col(input: UnsafeBufferPointer<Float>, channels: Int, side: Int, columns: UnsafeMutableBufferPointer<Float>) {
        let plane = side * side
        for c in 0..<channels {
            for ky in 0..<5 {
                for kx in 0..<5 {
                    let row = (c * 25 + ky * 5 + kx) * plane
                    for y in 0..<side {
                        let iy = y + ky - 2
                        for x in 0..<side {
                            let ix = x + kx - 2
                            columns[row + y * side + x] = (iy >= 0 && iy < side && ix >= 0 && ix < side)
                                ? input[(c * side + iy) * side + ix] : 0
                        }
                    }
                }
            }
        }
    }

    /// output[oc, pos] = bias[oc] + Σ_k weight[oc, k] · columns[k, pos], k ascending.
    static func convolve(columns: [Float], rows: Int, positions: Int, weight: [Float], bias: [Float],
                         outChannels: Int, output: inout [Float]) {
        columns.withUnsafeBufferPointer { col in
            weight.withUnsafeBufferPointer { w in
                output.withUnsafeMutableBufferPointer { out in
                    for oc in 0..<outChannels {
                        let o = out.baseAddress! + oc * positions
                        let b = bias[oc]
                        for pos in 0..<positions { o[pos] = b }
                        for k in 0..<rows {
                            let wk = w[oc * rows + k]
                            let c = col.baseAddress! + k * positions
                            for pos in 0..<positions { o[pos] += wk * c[pos] }
                        }
                    }
                }
            }
        }
    }

    static func reluPool(_ input: [Float], channels: Int, side: Int, output: inout [Float]) {
        let half = side / 2
        for c in 0..<channels {
            for y in 0..<half {
                for x in 0..<half {
                    let base = (c * side + 2 * y) * side + 2 * x
                    let m = max(max(input[base], input[base + 1]), max(input[base + side], input[base + side + 1]))
                    output[(c * half + y) * half + x] = max(m, 0)
                }
            }
        }
    }

    static func linear(_ input: [Float], weight: [Float], bias: [Float], output: inout [Float]) {
        let n = input.count
        input.withUnsafeBufferPointer { x in
            weight.withUnsafeBufferPointer { w in
                for o in 0..<output.count {
                    var sum = bias[o]
                    let row = w.baseAddress! + o * n
                    for i in 0..<n { sum += row[i] * x[i] }
                    output[o] = sum
                }
            }
        }
    }
}
