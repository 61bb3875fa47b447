// Test harness for the NEON int8 kernels (Sources/_MNISTQInt8Kernels/neon.c), cross-compiled and run under qemu by
// tools/test-arm: every NEON and NEON-dot kernel against the portable C kernels (portable.c, which the Swift tests
// prove bit-identical to the Swift reference) on random, extreme and real inputs, and the whole network on the MNIST
// test images. Prints one PASS/FAIL line per check and ends with "harness: N passed, M failed".
//
//   neon_harness kernels [--expect-dotprod 0|1] [--seed S]
//   neon_harness network MODEL.mnqi IMAGES.idx LABELS.idx [--expect-dotprod 0|1] [--limit N] [--portable-limit N]
//                [--write-scores FILE] [--expect-scores FILE] [--paths neon,neondot,vector]
//   neon_harness run PATH MODEL.mnqi IMAGES.idx COUNT [STAGE]   (PATH: portable, neon, neondot, vector; STAGE 0-4 repeats one
//                layer on image 0's activations; for instruction counting)
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "_MNISTQInt8Kernels.h"
#include "requantize.h"

static int passed, failed;

static void check(int ok, const char *format, ...) {
    va_list args;
    va_start(args, format);
    printf("%s ", ok ? "PASS" : "FAIL");
    vprintf(format, args);
    printf("\n");
    va_end(args);
    if (ok) passed++; else failed++;
    fflush(stdout);
}

// ---- Kernel paths under test

typedef void conv_kernel(const uint8_t *, const int8_t *, const int32_t *, const int32_t *, const int8_t *, uint8_t *);
typedef void linear_kernel(const uint8_t *, int, const int8_t *, const int32_t *, const int32_t *, const int8_t *, int,
                           uint8_t *, int32_t *);
typedef struct {
    const char *name;
    conv_kernel *conv1, *conv2;
    linear_kernel *linear;
} neon_path;

static const neon_path all_paths[3] = {
    {"neon", mnistq_conv1_relu_maxpool_u8s8_neon, mnistq_conv2_relu_maxpool_u8s8_neon, mnistq_linear_u8s8_neon},
    {"neondot", mnistq_conv1_relu_maxpool_u8s8_neondot, mnistq_conv2_relu_maxpool_u8s8_neondot, mnistq_linear_u8s8_neondot},
    // The generic-vector kernels (vector.c) share the signatures: proven here on every 64-bit build of the harness.
    {"vector", mnistq_conv1_relu_maxpool_u8s8_vector, mnistq_conv2_relu_maxpool_u8s8_vector, mnistq_linear_u8s8_vector},
};

static const char *selected_paths; // --paths: comma-separated names to run (all usable ones when NULL)

static int selected(const char *name) {
    if (!selected_paths) return 1;
    const size_t length = strlen(name);
    for (const char *p = selected_paths; *p;) {
        const char *end = strchr(p, ',');
        const size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == length && !strncmp(p, name, n)) return 1;
        p += n + (end ? 1 : 0);
    }
    return 0;
}

/// The paths this CPU runs (the dot-product one only where detected: elsewhere it would trap), as selected.
static int usable_paths(const neon_path **paths) {
    int n = 0;
    if (mnistq_int8_neon_available() && selected("neon")) paths[n++] = &all_paths[0];
    if (mnistq_int8_neon_dotprod_available() && selected("neondot")) paths[n++] = &all_paths[1];
    if (mnistq_int8_vector_available() && selected("vector")) paths[n++] = &all_paths[2];
    return n;
}

// ---- Layout conversions (the portable kernels keep int16 activations in pair order)

/// Where value i of an activation vector lives in pair order (v0 v2 v1 v3 within each group of 4), as in portable.c.
static int pair_slot(int i) { return (i & ~3) | ((i & 1) << 1) | ((i >> 1) & 1); }

/// u8 vectors of `width` values (a multiple of 4), `count` of them → int16 in pair order.
static void to_pair_order(const uint8_t *x, int width, int count, int16_t *out) {
    for (int v = 0; v < count; v++)
        for (int i = 0; i < width; i++) out[v * width + pair_slot(i)] = x[v * width + i];
}

// ---- Random numbers (xorshift64*: reproducible from the seed on every platform)

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_random(void) {
    rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}
/// Uniform in lo...hi (inclusive).
static int64_t random_in(int64_t lo, int64_t hi) { return lo + (int64_t)(next_random() % (uint64_t)(hi - lo + 1)); }

// ---- Layers and cases

typedef struct {
    int outputs, weight_count;
    int8_t *weights;
    int32_t *bias, *multiplier;
    int8_t *shift;
} layer;

static layer new_layer(int outputs, int weight_count) {
    layer l = {outputs, weight_count, calloc((size_t)weight_count, 1), calloc((size_t)outputs, 4),
               calloc((size_t)outputs, 4), calloc((size_t)outputs, 1)};
    return l;
}
static void free_layer(layer *l) { free(l->weights); free(l->bias); free(l->multiplier); free(l->shift); }

enum weight_pattern { W_RANDOM, W_PLUS, W_MINUS, W_ALTERNATING, W_SMALL };
enum input_pattern { X_RANDOM, X_ZERO, X_FULL, X_SMALL };

/// conv1's weights at taps kx = 5, 6, 7 (quad 1, tap 1...3) are zero in every valid model.
static int conv1_dead_tap(int index) { return ((index / 64) % 2 == 1) && (index % 4 != 0); }

