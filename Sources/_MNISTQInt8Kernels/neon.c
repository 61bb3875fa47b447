// Arm NEON int8 kernels with the AVX-512 VNNI kernels' signatures and layouts (u8 activations channels-last, int8
// weight quads): baseline NEON (AArch64, and 32-bit Armv7-A built with NEON) and the Armv8.2 dot-product ones
// (AArch64, chosen at run time). Exact for the format's ranges (weights −127...127, multiplier/shift/bias as checked
// by the loaders), so they equal the portable and Swift reference kernels bit for bit.
//
// Both kinds feed signed×signed multiplies with the activations offset by −128 (x ^ 0x80 reinterpreted as int8 is
// exactly x − 128) and restore the offset in the constant term: Σ x·w = Σ (x − 128)·w + 128·Σ w. Σ w of an output
// channel is the same for every position, so it joins the bias once per channel (computed per call from the weights
// as they lie: the in-place image is read without preprocessing), and max-pooling of the offset sums plus that
// constant equals max-pooling of the true sums. The linear dot-product kernel uses the mirror image, UDOT of u8
// activations against w ^ 0x80 (= w + 128 as u8), minus 128·Σ x once per call: x is shared by all rows there.
#include "_MNISTQInt8Kernels.h"
#include "requantize.h"
#include "family_stubs.h"
#include "pool_windows.h"

#if defined(__ARM_NEON) && (defined(__aarch64__) || defined(__arm__))
#include <arm_neon.h>

int mnistq_int8_neon_available(void) { return 1; } // compiled for NEON: AArch64 always has it

// ---- Shared pieces

/// Pairwise sums of two vectors: [a0+a1, a2+a3, b0+b1, b2+b3] (one ADDP on AArch64; two VPADD on Armv7).
static inline int32x4_t add_pairs(int32x4_t a, int32x4_t b) {
#if defined(__aarch64__)
    return vpaddq_s32(a, b);
#else
    return vcombine_s32(vpadd_s32(vget_low_s32(a), vget_high_s32(a)), vpadd_s32(vget_low_s32(b), vget_high_s32(b)));
#endif
}

/// Sum of the 4 lanes (wrapping, as the exact int32 sums it is used on never wrap).
static inline int32_t sum_lanes(int32x4_t v) {
#if defined(__aarch64__)
    return vaddvq_s32(v);
#else
    int32x2_t s = vadd_s32(vget_low_s32(v), vget_high_s32(v));
    return vget_lane_s32(vpadd_s32(s, s), 0);
#endif
}

/// Σ w of each output channel of conv weights laid out [groups][channels][4] (groups = taps × input quads):
/// sums[c] over groups·4 bytes. vpadal adds 2 bytes per group to an int16 lane: exact while groups ≤ 127
/// (conv1 has 10, conv2 100).
static void channel_weight_sums(const int8_t *weights, int groups, int channels, int32_t *sums) {
    for (int c = 0; c < channels; c += 4) {
        int16x8_t pairs = vdupq_n_s16(0); // [c, c, c+1, c+1, c+2, c+2, c+3, c+3], 2 partial sums per channel
        for (int g = 0; g < groups; g++) pairs = vpadalq_s8(pairs, vld1q_s8(weights + (g * channels + c) * 4));
        vst1q_s32(sums + c, vpaddlq_s16(pairs));
    }
}

/// Per-channel epilogue constants of a conv kernel, built per call on the stack: bias + 128·Σw (undoes the −128
/// activation offset), the rounding term 2^(shift−1) and −shift (SSHL by a negative count is the arithmetic right
/// shift) as int64 lanes.
typedef struct {
    int32_t bias[32];
    int64_t rounding[32], neg_shift[32];
} conv_epilogue;

/// The epilogue of a conv layer whose weights are laid out [groups][channels][4] (see channel_weight_sums).
static void conv_epilogue_init(const int8_t *weights, int groups, const int32_t *bias, const int8_t *shift, int channels,
                               conv_epilogue *e) {
    int32_t weight_sums[32];
    channel_weight_sums(weights, groups, channels, weight_sums);
    for (int c = 0; c < channels; c++) {
        // |bias| ≤ 2^30 and |128·Σw| ≤ 128·127·400 < 2^23: no overflow (unsigned arithmetic keeps C defined anyway).
        e->bias[c] = (int32_t)((uint32_t)bias[c] + 128u * (uint32_t)weight_sums[c]);
        e->rounding[c] = (int64_t)1 << (shift[c] - 1);
        e->neg_shift[c] = -(int64_t)shift[c];
    }
}

