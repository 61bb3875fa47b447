// One complete sgemm path, included by sgemm.c once per instruction set with these macros defined:
//   PATH(name)  the name with this path's suffix
//   TARGET      the function attribute that lets the compiler use the instruction set (empty for portable)
//   VL          floats per native vector (16 AVX-512, 8 AVX2, 4 NEON/SSE)
//   TILE_ROWS   rows of the broadcast kernel's big tile (its accumulators: TILE_ROWS × 2 native vectors)
//   DOT_ROWS, DOT_COLS   the dot kernel's output tile (accumulators: DOT_ROWS × DOT_COLS 16-float vectors)
//
// Why every path gives the same bits: each output element is computed by the same operations in the same order
// whatever the vector width or tile shape. The broadcast kernels (B not transposed, and A·Bᵀ with m > 16) give
// each element one sequential FMA chain over a k-block starting from +0, then add the block's sum to C; vectors and
// tiles only decide how many elements run side by side. The k-blocks (PANEL_DEPTH, TRANSPOSED_PANEL_DEPTH) are
// shared constants. The dot kernel (A·Bᵀ, m ≤ 16) sums in 16 lanes and then a fixed tree: it uses the 16-float type
// v16 on every path (one register on AVX-512, two on AVX2, four on NEON), so its lanes and tree are the same too.
// The file is compiled with FP contraction off, so no a*b+c outside the explicit FMAs is fused by the compiler.

typedef float PATH(vec) __attribute__((ext_vector_type(VL)));
#define V PATH(vec)
/// Columns of one strip of B (two native vectors).
#define STRIP (2 * VL)

/// c[rows × VL·halves] = (add_to_c ? c : 0) + Σ_p a[r][p·depth_step] · panel[p·panel_stride + ·]. `rows` and
/// `halves` are constants at every call (through the variants below), so the accumulator array lives in registers.
static inline __attribute__((always_inline)) TARGET void
PATH(micro_body)(const int rows, const int halves, long depth, const float *const *a, long depth_step,
                 const float *panel, long panel_stride, float *c, long ldc, int add_to_c) {
    V acc[TILE_ROWS][2];
    for (int r = 0; r < TILE_ROWS; r++) { acc[r][0] = (V)0.0f; acc[r][1] = (V)0.0f; }
    const float *row[TILE_ROWS];
    for (int r = 0; r < rows; r++) row[r] = a[r];
    long offset = 0;
    for (long p = 0; p < depth; p++) {
        V b0 = LOADU(V, panel);
        V b1 = halves == 2 ? LOADU(V, panel + VL) : (V)0.0f;
        for (int r = 0; r < rows; r++) {
            V s = (V)(row[r][offset]);
            acc[r][0] = __builtin_elementwise_fma(s, b0, acc[r][0]);
            if (halves == 2) acc[r][1] = __builtin_elementwise_fma(s, b1, acc[r][1]);
        }
        panel += panel_stride;
        offset += depth_step;
    }
    for (int r = 0; r < rows; r++) {
        float *dst = c + r * ldc;
        V w0 = acc[r][0], w1 = acc[r][1];
        if (add_to_c) {
            w0 += LOADU(V, dst);
            if (halves == 2) w1 += LOADU(V, dst + VL);
        }
        STOREU(dst, w0);
        if (halves == 2) STOREU(dst + VL, w1);
    }
}

// One out-of-line function per (rows, halves): the inner loop carries no branch on either.
#define MICRO_VARIANT(NAME, ROWS, HALVES)                                                                          \
    static __attribute__((noinline)) TARGET void PATH(NAME)(long depth, const float *const *a, long depth_step,     \
                                                            const float *panel, long panel_stride, float *c,        \
                                                            long ldc, int add_to_c) {                               \
        PATH(micro_body)(ROWS, HALVES, depth, a, depth_step, panel, panel_stride, c, ldc, add_to_c);                \
    }
MICRO_VARIANT(micro_big_2, TILE_ROWS, 2)
MICRO_VARIANT(micro_big_1, TILE_ROWS, 1)
MICRO_VARIANT(micro_4_2, 4, 2)
MICRO_VARIANT(micro_4_1, 4, 1)
#undef MICRO_VARIANT

