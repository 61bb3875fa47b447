// x86-64 kernels: AVX2 (16-bit pairs, vpmaddwd) and AVX-512 VNNI (u8×s8 quads, vpdpbusd); exact for these ranges.
#include "_MNISTQInt8Kernels.h"

#include "requantize.h"
#include "family_stubs.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2")))

int mnistq_int8_avx2_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? 1 : 0;
}

/// 4 bytes at any address (memcpy: no alignment or aliasing assumption; compiles to one load).
static inline int32_t load32(const void *p) {
    int32_t value;
    __builtin_memcpy(&value, p, 4);
    return value;
}

/// Broadcast of the int16 pair at p (unaligned) to every 32-bit lane.
#define PAIR(p) _mm256_set1_epi32(load32(p))
#define MADD(acc, w, x) acc = _mm256_add_epi32(acc, _mm256_madd_epi16(w, x))

/// Pools 4 accumulator vectors, adds bias, requantizes 8 channels starting at channel c into out[c...].
AVX2 static inline void pool_store8(__m256i p0, __m256i p1, __m256i p2, __m256i p3, const int32_t *bias,
                                    const int32_t *multiplier, const int8_t *shift, int c, int16_t *out) {
    __m256i m = _mm256_max_epi32(_mm256_max_epi32(p0, p1), _mm256_max_epi32(p2, p3));
    m = _mm256_add_epi32(m, _mm256_loadu_si256((const __m256i *)(const void *)(bias + c)));
    int32_t lanes[8];
    _mm256_storeu_si256((__m256i *)(void *)lanes, m);
    for (int i = 0; i < 8; i++) out[c + i] = requantize_relu(lanes[i], multiplier[c + i], shift[c + i]);
}

AVX2 void mnistq_conv1_relu_maxpool_s16s16_avx2(const int16_t *image, const int16_t *weights, const int32_t *bias,
                                         const int32_t *multiplier, const int8_t *shift, int16_t *output) {
    for (int py = 0; py < 14; py++) {
        for (int px = 0; px < 14; px++) {
            const int16_t *corner = image + (2 * py) * 32 + 2 * px;
            __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0; // channels 0-7, positions 0-3
            __m256i b0 = a0, b1 = a0, b2 = a0, b3 = a0;                     // channels 8-15
            for (int ky = 0; ky < 5; ky++) {
                const int16_t *r0 = corner + ky * 32, *r1 = r0 + 32;
                for (int pair = 0; pair < 3; pair++) {
                    const int16_t *w = weights + (ky * 3 + pair) * 32;
                    __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)w);
                    __m256i w1 = _mm256_loadu_si256((const __m256i *)(const void *)(w + 16));
                    __m256i x0 = PAIR(r0 + 2 * pair), x1 = PAIR(r0 + 2 * pair + 1);
                    __m256i x2 = PAIR(r1 + 2 * pair), x3 = PAIR(r1 + 2 * pair + 1);
                    MADD(a0, w0, x0); MADD(a1, w0, x1); MADD(a2, w0, x2); MADD(a3, w0, x3);
                    MADD(b0, w1, x0); MADD(b1, w1, x1); MADD(b2, w1, x2); MADD(b3, w1, x3);
                }
            }
            int16_t *out = output + ((py + 2) * 18 + px + 2) * 16;
            pool_store8(a0, a1, a2, a3, bias, multiplier, shift, 0, out);
            pool_store8(b0, b1, b2, b3, bias, multiplier, shift, 8, out);
        }
    }
}