/// Channels c ..< c + 8 (pooled sums with bias added, in a then b) rescaled and clamped to 0...255: requantize_relu
/// lane by lane. The int64 product + rounding cannot overflow (requantize.h); the saturating narrows clamp exactly:
/// int64 → int32 keeps the sign and saturates values beyond int32, int32 → u16 sends negatives to 0 (the ReLU),
/// u16 → u8 sends values above 255 to 255.
static inline uint8x8_t requantize8_relu(int32x4_t a, int32x4_t b, const int32_t *multiplier, const conv_epilogue *e,
                                         int c) {
    const int32x4_t ma = vld1q_s32(multiplier + c), mb = vld1q_s32(multiplier + c + 4);
    int64x2_t r0 = vmull_s32(vget_low_s32(a), vget_low_s32(ma)), r1 = vmull_s32(vget_high_s32(a), vget_high_s32(ma));
    int64x2_t r2 = vmull_s32(vget_low_s32(b), vget_low_s32(mb)), r3 = vmull_s32(vget_high_s32(b), vget_high_s32(mb));
    r0 = vshlq_s64(vaddq_s64(r0, vld1q_s64(e->rounding + c)), vld1q_s64(e->neg_shift + c));
    r1 = vshlq_s64(vaddq_s64(r1, vld1q_s64(e->rounding + c + 2)), vld1q_s64(e->neg_shift + c + 2));
    r2 = vshlq_s64(vaddq_s64(r2, vld1q_s64(e->rounding + c + 4)), vld1q_s64(e->neg_shift + c + 4));
    r3 = vshlq_s64(vaddq_s64(r3, vld1q_s64(e->rounding + c + 6)), vld1q_s64(e->neg_shift + c + 6));
    const int32x4_t lo = vcombine_s32(vqmovn_s64(r0), vqmovn_s64(r1)), hi = vcombine_s32(vqmovn_s64(r2), vqmovn_s64(r3));
    return vqmovn_u16(vcombine_u16(vqmovun_s32(lo), vqmovun_s32(hi)));
}

/// The requantized ReLU or score of one linear output (scalar: 214 outputs per image, not worth vectors).
static inline void linear_store(int32_t acc, const int32_t *multiplier, const int8_t *shift, int o,
                                uint8_t *relu_output, int32_t *scores) {
    if (scores) {
        scores[o] = requantize_scores(acc, multiplier[o], shift[o]);
    } else {
        relu_output[o] = (uint8_t)requantize_relu(acc, multiplier[o], shift[o]);
    }
}

/// Copies `bytes` (a multiple of 16) activations as x − 128 (x ^ 0x80 as int8), once per call, so the inner loops
/// only load.
static void offset_copy(const uint8_t *x, int8_t *offset, int bytes) {
    const uint8x16_t flip = vdupq_n_u8(0x80);
    for (int i = 0; i < bytes; i += 16) vst1q_s8(offset + i, vreinterpretq_s8_u8(veorq_u8(vld1q_u8(x + i), flip)));
}

// ---- Baseline NEON: SMULL/SMLAL on int8 (x − 128 against w), two products per int16 lane, SADALP into int32.
// Accumulators hold one channel's 4 int32 partial sums each; 4 channels × 4 pool positions = 16 vectors, which with
// the weights of one step stay in the 32 registers (8 channels at a time spilled).

// GCC's scheduler before register allocation hoists all 16 products of a step ahead of their accumulations: with 16
// accumulators that needs more than the 32 vector registers, and the spills cost about a fifth of the instructions.
// The loops below are already written in register order; clang needs no such hint.
#if defined(__GNUC__) && !defined(__clang__)
#define REGISTER_ORDER __attribute__((optimize("no-schedule-insns")))
#else
#define REGISTER_ORDER
#endif

#if defined(__aarch64__)
#define MULL_HIGH(a, b) vmull_high_s8(a, b)
#define MLAL_HIGH(acc, a, b) vmlal_high_s8(acc, a, b)
#else
#define MULL_HIGH(a, b) vmull_s8(vget_high_s8(a), vget_high_s8(b))
#define MLAL_HIGH(acc, a, b) vmlal_s8(acc, vget_high_s8(a), vget_high_s8(b))
#endif

/// The channel sums of 4 channels whose partials are a, b, c, d: [Σa, Σb, Σc, Σd].
static inline int32x4_t sum4(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
    return add_pairs(add_pairs(a, b), add_pairs(c, d));
}

/// acc += Σ over 16 inputs of t·x: the low 8 and high 8 products share int16 lanes, |w·(x − 128)| ≤ 127·128 =
/// 16,256 so two are ≤ 32,512 < 2^15 (this needs w ≠ −128, which the format guarantees), then SADALP widens.
static inline int32x4_t mac16(int32x4_t acc, int8x16_t t, int8x16_t x) {
    return vpadalq_s16(acc, MLAL_HIGH(vmull_s8(vget_low_s8(t), vget_low_s8(x)), t, x));
}

