// The float CNN as plain loops (one output at a time, taps skipped at the padding): the definition FloatCNN must equal.
import MNISTQTrainer

/// Every tensor of one forward pass, computed the obvious way: each output is bias + Σ weight · input in
/// PyTorch index order (ic, ky, kx ascending), padding taps skipped.
struct PlainFloatForward {
    var conv1 = [Float](repeating: 0, count: 16 * 784), pool1 = [Float](repeating: 0, count: 16 * 196)
    var conv2 = [Float](repeating: 0, count: 32 * 196), pool2 = [Float](repeating: 0, count: 1568)
    var fc1 = [Float](repeating: 0, count: 120), fc2 = [Float](repeating: 0, count: 84), logits = [Float](repeating: 0, count: 10)

    init(parameters: CNNParameters, pixels: ArraySlice<UInt8>) {
        let p = parameters.tensors
        let input = pixels.map { Float($0) / 255 }
        Self.conv5x5(input, inChannels: 1, side: 28, weight: p[0], bias: p[1], outChannels: 16, output: &conv1)
        Self.reluPool(conv1, channels: 16, side: 28, output: &pool1)
        Self.conv5x5(pool1, inChannels: 16, side: 14, weight: p[2], bias: p[3], outChannels: 32, output: &conv2)
        Self.reluPool(conv2, channels: 32, side: 14, output: &pool2)
        Self.linear(pool2, weight: p[4], bias: p[5], output: &fc1)
        Self.linear(fc1.map { max($0, 0) }, weight: p[6], bias: p[7], output: &fc2)
        Self.linear(fc2.map { max($0, 0) }, weight: p[8], bias: p[9], output: &logits)
    }

    static func conv5x5(_ input: [Float], inChannels: Int, side: Int, weight: [Float], bias: [Float],
                        outChannels: Int, output: inout [Float]) {
        for oc in 0..<outChannels {
            for y in 0..<side {
                for x in 0..<side {
                    var sum = bias[oc]
                    for ic in 0..<inChannels {
                        for ky in 0..<5 where (0..<side).contains(y + ky - 2) {
                            for kx in 0..<5 where (0..<side).contains(x + kx - 2) {
                                sum += weight[((oc * inChannels + ic) * 5 + ky) * 5 + kx] * input[(ic * side + y + ky - 2) * side + x + kx - 2]
                            }
                        }
                    }
                    output[(oc * side + y) * side + x] = sum
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
                    output[(c * half + y) * half + x] = max(input[base], input[base + 1], input[base + side], input[base + side + 1], 0)
                }
            }
        }
    }

    static func linear(_ input: [Float], weight: [Float], bias: [Float], output: inout [Float]) {
        for o in 0..<output.count {
            var sum = bias[o]
            for i in 0..<input.count { sum += weight[o * input.count + i] * input[i] }
            output[o] = sum
        }
    }
}