AVX2 void mnistq_conv2_relu_maxpool_s16s16_avx2(const int16_t *input, const int16_t *weights, const int32_t *bias,
                                         const int32_t *multiplier, const int8_t *shift, int16_t *output) {
    const int row = 18 * 16;
    for (int py = 0; py < 7; py++) {
        for (int px = 0; px < 7; px++) {
            const int16_t *corner = input + (2 * py) * row + (2 * px) * 16;
            int16_t *out = output + (py * 7 + px) * 32;
            for (int half = 0; half < 2; half++) { // output channels 16·half ..< 16·half + 16
                __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
                __m256i b0 = a0, b1 = a0, b2 = a0, b3 = a0;
                for (int tap = 0; tap < 25; tap++) {
                    const int16_t *x = corner + (tap / 5) * row + (tap % 5) * 16;
                    const int16_t *w = weights + tap * 8 * 64 + half * 32;
                    for (int pair = 0; pair < 8; pair++) {
                        __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)(w + pair * 64));
                        __m256i w1 = _mm256_loadu_si256((const __m256i *)(const void *)(w + pair * 64 + 16));
                        __m256i x0 = PAIR(x + 2 * pair), x1 = PAIR(x + 16 + 2 * pair);
                        __m256i x2 = PAIR(x + row + 2 * pair), x3 = PAIR(x + row + 16 + 2 * pair);
                        MADD(a0, w0, x0); MADD(a1, w0, x1); MADD(a2, w0, x2); MADD(a3, w0, x3);
                        MADD(b0, w1, x0); MADD(b1, w1, x1); MADD(b2, w1, x2); MADD(b3, w1, x3);
                    }
                }
                pool_store8(a0, a1, a2, a3, bias, multiplier, shift, 16 * half, out);
                pool_store8(b0, b1, b2, b3, bias, multiplier, shift, 16 * half + 8, out);
            }
        }
    }
}

AVX2 static inline int32_t hsum(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

AVX2 void mnistq_linear_s16s8_avx2(const int16_t *input, int input_count, const int8_t *weights, const int32_t *bias,
                             const int32_t *multiplier, const int8_t *shift, int output_count,
                             int16_t *relu_output, int32_t *scores) {
    const int vector_end = input_count & ~15;
    for (int o = 0; o < output_count; o += 4) {
        const int rows = output_count - o < 4 ? output_count - o : 4;
        int32_t sums[4] = {0, 0, 0, 0};
        if (rows == 4) {
            const int8_t *w0 = weights + (long)o * input_count, *w1 = w0 + input_count;
            const int8_t *w2 = w1 + input_count, *w3 = w2 + input_count;
            __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
            for (int i = 0; i < vector_end; i += 16) {
                __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(input + i));
                MADD(s0, _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(w0 + i))), x);
                MADD(s1, _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(w1 + i))), x);
                MADD(s2, _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(w2 + i))), x);
                MADD(s3, _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(w3 + i))), x);
            }
            sums[0] = hsum(s0); sums[1] = hsum(s1); sums[2] = hsum(s2); sums[3] = hsum(s3);
        }
        for (int r = 0; r < rows; r++) {
            const int8_t *w = weights + (long)(o + r) * input_count;
            int32_t s = sums[r];
            // Tail (and rows of a final partial group): wrapping int32 sum, exact within range.
            for (int i = rows == 4 ? vector_end : 0; i < input_count; i++) s += (int32_t)w[i] * (int32_t)input[i];
            int32_t acc = bias[o + r] + s;
            if (scores) {
                scores[o + r] = requantize_scores(acc, multiplier[o + r], shift[o + r]);
            } else {
                relu_output[o + r] = requantize_relu(acc, multiplier[o + r], shift[o + r]);
            }
        }
    }
}

// ---- AVX-512 VNNI: vpdpbusd multiplies 4 u8 activations by 4 int8 weights and adds the exact sum to int32 lanes.
#define VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))

