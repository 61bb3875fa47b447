// One operation: 5×5 convolution (padding 2, stride 1) + bias, 2×2 max-pool (stride 2), requantize with ReLU to
// uint8: its reference definition and its pure-Swift fast variants, side by side. The C variants of the same operation
// (bit-identical, proven by Tests/MNISTQRuntimeTests/KernelNetworkTests and InPlaceModelTests) are
// `mnistq_conv{1,2}_relu_maxpool_<types>_<variant>` in Sources/_MNISTQInt8Kernels: s16s16_avx2 and u8s8_vnni512
// (kernels.c), u8s8_neon and u8s8_neondot (neon.c), u8s8_vector (vector.c), u8s8/s16s8_portable (portable.c, SMLAD
// on Armv7E-M); they are grouped by instruction set there because each C file is one compilation unit with its own
// target attributes and build flags (tools/build-wasm builds vector.c alone with -O2).
//
// Naming: `<operation>_<activation and weight types>_<variant>`.
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
func conv5x5ReluMaxPool_u8s8_reference(
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

// MARK: - Pure-Swift fast variants (Int8Network's `.portable` path)
//
// Layouts (all set up by `PackedInt8Weights` / `Int8Network.run`):
// - conv1 input: int16 `[32, 32 + 8]`: the 28×28 image at (row + 2, col + 2), zeros around it; 8 spare int16
//   at the end let kernels read a dword past the last column (multiplied by a zero weight).
// - conv2 input (conv1 output): int16 `[18, 18, 16]`: pooled 14×14×16 at (y + 2, x + 2), channels last, zero border.
// - fc1 input (conv2 output): int16 `[7, 7, 32]` channels last; fc1's weight columns are permuted to match.
// - fc1/fc2/fc3 inputs: int16 vectors. Values are always 0...255 (uint8 activations), stored as int16.

/// conv1 (1 → 16 channels, 28×28, 5×5, padding 2) + 2×2 max-pool + requantize/ReLU into the zero-bordered conv2
/// input, with Swift SIMD types: the 16 output channels are the lanes of one `SIMD16<Int32>`; two pool windows
/// (8 positions) at a time. Bit-identical to `conv5x5ReluMaxPool_u8s8_reference`.
///
/// - Parameters:
///   - paddedImage: int16 `[32, 32]` (+ 8 spare), see the file header.
///   - weights: Int32 `[25, 16]` (tap ky·5 + kx, output channel).
///   - bias, multiplier, shift: `[16]`.
///   - output: int16 `[18, 18, 16]`; only the interior 14×14×16 is written (the border must already be 0).
func conv1ReluMaxPool_s16s32_swiftSIMD(
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
/// Bit-identical to `conv5x5ReluMaxPool_u8s8_reference`.
///
/// - Parameters:
///   - paddedInput: int16 `[18, 18, 16]` (conv1 output with zero border), values 0...255.
///   - weights: Int32 `[5, 5, 16, 32]` (ky, kx, input channel, output channel).
///   - bias, multiplier, shift: `[32]`.
///   - output: int16 `[7, 7, 32]`, channels last.
func conv2ReluMaxPool_s16s32_swiftSIMD(
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
