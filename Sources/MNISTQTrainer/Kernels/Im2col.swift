// im2col / col2im for the 5×5, padding 2, stride 1 convolutions of the MNIST CNN. The loops are C
// (Sources/_MNISTQFloatKernels/im2col.c), vectorized per CPU at run time like sgemm (see `FloatKernelPath`).
import _MNISTQFloatKernels

/// Unfolds `input` [channels, side, side] into `columns` [channels·25, side·side] so a 5×5, padding-2,
/// stride-1 convolution becomes one matrix product: weights [outChannels, channels·25] · columns.
///
/// Row index = channel·25 + ky·5 + kx (PyTorch's weight order); column index = y·side + x; the entry is
/// input[channel, y+ky−2, x+kx−2], or 0 where that lies outside the image. Every entry of `columns` is written.
package func im2col5x5(input: UnsafePointer<Float>, channels: Int, side: Int, columns: UnsafeMutablePointer<Float>) {
    im2col5x5(input: input, channels: channels, side: side, columns: columns, columnsRowStride: side &* side)
}

/// `im2col5x5` writing rows `columnsRowStride` floats apart (≥ side·side), so several images can be unfolded
/// side by side into one [channels·25, images·side·side] matrix: image b writes at `columns + b·side·side`
/// with `columnsRowStride = images·side·side`.
package func im2col5x5(input: UnsafePointer<Float>, channels: Int, side: Int, columns: UnsafeMutablePointer<Float>,
                      columnsRowStride: Int) {
    guard channels > 0, side > 0 else { return }
    mnistq_im2col5x5_f32(input, channels, side, columns, columnsRowStride)
}

/// `im2col5x5` transposed: `columns` [side·side, channels·25], one row per output position (row y·side + x
/// holds input[channel, y+ky−2, x+kx−2] at channel·25 + ky·5 + kx). Lets a weight gradient
/// gradOutput [out, side·side] · columnsᵀ run as a plain product with contiguous rows of B.
func im2col5x5Transposed(input: UnsafePointer<Float>, channels: Int, side: Int,
                                columns: UnsafeMutablePointer<Float>) {
    guard channels > 0, side > 0 else { return }
    mnistq_im2col5x5_f32_transposed(input, channels, side, columns)
}

/// The adjoint of `im2col5x5`: adds every entry of `columns` [channels·25, side·side] back to the input
/// pixel it was copied from, into `gradInput` [channels, side, side]; entries that came from the zero
/// padding are dropped. With `accumulate == false` gradInput is overwritten, otherwise added to.
package func col2im5x5(columns: UnsafePointer<Float>, channels: Int, side: Int,
                      gradInput: UnsafeMutablePointer<Float>, accumulate: Bool) {
    col2im5x5(columns: columns, channels: channels, side: side, columnsRowStride: side &* side,
              gradInput: gradInput, accumulate: accumulate)
}

/// `col2im5x5` reading rows `columnsRowStride` floats apart (the layout of the strided `im2col5x5`).
package func col2im5x5(columns: UnsafePointer<Float>, channels: Int, side: Int, columnsRowStride: Int,
                      gradInput: UnsafeMutablePointer<Float>, accumulate: Bool) {
    guard channels > 0, side > 0 else { return }
    mnistq_col2im5x5_f32(columns, channels, side, columnsRowStride, gradInput, accumulate ? 1 : 0)
}