static void fill_weights(layer *l, enum weight_pattern pattern, int is_conv1) {
    for (int i = 0; i < l->weight_count; i++) {
        int w = 0;
        switch (pattern) {
        case W_RANDOM: w = (int)random_in(-127, 127); break;
        case W_PLUS: w = 127; break;
        case W_MINUS: w = -127; break;
        case W_ALTERNATING: w = ((i / 3) % 2) ? 127 : -127; break; // not period 2, so pairs and quads mix signs
        case W_SMALL: w = (int)random_in(-2, 2); break;
        }
        l->weights[i] = (int8_t)(is_conv1 && conv1_dead_tap(i) ? 0 : w);
    }
}

static void fill_input(uint8_t *x, int count, enum input_pattern pattern) {
    for (int i = 0; i < count; i++) {
        switch (pattern) {
        case X_RANDOM: x[i] = (uint8_t)random_in(0, 255); break;
        case X_ZERO: x[i] = 0; break;
        case X_FULL: x[i] = 255; break;
        case X_SMALL: x[i] = (uint8_t)random_in(0, 3); break;
        }
    }
}

/// The standard deviation of a random layer's accumulator: sqrt(taps) · rms(x) · rms(w) = sqrt(taps) · 147 · 73.
static int64_t accumulator_spread(int taps) { return (int64_t)(sqrt((double)taps) * 147.0 * 73.0); }

/// A shift that spreads a random layer's outputs over 0...255 (one spread → about 96; multipliers average 1.5 · 2^30).
static int8_t realistic_shift(int taps) {
    return (int8_t)(lround(30 + log2(1.5 * (double)accumulator_spread(taps) / 96.0)) + random_in(-1, 1));
}

// ---- Comparisons of one kernel call, NEON path vs portable

/// The portable conv kernels' scratch (widened weights and pixel pairs): its own buffer, so it overlaps neither their
/// inputs nor their outputs wherever those live.
static uint32_t portable_scratch[MNISTQ_CONV1_PORTABLE_SCRATCH_BYTES / 4];
_Static_assert(MNISTQ_CONV1_PORTABLE_SCRATCH_BYTES >= MNISTQ_CONV2_PORTABLE_SCRATCH_BYTES, "one buffer serves both");

typedef struct { long compared, inside; } stats; // outputs compared; of those strictly inside 0...255 (not clamped)

#define SENTINEL 0xA5

/// conv1 on a u8 [32][40] image: NEON interior vs portable, and the NEON border untouched. Returns 1 when equal.
static int compare_conv1(const neon_path *p, const uint8_t *image, const layer *l, stats *s, char *why) {
    static int16_t reference[18 * 18 * 16];
    static uint8_t out[18 * 18 * 16];
    memset(reference, 0, sizeof reference);
    memset(out, SENTINEL, sizeof out);
    mnistq_conv1_relu_maxpool_u8s8_portable(image, l->weights, l->bias, l->multiplier, l->shift, reference, portable_scratch);
    p->conv1(image, l->weights, l->bias, l->multiplier, l->shift, out);
    for (int y = 0; y < 18; y++) {
        for (int x = 0; x < 18; x++) {
            const int interior = y >= 2 && y < 16 && x >= 2 && x < 16;
            for (int c = 0; c < 16; c++) {
                const int got = out[(y * 18 + x) * 16 + c];
                const int want = interior ? reference[(y * 18 + x) * 16 + pair_slot(c)] : SENTINEL;
                if (got != want) {
                    sprintf(why, "conv1 (%d, %d) channel %d: %d, expected %d%s", y, x, c, got, want,
                            interior ? "" : " (border must stay untouched)");
                    return 0;
                }
                if (interior) { s->compared++; s->inside += want > 0 && want < 255; }
            }
        }
    }
    return 1;
}

/// conv2 on a u8 [18][18][16] input.
static int compare_conv2(const neon_path *p, const uint8_t *input, const layer *l, stats *s, char *why) {
    static int16_t input16[18 * 18 * 16], reference[7 * 7 * 32];
    static uint8_t out[7 * 7 * 32 + 16];
    to_pair_order(input, 16, 18 * 18, input16);
    memset(out, SENTINEL, sizeof out);
    mnistq_conv2_relu_maxpool_s16s8_portable(input16, l->weights, l->bias, l->multiplier, l->shift, reference, portable_scratch);
    p->conv2(input, l->weights, l->bias, l->multiplier, l->shift, out);
    for (int i = 0; i < 7 * 7 * 32; i++) {
        const int want = reference[(i / 32) * 32 + pair_slot(i % 32)];
        if (out[i] != want) {
            sprintf(why, "conv2 position %d channel %d: %d, expected %d", i / 32, i % 32, out[i], want);
            return 0;
        }
        s->compared++; s->inside += want > 0 && want < 255;
    }
    for (int i = 7 * 7 * 32; i < (int)sizeof out; i++) {
        if (out[i] != SENTINEL) { sprintf(why, "conv2 wrote past its output (byte %d)", i); return 0; }
    }
    return 1;
}

/// The exact linear layer computed plainly here (any input count, where the portable kernel needs multiples of 4).
static void linear_plain(const uint8_t *x, int n, const layer *l, uint8_t *relu, int32_t *scores) {
    for (int o = 0; o < l->outputs; o++) {
        int64_t acc = l->bias[o];
        for (int i = 0; i < n; i++) acc += (int64_t)l->weights[(long)o * n + i] * x[i];
        if (scores) scores[o] = requantize_scores((int32_t)acc, l->multiplier[o], l->shift[o]);
        else relu[o] = (uint8_t)requantize_relu((int32_t)acc, l->multiplier[o], l->shift[o]);
    }
}

