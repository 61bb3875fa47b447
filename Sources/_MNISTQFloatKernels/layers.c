// The trainer's data-movement loops around sgemm (im2col / col2im for the 5×5 convolutions, ReLU + 2×2 max pooling
// with winner codes) as plain C loops, compiled once per path with that path's target attribute so the compiler
// vectorizes them 512, 256 or 128 bits wide, and chosen with the same run-time path as sgemm. Compiled Swift without
// -target-cpu ran these with SSE2 only (col2im 1.5× slower than with AVX-512).
//
// Bits: im2col and pooling only copy, compare and select. col2im adds, and keeps the former Swift kernel's order
// for every element (window rows summed in ascending ky starting from +0, then the five kx shifts in ascending kx
// starting from +0, then added to or stored into the gradient), which vectorizing across x does not change.
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

ALWAYS_INLINE void im2col_body(const float *input, long channels, long side, float *columns, long row_stride) {
    const long plane = side * side, padded_side = side + 4;
    const size_t count = (size_t)(padded_side * padded_side);
    // A zero-bordered copy of one channel makes every window row one contiguous, branch-free copy.
    float *padded = acquire_buffer(count);
    memset(padded, 0, count * sizeof(float));
    for (long ch = 0; ch < channels; ch++) {
        const float *src = input + ch * plane;
        for (long y = 0; y < side; y++) memcpy(padded + (y + 2) * padded_side + 2, src + y * side, (size_t)side * 4);
        for (long ky = 0; ky < 5; ky++) {
            for (long kx = 0; kx < 5; kx++) {
                float *dst = columns + (ch * 25 + ky * 5 + kx) * row_stride;
                for (long y = 0; y < side; y++) {
                    const float *from = padded + (y + ky) * padded_side + kx;
                    float *to = dst + y * side;
                    for (long x = 0; x < side; x++) to[x] = from[x];
                }
            }
        }
    }
    release_buffer(padded, count);
}

ALWAYS_INLINE void im2col_transposed_body(const float *input, long channels, long side, float *columns) {
    const long plane = side * side, padded_side = side + 4, padded_plane = padded_side * padded_side;
    const long row_length = channels * 25;
    const size_t count = (size_t)(channels * padded_plane);
    float *padded = acquire_buffer(count);
    memset(padded, 0, count * sizeof(float));
    for (long ch = 0; ch < channels; ch++)
        for (long y = 0; y < side; y++)
            memcpy(padded + ch * padded_plane + (y + 2) * padded_side + 2, input + ch * plane + y * side, (size_t)side * 4);
    // Row y·side + x of columns: for each channel the 5×5 window at (y, x), five contiguous runs of 5.
    for (long y = 0; y < side; y++) {
        for (long x = 0; x < side; x++) {
            float *dst = columns + (y * side + x) * row_length;
            for (long ch = 0; ch < channels; ch++) {
                const float *window = padded + ch * padded_plane + y * padded_side + x;
                for (long ky = 0; ky < 5; ky++) {
                    const float *from = window + ky * padded_side;
                    float *to = dst + ch * 25 + ky * 5;
                    to[0] = from[0]; to[1] = from[1]; to[2] = from[2]; to[3] = from[3]; to[4] = from[4];
                }
            }
        }
    }
    release_buffer(padded, count);
}

ALWAYS_INLINE void col2im_body(const float *columns, long channels, long side, long row_stride, float *grad,
                               int accumulate) {
    const long plane = side * side, width = side + 4, shift_plane = side * width;
    // Two passes that never read back a value just stored: shifts[kx] row y = Σ_ky columns(ky, kx) row y+2−ky,
    // placed at x offset 2 in a zero-bordered row; then grad[y, x] = Σ_kx shifts[kx][y, x+4−kx].
    const size_t count = (size_t)(5 * shift_plane);
    float *shifts = acquire_buffer(count);
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
                for (long x = 0; x < side; x++) {
                    float sum = 0.0f;
                    for (long ky = ky_low; ky <= ky_high; ky++)
                        sum += channel_columns[(ky * 5 + kx) * row_stride + (y + 2 - ky) * side + x];
                    dst[x] = sum;
                }
            }
        }
        float *grad_channel = grad + ch * plane;
        for (long y = 0; y < side; y++) {
            float *out = grad_channel + y * side;
            const float *s0 = shifts + y * width + 4, *s1 = shifts + shift_plane + y * width + 3;
            const float *s2 = shifts + 2 * shift_plane + y * width + 2, *s3 = shifts + 3 * shift_plane + y * width + 1;
            const float *s4 = shifts + 4 * shift_plane + y * width;
            if (accumulate) {
                for (long x = 0; x < side; x++) {
                    float sum = 0.0f;
                    sum += s0[x]; sum += s1[x]; sum += s2[x]; sum += s3[x]; sum += s4[x];
                    out[x] += sum;
                }
            } else {
                for (long x = 0; x < side; x++) {
                    float sum = 0.0f;
                    sum += s0[x]; sum += s1[x]; sum += s2[x]; sum += s3[x]; sum += s4[x];
                    out[x] = sum;
                }
            }
        }
    }
    release_buffer(shifts, count);
}

