// Float kernels of the trainer, one file per op (sgemm.c, im2col.c, relu_maxpool.c), each compiled three times with
// function-level target attributes (AVX-512F, AVX2+FMA, portable C) and chosen at run time, so a plain
// `swift build -c release` trains at full speed without any -target-cpu flag. Every path gives the same bits: see
// sgemm_template.h. Names are mnistq_<op>_<types>[_<variant>] (f32: float in, float out).
#ifndef MNISTQ_FLOAT_KERNELS_H
#define MNISTQ_FLOAT_KERNELS_H
#include <stddef.h>

/// Kernel paths. Values are stable (the Swift side mirrors them).
enum {
    MNISTQ_FLOAT_PATH_PORTABLE = 0, ///< plain C with vector extensions: NEON on arm64, SSE2 + libm fmaf on old x86-64
    MNISTQ_FLOAT_PATH_AVX2 = 1,     ///< x86-64 with AVX2 and FMA (Haswell, Zen 1-3 and later)
    MNISTQ_FLOAT_PATH_AVX512 = 2,   ///< x86-64 with AVX-512F (Skylake-SP, Ice Lake, Zen 4, Zen 5)
};

/// 1 when this CPU (and OS) can run `path`, else 0. The portable path is always available.
int mnistq_float_path_available(int path);

/// The path sgemm uses. Chosen on first use: MNISTQ_FLOAT_KERNELS=avx512|avx2|portable in the environment
/// (read once; an unknown or unavailable name falls back to the best path, with a warning on stderr), else the
/// best path this CPU runs.
int mnistq_float_path(void);

/// Makes sgemm use `path` from now on (tests run every path this way). Returns 0 (and changes nothing) when the
/// path is not available here, else 1. Not meant to be called while another thread is inside sgemm: a call
/// already running finishes on the path it started with.
int mnistq_float_set_path(int path);

/// C[m×n] = (accumulate ? C : 0) + op(A)[m×k] · op(B)[k×n], row-major; A is stored k×m when transpose_a, B is
/// stored n×k when transpose_b; lda, ldb, ldc are row strides in elements. m, n > 0 and k > 0 (the Swift
/// wrapper handles the empty cases). C must not overlap A or B. Thread-safe; each thread keeps one scratch
/// buffer (≤ 133 KB) for its lifetime.
void mnistq_sgemm_f32(int transpose_a, int transpose_b, long m, long n, long k,
                  const float *a, long lda, const float *b, long ldb, float *c, long ldc, int accumulate);

// The loops around sgemm, on the same path. Layouts and contracts are those of the Swift functions that call them
// (Sources/MNISTQTrainer/Kernels/Im2col.swift, Layers/MaxPool2d.swift); channels > 0 and side > 0 (else nothing happens).

/// columns [channels·25 rows, columns_row_stride apart][side·side] = the 5×5, padding-2 windows of input
/// [channels][side][side]; row channel·25 + ky·5 + kx, column y·side + x. Every entry is written.
void mnistq_im2col5x5_f32(const float *input, long channels, long side, float *columns, long columns_row_stride);

/// columns [side·side][channels·25]: row y·side + x holds the windows at (y, x) of every channel.
void mnistq_im2col5x5_f32_transposed(const float *input, long channels, long side, float *columns);

/// The adjoint of mnistq_im2col5x5_f32: grad_input [channels][side][side] = (accumulate ? grad_input : 0) + the sum
/// of every column entry copied from that pixel (entries from the zero padding are dropped).
void mnistq_col2im5x5_f32(const float *columns, long channels, long side, long columns_row_stride, float *grad_input,
                      int accumulate);

/// output [channels][side/2][side/2] = max(0, maximum of each 2×2 window of input [channels][side][side]);
/// winner = the window position (0…3, row-major) the strict-> scan picks, or 4 when that maximum is ≤ 0.
void mnistq_relu_maxpool2x2_f32_forward(const float *input, long channels, long side, float *output, float *winner);

/// grad_input [channels][side][side] (every entry of the windows written) = each window's gradient at the
/// position its winner code names, 0 elsewhere (everywhere for code 4).
void mnistq_relu_maxpool2x2_f32_backward(const float *grad_output, const float *winner, long channels, long side,
                                     float *grad_input);
#endif