static inline __attribute__((always_inline)) TARGET void
PATH(micro)(int rows, int halves, long depth, const float *const *a, long depth_step, const float *panel,
            long panel_stride, float *c, long ldc, int add_to_c) {
    if (rows == TILE_ROWS) {
        if (halves == 2) PATH(micro_big_2)(depth, a, depth_step, panel, panel_stride, c, ldc, add_to_c);
        else PATH(micro_big_1)(depth, a, depth_step, panel, panel_stride, c, ldc, add_to_c);
    } else {
        if (halves == 2) PATH(micro_4_2)(depth, a, depth_step, panel, panel_stride, c, ldc, add_to_c);
        else PATH(micro_4_1)(depth, a, depth_step, panel, panel_stride, c, ldc, add_to_c);
    }
}

/// Rows [0, m) as full TILE_ROWS tiles, then the rest as one tile: a 4-row one when ≤ 4 rows remain (no waste for
/// m ≡ 4 mod 8 with 8-row tiles), else a partial big one. Calls TILE(tile_rows, first_row, rows).
#define FOR_EACH_ROW_TILE(m, TILE)                                                                                 \
    do {                                                                                                           \
        long i0_ = 0;                                                                                              \
        for (; (m) - i0_ >= TILE_ROWS; i0_ += TILE_ROWS) TILE(TILE_ROWS, i0_, TILE_ROWS);                          \
        long rest_ = (m) - i0_;                                                                                    \
        if (rest_ > 4) TILE(TILE_ROWS, i0_, rest_);                                                                \
        else if (rest_ > 0) TILE(4, i0_, rest_);                                                                   \
    } while (0)

/// op(A)·B with B's rows contiguous: 2·VL-column strips of B, read in place when full, packed (zero-padded) when
/// ragged; k in PANEL_DEPTH blocks. scratch: (PANEL_DEPTH + TILE_ROWS) · STRIP floats.
static TARGET void PATH(gemm_panel_b)(int transpose_a, long m, long n, long k, const float *a, long lda,
                                      const float *b, long ldb, float *c, long ldc, int accumulate, float *scratch) {
    float *panel = scratch, *edge = scratch + PANEL_DEPTH * STRIP;
    // op(A)[i, p] lives at a + i·row_step + p·depth_step.
    const long row_step = transpose_a ? 1 : lda, depth_step = transpose_a ? lda : 1;
    for (long p0 = 0; p0 < k; p0 += PANEL_DEPTH) {
        const long depth = k - p0 < PANEL_DEPTH ? k - p0 : PANEL_DEPTH;
        const int add_to_c = accumulate || p0 > 0;
        const float *a_block = a + p0 * depth_step;
        for (long j0 = 0; j0 < n; j0 += STRIP) {
            const long width = n - j0 < STRIP ? n - j0 : STRIP;
            const int halves = width > VL ? 2 : 1;
            const float *source = b + p0 * ldb + j0;
            long source_stride = ldb;
            if (width != STRIP) {
                pack_panel(source, ldb, depth, width, VL * halves, panel);
                source = panel;
                source_stride = VL * halves;
            }
            // Rows past the edge repeat the last row: their results are computed and dropped.
#define PANEL_TILE(tile_rows, i0, rows)                                                                            \
    do {                                                                                                           \
        const float *rows_a[TILE_ROWS];                                                                            \
        for (int r = 0; r < TILE_ROWS; r++) rows_a[r] = a_block + ((i0) + r < m ? (i0) + r : m - 1) * row_step;    \
        float *c_tile = c + (i0) * ldc + j0;                                                                       \
        if ((rows) == (tile_rows) && width == VL * halves) {                                                       \
            PATH(micro)(tile_rows, halves, depth, rows_a, depth_step, source, source_stride, c_tile, ldc, add_to_c); \
        } else {                                                                                                   \
            PATH(micro)(tile_rows, halves, depth, rows_a, depth_step, source, source_stride, edge, STRIP, 0);      \
            add_or_copy_tile(edge, STRIP, c_tile, ldc, rows, width, add_to_c);                                     \
        }                                                                                                          \
    } while (0)
            FOR_EACH_ROW_TILE(m, PANEL_TILE);
#undef PANEL_TILE
        }
    }
}

