// What the trainer's layer kernels (im2col.c, relu_maxpool.c) share: scratch buffers, vector types, the CNN-side
// specialisation and the run-time dispatch onto the path sgemm uses. Private to this target.
#ifndef MNISTQ_FLOAT_LAYER_COMMON_H
#define MNISTQ_FLOAT_LAYER_COMMON_H
#include "_MNISTQFloatKernels.h"
#include "scratch.h"
#include <stdlib.h>
#include <string.h>

// The bits must not depend on the compiler's choices (no contraction into FMA).
#pragma STDC FP_CONTRACT OFF


#define ALWAYS_INLINE static inline __attribute__((always_inline))

/// A buffer of `count` floats: this thread's scratch when it is big enough, else the heap (free with
/// release_buffer). Only sizes far beyond the CNN's (side > 28 or many channels) take the heap.
ALWAYS_INLINE float *acquire_buffer(size_t count) {
    if (count <= MNISTQ_SCRATCH_FLOATS) return mnistq_thread_scratch();
    float *buffer = malloc(count * sizeof(float));
    if (buffer == NULL) abort();
    return buffer;
}
ALWAYS_INLINE void release_buffer(float *buffer, size_t count) {
    if (count > MNISTQ_SCRATCH_FLOATS) free(buffer);
}

// Bodies are written with explicit 8- and 16-float vectors (as the Swift loops they replace were): rows here are 14
// or 28 floats, too short for the auto-vectorizer's runtime checks and remainder loops to pay off (plain loops
// measured 2-4× slower). Each vector type is one register with AVX-512, one or two with AVX2, two or four with
// SSE/NEON. Each body is inlined into one wrapper per path (the file's PATH_WRAPPERS).
typedef float f8 __attribute__((ext_vector_type(8)));
typedef float f4 __attribute__((ext_vector_type(4)));
typedef float f16 __attribute__((ext_vector_type(16)));
#define LOADU(T, p) ({ T value_; __builtin_memcpy(&value_, (p), sizeof value_); value_; })
#define STOREU(p, v) do { __typeof__(v) value_ = (v); __builtin_memcpy((p), &value_, sizeof value_); } while (0)

/// Calls BODY with `side` a constant for the CNN's two image sides (28 and 14), so the row loops are unrolled and
/// their bounds known (im2col measured 2.4× faster so), and as a variable otherwise.
#define WITH_CNN_SIDES(BODY, ...)                                                                                  \
    do {                                                                                                           \
        if (side == 28) { const long side_ = 28; BODY(__VA_ARGS__); }                                              \
        else if (side == 14) { const long side_ = 14; BODY(__VA_ARGS__); }                                        \
        else { const long side_ = side; BODY(__VA_ARGS__); }                                                       \
    } while (0)

/// The target attributes of the three paths (the same as sgemm's).
#define TARGET_portable
#define TARGET_avx2 __attribute__((target("avx2,fma")))
#define TARGET_avx512 __attribute__((target("avx512f")))

/// Calls NAME_avx512, NAME_avx2 or NAME_portable: the path sgemm uses.
#if defined(__x86_64__)
#define DISPATCH(NAME, ...)                                                                                        \
    switch (mnistq_float_path()) {                                                                                 \
    case MNISTQ_FLOAT_PATH_AVX512: NAME##_avx512(__VA_ARGS__); break;                                              \
    case MNISTQ_FLOAT_PATH_AVX2: NAME##_avx2(__VA_ARGS__); break;                                                  \
    default: NAME##_portable(__VA_ARGS__); break;                                                                  \
    }
#else
#define DISPATCH(NAME, ...) NAME##_portable(__VA_ARGS__);
#endif
#endif
