// The trainer's sgemm in three builds of one source (sgemm_template.h): AVX-512F, AVX2+FMA and portable C, each
// compiled with a function-level target attribute and picked at run time, so no -target-cpu flag is needed.
#include "_MNISTQFloatKernels.h"
#include "scratch.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The bits must not depend on the compiler's choices: only the explicit __builtin_elementwise_fma calls fuse.
#pragma STDC FP_CONTRACT OFF

// Blocking constants shared by every path. They decide where partial sums are rounded and added to C, so changing
// one changes the results (they equal the former Swift kernels', which the golden and resume tests were run with).
/// k-block of op(A)·B: its ragged-edge panel (256 × 32 floats = 32 KB) stays in L1/L2.
#define PANEL_DEPTH 256
/// k-block of A·Bᵀ computed as (B·Aᵀ)ᵀ; its panel (1024 × 32 floats = 128 KB) lives in L2.
#define TRANSPOSED_PANEL_DEPTH 1024
/// k-block of the dot kernel: keeps its A rows in L1 while all rows of B pass.
#define DOT_DEPTH 512
/// A·Bᵀ with at most this many rows runs the dot kernel (the transposed broadcast kernel leaves the FMA units
/// latency-bound with so few rows: 69 vs 42 GMAC/s on conv1's 16×25×(28·28), Zen 5).
#define DOT_MAX_ROWS 16
#if MNISTQ_SCRATCH_FLOATS < 32 * (TRANSPOSED_PANEL_DEPTH + 8)
#error "the thread scratch must hold the largest STRIP (32) × (TRANSPOSED_PANEL_DEPTH + the largest TILE_ROWS (8))"
#endif

typedef float v16 __attribute__((ext_vector_type(16)));
typedef float v8 __attribute__((ext_vector_type(8)));
typedef float v4 __attribute__((ext_vector_type(4)));
typedef int v16i __attribute__((ext_vector_type(16)));

/// A vector of type T from any address (memcpy: no alignment or aliasing assumption; compiles to one load).
#define LOADU(T, p) ({ T value_; __builtin_memcpy(&value_, (p), sizeof value_); value_; })
#define STOREU(p, v) do { __typeof__(v) value_ = (v); __builtin_memcpy((p), &value_, sizeof value_); } while (0)

/// Σ of 16 lanes in a fixed tree: (v[i] + v[i+8]) + (v[i+4] + v[i+12]) for i < 4, then (h0 + h1) + (h2 + h3).
/// By pointer: a 64-byte vector passed by value would have a different ABI in each path (always inlined anyway).
static inline __attribute__((always_inline)) float hsum16(const v16 *vector) {
    v16 v = *vector;
    v8 s8 = v.lo + v.hi;
    v4 s4 = s8.lo + s8.hi;
    return (s4.x + s4.y) + (s4.z + s4.w);
}

/// panel[p·stride + j] = b[p·ldb + j] for j < width, 0 for width ≤ j < stride.
static inline __attribute__((always_inline)) void pack_panel(const float *b, long ldb, long depth, long width,
                                                             long stride, float *panel) {
    for (long p = 0; p < depth; p++) {
        const float *src = b + p * ldb;
        float *dst = panel + p * stride;
        for (long j = 0; j < width; j++) dst[j] = src[j];
        for (long j = width; j < stride; j++) dst[j] = 0.0f;
    }
}

/// dst[r·ldd + j] (+)= src[r·lds + j] for r < rows, j < width.
static inline __attribute__((always_inline)) void add_or_copy_tile(const float *src, long lds, float *dst, long ldd,
                                                                   long rows, long width, int add) {
    for (long r = 0; r < rows; r++) {
        const float *s = src + r * lds;
        float *d = dst + r * ldd;
        if (add) { for (long j = 0; j < width; j++) d[j] += s[j]; }
        else { for (long j = 0; j < width; j++) d[j] = s[j]; }
    }
}

// MARK: - The three paths

// The three instantiations of sgemm_template.h below differ only in their macros (deliberate per-path
// specialisations: vector length, tile and dot-kernel shapes, target attribute).

// Portable: plain C vectors of 4 floats (one NEON register on arm64, where FMA is baseline; on an x86-64 without
// AVX2 the compiler emits SSE2 and calls fmaf, slow but exact). 8×2 tile = 16 accumulators of NEON's 32 registers.
#define PATH(name) name##_f32_portable
#define TARGET
#define VL 4
#define TILE_ROWS 8
#define DOT_ROWS 2
#define DOT_COLS 2
#include "sgemm_template.h"
#undef PATH
#undef TARGET
#undef VL
#undef TILE_ROWS
#undef DOT_ROWS
#undef DOT_COLS

