// Float forward pass for inference and calibration (one image at a time; no training state).

/// The float CNN for inference. Input is pixel/255; output is 10 logits.
///
/// Every sum runs in PyTorch index order: bias first, then the inputs (ic, ky, kx ascending for a convolution,
/// padding adding +0), so the results depend only on the parameters, never on threads or batch size. The
/// convolutions go through im2col rows so the innermost loop runs over output positions and vectorizes without
/// reassociating any sum.
public struct FloatCNN: Sendable {
    public var parameters: CNNParameters
    public init(parameters: CNNParameters) { self.parameters = parameters }

    /// Every intermediate tensor of one forward pass, for calibration and per-layer error reports. Reuse one
    /// `Trace` per thread for many images: it also holds the im2col scratch.
    public struct Trace: Sendable {
        /// conv1 output before ReLU, [16, 28, 28].
        public var conv1 = [Float](repeating: 0, count: 16 * 784)
        /// after ReLU + max-pool, [16, 14, 14].
        public var pool1 = [Float](repeating: 0, count: 16 * 196)
        /// conv2 output before ReLU, [32, 14, 14].
        public var conv2 = [Float](repeating: 0, count: 32 * 196)
        /// after ReLU + max-pool, [32, 7, 7] = fc1 input (1568).
        public var pool2 = [Float](repeating: 0, count: 1568)
        /// fc1 output before ReLU (120), fc2 before ReLU (84), logits (10).
        public var fc1 = [Float](repeating: 0, count: 120)
        public var fc2 = [Float](repeating: 0, count: 84)
        public var logits = [Float](repeating: 0, count: 10)
        /// fc1 and fc2 after ReLU (the inputs of fc2 and fc3).
        public var hidden1 = [Float](repeating: 0, count: 120)
        public var hidden2 = [Float](repeating: 0, count: 84)
        public init() {}

        var input = [Float]()       // [784] pixel / 255
        var columns1 = [Float]()    // [25, 28·28] im2col rows of conv1
        var columns2 = [Float]()    // [16·25, 14·14] im2col rows of conv2
    }

    /// Runs one 28×28 uint8 image through the network, filling `trace`.
    public func forward(pixels: ArraySlice<UInt8>, trace: inout Trace) {
        precondition(pixels.count == 784)
        let p = parameters.tensors
        if trace.input.count != 784 {
            trace.input = [Float](repeating: 0, count: 784)
            trace.columns1 = [Float](repeating: 0, count: 25 * 784)
            trace.columns2 = [Float](repeating: 0, count: 400 * 196)
        }
        var k = 0
        for v in pixels { trace.input[k] = Float(v) / 255; k += 1 }
        Self.im2col(trace.input, channels: 1, side: 28, columns: &trace.columns1)
        Self.convolve(columns: trace.columns1, rows: 25, positions: 784, weight: p[0], bias: p[1], outChannels: 16, output: &trace.conv1)
        Self.reluPool(trace.conv1, channels: 16, side: 28, output: &trace.pool1)
        Self.im2col(trace.pool1, channels: 16, side: 14, columns: &trace.columns2)
        Self.convolve(columns: trace.columns2, rows: 400, positions: 196, weight: p[2], bias: p[3], outChannels: 32, output: &trace.conv2)
        Self.reluPool(trace.conv2, channels: 32, side: 14, output: &trace.pool2)
        Self.linear(trace.pool2, weight: p[4], bias: p[5], output: &trace.fc1)
        for i in 0..<120 { trace.hidden1[i] = max(trace.fc1[i], 0) }
        Self.linear(trace.hidden1, weight: p[6], bias: p[7], output: &trace.fc2)
        for i in 0..<84 { trace.hidden2[i] = max(trace.fc2[i], 0) }
        Self.linear(trace.hidden2, weight: p[8], bias: p[9], output: &trace.logits)
    }

    /// Predicted digit for one image (first index of the largest logit).
    public func predict(pixels: ArraySlice<UInt8>) -> Int {
        var trace = Trace()
        forward(pixels: pixels, trace: &trace)
        return trace.logits.indices.max { trace.logits[$0] < trace.logits[$1] }!
    }

    /// columns[(c·25 + ky·5 + kx)·side² + y·side + x] = input[c, y+ky−2, x+kx−2] (0 outside), via the
    /// training kernel so inference and training unfold identically.
    static func im2col(_ input: [Float], channels: Int, side: Int, columns: inout [Float]) {
        input.withUnsafeBufferPointer { x in
            columns.withUnsafeMutableBufferPointer { col in
                im2col5x5(input: x.baseAddress!, channels: channels, side: side, columns: col.baseAddress!)
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

    /// ReLU then 2×2 max-pool (stride 2): [channels, side, side] → [channels, side/2, side/2].
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

    /// output[o] = bias[o] + Σ_i weight[o, i] · input[i], i ascending.
    ///
    /// Four outputs at a time: each sum is still one chain in ascending i (the same bits as one output at a time),
    /// but four independent chains hide the latency of the additions (fc1's 1,568-long chains dominated `forward`).
    static func linear(_ input: [Float], weight: [Float], bias: [Float], output: inout [Float]) {
        let n = input.count, count = output.count
        input.withUnsafeBufferPointer { x in
            weight.withUnsafeBufferPointer { w in
                output.withUnsafeMutableBufferPointer { out in
                    var o = 0
                    while o + 4 <= count {
                        var s0 = bias[o], s1 = bias[o + 1], s2 = bias[o + 2], s3 = bias[o + 3]
                        let r0 = w.baseAddress! + o * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n
                        for i in 0..<n {
                            let xi = x[i]
                            s0 += r0[i] * xi; s1 += r1[i] * xi; s2 += r2[i] * xi; s3 += r3[i] * xi
                        }
                        out[o] = s0; out[o + 1] = s1; out[o + 2] = s2; out[o + 3] = s3
                        o += 4
                    }
                    while o < count {
                        var sum = bias[o]
                        let row = w.baseAddress! + o * n
                        for i in 0..<n { sum += row[i] * x[i] }
                        out[o] = sum
                        o += 1
                    }
                }
            }
        }
    }
}
