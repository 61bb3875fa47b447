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
// covers; the activation pair (two int16) is broadcast to every lane. The conv weights are regrouped on the stack into
// those [channel][pair] int16 vectors (conv1 960 bytes, conv2 25,600): per call, or once for a group of images by
// mnistq_conv_layers_u8s8_vector_batch; the activations are widened to int16 once (conv1 2,560 bytes, conv2 10,368).
// Both skip work on exact zeros, which is exact (0 · w = 0) and most of the work on handwritten digits: conv1 computes
// a pool window's kernel row only where its pixels are not all zero (a window of zero pixels is a copy); conv2
// subtracts a background vector from its input (the conv1 output of blank pixels), adds the background's share of each
// sum as a constant, and computes only the (tap, channel pair) entries where the difference is not zero. Dense inputs
// (noise) skip nothing and cost the bookkeeping (a few %). The pooled sums are requantized 4 channels at a time as
// vectors (store_pooled4). On x86-64 the kernels are bound by loads (about 2 a cycle: each conv2 entry loads its 8
// weight vectors), so the bookkeeping is built to load little. Stack: about 4 KB for conv1, 47 KB for conv2, 49 KB for
// the batch conv kernel and 16 KB for the batch linear kernel. Linear layers read weights as they lie: 16 int8 as 8
// int16 lanes split into even and odd bytes by shifts, against the input's even and odd bytes, 4 rows at a time; for
// batches, 4 images at a time (each split weight block multiplies the 4 images' inputs, split once per call).
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
typedef int8_t i8x16 __attribute__((vector_size(16)));
typedef int8_t i8x8 __attribute__((vector_size(8)));
typedef int32_t i32x4 __attribute__((vector_size(16)));
typedef uint64_t u64x2 __attribute__((vector_size(16)));
typedef uint8_t u8x4 __attribute__((vector_size(4)));
typedef uint8_t u8x16 __attribute__((vector_size(16)));

// The helpers called in more than one place: inlined on 64-bit hosts (calls would spill the accumulators), called on
// WebAssembly, whose module has a size limit (tools/test-wasm) that the inlined copies (1.1 KB) would break. The
// stages (a layer's prepare and run) are always inlined: on WebAssembly each has one caller (no batch kernel there).
#if defined(__wasm__)
#define MNISTQ_VECTOR_HELPER __attribute__((noinline)) static
#else
#define MNISTQ_VECTOR_HELPER __attribute__((always_inline)) static inline
#endif
#define MNISTQ_VECTOR_STAGE __attribute__((always_inline)) static inline

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

/// What requantizing 4 channels c ..< c + 4 takes: their bias and, as vectors, per 64-bit lane the multiplier, the
/// rounding term 2^(shift − 1) and the shift of the even channels (c, c + 2) and of the odd ones (c + 1, c + 3); with
/// a shift below 32 in any of them, the scalar multipliers and shifts instead (`scalar`). WebAssembly always takes the
/// scalar route: its 64-bit lanes have no per-lane shift (each would be taken apart), and the vector code would break
/// the module's size limit (tools/test-wasm).
#if defined(__wasm__)
#define MNISTQ_VECTOR_REQUANTIZATION 0
#else
#define MNISTQ_VECTOR_REQUANTIZATION 1
#endif
typedef struct {
    i32x4 bias;
    u64x2 multiplier_even, multiplier_odd, round_even, round_odd, shift_even, shift_odd;
    const int32_t *multiplier;
    const int8_t *shift;
    int scalar;
} requantizer4;

/// The requantizers of channels 4v ..< 4v + 4 for v in 0 ..< count.
MNISTQ_VECTOR_HELPER void make_requantizers(requantizer4 *requantizers, int count, const int32_t *bias,
                                            const int32_t *multiplier, const int8_t *shift) {
    for (int v = 0; v < count; v++) {
        requantizer4 *r = requantizers + v;
        const int c = 4 * v;
        __builtin_memcpy(&r->bias, bias + c, 16);
        r->multiplier = multiplier + c;
        r->shift = shift + c;
        r->scalar = !MNISTQ_VECTOR_REQUANTIZATION;
        for (int lane = 0; lane < 2 && MNISTQ_VECTOR_REQUANTIZATION; lane++) {
            const int even = c + 2 * lane, odd = even + 1;
            r->multiplier_even[lane] = (uint32_t)multiplier[even];
            r->multiplier_odd[lane] = (uint32_t)multiplier[odd];
            r->round_even[lane] = (uint64_t)1 << (shift[even] - 1);
            r->round_odd[lane] = (uint64_t)1 << (shift[odd] - 1);
            r->shift_even[lane] = (uint64_t)shift[even];
            r->shift_odd[lane] = (uint64_t)shift[odd];
            r->scalar |= shift[even] < 32 || shift[odd] < 32;
        }
    }
}

