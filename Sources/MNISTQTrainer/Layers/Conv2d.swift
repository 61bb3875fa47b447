// conv 5×5 (padding 2, stride 1, with bias) on one image: the plain reference, the unfolded variant that sums in the
// reference's order (same bits), and the im2col + sgemm variant training runs, with its backward.
//
// Layouts are PyTorch's (NCHW activations, [out, in, kh, kw] weights) so the golden vectors compare directly.
// Backward functions *accumulate* weight and bias gradients (callers zero them once per step) and *overwrite*
// input gradients.
import MNISTQRuntime

/// 5×5 convolution, padding 2, stride 1, with bias, on one image.
enum Conv2d {
    /// Taps of one output channel per input channel (5·5).
    static let taps = ModelFormat.kernelSide * ModelFormat.kernelSide

    /// The definition, one output at a time: output[o, y, x] = bias[o] + Σ weight[o, i, ky, kx] · input[i, y+ky−2,
    /// x+kx−2] with (i, ky, kx) ascending and taps outside the image skipped.
    static func forwardReference(input: UnsafePointer<Float>,            // [inChannels, side, side]
                                 inChannels: Int, outChannels: Int, side: Int,
                                 weight: UnsafePointer<Float>,           // [outChannels, inChannels, 5, 5]
                                 bias: UnsafePointer<Float>,             // [outChannels]
                                 output: UnsafeMutablePointer<Float>) {  // [outChannels, side, side]
        let k = ModelFormat.kernelSide, pad = ModelFormat.kernelPadding
        for o in 0..<outChannels {
            for y in 0..<side {
                for x in 0..<side {
                    var sum = bias[o]
                    for i in 0..<inChannels {
                        for ky in 0..<k where (0..<side).contains(y + ky - pad) {
                            for kx in 0..<k where (0..<side).contains(x + kx - pad) {
                                sum += weight[((o * inChannels + i) * k + ky) * k + kx]
                                    * input[(i * side + y + ky - pad) * side + x + kx - pad]
                            }
                        }
                    }
                    output[(o * side + y) * side + x] = sum
                }
            }
        }
    }

    /// `forwardReference`'s bits, computed over the unfolded input so the innermost loop runs over output
    /// positions and vectorizes without reassociating any sum: bias first, then the rows of `columns`
    /// (= (i, ky, kx)) ascending; a padding tap adds w·0 = ±0, which leaves every sum unchanged.
    /// `columns` [inChannels·25, side·side] is scratch. The quantizer's calibration runs this (`FloatCNN`).
    static func forwardInReferenceOrder(input: UnsafePointer<Float>,           // [inChannels, side, side]
                                        inChannels: Int, outChannels: Int, side: Int,
                                        weight: UnsafePointer<Float>,          // [outChannels, inChannels, 5, 5]
                                        bias: UnsafePointer<Float>,            // [outChannels]
                                        columns: UnsafeMutablePointer<Float>,  // [inChannels·25, side·side]
                                        output: UnsafeMutablePointer<Float>) { // [outChannels, side, side]
        let positions = side &* side, rows = inChannels &* taps
        im2col5x5(input: input, channels: inChannels, side: side, columns: columns)
        for o in 0..<outChannels {
            let out = output + o &* positions
            let b = bias[o]
            for pos in 0..<positions { out[pos] = b }
            for r in 0..<rows {
                let w = weight[o &* rows &+ r]
                let column = columns + r &* positions
                for pos in 0..<positions { out[pos] += w * column[pos] }
            }
        }
    }

    /// output [outChannels, side·side] = weight [outChannels, inChannels·25] · columns + bias (training and
    /// evaluation; equals `forwardReference` to float rounding). `columns` [inChannels·25, side·side] receives
    /// the unfolded input.
    static func forward(input: UnsafePointer<Float>,            // [inChannels, side, side]
                        inChannels: Int, outChannels: Int, side: Int,
                        weight: UnsafePointer<Float>,           // [outChannels, inChannels, 5, 5]
                        bias: UnsafePointer<Float>,             // [outChannels]
                        columns: UnsafeMutablePointer<Float>,   // [inChannels·25, side·side]
                        output: UnsafeMutablePointer<Float>) {  // [outChannels, side·side]
        let plane = side &* side, k = inChannels &* taps
        im2col5x5(input: input, channels: inChannels, side: side, columns: columns)
        for o in 0..<outChannels { (output + o &* plane).update(repeating: bias[o], count: plane) }
        sgemm(transposeA: false, transposeB: false, m: outChannels, n: plane, k: k,
              a: weight, lda: k, b: columns, ldb: plane, c: output, ldc: plane, accumulate: true)
    }

    /// Where `backward` finds the unfolded input for the weight gradient gradOutput · columnsᵀ.
    enum UnfoldedInput {
        /// The columns [inChannels·25, side·side] of `forward` (or `im2col5x5`): the product stores transposed.
        case columns(UnsafePointer<Float>)
        /// Unfold `input` [inChannels, side, side] here, transposed ([side·side, inChannels·25] in `scratch`), so the
        /// product is a plain one with contiguous rows (no transposed stores into gradWeight). Training's conv2.
        case transposing(input: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>)
    }

    /// gradWeight += gradOutput · columnsᵀ; gradBias += row sums of gradOutput; and, when `gradInput` is
    /// given, gradInput = col2im(weightᵀ · gradOutput) using `gradColumns` as scratch.
    static func backward(gradOutput: UnsafePointer<Float>,          // [outChannels, side·side]
                         unfolded: UnfoldedInput,
                         inChannels: Int, outChannels: Int, side: Int,
                         weight: UnsafePointer<Float>,              // [outChannels, inChannels·25]
                         gradWeight: UnsafeMutablePointer<Float>,   // [outChannels, inChannels·25], accumulated
                         gradBias: UnsafeMutablePointer<Float>,     // [outChannels], accumulated
                         gradColumns: UnsafeMutablePointer<Float>?, // [inChannels·25, side·side] scratch
                         gradInput: UnsafeMutablePointer<Float>?) { // [inChannels, side, side], overwritten
        let plane = side &* side, k = inChannels &* taps
        switch unfolded {
        case let .columns(columns):
            sgemm(transposeA: false, transposeB: true, m: outChannels, n: k, k: plane,
                  a: gradOutput, lda: plane, b: columns, ldb: plane, c: gradWeight, ldc: k, accumulate: true)
        case let .transposing(input, scratch):
            im2col5x5Transposed(input: input, channels: inChannels, side: side, columns: scratch)
            sgemm(transposeA: false, transposeB: false, m: outChannels, n: k, k: plane,
                  a: gradOutput, lda: plane, b: scratch, ldb: k, c: gradWeight, ldc: k, accumulate: true)
        }
        addRowSums(matrix: gradOutput, rows: outChannels, columns: plane, rowStride: plane, sums: gradBias)
        if let gradInput, let gradColumns {
            sgemm(transposeA: true, transposeB: false, m: k, n: plane, k: outChannels,
                  a: weight, lda: k, b: gradOutput, ldb: plane, c: gradColumns, ldc: plane, accumulate: false)
            col2im5x5(columns: gradColumns, channels: inChannels, side: side, gradInput: gradInput, accumulate: false)
        }
    }
}
