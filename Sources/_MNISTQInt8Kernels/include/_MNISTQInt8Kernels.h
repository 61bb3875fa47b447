// AVX2 inner kernels of the int8 runtime (x86-64 only, chosen at run time); layouts are documented in
// Sources/MNISTQRuntime/Kernels/FastKernelsSwift.swift and PackedInt8Weights.swift. Results equal the Swift reference.
#ifndef MNISTQ_INT8_KERNELS_H
#define MNISTQ_INT8_KERNELS_H
#include <stdint.h>

/// 1 when this CPU (and OS) runs the AVX2 kernels, else 0 (always 0 off x86-64).
int mnistq_int8_avx2_available(void);

/// conv1 + pool + requantize/ReLU. image: int16 [32][32] (+8 spare), zero border 2; weights: int16 [5][3][16][2]
/// (ky, kx pair, output channel, tap of the pair; kx = 5 has weight 0); output: int16 [18][18][16], interior written.
void mnistq_conv1_relu_maxpool_avx2(const int16_t *image, const int16_t *weights, const int32_t *bias,
                                    const int32_t *multiplier, const int8_t *shift, int16_t *output);

/// conv2 + pool + requantize/ReLU. input: int16 [18][18][16] (zero border 2); weights: int16 [5][5][8][32][2]
/// (ky, kx, input channel pair, output channel, channel of the pair); output: int16 [7][7][32].
void mnistq_conv2_relu_maxpool_avx2(const int16_t *input, const int16_t *weights, const int32_t *bias,
                                    const int32_t *multiplier, const int8_t *shift, int16_t *output);

/// Fully connected: int16 input [input_count] (values 0...255), int8 weights [output_count][input_count].
/// Writes requantized ReLU int16 to relu_output when scores is NULL, else saturated Int32 scores.
void mnistq_linear_avx2(const int16_t *input, int input_count, const int8_t *weights, const int32_t *bias,
                        const int32_t *multiplier, const int8_t *shift, int output_count,
                        int16_t *relu_output, int32_t *scores);
#endif