/// Requantizes one pooled vector (channels c ..< c + 4: the max of a pool window's positions) plus bias to u8 at out:
/// requantize_relu64 for 4 lanes at once. The ReLU's clamp at 0 is taken on the sums (the format's multipliers are
/// positive, 2^30 ... 2^31 − 1, so a sum ≤ 0 requantizes to ≤ 0, which clamps to 0), which makes every product an
/// unsigned 32 × 32-bit one (SSE2 `pmuludq`, one per two lanes): sum < 2^31 (|pooled sum| ≤ 255·127·400 < 2^24,
/// |bias| ≤ 2^30) and multiplier < 2^31, so with the rounding term it stays below 2^63 and the unsigned shift is the
/// arithmetic one. With shifts of 32 or more (every trained model's: about 40) each result is below 2^31, so it fits
/// its 32-bit lane, and the clamp at 255 is the saturating narrowing to u8; smaller shifts (allowed down to 1) take
/// the scalar formula.
MNISTQ_VECTOR_HELPER void store_pooled4(i32x4 m, const requantizer4 *r, uint8_t *out) {
    const i32x4 sum = max_i32x4(m + r->bias, (i32x4){0, 0, 0, 0});
    if (!MNISTQ_VECTOR_REQUANTIZATION || r->scalar) {
        for (int k = 0; k < 4; k++) out[k] = requantize_relu64(sum[k], r->multiplier[k], r->shift[k]);
        return;
    }
#if MNISTQ_VECTOR_REQUANTIZATION
    const u64x2 low = {0xFFFFFFFFu, 0xFFFFFFFFu};
    const u64x2 even = (((u64x2)sum & low) * (r->multiplier_even & low) + r->round_even) >> r->shift_even;
    const u64x2 odd = (((u64x2)sum >> 32) * (r->multiplier_odd & low) + r->round_odd) >> r->shift_odd;
    const i32x4 q = (i32x4)(even | odd << 32);
#if defined(__SSE2__)
    const i16x8 narrow = __builtin_ia32_packssdw128(q, q);
    const i8x16 bytes = (i8x16)__builtin_ia32_packuswb128(narrow, narrow);
#else
    const i32x4 top = {255, 255, 255, 255}, over = (i32x4)(q > top);
    const u8x4 bytes = __builtin_convertvector((q & ~over) | (top & over), u8x4);
#endif
    __builtin_memcpy(out, &bytes, 4);
#endif
}

/// Output channels 4v ..< 4v + 4 of a weight quad block (channel o's quad at w + 4·o) as [channel][2] int16: the
/// quads' first two values, the pair a conv kernel's step multiplies. One 14-byte load, a byte shuffle and a widening
/// (the last quad's other two values are not read, so a pair at a block's end stays inside it).
static inline i16x8 weight_pairs(const int8_t *w, int v) {
    i8x16 quads = {0};
    __builtin_memcpy(&quads, w + 16 * v, 14);
    const i8x8 pairs = __builtin_shufflevector(quads, quads, 0, 1, 4, 5, 8, 9, 12, 13);
    return __builtin_convertvector(pairs, i16x8);
}

/// Activations widened to int16, `count` (a multiple of 16) of them.
static void widen(const uint8_t *x, int16_t *wide, int count) {
    for (int i = 0; i < count; i++) wide[i] = x[i];
}

/// Bit k set where byte k of the 16 at p is not zero.
static inline uint64_t nonzero_bytes(const uint8_t *p) {
    u8x16 bytes;
    __builtin_memcpy(&bytes, p, 16);
    const u8x16 zero = (u8x16)(bytes == (u8x16){0});
#if defined(__SSE2__)
    return (uint16_t)~__builtin_ia32_pmovmskb128((__attribute__((vector_size(16))) char)zero);
#elif defined(__wasm_simd128__)
    return (uint16_t)~__builtin_wasm_bitmask_i8x16((__attribute__((vector_size(16))) signed char)zero);
#else
    uint64_t bits = 0;
    for (int k = 0; k < 16; k++) bits |= (uint64_t)(zero[k] == 0) << k;
    return bits;
#endif
}

