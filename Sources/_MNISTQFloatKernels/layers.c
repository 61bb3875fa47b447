// The trainer's data-movement loops around sgemm (im2col / col2im for the 5×5 convolutions, ReLU + 2×2 max pooling
// with winner codes) in C vector extensions, compiled once per path with that path's target attribute and chosen
// with the same run-time path as sgemm. Compiled Swift without -target-cpu ran these with SSE2 only (col2im 1.5×
// slower than with AVX-512).
//
// Bits: im2col and pooling only copy, compare and select. col2im adds, and keeps the former Swift kernel's order
// for every element (window rows summed in ascending ky starting from +0, then the five kx shifts in ascending kx
// starting from +0, then added to or stored into the gradient; images narrower than 8 in (ch, ky, kx) order).
#include "_MNISTQFloatKernels.h"
#include "scratch.h"
#include <stdlib.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/// A buffer of `count` floats: this thread's scratch when it is big enough, else the heap (free with
/// release_buffer). Only sizes far beyond the CNN's (side > 28 or many channels) take the heap.
ALWAYS_INLINE float *acquire_buffer(size_t count) {
    if (count <= MNISTQ_SCRATCH_FLOATS) return mnistq_thread_scratch();
    float *buffer = malloc(count * sizeof(float));
    if (buffer == NULL) abort();
    return buffer;
}
ALWAYS_INLINE void release_buffer(float *buffer, size_t count) {
    if (count > MNISTQ_SCRATCH_FLOATS) free(buffer);
}

// MARK: - Bodies (inlined into each path's wrapper below)
//
// Written with explicit 8- and 16-float vectors (as the Swift loops they replace were): rows here are 14 or 28
// floats, too short for the auto-vectorizer's runtime checks and remainder loops to pay off (plain loops measured
// 2-4× slower). Each vector type is one register with AVX-512, one or two with AVX2, two or four with SSE/NEON.

typedef float f8 __attribute__((ext_vector_type(8)));
typedef float f4 __attribute__((ext_vector_type(4)));
typedef float f16 __attribute__((ext_vector_type(16)));
#define LOADU(T, p) ({ T value_; __builtin_memcpy(&value_, (p), sizeof value_); value_; })
#define STOREU(p, v) do { __typeof__(v) value_ = (v); __builtin_memcpy((p), &value_, sizeof value_); } while (0)

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

/// The strict-> scan in row-major window order (PyTorch's tie rule) over 8 windows at once: even and odd lanes of
/// two input rows are the four candidates. Rows by pointer: a 16-float vector passed by value would change the ABI
/// between paths (always inlined anyway).
ALWAYS_INLINE void pool8(const float *top_row, const float *bottom_row, f8 *max_out, f8 *code_out) {
    const f16 top = LOADU(f16, top_row), bottom = LOADU(f16, bottom_row);
    const f8 t0 = __builtin_shufflevector(top, top, 0, 2, 4, 6, 8, 10, 12, 14);
    const f8 t1 = __builtin_shufflevector(top, top, 1, 3, 5, 7, 9, 11, 13, 15);
    const f8 b0 = __builtin_shufflevector(bottom, bottom, 0, 2, 4, 6, 8, 10, 12, 14);
    const f8 b1 = __builtin_shufflevector(bottom, bottom, 1, 3, 5, 7, 9, 11, 13, 15);
    f8 m = t0, code = (f8)0.0f;
    code = t1 > m ? (f8)1.0f : code; m = t1 > m ? t1 : m;
    code = b0 > m ? (f8)2.0f : code; m = b0 > m ? b0 : m;
    code = b1 > m ? (f8)3.0f : code; m = b1 > m ? b1 : m;
    code = m <= 0.0f ? (f8)4.0f : code;
    *max_out = m <= 0.0f ? (f8)0.0f : m;  // +0 for any m ≤ 0, as Swift's max(m, 0) gave
    *code_out = code;
}

/// pool8 over 4 windows (rows of 8 to 15 floats, e.g. conv2's 14).
ALWAYS_INLINE void pool4(const float *top_row, const float *bottom_row, f4 *max_out, f4 *code_out) {
    const f8 top = LOADU(f8, top_row), bottom = LOADU(f8, bottom_row);
    const f4 t0 = __builtin_shufflevector(top, top, 0, 2, 4, 6), t1 = __builtin_shufflevector(top, top, 1, 3, 5, 7);
    const f4 b0 = __builtin_shufflevector(bottom, bottom, 0, 2, 4, 6);
    const f4 b1 = __builtin_shufflevector(bottom, bottom, 1, 3, 5, 7);
    f4 m = t0, code = (f4)0.0f;
    code = t1 > m ? (f4)1.0f : code; m = t1 > m ? t1 : m;
    code = b0 > m ? (f4)2.0f : code; m = b0 > m ? b0 : m;
    code = b1 > m ? (f4)3.0f : code; m = b1 > m ? b1 : m;
    code = m <= 0.0f ? (f4)4.0f : code;
    *max_out = m <= 0.0f ? (f4)0.0f : m;
    *code_out = code;
}

