// One scratch buffer per thread, shared by this target's kernels (not part of the public header).
#ifndef MNISTQ_FLOAT_SCRATCH_H
#define MNISTQ_FLOAT_SCRATCH_H

/// Floats of the buffer: sgemm's largest need, 32 columns × (1024-deep transposed panel + an 8-row output tile).
#define MNISTQ_SCRATCH_FLOATS (32 * (1024 + 8))

/// This thread's buffer (MNISTQ_SCRATCH_FLOATS, 64-byte aligned so no panel load straddles two cache lines),
/// allocated on the thread's first call and freed when the thread exits; aborts when out of memory. Callers must
/// not hold it across a call to another kernel of this target.
float *mnistq_thread_scratch(void);
#endif
