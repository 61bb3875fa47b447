// One quantized layer as stored in a model file: int8 weights in PyTorch layout plus integer rescaling.

/// What a layer computes. The network is fixed: conv1, conv2, fc1, fc2, fc3 in that order.
public enum QuantizedLayerKind: UInt8, Sendable, Equatable {
    /// 5×5 convolution, padding 2, stride 1, fused with ReLU and 2×2 max-pool (stride 2); uint8 out.
    case conv5x5ReluMaxPool = 1
    /// Fully connected with ReLU; uint8 out.
    case linearRelu = 2
    /// Fully connected, no activation; Int32 scores out (the logits layer).
    case linearScores = 3
}

/// Integer parameters of one layer.
///
/// Arithmetic (the reference every kernel must match bit for bit):
/// - Inputs are uint8 activations `a` with zero point 0 (every input here is a pixel or a ReLU output,
///   so the calibrated minimum is 0; uint8 with zero point 0 is asymmetric int8 with zero point −128).
/// - `acc[c] = bias[c] + Σ weights[c, i] · a[i]` in Int32 (padding reads 0). Exact: |acc| < 2^31 for K ≤ 65,000.
/// - Conv layers take the 2×2 max of `acc` before rescaling; rescaling is monotonic, so this equals pooling after it.
/// - Rescale: `r = (Int64(acc) · Int64(multiplier[c]) + 2^(shift[c]−1)) >> shift[c]` (arithmetic shift: round half up).
/// - `.conv5x5ReluMaxPool`, `.linearRelu`: output `clamp(r, 0, 255)` as UInt8 (the clamp at 0 is the ReLU).
/// - `.linearScores`: output `clamp(r, Int32.min, Int32.max)`; real logit ≈ score · `outputScale`.
package struct QuantizedLayer: Sendable, Equatable {
    package var kind: QuantizedLayerKind
    /// Output channels (conv) or features (linear).
    package var outputCount: Int
    /// Input channels (conv) or features (linear).
    package var inputCount: Int
    /// Int8 weights, PyTorch layout: conv [out, in, 5, 5], linear [out, in]. Symmetric per output channel, so in
    /// −127...127 (the model loader rejects −128).
    package var weights: [Int8]
    /// Int32 bias per output, in units of inputScale · weightScales[c].
    package var bias: [Int32]
    /// Per-output multiplier, in [2^30, 2^31 − 1]; with `shift`, equals inputScale · weightScales[c] / outputScale.
    package var multiplier: [Int32]
    /// Per-output right shift, in 1...62.
    package var shift: [Int8]
    /// Real value of one input step (pixels: 1/255). Informational: inference uses integers only.
    package var inputScale: Float
    /// Real value of one output step (for `.linearScores`, of one score step). Informational.
    package var outputScale: Float
    /// Real value of one weight step, per output channel. Informational.
    package var weightScales: [Float]

    package init(kind: QuantizedLayerKind, outputCount: Int, inputCount: Int, weights: [Int8], bias: [Int32],
                multiplier: [Int32], shift: [Int8], inputScale: Float, outputScale: Float, weightScales: [Float]) {
        self.kind = kind; self.outputCount = outputCount; self.inputCount = inputCount
        self.weights = weights; self.bias = bias; self.multiplier = multiplier; self.shift = shift
        self.inputScale = inputScale; self.outputScale = outputScale; self.weightScales = weightScales
    }
}