/// A linear layer with n inputs, l->outputs outputs, ReLU u8 or scores. Against the portable kernel when n and the
/// output count allow it (multiples of 4), else against linear_plain.
/// The vector family's batch linear kernel on 1...4 images (x, x with its odd inputs zeroed, 255 − x, x reversed)
/// equals its single-image kernel on each image (which compare_linear proves against the reference on x).
static int compare_vector_batch4(const uint8_t *x, int n, const layer *l, int want_scores, char *why) {
    const int m = l->outputs, stride = n + 3; // an odd stride: images at any alignment
    uint8_t *images = malloc((size_t)stride * 4), *relu = malloc((size_t)(m + 5) * 4), *relu_one = malloc((size_t)m + 16);
    int32_t *scores = malloc((size_t)m * 4 * 4 + 4), *scores_one = malloc((size_t)m * 4 + 4);
    for (int i = 0; i < n; i++) {
        images[i] = x[i];
        images[stride + i] = i % 2 ? 0 : x[i];
        images[2 * stride + i] = (uint8_t)(255 - x[i]);
        images[3 * stride + i] = x[n - 1 - i];
    }
    int ok = 1;
    for (int count = 1; count <= 4 && ok; count++) {
        memset(relu, SENTINEL, (size_t)(m + 5) * 4);
        memset(scores, SENTINEL, (size_t)m * 4 * 4 + 4);
        mnistq_linear_u8s8_vector_batch4(images, stride, count, n, l->weights, l->bias, l->multiplier, l->shift, m,
                                    want_scores ? NULL : relu, m + 5, want_scores ? scores : NULL);
        for (int b = 0; b < 4 && ok; b++) {
            mnistq_linear_u8s8_vector(images + (long)b * stride, n, l->weights, l->bias, l->multiplier, l->shift, m,
                                 want_scores ? NULL : relu_one, want_scores ? scores_one : NULL);
            for (int o = 0; o < m + 5 && ok && !want_scores; o++) {
                const int expected = b < count && o < m ? relu_one[o] : SENTINEL; // nothing past its images and outputs
                if (relu[b * (m + 5) + o] != expected) {
                    sprintf(why, "vector batch4 linear %d→%d relu, %d images: image %d output %d: %d, expected %d", n, m,
                            count, b, o, relu[b * (m + 5) + o], expected);
                    ok = 0;
                }
            }
            for (int o = 0; o < m && ok && want_scores; o++) {
                const uint32_t got = (uint32_t)scores[b * m + o];
                if (b < count ? got != (uint32_t)scores_one[o] : got != 0xA5A5A5A5u) {
                    sprintf(why, "vector batch4 linear %d→%d scores, %d images: image %d output %d: %ld", n, m, count, b, o,
                            (long)scores[b * m + o]);
                    ok = 0;
                }
            }
        }
    }
    free(images); free(relu); free(relu_one); free(scores); free(scores_one);
    return ok;
}

static int compare_linear(const neon_path *p, const uint8_t *x, int n, const layer *l, int want_scores, stats *s,
                          char *why) {
    const int m = l->outputs;
    int16_t *x16 = calloc((size_t)n + 4, 2), *relu16 = calloc((size_t)m + 4, 2);
    uint8_t *relu_ref = calloc((size_t)m + 4, 1), *relu = malloc((size_t)m + 16);
    int32_t *scores_ref = calloc((size_t)m + 4, 4), *scores = malloc(((size_t)m + 4) * 4);
    const int portable = n % 4 == 0 && (want_scores || m % 4 == 0);
    if (portable) {
        to_pair_order(x, n, 1, x16);
        mnistq_linear_s16s8_portable(x16, n, l->weights, l->bias, l->multiplier, l->shift, m, want_scores ? NULL : relu16,
                               want_scores ? scores_ref : NULL);
        for (int o = 0; o < m && !want_scores; o++) relu_ref[o] = (uint8_t)relu16[pair_slot(o)];
    } else {
        linear_plain(x, n, l, want_scores ? NULL : relu_ref, want_scores ? scores_ref : NULL);
    }
    memset(relu, SENTINEL, (size_t)m + 16);
    memset(scores, SENTINEL, ((size_t)m + 4) * 4);
    p->linear(x, n, l->weights, l->bias, l->multiplier, l->shift, m, want_scores ? NULL : relu,
              want_scores ? scores : NULL);
    int ok = 1;
    for (int o = 0; o < m && ok; o++) {
        if (want_scores ? scores[o] != scores_ref[o] : relu[o] != relu_ref[o]) {
            sprintf(why, "linear %d→%d %s output %d: %ld, expected %ld (reference: %s)", n, m,
                    want_scores ? "scores" : "relu", o, want_scores ? (long)scores[o] : (long)relu[o],
                    want_scores ? (long)scores_ref[o] : (long)relu_ref[o], portable ? "portable" : "plain C");
            ok = 0;
        }
        s->compared++;
        s->inside += want_scores ? (scores_ref[o] != INT32_MIN && scores_ref[o] != INT32_MAX)
                                 : (relu_ref[o] > 0 && relu_ref[o] < 255);
    }
    for (int i = want_scores ? 0 : m; ok && i < m + 16 && !want_scores; i++) {
        if (relu[i] != SENTINEL) { sprintf(why, "linear wrote past its %d outputs", m); ok = 0; }
    }
    if (ok && want_scores && (uint32_t)scores[m] != 0xA5A5A5A5u) { sprintf(why, "linear wrote past its scores"); ok = 0; }
    if (ok && p == &all_paths[2] && n <= MNISTQ_VECTOR_BATCH4_MAX_INPUTS) ok = compare_vector_batch4(x, n, l, want_scores, why);
    free(x16); free(relu16); free(relu_ref); free(relu); free(scores_ref); free(scores);
    return ok;
}