ALWAYS_INLINE void maxpool_forward_body(const float *input, long channels, long side, float *output, float *winner) {
    const long half = side / 2;
    for (long c = 0; c < channels; c++) {
        for (long y = 0; y < half; y++) {
            const float *top = input + c * side * side + 2 * y * side, *bottom = top + side;
            float *out = output + (c * half + y) * half, *code_out = winner + (c * half + y) * half;
            if (half >= 8) {
                // A row whose width is not a multiple of 8 redoes a few windows (the last block ends at the row's
                // end), so every load and store stays inside the row.
                for (long x = 0;; x += 8) {
                    if (x + 8 > half) x = half - 8;
                    f8 m, code;
                    pool8(top + 2 * x, bottom + 2 * x, &m, &code);
                    STOREU(out + x, m);
                    STOREU(code_out + x, code);
                    if (x + 8 >= half) break;
                }
            } else if (half >= 4) {
                for (long x = 0;; x += 4) {
                    if (x + 4 > half) x = half - 4;
                    f4 m, code;
                    pool4(top + 2 * x, bottom + 2 * x, &m, &code);
                    STOREU(out + x, m);
                    STOREU(code_out + x, code);
                    if (x + 4 >= half) break;
                }
            } else {
                for (long x = 0; x < half; x++) {
                    const float t0 = top[2 * x], t1 = top[2 * x + 1], b0 = bottom[2 * x], b1 = bottom[2 * x + 1];
                    float m = t0, code = 0.0f;
                    code = t1 > m ? 1.0f : code; m = t1 > m ? t1 : m;
                    code = b0 > m ? 2.0f : code; m = b0 > m ? b0 : m;
                    code = b1 > m ? 3.0f : code; m = b1 > m ? b1 : m;
                    code = m <= 0.0f ? 4.0f : code;
                    out[x] = m <= 0.0f ? 0.0f : m;
                    code_out[x] = code;
                }
            }
        }
    }
}

ALWAYS_INLINE void maxpool_backward_body(const float *grad_output, const float *winner, long channels, long side,
                                         float *grad_input) {
    const long half = side / 2;
    for (long c = 0; c < channels; c++) {
        for (long y = 0; y < half; y++) {
            float *top = grad_input + c * side * side + 2 * y * side, *bottom = top + side;
            const float *g_row = grad_output + (c * half + y) * half, *code_row = winner + (c * half + y) * half;
            if (half >= 8) {
                for (long x = 0;; x += 8) {
                    if (x + 8 > half) x = half - 8;
                    const f8 code = LOADU(f8, code_row + x), g = LOADU(f8, g_row + x);
                    const f8 g0 = code == 0.0f ? g : (f8)0.0f, g1 = code == 1.0f ? g : (f8)0.0f;
                    const f8 g2 = code == 2.0f ? g : (f8)0.0f, g3 = code == 3.0f ? g : (f8)0.0f;
                    STOREU(top + 2 * x, (f16)__builtin_shufflevector(g0, g1, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15));
                    STOREU(bottom + 2 * x, (f16)__builtin_shufflevector(g2, g3, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15));
                    if (x + 8 >= half) break;
                }
            } else if (half >= 4) {
                for (long x = 0;; x += 4) {
                    if (x + 4 > half) x = half - 4;
                    const f4 code = LOADU(f4, code_row + x), g = LOADU(f4, g_row + x);
                    const f4 g0 = code == 0.0f ? g : (f4)0.0f, g1 = code == 1.0f ? g : (f4)0.0f;
                    const f4 g2 = code == 2.0f ? g : (f4)0.0f, g3 = code == 3.0f ? g : (f4)0.0f;
                    STOREU(top + 2 * x, (f8)__builtin_shufflevector(g0, g1, 0, 4, 1, 5, 2, 6, 3, 7));
                    STOREU(bottom + 2 * x, (f8)__builtin_shufflevector(g2, g3, 0, 4, 1, 5, 2, 6, 3, 7));
                    if (x + 4 >= half) break;
                }
            } else {
                for (long x = 0; x < half; x++) {
                    const float code = code_row[x], g = g_row[x];
                    top[2 * x] = code == 0.0f ? g : 0.0f;
                    top[2 * x + 1] = code == 1.0f ? g : 0.0f;
                    bottom[2 * x] = code == 2.0f ? g : 0.0f;
                    bottom[2 * x + 1] = code == 3.0f ? g : 0.0f;
                }
            }
        }
    }
}