/// One side of a conv1 pool window: its left and right positions (top row, or bottom row with `below` 1), over the
/// kernel rows listed (the others read only zeros); the max of the two into `pooled` (4 vectors of 4 channels), or
/// with its max when `below`.
MNISTQ_VECTOR_HELPER void conv1_window_row(const int16_t *corner, const i16x8 *paired, const uint8_t *rows, int count,
                                           int below, i32x4 *pooled) {
    i32x4 l0 = {0, 0, 0, 0}, l1 = l0, l2 = l0, l3 = l0, r0 = l0, r1 = l0, r2 = l0, r3 = l0;
    for (int n = 0; n < count; n++) {
        const int ky = rows[n];
        const int16_t *x = corner + (ky + below) * CONV1_INPUT_ROW;
        const i16x8 *w = paired + ky * 12;
        for (int pair = 0; pair < 3; pair++, w += 4) {
            const i16x8 left = splat_pair(x + 2 * pair), right = splat_pair(x + 2 * pair + 1);
            l0 += dot_pairs(left, w[0]); l1 += dot_pairs(left, w[1]); l2 += dot_pairs(left, w[2]); l3 += dot_pairs(left, w[3]);
            r0 += dot_pairs(right, w[0]); r1 += dot_pairs(right, w[1]); r2 += dot_pairs(right, w[2]); r3 += dot_pairs(right, w[3]);
        }
    }
    const i32x4 m[4] = {max_i32x4(l0, r0), max_i32x4(l1, r1), max_i32x4(l2, r2), max_i32x4(l3, r3)};
    for (int v = 0; v < 4; v++) pooled[v] = below ? max_i32x4(pooled[v], m[v]) : m[v];
}

/// conv1's weights as the kernel multiplies them, and its requantizers: made per call, or once per batch.
typedef struct {
    // Tap pairs (kx 0-1, 2-3, 4-5; kx = 5 is the image's zero) of each row ky, as [4 channels][2 taps] int16 vectors:
    // paired[(ky·3 + pair)·4 + v] holds channels 4v ..< 4v + 4.
    i16x8 paired[15 * 4];
    requantizer4 requantizers[4];
    /// What a window of zero pixels pools to (conv sums 0): the output of every such window, so they are copies.
    uint8_t blank[16];
} conv1_prepared;

MNISTQ_VECTOR_STAGE void conv1_prepare(conv1_prepared *prepared, const int8_t *weights, const int32_t *bias,
                                        const int32_t *multiplier, const int8_t *shift) {
    // The image stores tap kx of channel o at ky·128 + (kx / 4)·64 + o·4 + kx % 4.
    for (int ky = 0; ky < 5; ky++) {
        for (int pair = 0; pair < 3; pair++) {
            const int kx = 2 * pair;
            const int8_t *w = weights + ky * 128 + (kx / 4) * 64 + kx % 4;
            for (int v = 0; v < 4; v++) prepared->paired[(ky * 3 + pair) * 4 + v] = weight_pairs(w, v);
        }
    }
    make_requantizers(prepared->requantizers, 4, bias, multiplier, shift);
    for (int v = 0; v < 4; v++) store_pooled4((i32x4){0, 0, 0, 0}, prepared->requantizers + v, prepared->blank + 4 * v);
}