/// The 32-bit elements of a and b interleaved: val[0] = [a0, b0, a1, b1], val[1] = [a2, b2, a3, b3] (ZIP1/ZIP2 .4S on
/// AArch64, one VZIP.32 on Armv7).
static inline int8x16x2_t zip32(int8x16_t a, int8x16_t b) {
#if defined(__aarch64__)
    const int32x4_t a32 = vreinterpretq_s32_s8(a), b32 = vreinterpretq_s32_s8(b);
    const int8x16x2_t zipped = {{vreinterpretq_s8_s32(vzip1q_s32(a32, b32)), vreinterpretq_s8_s32(vzip2q_s32(a32, b32))}};
#else
    const int32x4x2_t z = vzipq_s32(vreinterpretq_s32_s8(a), vreinterpretq_s32_s8(b));
    const int8x16x2_t zipped = {{vreinterpretq_s8_s32(z.val[0]), vreinterpretq_s8_s32(z.val[1])}};
#endif
    return zipped;
}
/// The 64-bit halves of a and b regrouped: val[0] = low half of a then of b, val[1] = high half of a then of b
/// (ZIP1/ZIP2 .2D on AArch64, register moves on Armv7).
static inline int8x16x2_t join64(int8x16_t a, int8x16_t b) {
#if defined(__aarch64__)
    const int64x2_t a64 = vreinterpretq_s64_s8(a), b64 = vreinterpretq_s64_s8(b);
    const int8x16x2_t joined = {{vreinterpretq_s8_s64(vzip1q_s64(a64, b64)), vreinterpretq_s8_s64(vzip2q_s64(a64, b64))}};
#else
    const int8x16x2_t joined = {{vcombine_s8(vget_low_s8(a), vget_low_s8(b)), vcombine_s8(vget_high_s8(a), vget_high_s8(b))}};
#endif
    return joined;
}

/// 8 bytes at p (any address) in both halves of a vector: one row's taps kx 0-7 for the two halves of mac16.
static inline int8x16_t row8_twice(const int8_t *p) {
    int64_t bytes;
    __builtin_memcpy(&bytes, p, 8);
    return vreinterpretq_s8_s64(vdupq_n_s64(bytes));
}

/// conv1's weights regrouped once per call for conv1_part: for each part (4 channels) and row ky, the two quads' vectors
/// zipped into [c quad 0, c quad 1, c + 1 quad 0, c + 1 quad 1] and the same for c + 2, c + 3, so each half of a
/// vector is one channel's 8 taps kx 0-7. zipped: int8 [4 parts][5 rows][2][16].
static void conv1_zip_weights(const int8_t *weights, int8_t *zipped) {
    for (int part = 0; part < 4; part++) {
        for (int ky = 0; ky < 5; ky++) {
            const int8x16_t u0 = vld1q_s8(weights + ky * 128 + part * 16), u1 = vld1q_s8(weights + ky * 128 + 64 + part * 16);
            int8_t *z = zipped + (part * 5 + ky) * 32;
            const int8x16x2_t zipped = zip32(u0, u1);
            vst1q_s8(z, zipped.val[0]);
            vst1q_s8(z + 16, zipped.val[1]);
        }
    }
}

/// conv1 for channels 4·part ..< 4·part + 4 of one pool window: the max over its 4 positions of the offset sums.
/// x: the window's corner in the offset image; z: this part's zipped weights. Each channel's 8 taps meet one row's 8
/// bytes (in both halves of the vector); rows ky and ky + 1 share the int16 lanes.
REGISTER_ORDER static inline int32x4_t conv1_part(const int8_t *x, const int8_t *z) {
    int32x4_t A0 = vdupq_n_s32(0), A1 = A0, A2 = A0, A3 = A0, B0 = A0, B1 = A0, B2 = A0, B3 = A0;
    int32x4_t C0 = A0, C1 = A0, C2 = A0, C3 = A0, D0 = A0, D1 = A0, D2 = A0, D3 = A0;
    // Straight-line rows (0, 1), (2, 3), 4: a loop with the odd last row inside lost GCC's register order.
#define TWO_ROWS(P, xp, xq)                                                                                           \
    P##0 = vpadalq_s16(P##0, vmlal_s8(vmull_s8(vget_low_s8(za), vget_low_s8(xp)), vget_low_s8(ya), vget_low_s8(xq))); \
    P##1 = vpadalq_s16(P##1, MLAL_HIGH(MULL_HIGH(za, xp), ya, xq));                                                   \
    P##2 = vpadalq_s16(P##2, vmlal_s8(vmull_s8(vget_low_s8(zb), vget_low_s8(xp)), vget_low_s8(yb), vget_low_s8(xq))); \
    P##3 = vpadalq_s16(P##3, MLAL_HIGH(MULL_HIGH(zb, xp), yb, xq))
#define ROW_PAIR(ky)                                                                                                  \
    do {                                                                                                              \
        const int8x16_t za = vld1q_s8(z + (ky) * 32), zb = vld1q_s8(z + (ky) * 32 + 16);                               \
        const int8x16_t ya = vld1q_s8(z + (ky) * 32 + 32), yb = vld1q_s8(z + (ky) * 32 + 48);                          \
        const int8_t *r0 = x + (ky) * 40, *r1 = r0 + 40, *r2 = r1 + 40;                                               \
        const int8x16_t x00 = row8_twice(r0), x01 = row8_twice(r0 + 1), x10 = row8_twice(r1);                         \
        const int8x16_t x11 = row8_twice(r1 + 1), x20 = row8_twice(r2), x21 = row8_twice(r2 + 1);                     \
        TWO_ROWS(A, x00, x10); TWO_ROWS(B, x01, x11); TWO_ROWS(C, x10, x20); TWO_ROWS(D, x11, x21);                   \
    } while (0)
    ROW_PAIR(0);
    ROW_PAIR(2);
#undef ROW_PAIR
#undef TWO_ROWS
    {
        const int8x16_t za = vld1q_s8(z + 128), zb = vld1q_s8(z + 144); // row 4, alone
        const int8_t *r0 = x + 4 * 40, *r1 = r0 + 40;
        const int8x16_t xa = row8_twice(r0), xb = row8_twice(r0 + 1), xc = row8_twice(r1), xd = row8_twice(r1 + 1);
#define ONE_ROW(P, xp)                                                                                                \
    P##0 = vpadalq_s16(P##0, vmull_s8(vget_low_s8(za), vget_low_s8(xp)));                                             \
    P##1 = vpadalq_s16(P##1, MULL_HIGH(za, xp));                                                                      \
    P##2 = vpadalq_s16(P##2, vmull_s8(vget_low_s8(zb), vget_low_s8(xp)));                                             \
    P##3 = vpadalq_s16(P##3, MULL_HIGH(zb, xp))
        ONE_ROW(A, xa); ONE_ROW(B, xb); ONE_ROW(C, xc); ONE_ROW(D, xd);
#undef ONE_ROW
    }
    return vmaxq_s32(vmaxq_s32(sum4(A0, A1, A2, A3), sum4(B0, B1, B2, B3)),
                     vmaxq_s32(sum4(C0, C1, C2, C3), sum4(D0, D1, D2, D3)));
}

