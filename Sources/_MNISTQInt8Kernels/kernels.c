// AVX2 kernels: 16-bit pairs multiplied and summed into int32 lanes (vpmaddwd), exact for these ranges.
#include "_MNISTQInt8Kernels.h"

// Requantization, exactly as requantize_s32 in Requantize.swift: (acc * multiplier + 2^(shift-1)) >> shift
// (arithmetic), here always followed by a clamp. |acc * multiplier| <= 2^62, so the int64 sum cannot overflow.
static inline int64_t requantize(int32_t acc, int32_t multiplier, int8_t shift) {
    return ((int64_t)acc * (int64_t)multiplier + ((int64_t)1 << (shift - 1))) >> shift;
}
static inline int16_t requantize_relu(int32_t acc, int32_t multiplier, int8_t shift) {
    int64_t r = requantize(acc, multiplier, shift);
    return (int16_t)(r < 0 ? 0 : (r > 255 ? 255 : r));
}

#if defined(__x86_64__)
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2")))

int mnistq_int8_avx2_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? 1 : 0;
}

/// Broadcast of the int16 pair at p (unaligned) to every 32-bit lane.
#define PAIR(p) _mm256_set1_epi32(*(const int32_t *)(const void *)(p))
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

AVX2 void mnistq_conv1_relu_maxpool_avx2(const int16_t *image, const int16_t *weights, const int32_t *bias,
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

AVX2 void mnistq_conv2_relu_maxpool_avx2(const int16_t *input, const int16_t *weights, const int32_t *bias,
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

AVX2 void mnistq_linear_avx2(const int16_t *input, int input_count, const int8_t *weights, const int32_t *bias,
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
                int64_t q = requantize(acc, multiplier[o + r], shift[o + r]);
                scores[o + r] = (int32_t)(q < INT32_MIN ? INT32_MIN : (q > INT32_MAX ? INT32_MAX : q));
            } else {
                relu_output[o + r] = requantize_relu(acc, multiplier[o + r], shift[o + r]);
            }
        }
    }
}

#else
int mnistq_int8_avx2_available(void) { return 0; }
// Never called off x86-64 (mnistq_int8_avx2_available() is 0); defined so the Swift side links everywhere.
void mnistq_conv1_relu_maxpool_avx2(const int16_t *image, const int16_t *weights, const int32_t *bias,
                                    const int32_t *multiplier, const int8_t *shift, int16_t *output) {}
void mnistq_conv2_relu_maxpool_avx2(const int16_t *input, const int16_t *weights, const int32_t *bias,
                                    const int32_t *multiplier, const int8_t *shift, int16_t *output) {}
void mnistq_linear_avx2(const int16_t *input, int input_count, const int8_t *weights, const int32_t *bias,
                        const int32_t *multiplier, const int8_t *shift, int output_count,
                        int16_t *relu_output, int32_t *scores) {}
#endif