MNISTQ_VECTOR_STAGE void conv1_run(const conv1_prepared *prepared, const uint8_t *image, uint8_t *output) {
    int16_t wide[32 * 40] __attribute__((aligned(16)));
    widen(image, wide, 32 * 40);
    // Bit x of nonzero_pixels[y]: pixel (y, x) is not zero (bytes 0-15, 16-31 and 24-39 of the row: the last two
    // overlap).
    uint64_t nonzero_pixels[32];
    for (int y = 0; y < 32; y++) {
        nonzero_pixels[y] = nonzero_bytes(image + y * CONV1_INPUT_ROW) | nonzero_bytes(image + y * CONV1_INPUT_ROW + 16) << 16
                            | nonzero_bytes(image + y * CONV1_INPUT_ROW + 24) << 24;
    }
    for (int py = 0; py < CONV1_WINDOWS_PER_SIDE; py++) {
        for (int px = 0; px < CONV1_WINDOWS_PER_SIDE; px++) {
            uint8_t *out = output + conv1_window_output(py, px);
            // Zero pixels cost nothing: a kernel row is computed only where one of the 7 pixels the window's two
            // positions read in its input row (columns 2·px ... 2·px + 6) is non-zero. MNIST digits leave most rows of
            // most windows blank. Listed without branches: rows ky for the top positions (input row ky), for the
            // bottom ones (ky + 1).
            int nonzero[6];
            for (int r = 0; r < 6; r++) nonzero[r] = (nonzero_pixels[2 * py + r] >> (2 * px) & 0x7F) != 0;
            uint8_t top[5], bottom[5];
            int top_count = 0, bottom_count = 0;
            for (int ky = 0; ky < 5; ky++) {
                top[top_count] = bottom[bottom_count] = (uint8_t)ky;
                top_count += nonzero[ky];
                bottom_count += nonzero[ky + 1];
            }
            if (top_count + bottom_count == 0) {
                __builtin_memcpy(out, prepared->blank, 16);
                continue;
            }
            const int16_t *corner = wide + conv1_window_input(py, px);
            i32x4 pooled[4];
            conv1_window_row(corner, prepared->paired, top, top_count, 0, pooled);
            conv1_window_row(corner, prepared->paired, bottom, bottom_count, 1, pooled);
            for (int v = 0; v < 4; v++) store_pooled4(pooled[v], prepared->requantizers + v, out + 4 * v);
        }
    }
}

void mnistq_conv1_relu_maxpool_u8s8_vector(const uint8_t *image, const int8_t *weights, const int32_t *bias,
                                      const int32_t *multiplier, const int8_t *shift, uint8_t *output) {
    conv1_prepared prepared;
    conv1_prepare(&prepared, weights, bias, multiplier, shift);
    conv1_run(&prepared, image, output);
}

/// Where tap ky·5 + kx of a conv2 position reads, from the position's top-left input in the [18][18] input.
static const uint8_t conv2_tap_offsets[25] = {0, 1, 2, 3, 4, 18, 19, 20, 21, 22, 36, 37, 38, 39, 40, 54, 55, 56, 57, 58,
                                               72, 73, 74, 75, 76};

/// Class 0...4 of a conv2 output row (or column) by which of its 5 kernel rows fall inside the input rather than on its
/// zero border: rows 0 and 1 miss 2 and 1 at the top, 12 and 13 1 and 2 at the bottom, 2...11 none.
static inline int conv2_edge_class(int y) { return y < 2 ? y : (y > 11 ? y - 9 : 2); }

/// The set bits of a 4-bit mask, as bytes from the lowest (unused bytes 0), and how many: the lists of a position's
/// differing channel pairs are made from two of these.
#if !defined(__wasm__)
static const uint32_t nibble_bits[16] = {0, 0x00, 0x01, 0x0100, 0x02, 0x0200, 0x0201, 0x020100, 0x03, 0x0300, 0x0301,
                                         0x030100, 0x0302, 0x030200, 0x030201, 0x03020100};
static const uint8_t nibble_counts[16] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};
#endif

/// Bit k set where int32 lane k of v (a channel pair's two int16) is not zero.
static inline int nonzero_lanes(i32x4 v) {
    const i32x4 nonzero = (i32x4)(v != (i32x4){0, 0, 0, 0});
#if defined(__SSE2__)
    return __builtin_ia32_movmskps((__attribute__((vector_size(16))) float)nonzero);
#elif defined(__wasm_simd128__)
    return __builtin_wasm_bitmask_i32x4(nonzero);
#else
    return (nonzero[0] & 1) | (nonzero[1] & 2) | (nonzero[2] & 4) | (nonzero[3] & 8);
#endif
}

