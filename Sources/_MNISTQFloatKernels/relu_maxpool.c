// ReLU + 2×2 max pooling with winner codes (forward) and its gradient routing (backward), one wrapper per path
// (portable, AVX2, AVX-512) chosen at run time with sgemm's path. Bits: only compares and selects.
#include "layer_common.h"

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

/// One output row of maxpool_forward_body in blocks of WIDTH windows, pooled by POOL into VEC vectors. A row whose
/// width is not a multiple of WIDTH redoes a few windows (the last block ends at the row's end), so every load and
/// store stays inside the row.
#define POOL_ROW_IN_BLOCKS(WIDTH, VEC, POOL)                                                                          \
    for (long x = 0;; x += (WIDTH)) {                                                                                 \
        if (x + (WIDTH) > half) x = half - (WIDTH);                                                                   \
        VEC m, code;                                                                                                  \
        POOL(top + 2 * x, bottom + 2 * x, &m, &code);                                                                 \
        STOREU(out + x, m);                                                                                           \
        STOREU(code_out + x, code);                                                                                   \
        if (x + (WIDTH) >= half) break;                                                                               \
    }

ALWAYS_INLINE void maxpool_forward_body(const float *input, long channels, long side, float *output, float *winner) {
    const long half = side / 2;
    for (long c = 0; c < channels; c++) {
        for (long y = 0; y < half; y++) {
            const float *top = input + c * side * side + 2 * y * side, *bottom = top + side;
            float *out = output + (c * half + y) * half, *code_out = winner + (c * half + y) * half;
            // 8 windows a vector (conv1's 14-wide output rows), 4 (conv2's 7), scalar below that.
            if (half >= 8) {
                POOL_ROW_IN_BLOCKS(8, f8, pool8);
            } else if (half >= 4) {
                POOL_ROW_IN_BLOCKS(4, f4, pool4);
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
            // The same 8 / 4 / scalar specialisations by row width as the forward body.
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

#define PATH_WRAPPERS(SUFFIX)                                                                                      \
    static __attribute__((noinline)) TARGET_##SUFFIX void relu_maxpool2x2_f32_forward_##SUFFIX(                    \
        const float *input, long channels, long side, float *output, float *winner) {                              \
        WITH_CNN_SIDES(maxpool_forward_body, input, channels, side_, output, winner);                              \
    }                                                                                                              \
    static __attribute__((noinline)) TARGET_##SUFFIX void relu_maxpool2x2_f32_backward_##SUFFIX(                   \
        const float *grad_output, const float *winner, long channels, long side, float *grad_input) {              \
        WITH_CNN_SIDES(maxpool_backward_body, grad_output, winner, channels, side_, grad_input);                   \
    }

PATH_WRAPPERS(portable)
#if defined(__x86_64__)
PATH_WRAPPERS(avx2)
PATH_WRAPPERS(avx512)
#endif

void mnistq_relu_maxpool2x2_f32_forward(const float *input, long channels, long side, float *output, float *winner) {
    if (channels <= 0 || side < 2) return;
    DISPATCH(relu_maxpool2x2_f32_forward, input, channels, side, output, winner)
}

void mnistq_relu_maxpool2x2_f32_backward(const float *grad_output, const float *winner, long channels, long side,
                                         float *grad_input) {
    if (channels <= 0 || side < 2) return;
    DISPATCH(relu_maxpool2x2_f32_backward, grad_output, winner, channels, side, grad_input)
}
