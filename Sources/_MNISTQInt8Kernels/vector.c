// Generic-vector int8 kernels: the `_neon` kernels' signatures and layouts (u8 activations channels-last, int8 weight
// quads as the in-place image stores them), written in plain C with GCC/clang vector extensions instead of intrinsics,
// for every CPU without a dedicated kernel family: x86-64 without AVX2 (SSE2 is its baseline), WebAssembly with
// simd128, and other 64-bit hosts. Exact for the format's ranges, so they equal the reference kernels bit for bit.
//
// The one multiply is a 2-way int16 dot product into int32 lanes (`dot_pairs`): clang turns the even/odd form into
// SSE2 `pmaddwd` (8 multiply-adds per instruction) and it is `i32x4.dot_i16x8_s` on wasm. Both operands are exact
// int16 values (activations 0...255, weights −127...127), so unlike the NEON kernels no offset trick is needed: each
// lane's two products and their sum are far inside int32.
//
// Convolutions: each int32 lane is one output channel (4 per vector), fed the pair of taps or input channels a step
// covers; the activation pair (two int16) is broadcast to every lane. The conv weights are regrouped per call on the
// stack into those [channel][pair] int16 vectors (conv1 960 bytes, conv2 25,600), and the activations widened to
// int16 once (conv1 2,560 bytes, conv2 10,368). A tile is the 4 positions of a pool window × 8 channels: 8
// accumulators, 2 weight vectors and a broadcast, so nothing spills with SSE2's 16 registers (or V8's). Linear layers
// read weights as they lie: 16 int8 as 8 int16 lanes split into even and odd bytes by shifts, against the input's even
// and odd bytes, 4 rows at a time.
#include "_MNISTQInt8Kernels.h"
#include "requantize.h"
#include "family_stubs.h"
#include "pool_windows.h"

#if defined(__wasm_simd128__) || (defined(__SIZEOF_POINTER__) && __SIZEOF_POINTER__ == 8)
#define MNISTQ_VECTOR_KERNELS 1
#endif

#if defined(MNISTQ_VECTOR_KERNELS)
int mnistq_int8_vector_available(void) { return 1; }

typedef int16_t i16x8 __attribute__((vector_size(16)));
typedef uint16_t u16x8 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));

/// 16 bytes at any address (memcpy: no alignment or aliasing assumption; one unaligned load).
static inline i16x8 load_i16x8(const void *p) {
    i16x8 v;
    __builtin_memcpy(&v, p, 16);
    return v;
}

/// The int16 pair at p (any address) in every 32-bit lane: one load-and-splat (v128.load32_splat on wasm).
static inline i16x8 splat_pair(const int16_t *p) {
    int32_t pair;
    __builtin_memcpy(&pair, p, 4);
    const i32x4 v = {pair, pair, pair, pair};
    return (i16x8)v;
}

/// [a0·b0 + a1·b1, a2·b2 + a3·b3, …]: exact for the int16 values these kernels multiply (never −32768 × −32768).
static inline i32x4 dot_pairs(i16x8 a, i16x8 b) {
#if defined(__wasm_simd128__)
    return __builtin_wasm_dot_s_i32x4_i16x8(a, b);
#elif defined(__SSE2__)
    // The even/odd form below is pmaddwd when both operands are plain loads, but with a broadcast operand clang
    // rewrites it into pmullw/pmulhw/unpack sequences (3× the instructions); the builtin keeps the one instruction.
    return __builtin_ia32_pmaddwd128(a, b);
#else
    const i32x4 ae = __builtin_convertvector(__builtin_shufflevector(a, a, 0, 2, 4, 6), i32x4);
    const i32x4 ao = __builtin_convertvector(__builtin_shufflevector(a, a, 1, 3, 5, 7), i32x4);
    const i32x4 be = __builtin_convertvector(__builtin_shufflevector(b, b, 0, 2, 4, 6), i32x4);
    const i32x4 bo = __builtin_convertvector(__builtin_shufflevector(b, b, 1, 3, 5, 7), i32x4);
    return ae * be + ao * bo;
#endif
}