/// conv2 input position q minus `background` into delta (int16), and the channel pairs where that is not zero into
/// pairs[q][0 ..< count[q]] (bytes past the count are not read), without branches: one widening subtraction per
/// 8 channels, a mask of the nonzero pairs, and a list per half of it.
MNISTQ_VECTOR_HELPER void list_differing_pairs(const uint8_t *input, const int16_t *background, int q, int16_t *delta,
                                               uint8_t (*pairs)[8], uint8_t *count) {
    u8x16 x;
    __builtin_memcpy(&x, input + q * 16, 16);
    const i16x8 low = __builtin_convertvector(__builtin_shufflevector(x, x, 0, 1, 2, 3, 4, 5, 6, 7), i16x8)
                      - load_i16x8(background);
    const i16x8 high = __builtin_convertvector(__builtin_shufflevector(x, x, 8, 9, 10, 11, 12, 13, 14, 15), i16x8)
                       - load_i16x8(background + 8);
    __builtin_memcpy(delta + q * 16, &low, 16);
    __builtin_memcpy(delta + q * 16 + 8, &high, 16);
    const int low_pairs = nonzero_lanes((i32x4)low), high_pairs = nonzero_lanes((i32x4)high);
#if defined(__wasm__)
    // Listed bit by bit: no tables in the size-limited module.
    const int mask = low_pairs | high_pairs << 4;
    int listed = 0;
    for (int pair = 0; pair < 8; pair++) {
        pairs[q][listed] = (uint8_t)pair;
        listed += mask >> pair & 1;
    }
    count[q] = (uint8_t)listed;
#else
    const uint32_t high_list = nibble_bits[high_pairs] + 0x04040404u; // pairs 4...7
    __builtin_memcpy(pairs[q], &nibble_bits[low_pairs], 4);
    __builtin_memcpy(pairs[q] + nibble_counts[low_pairs], &high_list, 4);
    count[q] = (uint8_t)(nibble_counts[low_pairs] + nibble_counts[high_pairs]);
#endif
}

/// The differing-pair lists of conv2 inputs q ... q + 4 (one kernel row's inputs) appended at destination, each list
/// whole (8 bytes) then counted, with `first` + kx·8 added to every byte of list kx (one 64-bit add: no carry, the
/// entries stay ≤ 24·8 + 7): returns how many entries it appended (at most 40; up to 8 bytes past them are written).
MNISTQ_VECTOR_HELPER int append_row_lists(uint8_t *destination, const uint8_t (*pairs)[8], const uint8_t *count, int q,
                                          int first) {
    int appended = 0;
    uint64_t add = (uint64_t)first * 0x0101010101010101u;
    for (int kx = 0; kx < 5; kx++, add += 0x0808080808080808u) {
        uint64_t listed;
        __builtin_memcpy(&listed, pairs[q + kx], 8);
        listed += add;
        __builtin_memcpy(destination + appended, &listed, 8);
        appended += count[q + kx];
    }
    return appended;
}

/// conv2's weights as the kernel multiplies them, its requantizers, and the background sums of the last input:
/// made per call, or once per batch (the sums again only when the background changes).
typedef struct {
    // paired[(tap·8 + pair)·8 + v]: output channels 4v ..< 4v + 4 × input channels 2·pair, 2·pair + 1 as int16.
    i16x8 paired[25 * 8 * 8];
    requantizer4 requantizers[8];
    // edge_sums[(row class·5 + column class)·8 + v]: Σ w_t·b over the taps on the interior for that edge class, for
    // the background b in `background` (when `has_background`).
    i32x4 edge_sums[25 * 8];
    int16_t background[16] __attribute__((aligned(16)));
    int has_background;
    // Entry tap·8 + pair's input pair, counted in pairs from the position's top-left input.
    uint16_t input_pair[25 * 8];
} conv2_prepared;

MNISTQ_VECTOR_STAGE void conv2_prepare(conv2_prepared *prepared, const int8_t *weights, const int32_t *bias,
                                        const int32_t *multiplier, const int8_t *shift) {
    // The image stores input channel i of output channel o at tap·512 + (i / 4)·128 + o·4 + i % 4.
    for (int tap = 0; tap < 25; tap++) {
        for (int pair = 0; pair < 8; pair++) {
            const int8_t *w = weights + tap * 512 + (pair / 2) * 128 + (pair % 2) * 2;
            for (int v = 0; v < 8; v++) prepared->paired[(tap * 8 + pair) * 8 + v] = weight_pairs(w, v);
        }
    }
    make_requantizers(prepared->requantizers, 8, bias, multiplier, shift);
    prepared->has_background = 0;
    for (int e = 0; e < 25 * 8; e++) prepared->input_pair[e] = (uint16_t)(conv2_tap_offsets[e / 8] * 8 + e % 8);
}