int mnistq_int8_avx512vnni_available(void) {
    __builtin_cpu_init();
    return (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vnni")) ? 1 : 0;
}

/// Rescaling constants of 16 channels for the AVX-512 epilogue: 64-bit lanes for even channels (2i) then odd
/// channels (2i + 1): multiplier (low 32 bits used), rounding term 2^(shift−1), shift.
typedef struct { int64_t multiplier[2][8], rounding[2][8], shift[2][8]; } mnistq_requant16;

#define QUAD(p) _mm512_set1_epi32(load32(p))
#define DPBUSD(acc, x, w) acc = _mm512_dpbusd_epi32(acc, x, w)

/// 16 pooled accumulators (bias already added) → requantized, ReLU-clamped u8 (the Swift requantize_s32 formula,
/// lane by lane in 64 bits: multiply, add 2^(shift−1), arithmetic shift, clamp to 0...255).
VNNI static inline __m128i requant16_relu(__m512i acc, const mnistq_requant16 *q) {
    __m512i odd = _mm512_srli_epi64(acc, 32);
    __m512i r0 = _mm512_mul_epi32(acc, _mm512_loadu_si512(q->multiplier[0]));
    __m512i r1 = _mm512_mul_epi32(odd, _mm512_loadu_si512(q->multiplier[1]));
    r0 = _mm512_srav_epi64(_mm512_add_epi64(r0, _mm512_loadu_si512(q->rounding[0])), _mm512_loadu_si512(q->shift[0]));
    r1 = _mm512_srav_epi64(_mm512_add_epi64(r1, _mm512_loadu_si512(q->rounding[1])), _mm512_loadu_si512(q->shift[1]));
    const __m512i zero = _mm512_setzero_si512(), top = _mm512_set1_epi64(255);
    r0 = _mm512_min_epi64(_mm512_max_epi64(r0, zero), top);
    r1 = _mm512_min_epi64(_mm512_max_epi64(r1, zero), top);
    return _mm512_cvtepi32_epi8(_mm512_or_si512(r0, _mm512_slli_epi64(r1, 32)));
}

VNNI static inline __m512i pool4(__m512i a, __m512i b, __m512i c, __m512i d, const int32_t *bias) {
    return _mm512_add_epi32(_mm512_max_epi32(_mm512_max_epi32(a, b), _mm512_max_epi32(c, d)), _mm512_loadu_si512(bias));
}

/// Fills `groups` mnistq_requant16 tables (16 channels each) from per-channel multipliers and shifts. Built per call
/// on the stack (about 50 ns) so the kernels read the model's plain arrays: an in-place image is used as it lies.
static inline void requant_tables(const int32_t *multiplier, const int8_t *shift, int groups, mnistq_requant16 *tables) {
    for (int group = 0; group < groups; group++) {
        for (int parity = 0; parity < 2; parity++) {
            for (int lane = 0; lane < 8; lane++) {
                const int c = group * 16 + 2 * lane + parity;
                tables[group].multiplier[parity][lane] = multiplier[c];
                tables[group].rounding[parity][lane] = (int64_t)1 << (shift[c] - 1);
                tables[group].shift[parity][lane] = shift[c];
            }
        }
    }
}

VNNI void mnistq_conv1_relu_maxpool_u8s8_vnni512(const uint8_t *image, const int8_t *weights, const int32_t *bias,
                                            const int32_t *multiplier, const int8_t *shift, uint8_t *output) {
    mnistq_requant16 requant[1];
    requant_tables(multiplier, shift, 1, requant);
    __m512i w[10];
    for (int i = 0; i < 10; i++) w[i] = _mm512_loadu_si512(weights + 64 * i);
    for (int py = 0; py < 14; py++) {
        for (int px = 0; px < 14; px += 2) { // two pool windows side by side: 8 independent accumulators
            const uint8_t *corner = image + (2 * py) * 40 + 2 * px;
            __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int ky = 0; ky < 5; ky++) {
                const uint8_t *r0 = corner + ky * 40, *r1 = r0 + 40;
                for (int quad = 0; quad < 2; quad++) {
                    const __m512i wq = w[ky * 2 + quad];
                    const int o = 4 * quad;
                    DPBUSD(a0, QUAD(r0 + o), wq); DPBUSD(a1, QUAD(r0 + o + 1), wq);
                    DPBUSD(a2, QUAD(r1 + o), wq); DPBUSD(a3, QUAD(r1 + o + 1), wq);
                    DPBUSD(b0, QUAD(r0 + o + 2), wq); DPBUSD(b1, QUAD(r0 + o + 3), wq);
                    DPBUSD(b2, QUAD(r1 + o + 2), wq); DPBUSD(b3, QUAD(r1 + o + 3), wq);
                }
            }
            uint8_t *out = output + ((py + 2) * 18 + px + 2) * 16;
            _mm_storeu_si128((__m128i *)(void *)out, requant16_relu(pool4(a0, a1, a2, a3, bias), requant));
            _mm_storeu_si128((__m128i *)(void *)(out + 16), requant16_relu(pool4(b0, b1, b2, b3, bias), requant));
        }
    }
}