/// C = A·Bᵀ (A m×k, B n×k) as Cᵀ = B·Aᵀ: Aᵀ packed into k×STRIP panels, rows of B broadcast, each tile of Cᵀ
/// stored transposed; k in TRANSPOSED_PANEL_DEPTH blocks. scratch: (min(k, TRANSPOSED_PANEL_DEPTH) + TILE_ROWS) ·
/// STRIP floats.
static TARGET void PATH(gemm_transposed_nt)(long m, long n, long k, const float *a, long lda, const float *b,
                                            long ldb, float *c, long ldc, int accumulate, float *scratch) {
    const long max_depth = k < TRANSPOSED_PANEL_DEPTH ? k : TRANSPOSED_PANEL_DEPTH;
    float *panel = scratch, *tile_out = scratch + max_depth * STRIP;
    for (long p0 = 0; p0 < k; p0 += TRANSPOSED_PANEL_DEPTH) {
        const long depth = k - p0 < TRANSPOSED_PANEL_DEPTH ? k - p0 : TRANSPOSED_PANEL_DEPTH;
        const int add_to_c = accumulate || p0 > 0;
        for (long i0 = 0; i0 < m; i0 += STRIP) {
            const long width = m - i0 < STRIP ? m - i0 : STRIP;
            const int halves = width > VL ? 2 : 1;
            const long stride = VL * halves;
            // panel[p, ii] = A[i0 + ii, p0 + p], zero past the last row of A.
            for (long ii = 0; ii < width; ii++) {
                const float *src = a + (i0 + ii) * lda + p0;
                for (long p = 0; p < depth; p++) panel[p * stride + ii] = src[p];
            }
            if (width < stride) {
                for (long p = 0; p < depth; p++)
                    for (long ii = width; ii < stride; ii++) panel[p * stride + ii] = 0.0f;
            }
#define TRANSPOSED_TILE(tile_rows, j0, rows)                                                                       \
    do {                                                                                                           \
        const float *rows_b[TILE_ROWS];                                                                            \
        for (int r = 0; r < TILE_ROWS; r++) rows_b[r] = b + ((j0) + r < n ? (j0) + r : n - 1) * ldb + p0;          \
        PATH(micro)(tile_rows, halves, depth, rows_b, 1, panel, stride, tile_out, STRIP, 0);                       \
        for (long ii = 0; ii < width; ii++) {                                                                      \
            float *dst = c + (i0 + ii) * ldc + (j0);                                                               \
            if (add_to_c) { for (long r = 0; r < (rows); r++) dst[r] += tile_out[r * STRIP + ii]; }                \
            else { for (long r = 0; r < (rows); r++) dst[r] = tile_out[r * STRIP + ii]; }                          \
        }                                                                                                          \
    } while (0)
            FOR_EACH_ROW_TILE(n, TRANSPOSED_TILE);
#undef TRANSPOSED_TILE
        }
    }
}