/// The edge sums of `prepared` for the background `wide_background`.
MNISTQ_VECTOR_STAGE void conv2_edge_sums(conv2_prepared *prepared, const int16_t *wide_background) {
    i32x4 tap_sums[25 * 8];
    for (int tap = 0; tap < 25; tap++) {
        for (int v = 0; v < 8; v++) {
            i32x4 sum = {0, 0, 0, 0};
            for (int pair = 0; pair < 8; pair++) {
                sum += dot_pairs(splat_pair(wide_background + 2 * pair), prepared->paired[(tap * 8 + pair) * 8 + v]);
            }
            tap_sums[tap * 8 + v] = sum;
        }
    }
    static const uint8_t first_inside[5] = {2, 1, 0, 0, 0}, last_inside[5] = {4, 4, 4, 3, 2};
    for (int row_class = 0; row_class < 5; row_class++) {
        for (int column_class = 0; column_class < 5; column_class++) {
            i32x4 *sums = prepared->edge_sums + (row_class * 5 + column_class) * 8;
            for (int v = 0; v < 8; v++) sums[v] = (i32x4){0, 0, 0, 0};
            for (int ky = first_inside[row_class]; ky <= last_inside[row_class]; ky++) {
                for (int kx = first_inside[column_class]; kx <= last_inside[column_class]; kx++) {
                    for (int v = 0; v < 8; v++) sums[v] += tap_sums[(ky * 5 + kx) * 8 + v];
                }
            }
        }
    }
    __builtin_memcpy(prepared->background, wide_background, 32);
    prepared->has_background = 1;
}

/// conv2 on `input` ([18][18][16] u8; any border is convolved as it is).
MNISTQ_VECTOR_STAGE void conv2_run(conv2_prepared *prepared, const uint8_t *input, uint8_t *output) {
    // Exact zeros cost nothing here. With any background vector b (16 channels), a position's sum over its taps t
    // on the interior (the 14×14 inside the 2-wide border) is  Σ w_t·x_t = Σ w_t·b + Σ w_t·(x_t − b):  the first
    // term depends only on which taps fall on the interior (the position's edge class), and a tap whose input equals
    // b adds 0 to the second, so only the (tap, channel pair) entries whose input differs from b are computed (taps
    // on the border likewise against 0). b is the input's top-left interior position: on MNIST that is the blank
    // background, which conv1 maps to one constant vector (ReLU of its requantized bias), about half of the
    // positions of a digit, and 59% of the channel pairs of the others equal it too. Any b gives the same sums (on
    // dense inputs nothing is skipped). |x − b| ≤ 255, so the products and the pair sums stay as exact as with x.
    const uint8_t *background = input + (2 * 18 + 2) * 16;
    int16_t wide_background[16] __attribute__((aligned(16)));
    widen(background, wide_background, 16);
    int same_background = prepared->has_background;
    for (int c = 0; c < 16; c++) same_background &= prepared->background[c] == wide_background[c];
    if (!same_background) conv2_edge_sums(prepared, wide_background);
    // The input minus its background (b inside, 0 on the border, which callers keep zero: then nothing there is
    // computed, yet any border gives the convolution of what is there) as int16, and per position the channel pairs
    // where that is not zero: pairs[q][0 ..< count[q]] (listed without branches).
    int16_t delta[18 * 18 * 16] __attribute__((aligned(16)));
    uint8_t pairs[18 * 18][8], count[18 * 18];
    const int16_t no_background[16] __attribute__((aligned(16))) = {0};
    for (int y = 0; y < 18; y++) {
        for (int x = 0; x < 18; x++) {
            const int inside = y >= 2 && y < 16 && x >= 2 && x < 16;
            list_differing_pairs(input, inside ? wide_background : no_background, y * 18 + x, delta, pairs, count);
        }
    }
    // A position's entries tap·8 + pair, one per (tap, channel pair) whose input differs from b, are its 5 kernel
    // rows' lists (append_row_lists, ky·40 added). On 64-bit hosts each row of 5 lists is made once and copied into
    // the 5 positions whose window reaches it: row_entries[slot] for input row r, columns x ... x + 4 (x 0...13); window
    // row py reads input rows 2·py ... 2·py + 5, so 6 rows are kept (row r in slot r % 6), each made when the first
    // window row that reads it comes. WebAssembly appends the 25 lists per position instead (less code: the module's
    // size limit).
#if !defined(__wasm__)
    uint8_t row_entries[6 * 14][48];
    uint8_t row_counts[6 * 14];
#endif
    // (No shortcut for windows whose inputs all equal b, as conv1 has for blank ones: on MNIST digits nearly every
    // conv2 window reaches the digit, and a position with nothing listed costs only its list and its epilogue.)
    for (int py = 0; py < CONV2_WINDOWS_PER_SIDE; py++) {
#if !defined(__wasm__)
        for (int r = py == 0 ? 0 : 2 * py + 4; r < 2 * py + 6; r++) {
            for (int x = 0; x < 14; x++) {
                row_counts[r % 6 * 14 + x] = (uint8_t)append_row_lists(row_entries[r % 6 * 14 + x], pairs, count, r * 18 + x, 0);
            }
        }
#endif
        for (int px = 0; px < CONV2_WINDOWS_PER_SIDE; px++) {
            uint8_t *out = output + conv2_window_output(py, px);
            i32x4 pooled[8];
            for (int position = 0; position < 4; position++) {
                const int y = 2 * py + position / 2, x = 2 * px + position % 2, corner = y * 18 + x;
                // Entry e's weights are paired[8·e ...], its input pair delta's pair corner·8 + input_pair[e].
                uint8_t entry[25 * 8 + 48];
                int entries = 0;
                for (int ky = 0; ky < 5; ky++) {
#if defined(__wasm__)
                    entries += append_row_lists(entry + entries, pairs, count, corner + ky * 18, ky * 40);
#else
                    // The row's 48 bytes copied whole (the 40 it can list and what follows, never counted).
                    const int row = (y + ky) % 6 * 14 + x;
                    const u8x16 ky_bytes = (u8x16){0} + (uint8_t)(ky * 40);
                    for (int part = 0; part < 48; part += 16) {
                        u8x16 listed;
                        __builtin_memcpy(&listed, row_entries[row] + part, 16);
                        listed += ky_bytes;
                        __builtin_memcpy(entry + entries + part, &listed, 16);
                    }
                    entries += row_counts[row];
#endif
                }
                const i32x4 *start = prepared->edge_sums + (conv2_edge_class(y) * 5 + conv2_edge_class(x)) * 8;
                i32x4 a0 = start[0], a1 = start[1], a2 = start[2], a3 = start[3], a4 = start[4], a5 = start[5], a6 = start[6],
                      a7 = start[7];
                const int16_t *position_delta = delta + corner * 16;
                for (int n = 0; n < entries; n++) {
                    const int e = entry[n];
                    const i16x8 dp = splat_pair(position_delta + 2 * prepared->input_pair[e]);
                    const i16x8 *w = prepared->paired + 8 * e;
                    a0 += dot_pairs(dp, w[0]); a1 += dot_pairs(dp, w[1]); a2 += dot_pairs(dp, w[2]); a3 += dot_pairs(dp, w[3]);
                    a4 += dot_pairs(dp, w[4]); a5 += dot_pairs(dp, w[5]); a6 += dot_pairs(dp, w[6]); a7 += dot_pairs(dp, w[7]);
                }
                if (position == 0) {
                    pooled[0] = a0; pooled[1] = a1; pooled[2] = a2; pooled[3] = a3;
                    pooled[4] = a4; pooled[5] = a5; pooled[6] = a6; pooled[7] = a7;
                } else {
                    pooled[0] = max_i32x4(pooled[0], a0); pooled[1] = max_i32x4(pooled[1], a1);
                    pooled[2] = max_i32x4(pooled[2], a2); pooled[3] = max_i32x4(pooled[3], a3);
                    pooled[4] = max_i32x4(pooled[4], a4); pooled[5] = max_i32x4(pooled[5], a5);
                    pooled[6] = max_i32x4(pooled[6], a6); pooled[7] = max_i32x4(pooled[7], a7);
                }
            }
            for (int v = 0; v < 8; v++) store_pooled4(pooled[v], prepared->requantizers + v, out + 4 * v);
        }
    }
}

