// Plain float forward pass for inference and calibration (one image at a time; no training state).

/// The float CNN for inference. Input is pixel/255; output is 10 logits.
public struct FloatCNN: Sendable {
    public var parameters: CNNParameters
    public init(parameters: CNNParameters) { self.parameters = parameters }

    /// Every intermediate tensor of one forward pass, for calibration and per-layer error reports.
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
        public init() {}
    }

    /// Runs one 28×28 uint8 image through the network, filling `trace`.
    public func forward(pixels: ArraySlice<UInt8>, trace: inout Trace) {
        precondition(pixels.count == 784)
        let p = parameters.tensors
        let input = pixels.map { Float($0) / 255 }
        Self.conv5x5(input: input, inChannels: 1, side: 28, weight: p[0], bias: p[1], outChannels: 16, output: &trace.conv1)
        Self.reluPool(input: trace.conv1, channels: 16, side: 28, output: &trace.pool1)
        Self.conv5x5(input: trace.pool1, inChannels: 16, side: 14, weight: p[2], bias: p[3], outChannels: 32, output: &trace.conv2)
        Self.reluPool(input: trace.conv2, channels: 32, side: 14, output: &trace.pool2)
        Self.linear(input: trace.pool2, weight: p[4], bias: p[5], output: &trace.fc1)
        let h1 = trace.fc1.map { max($0, 0) }
        Self.linear(input: h1, weight: p[6], bias: p[7], output: &trace.fc2)
        let h2 = trace.fc2.map { max($0, 0) }
        Self.linear(input: h2, weight: p[8], bias: p[9], output: &trace.logits)
    }

    /// Predicted digit for one image.
    public func predict(pixels: ArraySlice<UInt8>) -> Int {
        var trace = Trace()
        forward(pixels: pixels, trace: &trace)
        return trace.logits.indices.max { trace.logits[$0] < trace.logits[$1] }!
    }

    static func conv5x5(input: [Float], inChannels: Int, side: Int, weight: [Float], bias: [Float],
                        outChannels: Int, output: inout [Float]) {
        for oc in 0..<outChannels {
            for y in 0..<side {
                for x in 0..<side {
                    var sum = bias[oc]
                    for ic in 0..<inChannels {
                        for ky in 0..<5 {
                            let iy = y + ky - 2
                            if iy < 0 || iy >= side { continue }
                            for kx in 0..<5 {
                                let ix = x + kx - 2
                                if ix < 0 || ix >= side { continue }
                                sum += weight[((oc * inChannels + ic) * 5 + ky) * 5 + kx] * input[(ic * side + iy) * side + ix]
                            }
                        }
                    }
                    output[(oc * side + y) * side + x] = sum
                }
            }
        }
    }

    static func reluPool(input: [Float], channels: Int, side: Int, output: inout [Float]) {
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

    static func linear(input: [Float], weight: [Float], bias: [Float], output: inout [Float]) {
        let n = input.count
        for o in 0..<output.count {
            var sum = bias[o]
            for i in 0..<n { sum += weight[o * n + i] * input[i] }
            output[o] = sum
        }
    }
}