/// Lane-wise max (the comparison gives all-ones lanes where a > b; pmaxsd is SSE4.1, so this is what SSE2 does).
static inline i32x4 max_i32x4(i32x4 a, i32x4 b) {
    const i32x4 a_greater = (i32x4)(a > b);
    return (a & a_greater) | (b & ~a_greater);
}

/// requantize_relu of requantize.h in its defining form: 64-bit hosts and wasm multiply and shift int64 natively, so
/// the 32-bit shortcut there (same results) only costs a branch here.
static inline uint8_t requantize_relu64(int32_t acc, int32_t multiplier, int8_t shift) {
    const int64_t r = ((int64_t)acc * multiplier + ((int64_t)1 << (shift - 1))) >> shift;
    return (uint8_t)(r < 0 ? 0 : (r > 255 ? 255 : r));
}

/// Max of a pool window's 4 positions for channels c ..< c + 4, plus their bias, requantized with the ReLU clamp to u8.
__attribute__((always_inline)) static inline void pool_store4(i32x4 p0, i32x4 p1, i32x4 p2, i32x4 p3, const int32_t *bias, const int32_t *multiplier,
                               const int8_t *shift, int c, uint8_t *out) {
    const i32x4 m = max_i32x4(max_i32x4(p0, p1), max_i32x4(p2, p3));
    for (int k = 0; k < 4; k++) {
        // |sum| ≤ 255·127·400 < 2^24 and |bias| ≤ 2^30: the int32 addition cannot overflow.
        out[c + k] = requantize_relu64(m[k] + bias[c + k], multiplier[c + k], shift[c + k]);
    }
}

/// Activations widened to int16, `count` (a multiple of 16) of them.
static void widen(const uint8_t *x, int16_t *wide, int count) {
    for (int i = 0; i < count; i++) wide[i] = x[i];
}

#define DOT4(k, w)                                                                                                    \
    A##k += dot_pairs(xa, w); B##k += dot_pairs(xb, w); C##k += dot_pairs(xc, w); D##k += dot_pairs(xd, w)

/// conv1's 16 channels of one pool window: corner is the window's top-left in the widened image, paired the regrouped
/// weights (see mnistq_conv1_relu_maxpool_u8s8_vector).
__attribute__((always_inline)) static inline void conv1_window(const int16_t *corner, const i16x8 *paired, const int32_t *bias,
                                                             const int32_t *multiplier, const int8_t *shift, uint8_t *out) {
    for (int half = 0; half < 2; half++) { // channels 8·half ..< 8·half + 8
        // Positions A (0, 0), B (0, 1), C (1, 0), D (1, 1) of the window × 2 vectors of 4 channels.
        i32x4 A0 = {0, 0, 0, 0}, A1 = A0, B0 = A0, B1 = A0, C0 = A0, C1 = A0, D0 = A0, D1 = A0;
        for (int ky = 0; ky < 5; ky++) {
            const int16_t *r0 = corner + ky * 40, *r1 = r0 + 40;
            for (int pair = 0; pair < 3; pair++) {
                const i16x8 w0 = paired[(ky * 3 + pair) * 4 + 2 * half];
                const i16x8 w1 = paired[(ky * 3 + pair) * 4 + 2 * half + 1];
                const i16x8 xa = splat_pair(r0 + 2 * pair), xb = splat_pair(r0 + 2 * pair + 1);
                const i16x8 xc = splat_pair(r1 + 2 * pair), xd = splat_pair(r1 + 2 * pair + 1);
                DOT4(0, w0);
                DOT4(1, w1);
            }
        }
        pool_store4(A0, B0, C0, D0, bias, multiplier, shift, 8 * half, out);
        pool_store4(A1, B1, C1, D1, bias, multiplier, shift, 8 * half + 4, out);
    }
}