void mnistq_conv2_relu_maxpool_u8s8_vector(const uint8_t *input, const int8_t *weights, const int32_t *bias,
                                      const int32_t *multiplier, const int8_t *shift, uint8_t *output) {
    conv2_prepared prepared;
    conv2_prepare(&prepared, weights, bias, multiplier, shift);
    conv2_run(&prepared, input, output);
}

// Not on WebAssembly, like the batch linear kernel below (the module's size limit).
#if !defined(__wasm__)
MNISTQ_CONV_LAYERS_BATCH_KERNEL(mnistq_conv_layers_u8s8_vector_batch) {
    conv1_prepared conv1;
    conv2_prepared conv2;
    conv1_prepare(&conv1, conv1_weights, conv1_bias, conv1_multiplier, conv1_shift);
    conv2_prepare(&conv2, conv2_weights, conv2_bias, conv2_multiplier, conv2_shift);
    // The zero padding of conv1's input and the zero border of conv2's, written once: per image only the 28×28
    // pixels and conv2's 14×14 interior (conv1's output) are written.
    const i16x8 zero = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 32 * 40; i += 16) __builtin_memcpy(conv1_input + i, &zero, 16);
    for (int i = 0; i < 18 * 18 * 16; i += 16) __builtin_memcpy(conv2_input + i, &zero, 16);
    for (int b = 0; b < count; b++) {
        for (int y = 0; y < 28; y++) __builtin_memcpy(conv1_input + (y + 2) * CONV1_INPUT_ROW + 2, pixels + (long)b * 784 + y * 28, 28);
        conv1_run(&conv1, conv1_input, conv2_input);
        conv2_run(&conv2, conv2_input, outputs + (long)b * output_stride);
    }
}
#endif // !defined(__wasm__)

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

