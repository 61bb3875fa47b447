// Portable fast kernels in pure Swift over the re-packed layouts (int16 activations, channels last, padded).
//
// Layouts (all set up by `PackedInt8Weights` / `Int8Network.run`):
// - conv1 input: int16 `[32, 32 + 8]`: the 28×28 image at (row + 2, col + 2), zeros around it; 8 spare int16
//   at the end let kernels read a dword past the last column (multiplied by a zero weight).
// - conv2 input (conv1 output): int16 `[18, 18, 16]`: pooled 14×14×16 at (y + 2, x + 2), channels last, zero border.
// - fc1 input (conv2 output): int16 `[7, 7, 32]` channels last; fc1's weight columns are permuted to match.
// - fc1/fc2/fc3 inputs: int16 vectors. Values are always 0...255 (uint8 activations), stored as int16.

/// conv1 (1 → 16 channels, 28×28, 5×5, padding 2) + 2×2 max-pool + requantize/ReLU, written into the zero-bordered
/// conv2 input. Plain loops over the re-packed weights; bit-identical to `conv5x5ReluMaxPoolReference_u8s8`.
///
/// - Parameters:
///   - paddedImage: int16 `[32, 32]` (+ 8 spare), see the file header.
///   - weights: int16 `[16, 25]` (PyTorch order per channel: ky, kx).
///   - bias, multiplier, shift: `[16]`, ranges as in `conv5x5ReluMaxPoolReference_u8s8`.
///   - output: int16 `[18, 18, 16]`; only the interior 14×14×16 is written (the border must already be 0).
public func conv1ReluMaxPoolSwift_s16(
    paddedImage: UnsafePointer<Int16>, weights: UnsafePointer<Int16>, bias: UnsafePointer<Int32>,
    multiplier: UnsafePointer<Int32>, shift: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int16>
) {
    for py in 0..<14 {
        for px in 0..<14 {
            let corner = paddedImage + (2 * py) * 32 + 2 * px
            let out = output + ((py + 2) * 18 + px + 2) * 16
            for o in 0..<16 {
                let w = weights + o * 25
                var s0: Int32 = 0, s1: Int32 = 0, s2: Int32 = 0, s3: Int32 = 0
                for ky in 0..<5 {
                    let r0 = corner + ky * 32, r1 = r0 + 32
                    for kx in 0..<5 {
                        let wk = Int32(w[ky * 5 + kx])
                        s0 = s0 &+ wk &* Int32(r0[kx]); s1 = s1 &+ wk &* Int32(r0[kx + 1])
                        s2 = s2 &+ wk &* Int32(r1[kx]); s3 = s3 &+ wk &* Int32(r1[kx + 1])
                    }
                }
                let pooled = bias[o] &+ max(max(s0, s1), max(s2, s3))
                out[o] = Int16(requantizeReluToUInt8_s32(pooled, multiplier: multiplier[o], shift: shift[o]))
            }
        }
    }
}

/// conv2 (16 → 32 channels, 14×14, 5×5, padding 2) + 2×2 max-pool + requantize/ReLU into the fc1 input.
/// Bit-identical to `conv5x5ReluMaxPoolReference_u8s8`.
///
/// - Parameters:
///   - paddedInput: int16 `[18, 18, 16]` (conv1 output with zero border), values 0...255.
///   - weights: int16 `[32, 5, 5, 16]` (output channel, ky, kx, input channel).
///   - bias, multiplier, shift: `[32]`.
///   - output: int16 `[7, 7, 32]`, channels last.
public func conv2ReluMaxPoolSwift_s16(
    paddedInput: UnsafePointer<Int16>, weights: UnsafePointer<Int16>, bias: UnsafePointer<Int32>,
    multiplier: UnsafePointer<Int32>, shift: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int16>
) {
    let rowStride = 18 * 16
    for py in 0..<7 {
        for px in 0..<7 {
            let corner = paddedInput + (2 * py) * rowStride + (2 * px) * 16
            let out = output + (py * 7 + px) * 32
            for o in stride(from: 0, to: 32, by: 2) {
                // 2 channels × the 4 positions of one pool window = 8 independent Int32 dot products of length 400.
                let wa = weights + o * 400, wb = wa + 400
                var a0: Int32 = 0, a1: Int32 = 0, a2: Int32 = 0, a3: Int32 = 0
                var b0: Int32 = 0, b1: Int32 = 0, b2: Int32 = 0, b3: Int32 = 0
                for ky in 0..<5 {
                    let r0 = corner + ky * rowStride, r2 = r0 + rowStride
                    let wra = wa + ky * 80, wrb = wb + ky * 80
                    // One kernel row: 5 taps × 16 channels = 80 contiguous int16 in both weights and input.
                    for j in 0..<80 {
                        let x0 = Int32(r0[j]), x1 = Int32(r0[j + 16]), x2 = Int32(r2[j]), x3 = Int32(r2[j + 16])
                        let u = Int32(wra[j]), v = Int32(wrb[j])
                        a0 = a0 &+ u &* x0; a1 = a1 &+ u &* x1; a2 = a2 &+ u &* x2; a3 = a3 &+ u &* x3
                        b0 = b0 &+ v &* x0; b1 = b1 &+ v &* x1; b2 = b2 &+ v &* x2; b3 = b3 &+ v &* x3
                    }
                }
                out[o] = Int16(requantizeReluToUInt8_s32(bias[o] &+ max(max(a0, a1), max(a2, a3)),
                                                          multiplier: multiplier[o], shift: shift[o]))
                out[o + 1] = Int16(requantizeReluToUInt8_s32(bias[o + 1] &+ max(max(b0, b1), max(b2, b3)),
                                                              multiplier: multiplier[o + 1], shift: shift[o + 1]))
            }
        }
    }
}

/// Fully connected layer on int16 activations with int8 weights; ReLU output to int16 (0...255) when
/// `scores == nil`, else Int32 scores. Bit-identical to `linearReluReference_u8s8` / `linearScoresReference_u8s8`.
///
/// - Parameters:
///   - input: int16 `[inputCount]`, values 0...255.
///   - weights: int8 `[outputCount, inputCount]` (columns already permuted to the input's order).
///   - outputCount: any; processed 4 rows at a time with a tail.
public func linearSwift_s16s8(
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