void mnistq_conv1_relu_maxpool_u8s8_vector(const uint8_t *image, const int8_t *weights, const int32_t *bias,
                                      const int32_t *multiplier, const int8_t *shift, uint8_t *output) {
    // Tap pairs (kx 0-1, 2-3, 4-5; kx = 5 is the image's zero) of each row ky, as [4 channels][2 taps] int16 vectors:
    // paired[(ky·3 + pair)·4 + v] holds channels 4v ..< 4v + 4. The image stores tap kx of channel o at
    // ky·128 + (kx / 4)·64 + o·4 + kx % 4.
    i16x8 paired[15 * 4];
    for (int ky = 0; ky < 5; ky++) {
        for (int pair = 0; pair < 3; pair++) {
            const int kx = 2 * pair;
            const int8_t *w = weights + ky * 128 + (kx / 4) * 64 + kx % 4;
            for (int v = 0; v < 4; v++) {
                i16x8 vector;
                for (int k = 0; k < 4; k++) {
                    vector[2 * k] = w[(4 * v + k) * 4];
                    vector[2 * k + 1] = w[(4 * v + k) * 4 + 1];
                }
                paired[(ky * 3 + pair) * 4 + v] = vector;
            }
        }
    }
    int16_t wide[32 * 40] __attribute__((aligned(16)));
    widen(image, wide, 32 * 40);
    for (int py = 0; py < CONV1_WINDOWS_PER_SIDE; py++) {
        for (int px = 0; px < CONV1_WINDOWS_PER_SIDE; px++) {
            conv1_window(wide + conv1_window_input(py, px), paired, bias, multiplier, shift, output + conv1_window_output(py, px));
        }
    }
}

/// conv2's 32 channels of one pool window: corner is the window's top-left in the widened input, paired the regrouped
/// weights (see mnistq_conv2_relu_maxpool_u8s8_vector).
__attribute__((always_inline)) static inline void conv2_window(const int16_t *corner, const i16x8 *paired, const int32_t *bias,
                                                             const int32_t *multiplier, const int8_t *shift, uint8_t *out) {
    const int row = CONV2_INPUT_ROW;
    for (int group = 0; group < 4; group++) {
        i32x4 A0 = {0, 0, 0, 0}, A1 = A0, B0 = A0, B1 = A0, C0 = A0, C1 = A0, D0 = A0, D1 = A0;
        const i16x8 *w = paired + group * 25 * 16;
        for (int ky = 0; ky < 5; ky++) {
            for (int kx = 0; kx < 5; kx++, w += 16) {
                const int16_t *x0 = corner + ky * row + kx * 16, *x1 = x0 + row;
                for (int pair = 0; pair < 8; pair++) {
                    const i16x8 xa = splat_pair(x0 + 2 * pair), xb = splat_pair(x0 + 16 + 2 * pair);
                    const i16x8 xc = splat_pair(x1 + 2 * pair), xd = splat_pair(x1 + 16 + 2 * pair);
                    DOT4(0, w[2 * pair]);
                    DOT4(1, w[2 * pair + 1]);
                }
            }
        }
        pool_store4(A0, B0, C0, D0, bias, multiplier, shift, 8 * group, out);
        pool_store4(A1, B1, C1, D1, bias, multiplier, shift, 8 * group + 4, out);
    }
}