// MARK: - One wrapper per path and the public entries

/// Calls BODY with `side` a constant for the CNN's two image sides (28 and 14), so the row loops are unrolled and
/// their bounds known (im2col measured 2.4× faster so), and as a variable otherwise.
#define WITH_CNN_SIDES(BODY, ...)                                                                                  \
    do {                                                                                                           \
        if (side == 28) { const long side_ = 28; BODY(__VA_ARGS__); }                                              \
        else if (side == 14) { const long side_ = 14; BODY(__VA_ARGS__); }                                         \
        else { const long side_ = side; BODY(__VA_ARGS__); }                                                       \
    } while (0)

#define PATH_WRAPPERS(SUFFIX, TARGET)                                                                              \
    static __attribute__((noinline)) TARGET void im2col_##SUFFIX(const float *input, long channels, long side,     \
                                                                 float *columns, long row_stride) {                \
        WITH_CNN_SIDES(im2col_body, input, channels, side_, columns, row_stride);                                  \
    }                                                                                                              \
    static __attribute__((noinline)) TARGET void im2col_transposed_##SUFFIX(const float *input, long channels,     \
                                                                            long side, float *columns) {           \
        WITH_CNN_SIDES(im2col_transposed_body, input, channels, side_, columns);                                   \
    }                                                                                                              \
    static __attribute__((noinline)) TARGET void col2im_##SUFFIX(const float *columns, long channels, long side,   \
                                                                 long row_stride, float *grad, int accumulate) {   \
        WITH_CNN_SIDES(col2im_body, columns, channels, side_, row_stride, grad, accumulate);                       \
    }                                                                                                              \
    static __attribute__((noinline)) TARGET void maxpool_forward_##SUFFIX(const float *input, long channels,       \
                                                                          long side, float *output,                \
                                                                          float *winner) {                         \
        WITH_CNN_SIDES(maxpool_forward_body, input, channels, side_, output, winner);                              \
    }                                                                                                              \
    static __attribute__((noinline)) TARGET void maxpool_backward_##SUFFIX(const float *grad_output,               \
                                                                           const float *winner, long channels,     \
                                                                           long side, float *grad_input) {         \
        WITH_CNN_SIDES(maxpool_backward_body, grad_output, winner, channels, side_, grad_input);                   \
    }

PATH_WRAPPERS(portable, )
#if defined(__x86_64__)
PATH_WRAPPERS(avx2, __attribute__((target("avx2,fma"))))
PATH_WRAPPERS(avx512, __attribute__((target("avx512f"))))
#define DISPATCH(NAME, ...)                                                                                        \
    switch (mnistq_float_path()) {                                                                                 \
    case MNISTQ_FLOAT_PATH_AVX512: NAME##_avx512(__VA_ARGS__); break;                                              \
    case MNISTQ_FLOAT_PATH_AVX2: NAME##_avx2(__VA_ARGS__); break;                                                  \
    default: NAME##_portable(__VA_ARGS__); break;                                                                  \
    }
#else
#define DISPATCH(NAME, ...) NAME##_portable(__VA_ARGS__);
#endif

void mnistq_im2col5x5(const float *input, long channels, long side, float *columns, long columns_row_stride) {
    if (channels <= 0 || side <= 0) return;
    DISPATCH(im2col, input, channels, side, columns, columns_row_stride)
}

void mnistq_im2col5x5_transposed(const float *input, long channels, long side, float *columns) {
    if (channels <= 0 || side <= 0) return;
    DISPATCH(im2col_transposed, input, channels, side, columns)
}

void mnistq_col2im5x5(const float *columns, long channels, long side, long columns_row_stride, float *grad_input,
                      int accumulate) {
    if (channels <= 0 || side <= 0) return;
    DISPATCH(col2im, columns, channels, side, columns_row_stride, grad_input, accumulate)
}

void mnistq_relu_maxpool2x2_forward(const float *input, long channels, long side, float *output, float *winner) {
    if (channels <= 0 || side < 2) return;
    DISPATCH(maxpool_forward, input, channels, side, output, winner)
}

void mnistq_relu_maxpool2x2_backward(const float *grad_output, const float *winner, long channels, long side,
                                     float *grad_input) {
    if (channels <= 0 || side < 2) return;
    DISPATCH(maxpool_backward, grad_output, winner, channels, side, grad_input)
}