// ---- The per-kernel test suite

enum kernel { K_CONV1, K_CONV2, K_LINEAR_RELU, K_LINEAR_SCORES };
static const char *kernel_names[] = {"conv1", "conv2", "linear-relu", "linear-scores"};

/// One case of kernel k on path p: layer parameters set by the caller, input by pattern. n/m: linear sizes.
static int run_case(const neon_path *p, enum kernel k, const layer *l, enum input_pattern xp, int n, stats *s,
                    char *why) {
    static uint8_t image[32 * 40], conv2_input[18 * 18 * 16], vector[4096];
    switch (k) {
    case K_CONV1:
        // The pipeline's image: 28×28 at (2, 2), zeros elsewhere. X_FULL fills the whole buffer (every byte a
        // kernel reads is an input; both kernels must read the same ones).
        memset(image, 0, sizeof image);
        if (xp == X_FULL) fill_input(image, 32 * 40, X_FULL);
        else for (int y = 0; y < 28; y++) fill_input(image + (y + 2) * 40 + 2, 28, xp);
        return compare_conv1(p, image, l, s, why);
    case K_CONV2:
        fill_input(conv2_input, 18 * 18 * 16, xp);
        return compare_conv2(p, conv2_input, l, s, why);
    default:
        fill_input(vector, n, xp);
        return compare_linear(p, vector, n, l, k == K_LINEAR_SCORES, s, why);
    }
}

static void kernel_shape(enum kernel k, int linear_n, int linear_m, int *outputs, int *weights, int *taps) {
    switch (k) {
    case K_CONV1: *outputs = 16; *weights = 640; *taps = 25; break;
    case K_CONV2: *outputs = 32; *weights = 12800; *taps = 400; break;
    default: *outputs = linear_m; *weights = linear_n * linear_m; *taps = linear_n; break;
    }
}

/// Runs a group of cases of one kind for kernel k on path p and reports it as one check.
static void case_group(const neon_path *p, enum kernel k, const char *group, int linear_n, int linear_m) {
    int outputs, weight_count, taps;
    kernel_shape(k, linear_n, linear_m, &outputs, &weight_count, &taps);
    layer l = new_layer(outputs, weight_count);
    stats s = {0, 0};
    char why[256] = "";
    int cases = 0, ok = 1;
    const int is_conv1 = k == K_CONV1;
    if (!strcmp(group, "random")) {
        // Realistic scales (most outputs between the clamps, so rounding is what is compared).
        for (int trial = 0; trial < 6 && ok; trial++, cases++) {
            fill_weights(&l, W_RANDOM, is_conv1);
            for (int o = 0; o < outputs; o++) {
                l.bias[o] = (int32_t)random_in(-accumulator_spread(taps) / 2, accumulator_spread(taps) / 2);
                l.multiplier[o] = (int32_t)random_in(1 << 30, INT32_MAX);
                l.shift[o] = realistic_shift(taps);
            }
            ok = run_case(p, k, &l, X_RANDOM, linear_n, &s, why);
        }
    } else if (!strcmp(group, "random-full-range")) {
        // Every parameter uniform over the format's whole range.
        for (int trial = 0; trial < 6 && ok; trial++, cases++) {
            fill_weights(&l, W_RANDOM, is_conv1);
            for (int o = 0; o < outputs; o++) {
                l.bias[o] = (int32_t)random_in(-(1 << 30), 1 << 30);
                l.multiplier[o] = (int32_t)random_in(1 << 30, INT32_MAX);
                l.shift[o] = (int8_t)random_in(1, 62);
            }
            ok = run_case(p, k, &l, X_RANDOM, linear_n, &s, why);
        }
    } else if (!strcmp(group, "ties")) {
        // Small sums rescaled by exactly 1/2 and 1/4: many results end in .5, so round-half-up is compared.
        for (int trial = 0; trial < 4 && ok; trial++, cases++) {
            fill_weights(&l, W_SMALL, is_conv1);
            for (int o = 0; o < outputs; o++) {
                l.bias[o] = (int32_t)random_in(-60, 60);
                l.multiplier[o] = 1 << 30;
                l.shift[o] = (int8_t)(31 + o % 2);
            }
            ok = run_case(p, k, &l, X_SMALL, linear_n, &s, why);
        }
    } else { // "extremes": every combination of range ends
        const enum weight_pattern wps[] = {W_PLUS, W_MINUS, W_ALTERNATING};
        const enum input_pattern xps[] = {X_ZERO, X_FULL};
        const int32_t biases[] = {1 << 30, -(1 << 30)}, multipliers[] = {1 << 30, INT32_MAX};
        const int8_t shifts[] = {1, 62};
        for (int a = 0; a < 3 && ok; a++)
            for (int b = 0; b < 2 && ok; b++)
                for (int c = 0; c < 2 && ok; c++)
                    for (int d = 0; d < 2 && ok; d++)
                        for (int e = 0; e < 2 && ok; e++, cases++) {
                            fill_weights(&l, wps[a], is_conv1);
                            for (int o = 0; o < outputs; o++) {
                                l.bias[o] = biases[c]; l.multiplier[o] = multipliers[d]; l.shift[o] = shifts[e];
                            }
                            ok = run_case(p, k, &l, xps[b], linear_n, &s, why);
                        }
    }
    char shape[48] = "";
    if (k >= K_LINEAR_RELU) sprintf(shape, " %d→%d", linear_n, linear_m);
    check(ok, "%s %s%s %s: %d cases, %ld outputs equal (%ld strictly between the clamps)%s%s", p->name,
          kernel_names[k], shape, group, cases, s.compared, s.inside, ok ? "" : "; first mismatch: ", why);
    // A realistic-scale group whose outputs all sit on the clamps would compare little but the clamps.
    if (!strcmp(group, "random") || !strcmp(group, "ties")) {
        check(s.inside * 4 >= s.compared, "%s %s%s %s exercises the rescale: %ld of %ld outputs unclamped (≥ 25%%)",
              p->name, kernel_names[k], shape, group, s.inside, s.compared);
    }
    free_layer(&l);
}