VNNI void mnistq_conv2_relu_maxpool_u8s8_vnni512(const uint8_t *input, const int8_t *weights, const int32_t *bias,
                                            const int32_t *multiplier, const int8_t *shift, uint8_t *output) {
    mnistq_requant16 requant[2];
    requant_tables(multiplier, shift, 2, requant);
    const int row = 18 * 16;
    for (int py = 0; py < 7; py++) {
        for (int px = 0; px < 7; px++) {
            const uint8_t *corner = input + (2 * py) * row + (2 * px) * 16;
            __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0; // channels 0-15, 4 positions
            __m512i b0 = a0, b1 = a0, b2 = a0, b3 = a0;                     // channels 16-31
            for (int ky = 0; ky < 5; ky++) {
                for (int kx = 0; kx < 5; kx++) {
                    const uint8_t *x = corner + ky * row + kx * 16;
                    const int8_t *w = weights + (ky * 5 + kx) * 512;
                    for (int quad = 0; quad < 4; quad++) {
                        const __m512i w0 = _mm512_loadu_si512(w + quad * 128), w1 = _mm512_loadu_si512(w + quad * 128 + 64);
                        const __m512i x0 = QUAD(x + 4 * quad), x1 = QUAD(x + 16 + 4 * quad);
                        const __m512i x2 = QUAD(x + row + 4 * quad), x3 = QUAD(x + row + 16 + 4 * quad);
                        DPBUSD(a0, x0, w0); DPBUSD(a1, x1, w0); DPBUSD(a2, x2, w0); DPBUSD(a3, x3, w0);
                        DPBUSD(b0, x0, w1); DPBUSD(b1, x1, w1); DPBUSD(b2, x2, w1); DPBUSD(b3, x3, w1);
                    }
                }
            }
            uint8_t *out = output + (py * 7 + px) * 32;
            _mm_storeu_si128((__m128i *)(void *)out, requant16_relu(pool4(a0, a1, a2, a3, bias), requant));
            _mm_storeu_si128((__m128i *)(void *)(out + 16), requant16_relu(pool4(b0, b1, b2, b3, bias + 16), requant + 1));
        }
    }
}

VNNI void mnistq_linear_u8s8_vnni512(const uint8_t *input, int input_count, const int8_t *weights, const int32_t *bias,
                                const int32_t *multiplier, const int8_t *shift, int output_count,
                                uint8_t *relu_output, int32_t *scores) {
    const int full = input_count & ~63;
    const __mmask64 tail = input_count == full ? 0 : (~(__mmask64)0 >> (64 - (input_count - full)));
    for (int o = 0; o < output_count; o += 4) {
        const int rows = output_count - o < 4 ? output_count - o : 4;
        const int8_t *w[4];
        for (int r = 0; r < 4; r++) w[r] = weights + (long)(o + (r < rows ? r : 0)) * input_count;
        __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
        for (int i = 0; i < full; i += 64) {
            const __m512i x = _mm512_loadu_si512(input + i);
            DPBUSD(s0, x, _mm512_loadu_si512(w[0] + i)); DPBUSD(s1, x, _mm512_loadu_si512(w[1] + i));
            DPBUSD(s2, x, _mm512_loadu_si512(w[2] + i)); DPBUSD(s3, x, _mm512_loadu_si512(w[3] + i));
        }
        if (tail) {
            const __m512i x = _mm512_maskz_loadu_epi8(tail, input + full);
            DPBUSD(s0, x, _mm512_maskz_loadu_epi8(tail, w[0] + full)); DPBUSD(s1, x, _mm512_maskz_loadu_epi8(tail, w[1] + full));
            DPBUSD(s2, x, _mm512_maskz_loadu_epi8(tail, w[2] + full)); DPBUSD(s3, x, _mm512_maskz_loadu_epi8(tail, w[3] + full));
        }
        const int32_t sums[4] = {_mm512_reduce_add_epi32(s0), _mm512_reduce_add_epi32(s1),
                                 _mm512_reduce_add_epi32(s2), _mm512_reduce_add_epi32(s3)};
        for (int r = 0; r < rows; r++) {
            const int32_t acc = bias[o + r] + sums[r];
            if (scores) {
                scores[o + r] = requantize_scores(acc, multiplier[o + r], shift[o + r]);
            } else {
                relu_output[o + r] = (uint8_t)requantize_relu(acc, multiplier[o + r], shift[o + r]);
            }
        }
    }
}