ALWAYS_INLINE void maxpool_forward_body(const float *input, long channels, long side, float *output, float *winner) {
    const long half = side / 2;
    for (long c = 0; c < channels; c++) {
        for (long y = 0; y < half; y++) {
            const float *top = input + c * side * side + 2 * y * side, *bottom = top + side;
            float *out = output + (c * half + y) * half, *code_out = winner + (c * half + y) * half;
            for (long x = 0; x < half; x++) {
                // The strict-> scan in row-major window order (PyTorch's tie rule), as selects.
                const float t0 = top[2 * x], t1 = top[2 * x + 1], b0 = bottom[2 * x], b1 = bottom[2 * x + 1];
                float m = t0, code = 0.0f;
                code = t1 > m ? 1.0f : code; m = t1 > m ? t1 : m;
                code = b0 > m ? 2.0f : code; m = b0 > m ? b0 : m;
                code = b1 > m ? 3.0f : code; m = b1 > m ? b1 : m;
                code = m <= 0.0f ? 4.0f : code;
                out[x] = m <= 0.0f ? 0.0f : m;  // +0 for any m ≤ 0, as Swift's max(m, 0) gave
                code_out[x] = code;
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
            const float *g = grad_output + (c * half + y) * half, *code = winner + (c * half + y) * half;
            for (long x = 0; x < half; x++) {
                top[2 * x] = code[x] == 0.0f ? g[x] : 0.0f;
                top[2 * x + 1] = code[x] == 1.0f ? g[x] : 0.0f;
                bottom[2 * x] = code[x] == 2.0f ? g[x] : 0.0f;
                bottom[2 * x + 1] = code[x] == 3.0f ? g[x] : 0.0f;
            }
        }
    }
}

// MARK: - One wrapper per path and the public entries

#define PATH_WRAPPERS(SUFFIX, TARGET)                                                                              \
    static __attribute__((noinline)) TARGET void im2col_##SUFFIX(const float *input, long channels, long side,     \
                                                                 float *columns, long row_stride) {                \
        im2col_body(input, channels, side, columns, row_stride);                                                   \
    }                                                                                                              \
    static __attribute__((noinline)) TARGET void im2col_transposed_##SUFFIX(const float *input, long channels,     \
                                                                            long side, float *columns) {           \
        im2col_transposed_body(input, channels, side, columns);                                                    \
    }                                                                                                              \
    static __attribute__((noinline)) TARGET void col2im_##SUFFIX(const float *columns, long channels, long side,   \
                                                                 long row_stride, float *grad, int accumulate) {   \
        col2im_body(columns, channels, side, row_stride, grad, accumulate);                                        \
    }                                                                                                              \
    static __attribute__((noinline)) TARGET void maxpool_forward_##SUFFIX(const float *input, long channels,       \
                                                                          long side, float *output,                \
                                                                          float *winner) {                         \
        maxpool_forward_body(input, channels, side, output, winner);                                               \
    }                                                                                                              \
    static __attribute__((noinline)) TARGET void maxpool_backward_##SUFFIX(const float *grad_output,               \
                                                                           const float *winner, long channels,     \
                                                                           long side, float *grad_input) {         \
        maxpool_backward_body(grad_output, winner, channels, side, grad_input);                                    \
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
#define DISPATCH(NAME, ...) NAME##_portable(__VA_ARGS__)
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
