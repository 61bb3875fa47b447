// Plain reference kernels, one per op: the bit-exact definition every fast kernel is tested against.
//
// Layouts are PyTorch's (channels first); weights are the `QuantizedLayer` arrays as stored. Loops are written
// for clarity, not speed. Accumulation uses wrapping Int32 arithmetic; within the documented ranges it is exact
// (|acc| ≤ |bias| + K · 255 · 128 < 2^31 needs K · 32,640 + |bias| < 2^31, i.e. K ≤ 65,000 with |bias| ≤ 2^30).

/// 5×5 convolution (padding 2, stride 1) + bias, 2×2 max-pool (stride 2) on the Int32 accumulators, then
/// requantization with ReLU to uint8.
///
/// Pooling before rescaling equals pooling after it because the rescale is monotonic (non-decreasing).
///
/// - Parameters:
///   - input: `[inputChannels, height, width]` uint8 activations (zero point 0; padding reads 0).
///   - inputChannels: ≥ 1; `inputChannels · 25 ≤ 65,000`.
///   - height, width: even, ≥ 2.
///   - weights: `[outputChannels, inputChannels, 5, 5]` int8, any value including −128.
///   - bias: `[outputChannels]` Int32, |bias| ≤ 2^30.
///   - multiplier, shift: `[outputChannels]`, ranges as in `requantize_s32`.
///   - outputChannels: ≥ 1.
///   - output: `[outputChannels, height/2, width/2]` uint8.
func conv5x5ReluMaxPoolReference_u8s8(
    input: UnsafePointer<UInt8>, inputChannels: Int, height: Int, width: Int,
    weights: UnsafePointer<Int8>, bias: UnsafePointer<Int32>,
    multiplier: UnsafePointer<Int32>, shift: UnsafePointer<Int8>,
    outputChannels: Int, output: UnsafeMutablePointer<UInt8>
) {
    let pooledHeight = height / 2, pooledWidth = width / 2
    for o in 0..<outputChannels {
        // acc for output position (y, x); padding contributes 0, so taps outside the image are skipped.
        func accumulator(_ y: Int, _ x: Int) -> Int32 {
            var acc = bias[o]
            let kyRange = max(0, 2 - y)..<min(5, height + 2 - y), kxRange = max(0, 2 - x)..<min(5, width + 2 - x)
            for i in 0..<inputChannels {
                let filter = weights + (o * inputChannels + i) * 25 // [5, 5] of channel pair (o, i)
                // Index of tap (0, 0) in input; it may lie outside the image, the taps in the ranges never do.
                let tap00 = i * height * width + (y - 2) * width + (x - 2)
                for ky in kyRange {
                    for kx in kxRange {
                        acc = acc &+ Int32(filter[ky * 5 + kx]) &* Int32(input[tap00 + ky * width + kx])
                    }
                }
            }
            return acc
        }
        for py in 0..<pooledHeight {
            for px in 0..<pooledWidth {
                var pooled = Int32.min
                for dy in 0..<2 {
                    for dx in 0..<2 { pooled = max(pooled, accumulator(2 * py + dy, 2 * px + dx)) }
                }
                output[(o * pooledHeight + py) * pooledWidth + px] =
                    requantizeReluToUInt8_s32(pooled, multiplier: multiplier[o], shift: shift[o])
            }
        }
    }
}

/// Fully connected layer + bias, then requantization with ReLU to uint8.
///
/// - Parameters:
///   - input: `[inputCount]` uint8 activations (zero point 0).
///   - inputCount: 1...65,000.
///   - weights: `[outputCount, inputCount]` int8, any value.
///   - bias: `[outputCount]` Int32, |bias| ≤ 2^30.
///   - multiplier, shift: `[outputCount]`, ranges as in `requantize_s32`.
///   - output: `[outputCount]` uint8.
func linearReluReference_u8s8(
    input: UnsafePointer<UInt8>, inputCount: Int,
    weights: UnsafePointer<Int8>, bias: UnsafePointer<Int32>,
    multiplier: UnsafePointer<Int32>, shift: UnsafePointer<Int8>,
    outputCount: Int, output: UnsafeMutablePointer<UInt8>
) {
    for o in 0..<outputCount {
        let acc = linearAccumulatorReference_u8s8(input: input, inputCount: inputCount, weights: weights + o * inputCount, bias: bias[o])
        output[o] = requantizeReluToUInt8_s32(acc, multiplier: multiplier[o], shift: shift[o])
    }
}

/// Fully connected layer + bias, then requantization to Int32 scores (no activation; saturates at Int32 bounds).
///
/// Parameters as in `linearReluReference_u8s8`; `output` is `[outputCount]` Int32.
func linearScoresReference_u8s8(
    input: UnsafePointer<UInt8>, inputCount: Int,
    weights: UnsafePointer<Int8>, bias: UnsafePointer<Int32>,
    multiplier: UnsafePointer<Int32>, shift: UnsafePointer<Int8>,
    outputCount: Int, output: UnsafeMutablePointer<Int32>
) {
    for o in 0..<outputCount {
        let acc = linearAccumulatorReference_u8s8(input: input, inputCount: inputCount, weights: weights + o * inputCount, bias: bias[o])
        output[o] = requantizeToInt32_s32(acc, multiplier: multiplier[o], shift: shift[o])
    }
}

/// `bias + Σ weights[i] · input[i]` in Int32.
@inline(__always)
func linearAccumulatorReference_u8s8(input: UnsafePointer<UInt8>, inputCount: Int, weights: UnsafePointer<Int8>, bias: Int32) -> Int32 {
    var acc = bias
    for i in 0..<inputCount { acc = acc &+ Int32(weights[i]) &* Int32(input[i]) }
    return acc
}