/// One pool window of a baseline conv kernel: `part_sums` gives the pooled offset sums of 4 channels (a part, whose
/// regrouped weights are `part_bytes` apart), two parts at a time get the corrected bias and are requantized to 8 u8.
/// Always inlined with a constant `part_sums`, so the call is direct and inlined as before.
__attribute__((always_inline)) static inline void store_window_parts(int32x4_t (*part_sums)(const int8_t *, const int8_t *),
                                                                    const int8_t *corner, const int8_t *regrouped,
                                                                    int part_bytes, int parts, const int32_t *multiplier,
                                                                    const conv_epilogue *e, uint8_t *out) {
    for (int part = 0; part < parts; part += 2) {
        const int32x4_t lo = vaddq_s32(part_sums(corner, regrouped + part * part_bytes), vld1q_s32(e->bias + 4 * part));
        const int32x4_t hi = vaddq_s32(part_sums(corner, regrouped + (part + 1) * part_bytes), vld1q_s32(e->bias + 4 * part + 4));
        vst1_u8(out + 4 * part, requantize8_relu(lo, hi, multiplier, e, 4 * part));
    }
}

void mnistq_conv1_relu_maxpool_u8s8_neon(const uint8_t *image, const int8_t *weights, const int32_t *bias,
                                    const int32_t *multiplier, const int8_t *shift, uint8_t *output) {
    conv_epilogue e;
    conv_epilogue_init(weights, 10, bias, shift, 16, &e);
    int8_t offset_image[32 * 40], zipped[4 * 5 * 32];
    offset_copy(image, offset_image, 32 * 40);
    conv1_zip_weights(weights, zipped);
    for (int py = 0; py < CONV1_WINDOWS_PER_SIDE; py++) {
        for (int px = 0; px < CONV1_WINDOWS_PER_SIDE; px++) {
            const int8_t *corner = offset_image + conv1_window_input(py, px);
            store_window_parts(conv1_part, corner, zipped, 160, 4, multiplier, &e, output + conv1_window_output(py, px));
        }
    }
}

/// conv2's weights regrouped once per call for conv2_part: for each part (4 output channels) and tap, the 4 input
/// quads' vectors transposed as a 4 × 4 matrix of 32-bit elements, so vector j is channel j's 16 input-channel
/// weights in input order. transposed: int8 [8 parts][25 taps][4][16] (12,800 bytes, on the caller's stack).
static void conv2_transpose_weights(const int8_t *weights, int8_t *transposed) {
    for (int part = 0; part < 8; part++) {
        for (int tap = 0; tap < 25; tap++) {
            const int8_t *w = weights + tap * 512 + part * 16; // input quad q at + 128·q
            const int8x16_t q0 = vld1q_s8(w), q1 = vld1q_s8(w + 128), q2 = vld1q_s8(w + 256), q3 = vld1q_s8(w + 384);
            const int8x16x2_t z01 = zip32(q0, q1), z23 = zip32(q2, q3);
            const int8x16x2_t low = join64(z01.val[0], z23.val[0]), high = join64(z01.val[1], z23.val[1]);
            int8_t *t = transposed + (part * 25 + tap) * 64;
            vst1q_s8(t, low.val[0]);
            vst1q_s8(t + 16, low.val[1]);
            vst1q_s8(t + 32, high.val[0]);
            vst1q_s8(t + 48, high.val[1]);
        }
    }
}

