// im2col / col2im for the 5×5, padding-2, stride-1 convolutions (the data movement around sgemm), one wrapper per
// path (portable, AVX2, AVX-512) chosen at run time with sgemm's path. Compiled Swift without -target-cpu ran
// these with SSE2 only (col2im 1.5× slower than with AVX-512).
//
// Bits: im2col only copies. col2im adds, and keeps the former Swift kernel's order for every element (window rows
// summed in ascending ky starting from +0, then the five kx shifts in ascending kx starting from +0, then added to
// or stored into the gradient; images narrower than 8 in (ch, ky, kx) order).
#include "layer_common.h"


/// dst[0..<count] = src[0..<count] in 8-float pieces; a ragged end is one more piece overlapping the previous.
ALWAYS_INLINE void copy_row(const float *src, float *dst, long count) {
    if (count < 8) {
        for (long x = 0; x < count; x++) dst[x] = src[x];
        return;
    }
    long x = 0;
    for (; x + 8 <= count; x += 8) STOREU(dst + x, LOADU(f8, src + x));
    if (x < count) STOREU(dst + count - 8, LOADU(f8, src + count - 8));
}

ALWAYS_INLINE void im2col_body(const float *input, long channels, long side, float *columns, long row_stride) {
    const long plane = side * side, padded_side = side + 4;
    const size_t count = (size_t)(padded_side * padded_side);
    // A zero-bordered copy of one channel makes every window row one contiguous, branch-free copy.
    float *padded = acquire_buffer(count);
    memset(padded, 0, count * sizeof(float));
    for (long ch = 0; ch < channels; ch++) {
        const float *src = input + ch * plane;
        for (long y = 0; y < side; y++) copy_row(src + y * side, padded + (y + 2) * padded_side + 2, side);
        for (long ky = 0; ky < 5; ky++) {
            for (long kx = 0; kx < 5; kx++) {
                float *dst = columns + (ch * 25 + ky * 5 + kx) * row_stride;
                for (long y = 0; y < side; y++) copy_row(padded + (y + ky) * padded_side + kx, dst + y * side, side);
            }
        }
    }
    release_buffer(padded, count);
}

ALWAYS_INLINE void im2col_transposed_body(const float *input, long channels, long side, float *columns) {
    const long plane = side * side, padded_side = side + 4, padded_plane = padded_side * padded_side;
    const long row_length = channels * 25;
    // Zero-bordered copies of all channels (+8 floats: the 8-wide loads below may run past the last row).
    const size_t count = (size_t)(channels * padded_plane + 8);
    float *padded = acquire_buffer(count);
    memset(padded, 0, count * sizeof(float));
    for (long ch = 0; ch < channels; ch++)
        for (long y = 0; y < side; y++)
            copy_row(input + ch * plane + y * side, padded + ch * padded_plane + (y + 2) * padded_side + 2, side);
    for (long y = 0; y < side; y++) {
        for (long x = 0; x < side; x++) {
            float *dst = columns + (y * side + x) * row_length;
            for (long ch = 0; ch < channels; ch++) {
                const float *window = padded + ch * padded_plane + y * padded_side + x;
                for (long ky = 0; ky < 5; ky++) {
                    // 8 floats go out, 5 count: the next window row overwrites the extra 3. The row's very last
                    // window row is written exactly, so nothing lands past the row.
                    const long o = ch * 25 + ky * 5;
                    const float *from = window + ky * padded_side;
                    if (o + 8 <= row_length) {
                        STOREU(dst + o, LOADU(f8, from));
                    } else {
                        STOREU(dst + o, LOADU(f4, from));
                        dst[o + 4] = from[4];
                    }
                }
            }
        }
    }
    release_buffer(padded, count);
}

/// col2im for images narrower than one 8-float vector: plain loops, pixel += entry in (ch, ky, kx, y, x) order.
ALWAYS_INLINE void col2im_direct(const float *columns, long channels, long side, long row_stride, float *grad,
                                 int accumulate) {
    const long plane = side * side;
    if (!accumulate) memset(grad, 0, (size_t)(channels * plane) * sizeof(float));
    for (long ch = 0; ch < channels; ch++) {
        float *dst_plane = grad + ch * plane;
        for (long ky = 0; ky < 5; ky++) {
            for (long kx = 0; kx < 5; kx++) {
                const float *src = columns + (ch * 25 + ky * 5 + kx) * row_stride;
                const long dx = kx - 2;
                const long x0 = -dx > 0 ? -dx : 0, x1 = side - dx < side ? side - dx : side;
                if (x0 >= x1) continue;
                for (long y = 0; y < side; y++) {
                    const long sy = y + ky - 2;
                    if (sy < 0 || sy >= side) continue;
                    const float *src_row = src + y * side;
                    float *dst_row = dst_plane + sy * side + dx;
                    for (long x = x0; x < x1; x++) dst_row[x] += src_row[x];
                }
            }
        }
    }
}