void mnistq_conv2_relu_maxpool_u8s8_vector(const uint8_t *input, const int8_t *weights, const int32_t *bias,
                                      const int32_t *multiplier, const int8_t *shift, uint8_t *output) {
    // paired[((group·25 + tap)·8 + pair)·2 + v]: output channels 8·group + 4v ..< + 4 × input channels 2·pair, 2·pair + 1
    // as int16. The image stores input channel i of output channel o at tap·512 + (i / 4)·128 + o·4 + i % 4.
    i16x8 paired[4 * 25 * 8 * 2];
    for (int group = 0; group < 4; group++) {
        for (int tap = 0; tap < 25; tap++) {
            for (int pair = 0; pair < 8; pair++) {
                const int8_t *w = weights + tap * 512 + (pair / 2) * 128 + (pair % 2) * 2;
                for (int v = 0; v < 2; v++) {
                    i16x8 vector;
                    for (int k = 0; k < 4; k++) {
                        const int o = 8 * group + 4 * v + k;
                        vector[2 * k] = w[o * 4];
                        vector[2 * k + 1] = w[o * 4 + 1];
                    }
                    paired[((group * 25 + tap) * 8 + pair) * 2 + v] = vector;
                }
            }
        }
    }
    int16_t wide[18 * 18 * 16] __attribute__((aligned(16)));
    widen(input, wide, 18 * 18 * 16);
    for (int py = 0; py < CONV2_WINDOWS_PER_SIDE; py++) {
        for (int px = 0; px < CONV2_WINDOWS_PER_SIDE; px++) {
            conv2_window(wide + conv2_window_input(py, px), paired, bias, multiplier, shift, output + conv2_window_output(py, px));
        }
    }
}
#undef DOT4

/// Sum of the 4 lanes.
static inline int32_t sum_lanes(i32x4 v) { return v[0] + v[1] + v[2] + v[3]; }

void mnistq_linear_u8s8_vector(const uint8_t *input, int input_count, const int8_t *weights, const int32_t *bias,
                          const int32_t *multiplier, const int8_t *shift, int output_count,
                          uint8_t *relu_output, int32_t *scores) {
    const int full = input_count & ~15;
    const u16x8 low_byte = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    for (int o = 0; o < output_count; o += 4) {
        const int rows = output_count - o < 4 ? output_count - o : 4;
        const int8_t *w[4];
        for (int r = 0; r < 4; r++) w[r] = weights + (long)(o + (r < rows ? r : 0)) * input_count; // absent rows: row o
        i32x4 s0 = {0, 0, 0, 0}, s1 = s0, s2 = s0, s3 = s0;
        for (int i = 0; i < full; i += 16) {
            // Bytes 2j and 2j + 1 of 16 inputs and of each row's 16 weights, as int16 lanes j: the products of
            // even with even and odd with odd bytes are all 16 of this block.
            const u16x8 x = (u16x8)load_i16x8(input + i);
            const i16x8 xe = (i16x8)(x & low_byte), xo = (i16x8)(x >> 8);
#define ROW(r)                                                                                                        \
    do {                                                                                                              \
        const i16x8 v = load_i16x8(w[r] + i);                                                                         \
        s##r += dot_pairs((i16x8)((u16x8)v << 8) >> 8, xe) + dot_pairs(v >> 8, xo);                                          \
    } while (0)
            ROW(0); ROW(1); ROW(2); ROW(3);
#undef ROW
        }
        const int32_t sums[4] = {sum_lanes(s0), sum_lanes(s1), sum_lanes(s2), sum_lanes(s3)};
        for (int r = 0; r < rows; r++) {
            int32_t s = sums[r]; // exact: |Σ| ≤ 255·127·(32·7·7 fc1 inputs) < 2^26
            for (int i = full; i < input_count; i++) s += (int32_t)w[r][i] * (int32_t)input[i];
            const int32_t acc = s + bias[o + r];
            if (scores) {
                scores[o + r] = requantize_scores(acc, multiplier[o + r], shift[o + r]);
            } else {
                relu_output[o + r] = requantize_relu64(acc, multiplier[o + r], shift[o + r]);
            }
        }
    }
}

#else // 32-bit targets (microcontrollers keep the portable SMLAD kernels): availability 0, never called.
int mnistq_int8_vector_available(void) { return 0; }
MNISTQ_U8_KERNEL_FAMILY_STUBS(vector)
#endif