/// conv2 for channels 4·part ..< 4·part + 4 of one pool window: the max over its 4 positions of the offset sums.
/// x: the window's corner in the offset input; t: this part's transposed weights. Each channel's 16 weights of a
/// tap meet a position's 16 activations.
REGISTER_ORDER static inline int32x4_t conv2_part(const int8_t *x, const int8_t *t) {
    const int row = 18 * 16;
    int32x4_t A0 = vdupq_n_s32(0), A1 = A0, A2 = A0, A3 = A0, B0 = A0, B1 = A0, B2 = A0, B3 = A0;
    int32x4_t C0 = A0, C1 = A0, C2 = A0, C3 = A0, D0 = A0, D1 = A0, D2 = A0, D3 = A0;
    for (int ky = 0; ky < 5; ky++) {
        for (int kx = 0; kx < 5; kx++, t += 64) {
            const int8x16_t t0 = vld1q_s8(t), t1 = vld1q_s8(t + 16), t2 = vld1q_s8(t + 32), t3 = vld1q_s8(t + 48);
            const int8_t *p = x + ky * row + kx * 16;
            const int8x16_t xa = vld1q_s8(p), xb = vld1q_s8(p + 16), xc = vld1q_s8(p + row), xd = vld1q_s8(p + row + 16);
            A0 = mac16(A0, t0, xa); A1 = mac16(A1, t1, xa); A2 = mac16(A2, t2, xa); A3 = mac16(A3, t3, xa);
            B0 = mac16(B0, t0, xb); B1 = mac16(B1, t1, xb); B2 = mac16(B2, t2, xb); B3 = mac16(B3, t3, xb);
            C0 = mac16(C0, t0, xc); C1 = mac16(C1, t1, xc); C2 = mac16(C2, t2, xc); C3 = mac16(C3, t3, xc);
            D0 = mac16(D0, t0, xd); D1 = mac16(D1, t1, xd); D2 = mac16(D2, t2, xd); D3 = mac16(D3, t3, xd);
        }
    }
    return vmaxq_s32(vmaxq_s32(sum4(A0, A1, A2, A3), sum4(B0, B1, B2, B3)),
                     vmaxq_s32(sum4(C0, C1, C2, C3), sum4(D0, D1, D2, D3)));
}

void mnistq_conv2_relu_maxpool_u8s8_neon(const uint8_t *input, const int8_t *weights, const int32_t *bias,
                                    const int32_t *multiplier, const int8_t *shift, uint8_t *output) {
    conv_epilogue e;
    conv_epilogue_init(weights, 100, bias, shift, 32, &e);
    int8_t offset_input[18 * 18 * 16], transposed[8 * 25 * 64];
    offset_copy(input, offset_input, 18 * 18 * 16);
    conv2_transpose_weights(weights, transposed);
    for (int py = 0; py < CONV2_WINDOWS_PER_SIDE; py++) {
        for (int px = 0; px < CONV2_WINDOWS_PER_SIDE; px++) {
            const int8_t *corner = offset_input + conv2_window_input(py, px);
            store_window_parts(conv2_part, corner, transposed, 1600, 8, multiplier, &e, output + conv2_window_output(py, px));
        }
    }
}