// Not on WebAssembly: its 1.7 KB would break the module's size limit (tools/test-wasm), so wasm batches run the
// single-image kernel per image (U8KernelFamily.linearBatch4 is nil there).
#if !defined(__wasm__)
void mnistq_linear_u8s8_vector_batch4(const uint8_t *input, int input_stride, int count, int input_count,
                                      const int8_t *weights, const int32_t *bias, const int32_t *multiplier,
                                      const int8_t *shift, int output_count, uint8_t *relu_output, int output_stride,
                                      int32_t *scores) {
    const int full = input_count & ~15;
    const u16x8 low_byte = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    // Missing images (count < 4) repeat image 0; their sums are computed and dropped.
    const uint8_t *x[4];
    for (int b = 0; b < 4; b++) x[b] = input + (long)(b < count ? b : 0) * input_stride;
    // Each image's 16-input blocks split once into even and odd bytes as int16 (block k: widened[b][2k] even,
    // [2k + 1] odd), so the row loop below only splits the weights and reads these as plain loads.
    i16x8 widened[4][MNISTQ_VECTOR_BATCH4_MAX_INPUTS / 8];
    for (int b = 0; b < 4; b++) {
        for (int i = 0; i < full; i += 16) {
            const u16x8 v = (u16x8)load_i16x8(x[b] + i);
            widened[b][i / 8] = (i16x8)(v & low_byte);
            widened[b][i / 8 + 1] = (i16x8)(v >> 8);
        }
    }
    // 1 row × 4 images: each product's destination is a fresh load of the widened input, so SSE2's two-operand
    // pmaddwd needs no register copies (2 rows would need copies and spill accumulators); each weight block is
    // loaded and split once for the 4 images.
    for (int o = 0; o < output_count; o++) {
        const int8_t *w = weights + (long)o * input_count;
        i32x4 s0 = {0, 0, 0, 0}, s1 = s0, s2 = s0, s3 = s0;
        for (int i = 0; i < full; i += 16) {
            const int k = i / 8;
            const i16x8 v = load_i16x8(w + i);
            const i16x8 even = (i16x8)((u16x8)v << 8) >> 8, odd = v >> 8;
            s0 += dot_pairs(widened[0][k], even) + dot_pairs(widened[0][k + 1], odd);
            s1 += dot_pairs(widened[1][k], even) + dot_pairs(widened[1][k + 1], odd);
            s2 += dot_pairs(widened[2][k], even) + dot_pairs(widened[2][k + 1], odd);
            s3 += dot_pairs(widened[3][k], even) + dot_pairs(widened[3][k + 1], odd);
        }
        const int32_t sums[4] = {sum_lanes(s0), sum_lanes(s1), sum_lanes(s2), sum_lanes(s3)};
        for (int b = 0; b < count; b++) {
            int32_t s = sums[b]; // exact, as in mnistq_linear_u8s8_vector
            for (int i = full; i < input_count; i++) s += (int32_t)w[i] * (int32_t)x[b][i];
            const int32_t acc = s + bias[o];
            if (scores) {
                scores[(long)b * output_count + o] = requantize_scores(acc, multiplier[o], shift[o]);
            } else {
                relu_output[(long)b * output_stride + o] = requantize_relu64(acc, multiplier[o], shift[o]);
            }
        }
    }
}
#endif // !defined(__wasm__)

#else // 32-bit targets (microcontrollers keep the portable SMLAD kernels): availability 0, never called.
int mnistq_int8_vector_available(void) { return 0; }
MNISTQ_U8_KERNEL_FAMILY_STUBS(vector)
MNISTQ_LINEAR_BATCH4_KERNEL_STUB(mnistq_linear_u8s8_vector_batch4)
MNISTQ_CONV_LAYERS_BATCH_KERNEL_STUB(mnistq_conv_layers_u8s8_vector_batch)
#endif