static void kernel_suite(void) {
    const neon_path *paths[3];
    const int path_count = usable_paths(paths);
    static const char *groups[] = {"random", "random-full-range", "ties", "extremes"};
    // The network's sizes, other multiples of 4 (tails of 4, 8 and 12 past a 16-byte block), and sizes the portable
    // kernel cannot take (checked against plain C): the NEON kernels, like the VNNI one, accept any input count.
    static const int linear_sizes[][2] = {{1568, 120}, {120, 84}, {84, 10}, {4, 4}, {8, 8}, {12, 3}, {20, 7},
                                          {36, 1},    {100, 12}, {2048, 5}, {5, 4}, {17, 6}, {31, 2}};
    for (int pi = 0; pi < path_count; pi++) {
        const neon_path *p = paths[pi];
        for (int g = 0; g < 4; g++) {
            case_group(p, K_CONV1, groups[g], 0, 0);
            case_group(p, K_CONV2, groups[g], 0, 0);
            for (unsigned z = 0; z < sizeof linear_sizes / sizeof linear_sizes[0]; z++) {
                const int n = linear_sizes[z][0], m = linear_sizes[z][1];
                if (m % 4 == 0) case_group(p, K_LINEAR_RELU, groups[g], n, m);
                case_group(p, K_LINEAR_SCORES, groups[g], n, m);
            }
        }
    }
}

// ---- The network: the in-place image's sections (ModelFormat.md, "In-place image") and the pipelines

typedef struct {
    const int8_t *weights[5];
    const int32_t *bias[5], *multiplier[5];
    const int8_t *shift[5];
} model;

static const long weight_offsets[5] = {64, 704, 13504, 201664, 211776};
static const long constant_offsets[5] = {212672, 212928, 213376, 214976, 216128};
static const int layer_outputs[5] = {16, 32, 120, 84, 10};

static uint8_t *read_file(const char *path, long *size) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); exit(2); }
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    fseek(f, 0, SEEK_SET);
    // 64-byte aligned, as the runtime's loaders require 16 (int32 arrays 4-aligned).
    uint8_t *bytes = aligned_alloc(64, ((size_t)*size + 63) / 64 * 64);
    if (!bytes || fread(bytes, 1, (size_t)*size, f) != (size_t)*size) { fprintf(stderr, "cannot read %s\n", path); exit(2); }
    fclose(f);
    return bytes;
}

static model load_model(const char *path) {
    long size;
    const uint8_t *bytes = read_file(path, &size);
    // Flag bit 0: in-place image; bit 1 (an out-of-distribution section after the constants) moves nothing read here.
    if (size < 216320 || memcmp(bytes, "MNQ8", 4) != 0 || (bytes[6] & 1) != 1) {
        fprintf(stderr, "%s is not an in-place image (mnistq export --flash)\n", path);
        exit(2);
    }
    model m;
    for (int i = 0; i < 5; i++) {
        const int n = layer_outputs[i];
        m.weights[i] = (const int8_t *)(bytes + weight_offsets[i]);
        m.bias[i] = (const int32_t *)(const void *)(bytes + constant_offsets[i]);
        m.multiplier[i] = (const int32_t *)(const void *)(bytes + constant_offsets[i] + 4 * n);
        m.shift[i] = (const int8_t *)(bytes + constant_offsets[i] + 8 * n);
    }
    return m;
}

static uint32_t big_endian32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

/// IDX file: images (magic 0x803, 28×28) or labels (0x801). Returns the data, sets count.
static const uint8_t *load_idx(const char *path, uint32_t magic, int *count) {
    long size;
    const uint8_t *bytes = read_file(path, &size);
    const long header = magic == 0x803 ? 16 : 8, item = magic == 0x803 ? 784 : 1;
    if (size < header || big_endian32(bytes) != magic || size != header + (long)big_endian32(bytes + 4) * item) {
        fprintf(stderr, "%s is not an IDX file of the expected kind\n", path);
        exit(2);
    }
    *count = (int)big_endian32(bytes + 4);
    return bytes + header;
}

/// The arenas of KernelPipelines.swift: VNNIArena (u8) and PortableArena (int16 pair order), same byte offsets.
enum { U8_CONV2_INPUT = 0, U8_CONV1_INPUT = 5184, U8_CONV2_OUTPUT = 5184, U8_FC1 = 6784, U8_FC2 = 6912, U8_BYTES = 7040 };
enum { P_CONV2_INPUT = 0, P_CONV1_INPUT = 10368, P_CONV2_OUTPUT = 10368, P_FC1 = 13504, P_FC2 = 13744, P_BYTES = 13912 };