void mnistq_linear_u8s8_neon(const uint8_t *input, int input_count, const int8_t *weights, const int32_t *bias,
                        const int32_t *multiplier, const int8_t *shift, int output_count,
                        uint8_t *relu_output, int32_t *scores) {
    const int full = input_count & ~15;
    const int eight = input_count - full >= 8 ? 8 : 0; // one 8-byte block, exact without the offset
    const int scalar_start = full + eight;
    const uint8x16_t flip = vdupq_n_u8(0x80);
    for (int o = 0; o < output_count; o += 4) {
        const int rows = output_count - o < 4 ? output_count - o : 4;
        const int8_t *w[4];
        for (int r = 0; r < 4; r++) w[r] = weights + (long)(o + (r < rows ? r : 0)) * input_count; // absent rows: row o
        int32x4_t s0 = vdupq_n_s32(0), s1 = s0, s2 = s0, s3 = s0;  // Σ (x − 128)·w as pair partials
        int32x4_t t0 = s0, t1 = s0, t2 = s0, t3 = s0;              // Σ w, folded from int16 every 1024 inputs
        for (int chunk = 0; chunk < full; chunk += 1024) {
            const int end = full - chunk < 1024 ? full : chunk + 1024;
            // vpadal adds 2 weights per 16-byte block to an int16 lane: 64 blocks ≤ 64·2·128 = 16,384 < 2^15.
            int16x8_t u0 = vdupq_n_s16(0), u1 = u0, u2 = u0, u3 = u0;
            for (int i = chunk; i < end; i += 16) {
                const int8x16_t x = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(input + i), flip)); // x − 128
                const int8x8_t xl = vget_low_s8(x);
                const int8x16_t v0 = vld1q_s8(w[0] + i), v1 = vld1q_s8(w[1] + i);
                const int8x16_t v2 = vld1q_s8(w[2] + i), v3 = vld1q_s8(w[3] + i);
                // Inputs i + j and i + 8 + j share an int16 lane: two products ≤ 32,512 (see mac16).
                s0 = vpadalq_s16(s0, MLAL_HIGH(vmull_s8(vget_low_s8(v0), xl), v0, x));
                s1 = vpadalq_s16(s1, MLAL_HIGH(vmull_s8(vget_low_s8(v1), xl), v1, x));
                s2 = vpadalq_s16(s2, MLAL_HIGH(vmull_s8(vget_low_s8(v2), xl), v2, x));
                s3 = vpadalq_s16(s3, MLAL_HIGH(vmull_s8(vget_low_s8(v3), xl), v3, x));
                u0 = vpadalq_s8(u0, v0); u1 = vpadalq_s8(u1, v1); u2 = vpadalq_s8(u2, v2); u3 = vpadalq_s8(u3, v3);
            }
            t0 = vpadalq_s16(t0, u0); t1 = vpadalq_s16(t1, u1); t2 = vpadalq_s16(t2, u2); t3 = vpadalq_s16(t3, u3);
        }
        // Restore the offset: Σ x·w = Σ (x − 128)·w + 128·Σ w (exact: the true sum fits int32, wrapping adds agree).
        s0 = vmlaq_n_s32(s0, t0, 128); s1 = vmlaq_n_s32(s1, t1, 128);
        s2 = vmlaq_n_s32(s2, t2, 128); s3 = vmlaq_n_s32(s3, t3, 128);
        if (eight) { // x widened to int16 (0...255), w to int16: plain products into int32 lanes
            const int16x8_t x = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(input + full)));
            const int16x8_t v0 = vmovl_s8(vld1_s8(w[0] + full)), v1 = vmovl_s8(vld1_s8(w[1] + full));
            const int16x8_t v2 = vmovl_s8(vld1_s8(w[2] + full)), v3 = vmovl_s8(vld1_s8(w[3] + full));
            s0 = vmlal_s16(vmlal_s16(s0, vget_low_s16(v0), vget_low_s16(x)), vget_high_s16(v0), vget_high_s16(x));
            s1 = vmlal_s16(vmlal_s16(s1, vget_low_s16(v1), vget_low_s16(x)), vget_high_s16(v1), vget_high_s16(x));
            s2 = vmlal_s16(vmlal_s16(s2, vget_low_s16(v2), vget_low_s16(x)), vget_high_s16(v2), vget_high_s16(x));
            s3 = vmlal_s16(vmlal_s16(s3, vget_low_s16(v3), vget_low_s16(x)), vget_high_s16(v3), vget_high_s16(x));
        }
        const int32_t sums[4] = {sum_lanes(s0), sum_lanes(s1), sum_lanes(s2), sum_lanes(s3)};
        for (int r = 0; r < rows; r++) {
            uint32_t s = (uint32_t)sums[r]; // wrapping (unsigned) until the exact total
            for (int i = scalar_start; i < input_count; i++) s += (uint32_t)((int32_t)w[r][i] * (int32_t)input[i]);
            linear_store((int32_t)((uint32_t)bias[o + r] + s), multiplier, shift, o + r, relu_output, scores);
        }
    }
}

// ---- Dot-product NEON (Armv8.2 FEAT_DotProd, AArch64): SDOT/UDOT add 4 byte products to each int32 lane.
#if defined(__aarch64__)
#if defined(__clang__)
#define DOTPROD __attribute__((target("dotprod")))
#else
// GCC declares its dot-product intrinsics for arch=armv8.2-a+dotprod: a caller must enable at least that.
#define DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))
#endif

#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20) // the Linux AArch64 hwcap bit of the dot-product instructions
#endif
int mnistq_int8_neon_dotprod_available(void) { return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) ? 1 : 0; }
#elif defined(__ARM_FEATURE_DOTPROD) && __ARM_FEATURE_DOTPROD
int mnistq_int8_neon_dotprod_available(void) { return 1; } // the build targets a CPU that has it (e.g. Apple M1)
#else
int mnistq_int8_neon_dotprod_available(void) { return 0; } // no OS query known here: stay on the baseline kernels
#endif

/// Max of the 4 positions of a pool window, plus the channels' corrected bias.
static inline int32x4_t pool4_bias(int32x4_t p0, int32x4_t p1, int32x4_t p2, int32x4_t p3, const int32_t *bias) {
    return vaddq_s32(vmaxq_s32(vmaxq_s32(p0, p1), vmaxq_s32(p2, p3)), vld1q_s32(bias));
}

/// Channels 4k ..< 4k + 4 of the 4 positions A-D: SDOT of weights w_k (4 channels × 4 inputs) against quad `lane` of
/// each position's offset activations.
#define SDOT_POSITIONS(k, wk, lane)                                                                                   \
    A##k = vdotq_laneq_s32(A##k, wk, xa, lane); B##k = vdotq_laneq_s32(B##k, wk, xb, lane);                          \
    C##k = vdotq_laneq_s32(C##k, wk, xc, lane); D##k = vdotq_laneq_s32(D##k, wk, xd, lane)
/// The same with 8-byte activation vectors (quad 0 or 1).
#define SDOT_POSITIONS8(k, wk, lane)                                                                                  \
    A##k = vdotq_lane_s32(A##k, wk, xa, lane); B##k = vdotq_lane_s32(B##k, wk, xb, lane);                            \
    C##k = vdotq_lane_s32(C##k, wk, xc, lane); D##k = vdotq_lane_s32(D##k, wk, xd, lane)

