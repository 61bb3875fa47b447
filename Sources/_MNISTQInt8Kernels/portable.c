// Portable int8 kernels in the CMSIS-NN manner: dual 16-bit multiply-accumulates (SMLAD) on bytes widened in pairs
// (SXTB16 for int8 weights, UXTB16 for u8 pixels). On Armv7E-M (Cortex-M4/M7/M33 with DSP) the hot loops are fixed
// LDRD/SMLAD sequences and the widening uses the ACLE intrinsics; elsewhere the same data layouts are multiplied as
// plain int16 values (and widened by exact C definitions of the instructions), so the host's tests run the layouts
// and the arithmetic the microcontroller runs. Also the CRC-32 table.
#include "_MNISTQInt8Kernels.h"
#include "requantize.h"

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
int mnistq_portable_uses_dsp(void) { return 1; }
/// Signed bytes 0 and 2 of w as the int16 pair (low, high); _13 the same of bytes 1 and 3. The rotate is the
/// instruction's own operand: written in C, compilers emit a separate ROR first (one instruction more per call).
static inline uint32_t sx02(uint32_t w) { return (uint32_t)__sxtb16((int32_t)w); }
static inline uint32_t sx13(uint32_t w) { uint32_t r; __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(w)); return r; }
/// Unsigned bytes 0 and 2 of x as the int16 pair (low, high); _13 the same of bytes 1 and 3.
static inline uint32_t ux02(uint32_t x) { return (uint32_t)__uxtb16(x); }
static inline uint32_t ux13(uint32_t x) { uint32_t r; __asm__("uxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x)); return r; }
#else
int mnistq_portable_uses_dsp(void) { return 0; }
static inline uint32_t pair(int32_t low, int32_t high) { return (uint32_t)(uint16_t)low | ((uint32_t)(uint16_t)high << 16); }
static inline uint32_t sx02(uint32_t w) { return pair((int8_t)(w & 0xFF), (int8_t)((w >> 16) & 0xFF)); }
static inline uint32_t sx13(uint32_t w) { return pair((int8_t)((w >> 8) & 0xFF), (int8_t)(w >> 24)); }
static inline uint32_t ux02(uint32_t x) { return x & 0x00FF00FFu; }
static inline uint32_t ux13(uint32_t x) { return (x >> 8) & 0x00FF00FFu; }
#endif

/// 4 bytes from any address (one LDR on Cortex-M4, which allows unaligned word loads; memcpy keeps C strict).
static inline uint32_t load4(const void *p) {
    uint32_t value;
    __builtin_memcpy(&value, p, 4);
    return value;
}

/// Where value i of an activation vector lives in pair order (v0 v2 v1 v3 within each group of 4).
static inline int pair_slot(int i) { return (i & ~3) | ((i & 1) << 1) | ((i >> 1) & 1); }

static inline int32_t max32(int32_t a, int32_t b) { return a > b ? a : b; }

/// A 32-bit word that may alias other types: how pair-order int16 activations and weight quads (both 4-byte
/// aligned: the arena plan and the in-place layout guarantee it) are read without breaking C's aliasing rules. A
/// memcpy here makes GCC bounce two words through the stack instead of one LDRD.
typedef uint32_t __attribute__((may_alias, aligned(4))) aliased_word;

/// The weight quad at p (4-byte aligned in every layout).
static inline uint32_t load_quad(const int8_t *p) { return *(const aliased_word *)(const void *)p; }

#if !(defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && defined(__thumb2__))
// Without the DSP instructions, the hot loops read the same pair-order words as int16 values and multiply them
// directly: (a0, a2), (a1, a3) against (w0, w2), (w1, w3) is Σ a[i]·w[i] over the four int16 in memory order.
// Plain multiply-adds instead of SMLAD emulated bit by bit; both run at about 2,000 images/s on x86-64 (the layout,
// made for Cortex-M4's registers, leaves vectorizers little to work with). A word's low half is its first int16 in
// memory only on little-endian targets.
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "pair-order words read as int16 need little-endian");
typedef int16_t __attribute__((may_alias)) aliased_half;

/// Σ a[i] · b[i] over the 2·words int16 values at a and b.
static inline int32_t dot_halves(const void *a, const void *b, int words) {
    const aliased_half *x = (const aliased_half *)a, *w = (const aliased_half *)b;
    int32_t sum = 0;
    for (int i = 0; i < 2 * words; i++) sum += (int32_t)x[i] * (int32_t)w[i];
    return sum;
}
#endif

_Static_assert(MNISTQ_CONV1_PORTABLE_SCRATCH_BYTES == (32 * 32 * 2 + 16 * 5 * 3) * 4, "conv1 scratch: pixel pairs + weights");
_Static_assert(MNISTQ_CONV2_PORTABLE_SCRATCH_BYTES == 25 * 4 * 2 * 2 * 4, "conv2 scratch: two channels' weights");

/// Stores two words (8 bytes, 4-byte aligned: one STRD).
static inline void store_pairs(uint32_t *p, uint32_t lo, uint32_t hi) { p[0] = lo; p[1] = hi; }

/// conv1 for one channel at a pool window's 4 positions, the maximum of the 4 sums: t holds the channel's widened
/// weights, per kernel row (w0, w2), (w1, w3), (w4, 0); x the top-left position's pixel pairs in the [32][32][2]
/// word table.
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && defined(__thumb2__)
// A fixed LDRD/SMLAD sequence for the reason given at row_step: 23 instructions per kernel row for 4 positions.
#define MNISTQ_POSITION(ACC, X, T)                                                        \
    "ldrd %[lo], %[hi], [%[x], #" #X "]\n\t"                                              \
    "smlad %[" #ACC "], %[lo], %[w02], %[" #ACC "]\n\t"                                   \
    "smlad %[" #ACC "], %[hi], %[w13], %[" #ACC "]\n\t"                                   \
    "ldr %[lo], [%[x], #" #X "+32]\n\t"                                                  \
    "smlad %[" #ACC "], %[lo], %[w4], %[" #ACC "]\n\t"
// One kernel row: its 3 weight words at t + T, then the 4 positions; x moves on to the next row (256 bytes) after it,
// since LDRD's offsets reach only 1020 bytes.
#define MNISTQ_ROW(T)                                                                     \
    "ldrd %[w02], %[w13], [%[t], #" #T "]\n\t"                                            \
    "ldr %[w4], [%[t], #" #T "+8]\n\t"                                                   \
    MNISTQ_POSITION(s00, 0, T) MNISTQ_POSITION(s01, 8, T) MNISTQ_POSITION(s10, 256, T)      \
    MNISTQ_POSITION(s11, 264, T)                                                          \
    "add %[x], %[x], #256\n\t"
/// conv1's 5 kernel rows for one channel at a pool window's 4 positions; returns their maximum.
static inline int32_t conv1_window(const uint32_t *x, const uint32_t *t) {
    uint32_t w02, w13, w4, lo, hi;
    int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0;
    __asm__(MNISTQ_ROW(0) MNISTQ_ROW(12) MNISTQ_ROW(24) MNISTQ_ROW(36) MNISTQ_ROW(48)
            : [s00] "+r"(s00), [s01] "+r"(s01), [s10] "+r"(s10), [s11] "+r"(s11), [w02] "=&r"(w02), [w13] "=&r"(w13),
              [w4] "=&r"(w4), [lo] "=&r"(lo), [hi] "=&r"(hi), [x] "+r"(x)
            : [t] "r"(t)
            : "memory");
    return max32(max32(s00, s01), max32(s10, s11));
}
#undef MNISTQ_ROW
#undef MNISTQ_POSITION
#else
static inline int32_t conv1_window(const uint32_t *x, const uint32_t *t) {
    int32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0;
    for (int ky = 0; ky < 5; ky++, t += 3, x += 64) {
        // Per position: taps 0-3 are the pixel pairs x[0], x[1] against t[0], t[1]; tap 4 is x[8] against (w4, 0).
        a00 += dot_halves(x, t, 2) + dot_halves(x + 8, t + 2, 1);
        a01 += dot_halves(x + 2, t, 2) + dot_halves(x + 10, t + 2, 1);
        a10 += dot_halves(x + 64, t, 2) + dot_halves(x + 72, t + 2, 1);
        a11 += dot_halves(x + 66, t, 2) + dot_halves(x + 74, t + 2, 1);
    }
    return max32(max32(a00, a01), max32(a10, a11));
}
#endif

void mnistq_conv1_relu_maxpool_u8s8_portable(const uint8_t *image, const int8_t *weights, const int32_t *bias,
                                        const int32_t *multiplier, const int8_t *shift, int16_t *output,
                                        void *scratch) {
    // Widened once per image instead of once per window and channel (the work is the same for every one of them):
    // - rows: for each padded row r and column x, the pixel pairs (p[x], p[x+2]) and (p[x+1], p[x+3]), so that a
    //   tap quad at any column is one LDRD;
    // - weights: per channel and kernel row, (w0, w2), (w1, w3) and (w4, 0); taps 5...7 are zero, so the second quad
    //   needs one SMLAD per position, not two.
    uint32_t *rows = (uint32_t *)scratch;                 // [32 rows][32 columns][2 words]
    uint32_t *taps = rows + 32 * 32 * 2;                  // [16 channels][5 kernel rows][3 words] (+1 word, aligned)
    for (int r = 0; r < 32; r++) {
        for (int x = 0; x < 32; x++) {
            const uint32_t p = load4(image + r * 40 + x);
            store_pairs(rows + (r * 32 + x) * 2, ux02(p), ux13(p));
        }
    }
    for (int o = 0; o < 16; o++) {
        for (int ky = 0; ky < 5; ky++) {
            const uint32_t q0 = load_quad(weights + (ky * 2 * 16 + o) * 4), q1 = load_quad(weights + ((ky * 2 + 1) * 16 + o) * 4);
            uint32_t *t = taps + (o * 5 + ky) * 3;
            t[0] = sx02(q0); t[1] = sx13(q0); t[2] = sx02(q1);  // sx02(q1) = (w4, w6) = (w4, 0)
        }
    }
    for (int py = 0; py < 14; py++) {
        for (int px = 0; px < 14; px++) {
            const uint32_t *corner = rows + ((2 * py) * 32 + 2 * px) * 2;
            int16_t *out = output + ((py + 2) * 18 + px + 2) * 16;
            for (int o = 0; o < 16; o++) {
                // One channel at the window's 4 positions: per kernel row 3 weight words, then per position one LDRD,
                // 2 SMLAD (taps 0-3) and one word, one SMLAD (tap 4).
                // Pooling before the rescale equals pooling after it (the rescale is monotonic); bias is per channel.
                const int32_t a = conv1_window(corner, taps + o * 15) + bias[o];
                out[pair_slot(o)] = requantize_relu(a, multiplier[o], shift[o]);
            }
        }
    }
}

/// One conv2 kernel row for 2 channels (a, b) at 2 positions (0, 1): 5 taps × 4 input-channel quads, 320 MACs.
/// x: position 0's pair-order activations at the row's first tap (position 1's follow 16 values later, each next tap
/// 16 values later); w: the row's widened weights, [tap][quad][channel][2].
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && defined(__thumb2__)
// The same arithmetic as the C version below, in the order Cortex-M4 runs best: compilers hoist the loads of several
// quads to hide latency, run out of its 13 registers and spill (measured under QEMU: 3.34 M instructions per image
// for conv2 alone, against 2.1 M this way). 2 LDRD of weights + 2 LDRD of activations + 8 SMLAD per quad.
#define MNISTQ_QUAD(W, X)                                                                 \
    "ldrd %[w0], %[w1], [%[w], #" #W "]\n\t"                                              \
    "ldrd %[lo], %[hi], [%[x], #" #X "]\n\t"                                              \
    "smlad %[a0], %[lo], %[w0], %[a0]\n\t"                                                \
    "smlad %[a0], %[hi], %[w1], %[a0]\n\t"                                                \
    "ldrd %[w2], %[w3], [%[w], #" #W "+8]\n\t"                                            \
    "smlad %[b0], %[lo], %[w2], %[b0]\n\t"                                                \
    "smlad %[b0], %[hi], %[w3], %[b0]\n\t"                                                \
    "ldrd %[lo], %[hi], [%[x], #" #X "+32]\n\t"                                           \
    "smlad %[a1], %[lo], %[w0], %[a1]\n\t"                                                \
    "smlad %[a1], %[hi], %[w1], %[a1]\n\t"                                                \
    "smlad %[b1], %[lo], %[w2], %[b1]\n\t"                                                \
    "smlad %[b1], %[hi], %[w3], %[b1]\n\t"
// A whole kernel row (5 taps) per block: the offsets stay within LDRD's 1020 bytes and no loop is left inside it.
#define MNISTQ_TAP(K) MNISTQ_QUAD(K * 64, K * 32) MNISTQ_QUAD(K * 64 + 16, K * 32 + 8)            \
    MNISTQ_QUAD(K * 64 + 32, K * 32 + 16) MNISTQ_QUAD(K * 64 + 48, K * 32 + 24)
static inline void row_step(const int16_t *x, const uint32_t *w, int32_t *a0, int32_t *a1, int32_t *b0, int32_t *b1) {
    uint32_t w0, w1, w2, w3, lo, hi;
    int32_t s0 = *a0, s1 = *a1, t0 = *b0, t1 = *b1;
    __asm__(MNISTQ_TAP(0) MNISTQ_TAP(1) MNISTQ_TAP(2) MNISTQ_TAP(3) MNISTQ_TAP(4)
            : [a0] "+r"(s0), [a1] "+r"(s1), [b0] "+r"(t0), [b1] "+r"(t1), [w0] "=&r"(w0), [w1] "=&r"(w1),
              [w2] "=&r"(w2), [w3] "=&r"(w3), [lo] "=&r"(lo), [hi] "=&r"(hi)
            : [x] "r"(x), [w] "r"(w)
            : "memory");
    *a0 = s0; *a1 = s1; *b0 = t0; *b1 = t1;
}
#undef MNISTQ_TAP
#undef MNISTQ_QUAD
#else
static inline void row_step(const int16_t *x, const uint32_t *w, int32_t *a0, int32_t *a1, int32_t *b0, int32_t *b1) {
    int32_t s0 = *a0, s1 = *a1, t0 = *b0, t1 = *b1;
    for (int kx = 0; kx < 5; kx++, x += 16) {
        for (int quad = 0; quad < 4; quad++, w += 4) {
            s0 += dot_halves(x + 4 * quad, w, 2); t0 += dot_halves(x + 4 * quad, w + 2, 2);
            s1 += dot_halves(x + 16 + 4 * quad, w, 2); t1 += dot_halves(x + 16 + 4 * quad, w + 2, 2);
        }
    }
    *a0 = s0; *a1 = s1; *b0 = t0; *b1 = t1;
}
#endif

void mnistq_conv2_relu_maxpool_s16s8_portable(const int16_t *input, const int8_t *weights, const int32_t *bias,
                                        const int32_t *multiplier, const int8_t *shift, int16_t *output,
                                        void *scratch) {
    const int row = 18 * 16;
    uint32_t *widened = (uint32_t *)scratch;  // [25 taps][4 quads][2 channels][2 words]
    for (int o = 0; o < 32; o += 2) {
        // Two channels' weights widened once for all 49 windows, then per tap and input-channel quad: two LDRD of
        // weight pairs, per position one LDRD of activation pairs and 4 SMLAD (16 MACs in 12 instructions), with
        // 4 sums live: nothing spills on Cortex-M4.
        for (int tq = 0; tq < 100; tq++) {
            const uint32_t qa = load_quad(weights + (tq * 32 + o) * 4), qb = load_quad(weights + (tq * 32 + o + 1) * 4);
            uint32_t *w = widened + tq * 4;
            w[0] = sx02(qa); w[1] = sx13(qa); w[2] = sx02(qb); w[3] = sx13(qb);
        }
        for (int py = 0; py < 7; py++) {
            for (int px = 0; px < 7; px++) {
                int32_t best_a = INT32_MIN, best_b = INT32_MIN;
                for (int dy = 0; dy < 2; dy++) {
                    // Positions (2py + dy, 2px) and (2py + dy, 2px + 1) of channels o (a) and o + 1 (b).
                    int32_t a0 = 0, a1 = 0, b0 = 0, b1 = 0;
                    const int16_t *x = input + (2 * py + dy) * row + (2 * px) * 16;
                    const uint32_t *w = widened;
                    for (int ky = 0; ky < 5; ky++, x += row, w += 80) row_step(x, w, &a0, &a1, &b0, &b1);
                    best_a = max32(best_a, max32(a0, a1));
                    best_b = max32(best_b, max32(b0, b1));
                }
                int16_t *out = output + (py * 7 + px) * 32;
                out[pair_slot(o)] = requantize_relu(best_a + bias[o], multiplier[o], shift[o]);
                out[pair_slot(o + 1)] = requantize_relu(best_b + bias[o + 1], multiplier[o + 1], shift[o + 1]);
            }
        }
    }
}

/// 4 inputs of two rows: *s0 += Σ (*w0)[i] · x[i], *s1 likewise with *w1, over the activation pairs (v0, v2),
/// (v1, v3) and the widened weight bytes; advances x by 4 values and both rows by 4 weights.
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && defined(__thumb2__)
// A fixed sequence (11 instructions for 8 MACs) for the reason given at row_step.
static inline void dot4_rows2(const int16_t **x, const int8_t **w0, const int8_t **w1, int32_t *s0, int32_t *s1) {
    uint32_t lo, hi, wa, wb, t;
    int32_t a = *s0, b = *s1;
    const int16_t *xp = *x;
    const int8_t *pa = *w0, *pb = *w1;
    __asm__("ldrd %[lo], %[hi], [%[x]], #8\n\t"
            "ldr %[wa], [%[pa]], #4\n\t"
            "ldr %[wb], [%[pb]], #4\n\t"
            "sxtb16 %[t], %[wa], ror #8\n\t"
            "sxtb16 %[wa], %[wa]\n\t"
            "smlad %[a], %[lo], %[wa], %[a]\n\t"
            "smlad %[a], %[hi], %[t], %[a]\n\t"
            "sxtb16 %[t], %[wb], ror #8\n\t"
            "sxtb16 %[wb], %[wb]\n\t"
            "smlad %[b], %[lo], %[wb], %[b]\n\t"
            "smlad %[b], %[hi], %[t], %[b]\n\t"
            : [a] "+r"(a), [b] "+r"(b), [x] "+r"(xp), [pa] "+r"(pa), [pb] "+r"(pb), [lo] "=&r"(lo), [hi] "=&r"(hi),
              [wa] "=&r"(wa), [wb] "=&r"(wb), [t] "=&r"(t)
            :
            : "memory");
    *s0 = a; *s1 = b; *x = xp; *w0 = pa; *w1 = pb;
}
#else
static inline void dot4_rows2(const int16_t **x, const int8_t **w0, const int8_t **w1, int32_t *s0, int32_t *s1) {
    // Pair order: the 4 activations in memory are v0 v2 v1 v3; the weights are in natural order.
    const int16_t *v = *x;
    const int8_t *a = *w0, *b = *w1;
    *s0 += v[0] * a[0] + v[1] * a[2] + v[2] * a[1] + v[3] * a[3];
    *s1 += v[0] * b[0] + v[1] * b[2] + v[2] * b[1] + v[3] * b[3];
    *x += 4; *w0 += 4; *w1 += 4;
}
#endif

void mnistq_linear_s16s8_portable(const int16_t *input, int input_count, const int8_t *weights, const int32_t *bias,
                            const int32_t *multiplier, const int8_t *shift, int output_count,
                            int16_t *relu_output, int32_t *scores) {
    // Two rows at a time: per 4 inputs one LDRD of activation pairs, then per row one weight word, 2 SXTB16 and
    // 2 SMLAD. Four rows would reuse the activations more but spill on Cortex-M4's 13 registers.
    for (int o = 0; o < output_count; o += 2) {
        const int8_t *w0 = weights + (long)o * input_count;
        const int8_t *w1 = o + 1 < output_count ? w0 + input_count : w0;
        int32_t s0 = 0, s1 = 0;
        const int16_t *x = input;
        int i = 0;
        for (; i + 8 <= input_count; i += 8) {
            dot4_rows2(&x, &w0, &w1, &s0, &s1);
            dot4_rows2(&x, &w0, &w1, &s0, &s1);
        }
        if (i < input_count) dot4_rows2(&x, &w0, &w1, &s0, &s1);  // counts are multiples of 4
        const int32_t sums[2] = {s0, s1};
        for (int r = 0; r < 2 && o + r < output_count; r++) {
            const int32_t acc = bias[o + r] + sums[r];
            if (scores) {
                scores[o + r] = requantize_scores(acc, multiplier[o + r], shift[o + r]);
            } else {
                relu_output[pair_slot(o + r)] = requantize_relu(acc, multiplier[o + r], shift[o + r]);
            }
        }
    }
}

// CRC-32 table for the reflected IEEE polynomial 0xEDB88320 (entry n is the register after 8 steps from n).
static const uint32_t crc_table[256] = {
    0x00000000, 0x77073096, 0xEE0E612C, 0x990951BA, 0x076DC419, 0x706AF48F,
    0xE963A535, 0x9E6495A3, 0x0EDB8832, 0x79DCB8A4, 0xE0D5E91E, 0x97D2D988,
    0x09B64C2B, 0x7EB17CBD, 0xE7B82D07, 0x90BF1D91, 0x1DB71064, 0x6AB020F2,
    0xF3B97148, 0x84BE41DE, 0x1ADAD47D, 0x6DDDE4EB, 0xF4D4B551, 0x83D385C7,
    0x136C9856, 0x646BA8C0, 0xFD62F97A, 0x8A65C9EC, 0x14015C4F, 0x63066CD9,
    0xFA0F3D63, 0x8D080DF5, 0x3B6E20C8, 0x4C69105E, 0xD56041E4, 0xA2677172,
    0x3C03E4D1, 0x4B04D447, 0xD20D85FD, 0xA50AB56B, 0x35B5A8FA, 0x42B2986C,
    0xDBBBC9D6, 0xACBCF940, 0x32D86CE3, 0x45DF5C75, 0xDCD60DCF, 0xABD13D59,
    0x26D930AC, 0x51DE003A, 0xC8D75180, 0xBFD06116, 0x21B4F4B5, 0x56B3C423,
    0xCFBA9599, 0xB8BDA50F, 0x2802B89E, 0x5F058808, 0xC60CD9B2, 0xB10BE924,
    0x2F6F7C87, 0x58684C11, 0xC1611DAB, 0xB6662D3D, 0x76DC4190, 0x01DB7106,
    0x98D220BC, 0xEFD5102A, 0x71B18589, 0x06B6B51F, 0x9FBFE4A5, 0xE8B8D433,
    0x7807C9A2, 0x0F00F934, 0x9609A88E, 0xE10E9818, 0x7F6A0DBB, 0x086D3D2D,
    0x91646C97, 0xE6635C01, 0x6B6B51F4, 0x1C6C6162, 0x856530D8, 0xF262004E,
    0x6C0695ED, 0x1B01A57B, 0x8208F4C1, 0xF50FC457, 0x65B0D9C6, 0x12B7E950,
    0x8BBEB8EA, 0xFCB9887C, 0x62DD1DDF, 0x15DA2D49, 0x8CD37CF3, 0xFBD44C65,
    0x4DB26158, 0x3AB551CE, 0xA3BC0074, 0xD4BB30E2, 0x4ADFA541, 0x3DD895D7,
    0xA4D1C46D, 0xD3D6F4FB, 0x4369E96A, 0x346ED9FC, 0xAD678846, 0xDA60B8D0,
    0x44042D73, 0x33031DE5, 0xAA0A4C5F, 0xDD0D7CC9, 0x5005713C, 0x270241AA,
    0xBE0B1010, 0xC90C2086, 0x5768B525, 0x206F85B3, 0xB966D409, 0xCE61E49F,
    0x5EDEF90E, 0x29D9C998, 0xB0D09822, 0xC7D7A8B4, 0x59B33D17, 0x2EB40D81,
    0xB7BD5C3B, 0xC0BA6CAD, 0xEDB88320, 0x9ABFB3B6, 0x03B6E20C, 0x74B1D29A,
    0xEAD54739, 0x9DD277AF, 0x04DB2615, 0x73DC1683, 0xE3630B12, 0x94643B84,
    0x0D6D6A3E, 0x7A6A5AA8, 0xE40ECF0B, 0x9309FF9D, 0x0A00AE27, 0x7D079EB1,
    0xF00F9344, 0x8708A3D2, 0x1E01F268, 0x6906C2FE, 0xF762575D, 0x806567CB,
    0x196C3671, 0x6E6B06E7, 0xFED41B76, 0x89D32BE0, 0x10DA7A5A, 0x67DD4ACC,
    0xF9B9DF6F, 0x8EBEEFF9, 0x17B7BE43, 0x60B08ED5, 0xD6D6A3E8, 0xA1D1937E,
    0x38D8C2C4, 0x4FDFF252, 0xD1BB67F1, 0xA6BC5767, 0x3FB506DD, 0x48B2364B,
    0xD80D2BDA, 0xAF0A1B4C, 0x36034AF6, 0x41047A60, 0xDF60EFC3, 0xA867DF55,
    0x316E8EEF, 0x4669BE79, 0xCB61B38C, 0xBC66831A, 0x256FD2A0, 0x5268E236,
    0xCC0C7795, 0xBB0B4703, 0x220216B9, 0x5505262F, 0xC5BA3BBE, 0xB2BD0B28,
    0x2BB45A92, 0x5CB36A04, 0xC2D7FFA7, 0xB5D0CF31, 0x2CD99E8B, 0x5BDEAE1D,
    0x9B64C2B0, 0xEC63F226, 0x756AA39C, 0x026D930A, 0x9C0906A9, 0xEB0E363F,
    0x72076785, 0x05005713, 0x95BF4A82, 0xE2B87A14, 0x7BB12BAE, 0x0CB61B38,
    0x92D28E9B, 0xE5D5BE0D, 0x7CDCEFB7, 0x0BDBDF21, 0x86D3D2D4, 0xF1D4E242,
    0x68DDB3F8, 0x1FDA836E, 0x81BE16CD, 0xF6B9265B, 0x6FB077E1, 0x18B74777,
    0x88085AE6, 0xFF0F6A70, 0x66063BCA, 0x11010B5C, 0x8F659EFF, 0xF862AE69,
    0x616BFFD3, 0x166CCF45, 0xA00AE278, 0xD70DD2EE, 0x4E048354, 0x3903B3C2,
    0xA7672661, 0xD06016F7, 0x4969474D, 0x3E6E77DB, 0xAED16A4A, 0xD9D65ADC,
    0x40DF0B66, 0x37D83BF0, 0xA9BCAE53, 0xDEBB9EC5, 0x47B2CF7F, 0x30B5FFE9,
    0xBDBDF21C, 0xCABAC28A, 0x53B39330, 0x24B4A3A6, 0xBAD03605, 0xCDD70693,
    0x54DE5729, 0x23D967BF, 0xB3667A2E, 0xC4614AB8, 0x5D681B02, 0x2A6F2B94,
    0xB40BBE37, 0xC30C8EA1, 0x5A05DF1B, 0x2D02EF8D,
};

uint32_t mnistq_crc32_update(uint32_t crc, const uint8_t *bytes, long count) {
    for (long i = 0; i < count; i++) crc = crc_table[(crc ^ bytes[i]) & 0xFF] ^ (crc >> 8);
    return crc;
}
