// Portable fast kernels in pure Swift over the re-packed layouts (int16 activations, channels last, padded).
//
// Layouts (all set up by `PackedInt8Weights` / `Int8Network.run`):
// - conv1 input: int16 `[32, 32 + 8]`: the 28×28 image at (row + 2, col + 2), zeros around it; 8 spare int16
//   at the end let kernels read a dword past the last column (multiplied by a zero weight).
// - conv2 input (conv1 output): int16 `[18, 18, 16]`: pooled 14×14×16 at (y + 2, x + 2), channels last, zero border.
// - fc1 input (conv2 output): int16 `[7, 7, 32]` channels last; fc1's weight columns are permuted to match.
// - fc1/fc2/fc3 inputs: int16 vectors. Values are always 0...255 (uint8 activations), stored as int16.

/// Fully connected layer on int16 activations with int8 weights; ReLU output to int16 (0...255) when
/// `scores == nil`, else Int32 scores. Bit-identical to `linearReluReference_u8s8` / `linearScoresReference_u8s8`.
///
/// - Parameters:
///   - input: int16 `[inputCount]`, values 0...255.
///   - weights: int8 `[outputCount, inputCount]` (columns already permuted to the input's order).
///   - outputCount: any; processed 4 rows at a time with a tail.
func linearSwift_s16s8(
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

/// conv1 (1 → 16 channels, 28×28, 5×5, padding 2) + 2×2 max-pool + requantize/ReLU into the zero-bordered conv2
/// input, with Swift SIMD types: the 16 output channels are the lanes of one `SIMD16<Int32>`; two pool windows
/// (8 positions) at a time. Bit-identical to `conv5x5ReluMaxPoolReference_u8s8`.
///
/// - Parameters:
///   - paddedImage: int16 `[32, 32]` (+ 8 spare), see the file header.
///   - weights: Int32 `[25, 16]` (tap ky·5 + kx, output channel).
///   - bias, multiplier, shift: `[16]`.
///   - output: int16 `[18, 18, 16]`; only the interior 14×14×16 is written (the border must already be 0).
func conv1ReluMaxPoolSIMD_s32(
    paddedImage: UnsafePointer<Int16>, weights: UnsafePointer<Int32>, bias: UnsafePointer<Int32>,
    multiplier: UnsafePointer<Int32>, shift: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int16>
) {
    let w = UnsafeRawPointer(weights)
    for py in 0..<14 {
        for px in stride(from: 0, to: 14, by: 2) {
            let corner = paddedImage + (2 * py) * 32 + 2 * px
            var a0 = SIMD16<Int32>(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0
            for ky in 0..<5 {
                let r0 = corner + ky * 32, r1 = r0 + 32
                for kx in 0..<5 {
                    let wk = w.loadUnaligned(fromByteOffset: (ky * 5 + kx) * 64, as: SIMD16<Int32>.self)
                    a0 &+= wk &* SIMD16(repeating: Int32(r0[kx])); a1 &+= wk &* SIMD16(repeating: Int32(r0[kx + 1]))
                    a2 &+= wk &* SIMD16(repeating: Int32(r1[kx])); a3 &+= wk &* SIMD16(repeating: Int32(r1[kx + 1]))
                    b0 &+= wk &* SIMD16(repeating: Int32(r0[kx + 2])); b1 &+= wk &* SIMD16(repeating: Int32(r0[kx + 3]))
                    b2 &+= wk &* SIMD16(repeating: Int32(r1[kx + 2])); b3 &+= wk &* SIMD16(repeating: Int32(r1[kx + 3]))
                }
            }
            let out = output + ((py + 2) * 18 + px + 2) * 16
            storePooled16(a0, a1, a2, a3, bias: bias, multiplier: multiplier, shift: shift, to: out)
            storePooled16(b0, b1, b2, b3, bias: bias, multiplier: multiplier, shift: shift, to: out + 16)
        }
    }
}

/// Max of 4 accumulator vectors + bias, requantized with ReLU into 16 int16 outputs.
@inline(__always)
func storePooled16(_ a: SIMD16<Int32>, _ b: SIMD16<Int32>, _ c: SIMD16<Int32>, _ d: SIMD16<Int32>,
                   bias: UnsafePointer<Int32>, multiplier: UnsafePointer<Int32>, shift: UnsafePointer<Int8>,
                   to out: UnsafeMutablePointer<Int16>) {
    let ab = a.replacing(with: b, where: b .> a), cd = c.replacing(with: d, where: d .> c)
    let pooled = ab.replacing(with: cd, where: cd .> ab)
    for o in 0..<16 {
        out[o] = Int16(requantizeReluToUInt8_s32(bias[o] &+ pooled[o], multiplier: multiplier[o], shift: shift[o]))
    }
}

/// conv2 (16 → 32 channels, 14×14, 5×5, padding 2) + 2×2 max-pool + requantize/ReLU into the fc1 input, with Swift SIMD types: 32 output channels in two `SIMD16<Int32>` lanes
/// sets, one broadcast input value per tap and channel (maps to AVX2/AVX-512 or NEON multiply-adds).
/// Bit-identical to `conv5x5ReluMaxPoolReference_u8s8`.
///
/// - Parameters:
///   - paddedInput: int16 `[18, 18, 16]` (conv1 output with zero border), values 0...255.
///   - weights: Int32 `[5, 5, 16, 32]` (ky, kx, input channel, output channel).
///   - bias, multiplier, shift: `[32]`.
///   - output: int16 `[7, 7, 32]`, channels last.
func conv2ReluMaxPoolSIMD_s32(
    paddedInput: UnsafePointer<Int16>, weights: UnsafePointer<Int32>, bias: UnsafePointer<Int32>,
    multiplier: UnsafePointer<Int32>, shift: UnsafePointer<Int8>, output: UnsafeMutablePointer<Int16>
) {
    let rowStride = 18 * 16
    let w = UnsafeRawPointer(weights)
    for py in 0..<7 {
        for px in 0..<7 {
            let corner = paddedInput + (2 * py) * rowStride + (2 * px) * 16
            var a0 = SIMD16<Int32>(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0
            for tap in 0..<25 {
                let x = corner + (tap / 5) * rowStride + (tap % 5) * 16
                for i in 0..<16 {
                    let wt = w + (tap * 16 + i) * 128
                    let w0 = wt.loadUnaligned(as: SIMD16<Int32>.self), w1 = wt.loadUnaligned(fromByteOffset: 64, as: SIMD16<Int32>.self)
                    let x0 = SIMD16<Int32>(repeating: Int32(x[i])), x1 = SIMD16<Int32>(repeating: Int32(x[i + 16]))
                    let x2 = SIMD16<Int32>(repeating: Int32(x[i + rowStride])), x3 = SIMD16<Int32>(repeating: Int32(x[i + rowStride + 16]))
                    a0 &+= w0 &* x0; a1 &+= w0 &* x1; a2 &+= w0 &* x2; a3 &+= w0 &* x3
                    b0 &+= w1 &* x0; b1 &+= w1 &* x1; b2 &+= w1 &* x2; b3 &+= w1 &* x3
                }
            }
            let out = output + (py * 7 + px) * 32
            storePooled16(a0, a1, a2, a3, bias: bias, multiplier: multiplier, shift: shift, to: out)
            storePooled16(b0, b1, b2, b3, bias: bias + 16, multiplier: multiplier + 16, shift: shift + 16, to: out + 16)
        }
    }
}