/// Channels c ..< c + 16 of a pool window (positions A-D, 4 vectors of 4 channels each) → 16 requantized u8 at out.
#define POOL_STORE16(c)                                                                                               \
    vst1_u8(out + (c), requantize8_relu(pool4_bias(A0, B0, C0, D0, e.bias + (c)),                                   \
                                        pool4_bias(A1, B1, C1, D1, e.bias + (c) + 4), multiplier, &e, (c)));          \
    vst1_u8(out + (c) + 8, requantize8_relu(pool4_bias(A2, B2, C2, D2, e.bias + (c) + 8),                           \
                                            pool4_bias(A3, B3, C3, D3, e.bias + (c) + 12), multiplier, &e, (c) + 8))

REGISTER_ORDER DOTPROD void mnistq_conv1_relu_maxpool_u8s8_neondot(const uint8_t *image, const int8_t *weights, const int32_t *bias,
                                               const int32_t *multiplier, const int8_t *shift, uint8_t *output) {
    conv_epilogue e;
    conv_epilogue_init(weights, 10, bias, shift, 16, &e);
    int8_t offset_image[32 * 40];
    offset_copy(image, offset_image, 32 * 40);
    for (int py = 0; py < CONV1_WINDOWS_PER_SIDE; py++) {
        for (int px = 0; px < CONV1_WINDOWS_PER_SIDE; px++) {
            const int8_t *corner = offset_image + conv1_window_input(py, px);
            uint8_t *out = output + conv1_window_output(py, px);
            // Positions A (0, 0), B (0, 1), C (1, 0), D (1, 1) of the window × channels 0-3, 4-7, 8-11, 12-15.
            int32x4_t A0 = vdupq_n_s32(0), A1 = A0, A2 = A0, A3 = A0, B0 = A0, B1 = A0, B2 = A0, B3 = A0;
            int32x4_t C0 = A0, C1 = A0, C2 = A0, C3 = A0, D0 = A0, D1 = A0, D2 = A0, D3 = A0;
            for (int ky = 0; ky < 5; ky++) {
                const int8_t *w = weights + ky * 128; // quad 0 (taps kx 0-3) at w, quad 1 (taps 4-7) at w + 64
                const int8_t *r0 = corner + ky * 40, *r1 = r0 + 40;
                const int8x8_t xa = vld1_s8(r0), xb = vld1_s8(r0 + 1), xc = vld1_s8(r1), xd = vld1_s8(r1 + 1);
                const int8x16_t w00 = vld1q_s8(w), w01 = vld1q_s8(w + 16), w02 = vld1q_s8(w + 32), w03 = vld1q_s8(w + 48);
                SDOT_POSITIONS8(0, w00, 0); SDOT_POSITIONS8(1, w01, 0); SDOT_POSITIONS8(2, w02, 0); SDOT_POSITIONS8(3, w03, 0);
                const int8x16_t w10 = vld1q_s8(w + 64), w11 = vld1q_s8(w + 80), w12 = vld1q_s8(w + 96), w13 = vld1q_s8(w + 112);
                SDOT_POSITIONS8(0, w10, 1); SDOT_POSITIONS8(1, w11, 1); SDOT_POSITIONS8(2, w12, 1); SDOT_POSITIONS8(3, w13, 1);
            }
            POOL_STORE16(0);
        }
    }
}

REGISTER_ORDER DOTPROD void mnistq_conv2_relu_maxpool_u8s8_neondot(const uint8_t *input, const int8_t *weights, const int32_t *bias,
                                               const int32_t *multiplier, const int8_t *shift, uint8_t *output) {
    conv_epilogue e;
    conv_epilogue_init(weights, 100, bias, shift, 32, &e);
    int8_t offset_input[18 * 18 * 16];
    offset_copy(input, offset_input, 18 * 18 * 16);
    const int row = CONV2_INPUT_ROW;
    for (int py = 0; py < CONV2_WINDOWS_PER_SIDE; py++) {
        for (int px = 0; px < CONV2_WINDOWS_PER_SIDE; px++) {
            const int8_t *corner = offset_input + conv2_window_input(py, px);
            uint8_t *out = output + conv2_window_output(py, px);
            for (int half = 0; half < 2; half++) { // channels 16·half ..< 16·half + 16: 16 accumulators
                int32x4_t A0 = vdupq_n_s32(0), A1 = A0, A2 = A0, A3 = A0, B0 = A0, B1 = A0, B2 = A0, B3 = A0;
                int32x4_t C0 = A0, C1 = A0, C2 = A0, C3 = A0, D0 = A0, D1 = A0, D2 = A0, D3 = A0;
                const int8_t *w = weights + half * 64; // this tap's input quad q at + 128·q; taps 512 bytes apart
                for (int ky = 0; ky < 5; ky++) {
                    for (int kx = 0; kx < 5; kx++, w += 512) {
                        const int8_t *x = corner + ky * row + kx * 16;
                        const int8x16_t xa = vld1q_s8(x), xb = vld1q_s8(x + 16), xc = vld1q_s8(x + row);
                        const int8x16_t xd = vld1q_s8(x + row + 16);
#define QUAD(q)                                                                                                       \
    do {                                                                                                              \
        const int8x16_t wq0 = vld1q_s8(w + 128 * (q)), wq1 = vld1q_s8(w + 128 * (q) + 16);                           \
        const int8x16_t wq2 = vld1q_s8(w + 128 * (q) + 32), wq3 = vld1q_s8(w + 128 * (q) + 48);                      \
        SDOT_POSITIONS(0, wq0, q); SDOT_POSITIONS(1, wq1, q); SDOT_POSITIONS(2, wq2, q); SDOT_POSITIONS(3, wq3, q);  \
    } while (0)
                        QUAD(0); QUAD(1); QUAD(2); QUAD(3);
#undef QUAD
                    }
                }
                POOL_STORE16(16 * half);
            }
        }
    }
}