VNNI void mnistq_linear_u8s8_vnni512_batch4(const uint8_t *input, int input_stride, int count, int input_count,
                                       const int8_t *weights, const int32_t *bias, const int32_t *multiplier,
                                       const int8_t *shift, int output_count, uint8_t *relu_output, int output_stride,
                                       int32_t *scores) {
    const int full = input_count & ~63;
    const __mmask64 tail = input_count == full ? 0 : (~(__mmask64)0 >> (64 - (input_count - full)));
    // Missing images (count < 4) repeat image 0; their sums are computed and dropped.
    const uint8_t *x[4];
    for (int b = 0; b < 4; b++) x[b] = input + (long)(b < count ? b : 0) * input_stride;
    for (int o = 0; o < output_count; o += 4) {
        const int rows = output_count - o < 4 ? output_count - o : 4;
        const int8_t *w[4];
        for (int r = 0; r < 4; r++) w[r] = weights + (long)(o + (r < rows ? r : 0)) * input_count;
        // 4 rows × 4 images: each 64-byte weight chunk is loaded once for the 4 images, each input chunk once for
        // the 4 rows (16 of the 32 registers hold sums).
        __m512i s[4][4];
        for (int r = 0; r < 4; r++) for (int b = 0; b < 4; b++) s[r][b] = _mm512_setzero_si512();
        for (int i = 0; i < full; i += 64) {
            const __m512i x0 = _mm512_loadu_si512(x[0] + i), x1 = _mm512_loadu_si512(x[1] + i);
            const __m512i x2 = _mm512_loadu_si512(x[2] + i), x3 = _mm512_loadu_si512(x[3] + i);
            for (int r = 0; r < 4; r++) {
                const __m512i wr = _mm512_loadu_si512(w[r] + i);
                DPBUSD(s[r][0], x0, wr); DPBUSD(s[r][1], x1, wr); DPBUSD(s[r][2], x2, wr); DPBUSD(s[r][3], x3, wr);
            }
        }
        if (tail) {
            const __m512i x0 = _mm512_maskz_loadu_epi8(tail, x[0] + full), x1 = _mm512_maskz_loadu_epi8(tail, x[1] + full);
            const __m512i x2 = _mm512_maskz_loadu_epi8(tail, x[2] + full), x3 = _mm512_maskz_loadu_epi8(tail, x[3] + full);
            for (int r = 0; r < 4; r++) {
                const __m512i wr = _mm512_maskz_loadu_epi8(tail, w[r] + full);
                DPBUSD(s[r][0], x0, wr); DPBUSD(s[r][1], x1, wr); DPBUSD(s[r][2], x2, wr); DPBUSD(s[r][3], x3, wr);
            }
        }
        for (int b = 0; b < count; b++) {
            for (int r = 0; r < rows; r++) {
                const int32_t acc = bias[o + r] + _mm512_reduce_add_epi32(s[r][b]);
                if (scores) {
                    scores[(long)b * output_count + o + r] = requantize_scores(acc, multiplier[o + r], shift[o + r]);
                } else {
                    relu_output[(long)b * output_stride + o + r] = (uint8_t)requantize_relu(acc, multiplier[o + r], shift[o + r]);
                }
            }
        }
    }
}

#else // not x86-64: availability 0, so these empty definitions (for the Swift side to link) are never called.
int mnistq_int8_avx2_available(void) { return 0; }
int mnistq_int8_avx512vnni_available(void) { return 0; }
MNISTQ_KERNEL_FAMILY_STUBS(s16s16, s16s8, avx2, int16_t, int16_t)
MNISTQ_U8_KERNEL_FAMILY_STUBS(vnni512)
MNISTQ_LINEAR_BATCH4_KERNEL_STUB(mnistq_linear_u8s8_vnni512_batch4)
#endif
