// One operation: fully connected + bias, requantized with ReLU to uint8 (fc1, fc2) or to Int32 scores (fc3): its
// reference definition and its pure-Swift fast variant, side by side. The C variants (bit-identical) are
// `mnistq_linear_<types>_<variant>` in Sources/_MNISTQInt8Kernels (s16s8_avx2, u8s8_vnni512 and u8s8_vnni512_batch4
// in kernels.c, u8s8_neon and u8s8_neondot in neon.c, u8s8_vector in vector.c, s16s8_portable in portable.c); see Conv5x5ReluMaxPool.swift for why the C files
// are grouped by instruction set. Naming: `<operation>_<activation and weight types>_<variant>`.

/// Fully connected layer + bias, then requantization with ReLU to uint8.
///
/// - Parameters:
///   - input: `[inputCount]` uint8 activations (zero point 0).
///   - inputCount: 1...65,000.
///   - weights: `[outputCount, inputCount]` int8, any value.
///   - bias: `[outputCount]` Int32, |bias| ≤ 2^30.
///   - multiplier, shift: `[outputCount]`, ranges as in `requantize_s32`.
///   - output: `[outputCount]` uint8.
func linearRelu_u8s8_reference(
    input: UnsafePointer<UInt8>, inputCount: Int,
    weights: UnsafePointer<Int8>, bias: UnsafePointer<Int32>,
    multiplier: UnsafePointer<Int32>, shift: UnsafePointer<Int8>,
    outputCount: Int, output: UnsafeMutablePointer<UInt8>
) {
    for o in 0..<outputCount {
        let acc = linearAccumulator_u8s8_reference(input: input, inputCount: inputCount, weights: weights + o * inputCount, bias: bias[o])
        output[o] = requantizeReluToUInt8_s32(acc, multiplier: multiplier[o], shift: shift[o])
    }
}

/// Fully connected layer + bias, then requantization to Int32 scores (no activation; saturates at Int32 bounds).
///
/// Parameters as in `linearRelu_u8s8_reference`; `output` is `[outputCount]` Int32. A deliberate twin of that
/// function (only the requantization differs): each reference reads as the definition of its own layer kind.
func linearScores_u8s8_reference(
    input: UnsafePointer<UInt8>, inputCount: Int,
    weights: UnsafePointer<Int8>, bias: UnsafePointer<Int32>,
    multiplier: UnsafePointer<Int32>, shift: UnsafePointer<Int8>,
    outputCount: Int, output: UnsafeMutablePointer<Int32>
) {
    for o in 0..<outputCount {
        let acc = linearAccumulator_u8s8_reference(input: input, inputCount: inputCount, weights: weights + o * inputCount, bias: bias[o])
        output[o] = requantizeToInt32_s32(acc, multiplier: multiplier[o], shift: shift[o])
    }
}

/// `bias + Σ weights[i] · input[i]` in Int32.
@inline(__always)
func linearAccumulator_u8s8_reference(input: UnsafePointer<UInt8>, inputCount: Int, weights: UnsafePointer<Int8>, bias: Int32) -> Int32 {
    var acc = bias
    for i in 0..<inputCount { acc = acc &+ Int32(weights[i]) &* Int32(input[i]) }
    return acc
}

// MARK: - Pure-Swift fast variant (Int8Network's `.portable` path)

/// Fully connected layer on int16 activations with int8 weights; ReLU output to int16 (0...255) when
/// `scores == nil`, else Int32 scores. Bit-identical to `linearRelu_u8s8_reference` / `linearScores_u8s8_reference`.
///
/// - Parameters:
///   - input: int16 `[inputCount]`, values 0...255.
///   - weights: int8 `[outputCount, inputCount]` (columns already permuted to the input's order).
///   - outputCount: any; processed 4 rows at a time with a tail.
func linear_s16s8_swift(
    input: UnsafePointer<Int16>, inputCount: Int, weights: UnsafePointer<Int8>, bias: UnsafePointer<Int32>,
    multiplier: UnsafePointer<Int32>, shift: UnsafePointer<Int8>, outputCount: Int,
    reluOutput: UnsafeMutablePointer<Int16>?, scores: UnsafeMutablePointer<Int32>?
) {
    @inline(__always) func emit(_ o: Int, _ sum: Int32) {
        let acc = bias[o] &+ sum
        if let scores {
            scores[o] = requantizeToInt32_s32(acc, multiplier: multiplier[o], shift: shift[o])
        } else if let reluOutput {
            reluOutput[o] = Int16(requantizeReluToUInt8_s32(acc, multiplier: multiplier[o], shift: shift[o]))
        }
    }
    var o = 0
    while o + 4 <= outputCount {
        let w0 = weights + o * inputCount, w1 = w0 + inputCount, w2 = w1 + inputCount, w3 = w2 + inputCount
        var s0: Int32 = 0, s1: Int32 = 0, s2: Int32 = 0, s3: Int32 = 0
        for i in 0..<inputCount {
            let x = Int32(input[i])
            s0 = s0 &+ Int32(w0[i]) &* x; s1 = s1 &+ Int32(w1[i]) &* x
            s2 = s2 &+ Int32(w2[i]) &* x; s3 = s3 &+ Int32(w3[i]) &* x
        }
        emit(o, s0); emit(o + 1, s1); emit(o + 2, s2); emit(o + 3, s3)
        o += 4
    }
    while o < outputCount {
        let w = weights + o * inputCount
        var s: Int32 = 0
        for i in 0..<inputCount { s = s &+ Int32(w[i]) &* Int32(input[i]) }
        emit(o, s)
        o += 1
    }
}