DOTPROD void mnistq_linear_u8s8_neondot(const uint8_t *input, int input_count, const int8_t *weights, const int32_t *bias,
                                   const int32_t *multiplier, const int8_t *shift, int output_count,
                                   uint8_t *relu_output, int32_t *scores) {
    const int full = input_count & ~15;
    const int eight = input_count - full >= 8 ? 8 : 0;
    const int scalar_start = full + eight;
    const uint8x16_t flip = vdupq_n_u8(0x80);
    // Σ x over the vector part, once: UDOT(x, w ^ 0x80) = Σ x·w + 128·Σ x. Modulo 2^32 throughout, so the result is
    // exact whenever the true Σ x·w fits int32 (as for the VNNI kernel).
    uint32_t input_sum = 0;
    for (int i = 0; i < full; i += 16) input_sum += vaddlvq_u8(vld1q_u8(input + i));
    if (eight) input_sum += vaddlv_u8(vld1_u8(input + full));
    const uint32_t offset = 128u * input_sum;
    for (int o = 0; o < output_count; o += 4) {
        const int rows = output_count - o < 4 ? output_count - o : 4;
        const uint8_t *w[4];
        for (int r = 0; r < 4; r++) w[r] = (const uint8_t *)weights + (long)(o + (r < rows ? r : 0)) * input_count;
        uint32x4_t s0 = vdupq_n_u32(0), s1 = s0, s2 = s0, s3 = s0;
        for (int i = 0; i < full; i += 16) {
            const uint8x16_t x = vld1q_u8(input + i);
            s0 = vdotq_u32(s0, x, veorq_u8(vld1q_u8(w[0] + i), flip));
            s1 = vdotq_u32(s1, x, veorq_u8(vld1q_u8(w[1] + i), flip));
            s2 = vdotq_u32(s2, x, veorq_u8(vld1q_u8(w[2] + i), flip));
            s3 = vdotq_u32(s3, x, veorq_u8(vld1q_u8(w[3] + i), flip));
        }
        uint32_t sums[4] = {vaddvq_u32(s0), vaddvq_u32(s1), vaddvq_u32(s2), vaddvq_u32(s3)};
        if (eight) {
            const uint8x8_t x = vld1_u8(input + full), flip8 = vdup_n_u8(0x80);
            const uint32x2_t zero = vdup_n_u32(0);
            sums[0] += vaddv_u32(vdot_u32(zero, x, veor_u8(vld1_u8(w[0] + full), flip8)));
            sums[1] += vaddv_u32(vdot_u32(zero, x, veor_u8(vld1_u8(w[1] + full), flip8)));
            sums[2] += vaddv_u32(vdot_u32(zero, x, veor_u8(vld1_u8(w[2] + full), flip8)));
            sums[3] += vaddv_u32(vdot_u32(zero, x, veor_u8(vld1_u8(w[3] + full), flip8)));
        }
        for (int r = 0; r < rows; r++) {
            uint32_t s = sums[r] - offset;
            const int8_t *wr = (const int8_t *)w[r];
            for (int i = scalar_start; i < input_count; i++) s += (uint32_t)((int32_t)wr[i] * (int32_t)input[i]);
            linear_store((int32_t)((uint32_t)bias[o + r] + s), multiplier, shift, o + r, relu_output, scores);
        }
    }
}

#else // 32-bit Arm: the dot-product kernels are AArch64-only here; never called (availability 0).
int mnistq_int8_neon_dotprod_available(void) { return 0; }
#define NEONDOT_STUBS 1
#endif

#else // no NEON (x86-64, Arm without NEON): availability 0; the kernels are never called.
int mnistq_int8_neon_available(void) { return 0; }
int mnistq_int8_neon_dotprod_available(void) { return 0; }
#define NEON_STUBS 1
#define NEONDOT_STUBS 1
#endif

#if defined(NEON_STUBS)
MNISTQ_U8_KERNEL_FAMILY_STUBS(neon)
#endif
#if defined(NEONDOT_STUBS)
MNISTQ_U8_KERNEL_FAMILY_STUBS(neondot)
#endif