/// sums[r·DOT_COLS + s] = a[r] · b[s] over `depth` floats: 16 lane sums per pair, then the fixed tree of
/// hsum16. The tail (depth mod 16) is one more 16-float step ending at the last element, with the lanes already
/// summed zeroed on the A side. depth < 16 (only when the whole k is) sums plainly.
static __attribute__((noinline)) TARGET void PATH(dot_kernel)(long depth, const float *const *a,
                                                             const float *const *b, float *sums) {
    if (depth < 16) {
        for (int r = 0; r < DOT_ROWS; r++) {
            for (int s = 0; s < DOT_COLS; s++) {
                float sum = 0.0f;
                for (long p = 0; p < depth; p++) sum += a[r][p] * b[s][p];
                sums[r * DOT_COLS + s] = sum;
            }
        }
        return;
    }
    v16 acc[DOT_ROWS][DOT_COLS];
    for (int r = 0; r < DOT_ROWS; r++)
        for (int s = 0; s < DOT_COLS; s++) acc[r][s] = (v16)0.0f;
    const long full = depth & ~15L;
    for (long p = 0; p < full; p += 16) {
        v16 x[DOT_ROWS];
        for (int r = 0; r < DOT_ROWS; r++) x[r] = LOADU(v16, a[r] + p);
        for (int s = 0; s < DOT_COLS; s++) {
            v16 y = LOADU(v16, b[s] + p);
            for (int r = 0; r < DOT_ROWS; r++) acc[r][s] = __builtin_elementwise_fma(x[r], y, acc[r][s]);
        }
    }
    if (full != depth) {
        // Lanes below `overlap` were already summed by the last full step; +0 there (as the Swift kernel did).
        const int overlap = 16 - (int)(depth - full);
        const v16i lanes = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
        const v16i keep = lanes >= overlap;
        const long tail = depth - 16;
        v16 x[DOT_ROWS];
        for (int r = 0; r < DOT_ROWS; r++) x[r] = (v16)((v16i)LOADU(v16, a[r] + tail) & keep);
        for (int s = 0; s < DOT_COLS; s++) {
            v16 y = LOADU(v16, b[s] + tail);
            for (int r = 0; r < DOT_ROWS; r++) acc[r][s] = __builtin_elementwise_fma(x[r], y, acc[r][s]);
        }
    }
    for (int r = 0; r < DOT_ROWS; r++)
        for (int s = 0; s < DOT_COLS; s++) sums[r * DOT_COLS + s] = hsum16(&acc[r][s]);
}

/// C = A·Bᵀ with both operands contiguous along k, in DOT_ROWS × DOT_COLS tiles; k in DOT_DEPTH blocks (the last
/// block takes a remainder shorter than 16, so only k < 16 ever runs the scalar path).
static TARGET void PATH(gemm_dot_nt)(long m, long n, long k, const float *a, long lda, const float *b, long ldb,
                                     float *c, long ldc, int accumulate) {
    float sums[DOT_ROWS * DOT_COLS];
    long depth;
    for (long p0 = 0; p0 < k; p0 += depth) {
        const long remaining = k - p0;
        depth = remaining < DOT_DEPTH + 16 ? remaining : DOT_DEPTH;
        const int add_to_c = accumulate || p0 > 0;
        for (long i0 = 0; i0 < m; i0 += DOT_ROWS) {
            const long rows = m - i0 < DOT_ROWS ? m - i0 : DOT_ROWS;
            const float *rows_a[DOT_ROWS];
            for (int r = 0; r < DOT_ROWS; r++) rows_a[r] = a + (i0 + r < m ? i0 + r : m - 1) * lda + p0;
            for (long j0 = 0; j0 < n; j0 += DOT_COLS) {
                const long cols = n - j0 < DOT_COLS ? n - j0 : DOT_COLS;
                const float *rows_b[DOT_COLS];
                for (int s = 0; s < DOT_COLS; s++) rows_b[s] = b + (j0 + s < n ? j0 + s : n - 1) * ldb + p0;
                PATH(dot_kernel)(depth, rows_a, rows_b, sums);
                for (long r = 0; r < rows; r++) {
                    float *dst = c + (i0 + r) * ldc + j0;
                    for (long s = 0; s < cols; s++) {
                        const float value = sums[r * DOT_COLS + s];
                        dst[s] = add_to_c ? dst[s] + value : value;
                    }
                }
            }
        }
    }
}

/// The path's entry: picks the kernel exactly as every other path does (the choice changes the bits).
static TARGET void PATH(sgemm)(int transpose_a, int transpose_b, long m, long n, long k, const float *a, long lda,
                               const float *b, long ldb, float *c, long ldc, int accumulate, float *scratch) {
    if (!transpose_b) {
        PATH(gemm_panel_b)(transpose_a, m, n, k, a, lda, b, ldb, c, ldc, accumulate, scratch);
    } else if (m > DOT_MAX_ROWS) {
        PATH(gemm_transposed_nt)(m, n, k, a, lda, b, ldb, c, ldc, accumulate, scratch);
    } else {
        PATH(gemm_dot_nt)(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    }
}

#undef FOR_EACH_ROW_TILE
#undef STRIP
#undef V