#if defined(__x86_64__)
// AVX2 + FMA, 16 ymm registers: 6 rows × 2 vectors = 12 accumulators + 2 B vectors + 1 broadcast. The dot kernel's
// 16-float vectors are two registers each: 2×3 tile = 12 accumulator registers.
#define PATH(name) name##_f32_avx2
#define TARGET __attribute__((target("avx2,fma")))
#define VL 8
#define TILE_ROWS 6
#define DOT_ROWS 2
#define DOT_COLS 3
#include "sgemm_template.h"
#undef PATH
#undef TARGET
#undef VL
#undef TILE_ROWS
#undef DOT_ROWS
#undef DOT_COLS

// AVX-512F, 32 zmm registers: 8 rows × 2 vectors = 16 accumulators; dot tile 4×5 = 20 accumulators + 4 A + 1 B.
// Zen 5 runs two 512-bit FMAs per cycle; Zen 4 splits each into two 256-bit halves (still ahead of AVX2:
// half the instructions).
#define PATH(name) name##_f32_avx512
#define TARGET __attribute__((target("avx512f")))
#define VL 16
#define TILE_ROWS 8
#define DOT_ROWS 4
#define DOT_COLS 5
#include "sgemm_template.h"
#undef PATH
#undef TARGET
#undef VL
#undef TILE_ROWS
#undef DOT_ROWS
#undef DOT_COLS
#endif

// MARK: - Run-time choice

int mnistq_float_path_available(int path) {
    switch (path) {
    case MNISTQ_FLOAT_PATH_PORTABLE: return 1;
#if defined(__x86_64__)
    // __builtin_cpu_supports also checks that the OS saves the wider registers (XCR0).
    case MNISTQ_FLOAT_PATH_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case MNISTQ_FLOAT_PATH_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f");
#endif
    default: return 0;
    }
}

static int best_path(void) {
    if (mnistq_float_path_available(MNISTQ_FLOAT_PATH_AVX512)) return MNISTQ_FLOAT_PATH_AVX512;
    if (mnistq_float_path_available(MNISTQ_FLOAT_PATH_AVX2)) return MNISTQ_FLOAT_PATH_AVX2;
    return MNISTQ_FLOAT_PATH_PORTABLE;
}

static int current_path = -1;
static pthread_once_t path_once = PTHREAD_ONCE_INIT;

static void choose_initial_path(void) {
    int path = best_path();
    const char *forced = getenv("MNISTQ_FLOAT_KERNELS");
    if (forced != NULL && forced[0] != '\0') {
        int wanted = strcmp(forced, "avx512") == 0 ? MNISTQ_FLOAT_PATH_AVX512
                   : strcmp(forced, "avx2") == 0 ? MNISTQ_FLOAT_PATH_AVX2
                   : strcmp(forced, "portable") == 0 ? MNISTQ_FLOAT_PATH_PORTABLE : -1;
        if (wanted >= 0 && mnistq_float_path_available(wanted)) path = wanted;
        else fprintf(stderr, "mnistq: MNISTQ_FLOAT_KERNELS=%s is %s; using the best path this CPU runs\n", forced,
                     wanted < 0 ? "not one of avx512, avx2, portable" : "not available on this CPU");
    }
    __atomic_store_n(&current_path, path, __ATOMIC_RELEASE);
}

int mnistq_float_path(void) {
    pthread_once(&path_once, choose_initial_path);
    return __atomic_load_n(&current_path, __ATOMIC_ACQUIRE);
}

int mnistq_float_set_path(int path) {
    if (!mnistq_float_path_available(path)) return 0;
    pthread_once(&path_once, choose_initial_path);  // so a later first use cannot overwrite this choice
    __atomic_store_n(&current_path, path, __ATOMIC_RELEASE);
    return 1;
}

void mnistq_sgemm_f32(int transpose_a, int transpose_b, long m, long n, long k, const float *a, long lda,
                  const float *b, long ldb, float *c, long ldc, int accumulate) {
    if (m <= 0 || n <= 0 || k <= 0) return;
    float *scratch = mnistq_thread_scratch();
    float *packed = NULL;
    if (transpose_a && transpose_b) {
        // Aᵀ·Bᵀ does not occur in the CNN: copy op(A) into row-major form and run A·Bᵀ.
        packed = malloc((size_t)m * (size_t)k * sizeof(float));
        if (packed == NULL) abort();
        for (long p = 0; p < k; p++)
            for (long i = 0; i < m; i++) packed[i * k + p] = a[p * lda + i];
        a = packed;
        lda = k;
        transpose_a = 0;
    }
    switch (mnistq_float_path()) {
#if defined(__x86_64__)
    case MNISTQ_FLOAT_PATH_AVX512:
        sgemm_f32_avx512(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate, scratch);
        break;
    case MNISTQ_FLOAT_PATH_AVX2:
        sgemm_f32_avx2(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate, scratch);
        break;
#endif
    default:
        sgemm_f32_portable(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate, scratch);
        break;
    }
    free(packed);
}