/// runVNNIStage's chaining with a NEON path's kernels.
static void run_neon(const neon_path *p, const model *m, const uint8_t *pixels, uint8_t *arena, int32_t *scores) {
    uint8_t *conv1_input = arena + U8_CONV1_INPUT, *conv2_input = arena + U8_CONV2_INPUT;
    memset(conv1_input, 0, 32 * 40);
    for (int y = 0; y < 28; y++) memcpy(conv1_input + (y + 2) * 40 + 2, pixels + y * 28, 28);
    memset(conv2_input, 0, 18 * 18 * 16);
    p->conv1(conv1_input, m->weights[0], m->bias[0], m->multiplier[0], m->shift[0], conv2_input);
    p->conv2(conv2_input, m->weights[1], m->bias[1], m->multiplier[1], m->shift[1], arena + U8_CONV2_OUTPUT);
    p->linear(arena + U8_CONV2_OUTPUT, 1568, m->weights[2], m->bias[2], m->multiplier[2], m->shift[2], 120,
              arena + U8_FC1, NULL);
    p->linear(arena + U8_FC1, 120, m->weights[3], m->bias[3], m->multiplier[3], m->shift[3], 84, arena + U8_FC2, NULL);
    p->linear(arena + U8_FC2, 84, m->weights[4], m->bias[4], m->multiplier[4], m->shift[4], 10, NULL, scores);
}

/// runPortableStage's chaining.
static void run_portable(const model *m, const uint8_t *pixels, uint8_t *arena, int32_t *scores) {
    uint8_t *conv1_input = arena + P_CONV1_INPUT;
    int16_t *conv2_input = (int16_t *)(void *)(arena + P_CONV2_INPUT);
    int16_t *conv2_output = (int16_t *)(void *)(arena + P_CONV2_OUTPUT);
    int16_t *fc1 = (int16_t *)(void *)(arena + P_FC1), *fc2 = (int16_t *)(void *)(arena + P_FC2);
    memset(conv1_input, 0, 32 * 40);
    for (int y = 0; y < 28; y++) memcpy(conv1_input + (y + 2) * 40 + 2, pixels + y * 28, 28);
    memset(conv2_input, 0, 18 * 18 * 16 * 2);
    mnistq_conv1_relu_maxpool_u8s8_portable(conv1_input, m->weights[0], m->bias[0], m->multiplier[0], m->shift[0], conv2_input, portable_scratch);
    mnistq_conv2_relu_maxpool_s16s8_portable(conv2_input, m->weights[1], m->bias[1], m->multiplier[1], m->shift[1], conv2_output, portable_scratch);
    mnistq_linear_s16s8_portable(conv2_output, 1568, m->weights[2], m->bias[2], m->multiplier[2], m->shift[2], 120, fc1, NULL);
    mnistq_linear_s16s8_portable(fc1, 120, m->weights[3], m->bias[3], m->multiplier[3], m->shift[3], 84, fc2, NULL);
    mnistq_linear_s16s8_portable(fc2, 84, m->weights[4], m->bias[4], m->multiplier[4], m->shift[4], 10, NULL, scores);
}