ALWAYS_INLINE void col2im_body(const float *columns, long channels, long side, long row_stride, float *grad,
                               int accumulate) {
    if (side < 8) {
        col2im_direct(columns, channels, side, row_stride, grad, accumulate);
        return;
    }
    const long plane = side * side, width = side + 4, shift_plane = side * width;
    // Two passes that never read back a value just stored (read-modify-write of shifted rows stalls on store
    // forwarding): shifts[kx] row y = Σ_ky columns(ky, kx) row y+2−ky, placed at x offset 2 in a zero-bordered
    // row; then grad[y, x] = Σ_kx shifts[kx][y, x+4−kx]. A ragged row end is one more 8-float block overlapping
    // the previous one (the same sums again).
    const size_t count = (size_t)(5 * shift_plane + side);
    float *shifts = acquire_buffer(count);
    float *row_out = shifts + 5 * shift_plane;
    memset(shifts, 0, count * sizeof(float));
    for (long ch = 0; ch < channels; ch++) {
        const float *channel_columns = columns + ch * 25 * row_stride;
        for (long kx = 0; kx < 5; kx++) {
            float *shift = shifts + kx * shift_plane;
            for (long y = 0; y < side; y++) {
                // Window rows ky with 0 ≤ y+2−ky < side contribute to input row y.
                const long ky_low = y + 2 - (side - 1) > 0 ? y + 2 - (side - 1) : 0;
                const long ky_high = y + 2 < 4 ? y + 2 : 4;
                float *dst = shift + y * width + 2;
                for (long x = 0;; x += 8) {
                    if (x + 8 > side) x = side - 8;
                    f8 sum = (f8)0.0f;
                    for (long ky = ky_low; ky <= ky_high; ky++)
                        sum += LOADU(f8, channel_columns + (ky * 5 + kx) * row_stride + (y + 2 - ky) * side + x);
                    STOREU(dst + x, sum);
                    if (x + 8 >= side) break;
                }
            }
        }
        float *grad_channel = grad + ch * plane;
        for (long y = 0; y < side; y++) {
            for (long x = 0;; x += 8) {
                if (x + 8 > side) x = side - 8;
                f8 sum = (f8)0.0f;
                for (long kx = 0; kx < 5; kx++) sum += LOADU(f8, shifts + kx * shift_plane + y * width + x + 4 - kx);
                STOREU(row_out + x, sum);
                if (x + 8 >= side) break;
            }
            float *out = grad_channel + y * side;
            if (accumulate) { for (long x = 0; x < side; x++) out[x] += row_out[x]; }
            else copy_row(row_out, out, side);
        }
    }
    release_buffer(shifts, count);
}

// MARK: - One wrapper per path and the public entries

#define PATH_WRAPPERS(SUFFIX)                                                                                      \
    static __attribute__((noinline)) TARGET_##SUFFIX void im2col5x5_f32_##SUFFIX(                                  \
        const float *input, long channels, long side, float *columns, long row_stride) {                           \
        WITH_CNN_SIDES(im2col_body, input, channels, side_, columns, row_stride);                                  \
    }                                                                                                              \
    static __attribute__((noinline)) TARGET_##SUFFIX void im2col5x5_f32_transposed_##SUFFIX(                       \
        const float *input, long channels, long side, float *columns) {                                            \
        WITH_CNN_SIDES(im2col_transposed_body, input, channels, side_, columns);                                   \
    }                                                                                                              \
    static __attribute__((noinline)) TARGET_##SUFFIX void col2im5x5_f32_##SUFFIX(                                  \
        const float *columns, long channels, long side, long row_stride, float *grad, int accumulate) {            \
        WITH_CNN_SIDES(col2im_body, columns, channels, side_, row_stride, grad, accumulate);                       \
    }

PATH_WRAPPERS(portable)
#if defined(__x86_64__)
PATH_WRAPPERS(avx2)
PATH_WRAPPERS(avx512)
#endif

void mnistq_im2col5x5_f32(const float *input, long channels, long side, float *columns, long columns_row_stride) {
    if (channels <= 0 || side <= 0) return;
    DISPATCH(im2col5x5_f32, input, channels, side, columns, columns_row_stride)
}

void mnistq_im2col5x5_f32_transposed(const float *input, long channels, long side, float *columns) {
    if (channels <= 0 || side <= 0) return;
    DISPATCH(im2col5x5_f32_transposed, input, channels, side, columns)
}

void mnistq_col2im5x5_f32(const float *columns, long channels, long side, long columns_row_stride, float *grad_input,
                          int accumulate) {
    if (channels <= 0 || side <= 0) return;
    DISPATCH(col2im5x5_f32, columns, channels, side, columns_row_stride, grad_input, accumulate)
}