/// The first stage whose NEON output differs from the portable one (natural order vs pair order), or NULL.
static const char *first_stage_difference(const uint8_t *u8, const uint8_t *arena16) {
    const int16_t *conv2_input = (const int16_t *)(const void *)(arena16 + P_CONV2_INPUT);
    const int16_t *conv2_output = (const int16_t *)(const void *)(arena16 + P_CONV2_OUTPUT);
    const int16_t *fc1 = (const int16_t *)(const void *)(arena16 + P_FC1);
    const int16_t *fc2 = (const int16_t *)(const void *)(arena16 + P_FC2);
    for (int i = 0; i < 18 * 18 * 16; i++)
        if (u8[U8_CONV2_INPUT + i] != conv2_input[(i & ~15) + pair_slot(i & 15)]) return "conv1";
    for (int i = 0; i < 1568; i++)
        if (u8[U8_CONV2_OUTPUT + i] != conv2_output[(i & ~31) + pair_slot(i & 31)]) return "conv2";
    for (int i = 0; i < 120; i++) if (u8[U8_FC1 + i] != fc1[pair_slot(i)]) return "fc1";
    for (int i = 0; i < 84; i++) if (u8[U8_FC2 + i] != fc2[pair_slot(i)]) return "fc2";
    return NULL;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int predicted(const int32_t *scores) {
    int best = 0;
    for (int i = 1; i < 10; i++) if (scores[i] > scores[best]) best = i;
    return best;
}

static void network_suite(const char *model_path, const char *images_path, const char *labels_path, int limit,
                          int portable_limit, const char *write_path, const char *expect_path) {
    const model m = load_model(model_path);
    int count, label_count;
    const uint8_t *images = load_idx(images_path, 0x803, &count);
    const uint8_t *labels = load_idx(labels_path, 0x801, &label_count);
    if (limit > 0 && limit < count) count = limit;
    if (portable_limit < 0 || portable_limit > count) portable_limit = count;
    uint8_t *arena16 = aligned_alloc(64, P_BYTES), *arena8 = aligned_alloc(64, U8_BYTES);
    int32_t *reference = calloc((size_t)count * 10, 4); // portable scores (this build), then compared to the file

    // Portable pipeline: the reference, on the first portable_limit images (it is the slow path under emulation).
    double start = now();
    for (int i = 0; i < portable_limit; i++) run_portable(&m, images + (long)i * 784, arena16, reference + 10L * i);
    const double portable_seconds = now() - start;
    int correct = 0;
    for (int i = 0; i < portable_limit; i++) correct += predicted(reference + 10L * i) == labels[i];
    printf("portable: %d images in %.2f s (%.3f ms per image), accuracy %.2f%%\n", portable_limit, portable_seconds,
           1e3 * portable_seconds / (portable_limit ? portable_limit : 1), 100.0 * correct / (portable_limit ? portable_limit : 1));

    if (write_path) {
        FILE *f = fopen(write_path, "wb");
        const int ok = f && fwrite(reference, 4, (size_t)portable_limit * 10, f) == (size_t)portable_limit * 10;
        if (f) fclose(f);
        check(ok, "wrote %d × 10 portable scores to %s", portable_limit, write_path);
    }
    int32_t *expected = NULL; // scores from another build (x86-64 native), covering every image
    if (expect_path) {
        long size;
        expected = (int32_t *)(void *)read_file(expect_path, &size);
        check(size >= (long)count * 40, "%s holds scores for all %d images (%ld bytes)", expect_path, count, size);
        if (size < (long)count * 40) return;
        check(memcmp(expected, reference, (size_t)portable_limit * 40) == 0,
              "portable scores of this build equal %s on the first %d images (%d scores)", expect_path,
              portable_limit, portable_limit * 10);
    }

    const neon_path *paths[3];
    const int path_count = usable_paths(paths);
    for (int pi = 0; pi < path_count; pi++) {
        const neon_path *p = paths[pi];
        int32_t *scores = calloc((size_t)count * 10, 4);
        start = now();
        for (int i = 0; i < count; i++) run_neon(p, &m, images + (long)i * 784, arena8, scores + 10L * i);
        const double seconds = now() - start;
        // Every one of the 10 scores of every image: against the portable run of this build where it ran, else
        // against the expected file (the same portable pipeline built natively).
        long mismatches = 0, compared = 0;
        int first_bad = -1;
        for (int i = 0; i < count; i++) {
            const int32_t *want = i < portable_limit ? reference + 10L * i : (expected ? expected + 10L * i : NULL);
            if (!want) continue;
            for (int k = 0; k < 10; k++, compared++) {
                if (scores[10L * i + k] != want[k]) { mismatches++; if (first_bad < 0) first_bad = i; }
            }
        }
        char where[96] = "";
        if (first_bad >= 0) { // which stage first differs on that image
            run_portable(&m, images + (long)first_bad * 784, arena16, reference + 10L * first_bad);
            int32_t s[10];
            run_neon(p, &m, images + (long)first_bad * 784, arena8, s);
            const char *stage = first_stage_difference(arena8, arena16);
            sprintf(where, "; first at image %d, stage %s", first_bad, stage ? stage : "fc3");
        }
        correct = 0;
        for (int i = 0; i < count; i++) correct += predicted(scores + 10L * i) == labels[i];
        char against[160];
        if (portable_limit == count) sprintf(against, "this build's portable run on all of them");
        else sprintf(against, "this build's portable run on the first %d, the expected file on the rest", portable_limit);
        check(mismatches == 0 && compared == 10L * count,
              "network %s: %d images, %ld of %ld scores identical to the portable pipeline (%s)%s", p->name, count,
              compared - mismatches, 10L * count, against, where);
        printf("%s: %d images in %.2f s (%.3f ms per image), accuracy %.2f%%\n", p->name, count, seconds,
               1e3 * seconds / count, 100.0 * correct / count);
        // Every intermediate activation too, on the images the portable pipeline ran (a cheap second pass).
        long stage_mismatches = 0;
        const int staged = portable_limit < 300 ? portable_limit : 300;
        for (int i = 0; i < staged; i++) {
            int32_t s1[10], s2[10];
            run_portable(&m, images + (long)i * 784, arena16, s1);
            run_neon(p, &m, images + (long)i * 784, arena8, s2);
            stage_mismatches += first_stage_difference(arena8, arena16) != NULL;
        }
        check(stage_mismatches == 0, "network %s: every activation of conv1, conv2, fc1, fc2 identical on %d images "
              "(%ld differ)", p->name, staged, stage_mismatches);
        if (p == &all_paths[2]) {
            // The vector family's batch conv kernel (conv1 + conv2 for several images, the weights regrouped once)
            // gives every image the single-image kernels' conv2 output, in groups of 1, 2, 3, 4, 1, ...
            const int batched = count < 1000 ? count : 1000;
            uint8_t *outputs = malloc(4 * 1600), *conv1_input = malloc(32 * 40), *conv2_input = malloc(18 * 18 * 16);
            long batch_mismatches = 0;
            for (int i = 0, group = 1; i < batched; i += group, group = group % 4 + 1) {
                const int g = i + group <= batched ? group : batched - i;
                memset(outputs, SENTINEL, 4 * 1600);
                mnistq_conv_layers_u8s8_vector_batch(images + (long)i * 784, g, m.weights[0], m.bias[0], m.multiplier[0],
                                                     m.shift[0], m.weights[1], m.bias[1], m.multiplier[1], m.shift[1],
                                                     conv1_input, conv2_input, outputs, 1600);
                for (int b = 0; b < 4; b++) {
                    int32_t s[10];
                    if (b < g) {
                        run_neon(p, &m, images + (long)(i + b) * 784, arena8, s);
                        batch_mismatches += memcmp(outputs + b * 1600, arena8 + U8_CONV2_OUTPUT, 1568) != 0;
                    }
                    for (int k = b < g ? 1568 : 0; k < 1600; k++) batch_mismatches += outputs[b * 1600 + k] != SENTINEL;
                }
            }
            check(batch_mismatches == 0, "vector batch conv layers: conv2 outputs of %d images in groups of 1...4 "
                  "identical to the single-image kernels' and nothing written past them (%ld differ)", batched,
                  batch_mismatches);
            free(outputs); free(conv1_input); free(conv2_input);
        }
        free(scores);
    }
}

/// One stage (0 conv1 ... 4 fc3) of a path on the activations the pipeline left in the arena.
static void run_stage(const neon_path *p, const model *m, int stage, uint8_t *arena, int32_t *scores) {
    if (p) {
        switch (stage) {
        case 0: p->conv1(arena + U8_CONV1_INPUT, m->weights[0], m->bias[0], m->multiplier[0], m->shift[0], arena + U8_CONV2_INPUT); break;
        case 1: p->conv2(arena + U8_CONV2_INPUT, m->weights[1], m->bias[1], m->multiplier[1], m->shift[1], arena + U8_CONV2_OUTPUT); break;
        case 2: p->linear(arena + U8_CONV2_OUTPUT, 1568, m->weights[2], m->bias[2], m->multiplier[2], m->shift[2], 120, arena + U8_FC1, NULL); break;
        case 3: p->linear(arena + U8_FC1, 120, m->weights[3], m->bias[3], m->multiplier[3], m->shift[3], 84, arena + U8_FC2, NULL); break;
        default: p->linear(arena + U8_FC2, 84, m->weights[4], m->bias[4], m->multiplier[4], m->shift[4], 10, NULL, scores); break;
        }
        return;
    }
    int16_t *a16 = (int16_t *)(void *)arena;
    switch (stage) {
    case 0: mnistq_conv1_relu_maxpool_u8s8_portable(arena + P_CONV1_INPUT, m->weights[0], m->bias[0], m->multiplier[0], m->shift[0], a16 + P_CONV2_INPUT / 2, portable_scratch); break;
    case 1: mnistq_conv2_relu_maxpool_s16s8_portable(a16 + P_CONV2_INPUT / 2, m->weights[1], m->bias[1], m->multiplier[1], m->shift[1], a16 + P_CONV2_OUTPUT / 2, portable_scratch); break;
    case 2: mnistq_linear_s16s8_portable(a16 + P_CONV2_OUTPUT / 2, 1568, m->weights[2], m->bias[2], m->multiplier[2], m->shift[2], 120, a16 + P_FC1 / 2, NULL); break;
    case 3: mnistq_linear_s16s8_portable(a16 + P_FC1 / 2, 120, m->weights[3], m->bias[3], m->multiplier[3], m->shift[3], 84, a16 + P_FC2 / 2, NULL); break;
    default: mnistq_linear_s16s8_portable(a16 + P_FC2 / 2, 84, m->weights[4], m->bias[4], m->multiplier[4], m->shift[4], 10, NULL, scores); break;
    }
}

/// Runs one path over the first `count` images and nothing else (or, with stage ≥ 0, the whole path on image 0 and
/// then that stage `count` times more): tools/test-arm counts the instructions qemu executes for two counts and
/// divides the difference.
static void run_only(const char *path_name, const char *model_path, const char *images_path, int count, int stage) {
    const model m = load_model(model_path);
    int available;
    const uint8_t *images = load_idx(images_path, 0x803, &available);
    uint8_t *arena = aligned_alloc(64, P_BYTES);
    int32_t scores[10];
    uint32_t digest = 0;
    const neon_path *p = !strcmp(path_name, "neon") ? &all_paths[0] : !strcmp(path_name, "neondot") ? &all_paths[1]
                       : !strcmp(path_name, "vector") ? &all_paths[2] : NULL;
    if (p && (p == &all_paths[1]   ? !mnistq_int8_neon_dotprod_available()
              : p == &all_paths[2] ? !mnistq_int8_vector_available()
                                   : !mnistq_int8_neon_available())) {
        fprintf(stderr, "%s is not available on this CPU\n", path_name);
        exit(2);
    }
    for (int i = 0; i < (stage < 0 ? count : 1) && i < available; i++) {
        if (p) run_neon(p, &m, images + (long)i * 784, arena, scores);
        else run_portable(&m, images + (long)i * 784, arena, scores);
        digest = digest * 31u + (uint32_t)predicted(scores); // keeps the work observable
    }
    for (int i = 0; stage >= 0 && i < count; i++) {
        run_stage(p, &m, stage, arena, scores);
        digest = digest * 31u + arena[U8_FC2 + i % 84] + (uint32_t)scores[i % 10];
    }
    printf("%s: %d images, digest %08x\n", path_name, count, digest);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: see the header of neon_harness.c\n"); return 2; }
    int expect_dotprod = -1, limit = 0, portable_limit = -1;
    const char *write_path = NULL, *expect_path = NULL;
    for (int i = 2; i < argc - 1; i++) {
        if (!strcmp(argv[i], "--expect-dotprod")) expect_dotprod = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed")) rng_state = strtoull(argv[++i], NULL, 0) | 1;
        else if (!strcmp(argv[i], "--limit")) limit = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--portable-limit")) portable_limit = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--write-scores")) write_path = argv[++i];
        else if (!strcmp(argv[i], "--expect-scores")) expect_path = argv[++i];
        else if (!strcmp(argv[i], "--paths")) selected_paths = argv[++i];
    }
    if (!strcmp(argv[1], "run") && argc >= 6) {
        run_only(argv[2], argv[3], argv[4], atoi(argv[5]), argc >= 7 ? atoi(argv[6]) : -1);
        return 0;
    }
    printf("neon available: %d, dotprod available: %d, portable uses DSP: %d\n", mnistq_int8_neon_available(),
           mnistq_int8_neon_dotprod_available(), mnistq_portable_uses_dsp());
    if (expect_dotprod >= 0) {
        check(mnistq_int8_neon_dotprod_available() == expect_dotprod, "dot-product detection reports %d (expected %d)",
              mnistq_int8_neon_dotprod_available(), expect_dotprod);
    }
    if (!strcmp(argv[1], "kernels")) {
        kernel_suite();
    } else if (!strcmp(argv[1], "network") && argc >= 5) {
        network_suite(argv[2], argv[3], argv[4], limit, portable_limit, write_path, expect_path);
    } else {
        fprintf(stderr, "unknown command %s\n", argv[1]);
        return 2;
    }
    printf("harness: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
