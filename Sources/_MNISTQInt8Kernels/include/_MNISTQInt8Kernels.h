// x86-64 inner kernels of the int8 runtime (AVX-512 VNNI and AVX2, chosen at run time); layouts are documented here
// and in Sources/MNISTQRuntime/Kernels/PackedInt8Weights.swift. Results equal the Swift reference kernels bit for bit.
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

/// 1 when this CPU (and OS) runs the AVX-512 VNNI kernels (avx512f, avx512bw, avx512vnni), else 0.
int mnistq_int8_avx512vnni_available(void);

/// Rescaling constants of 16 channels for the AVX-512 epilogue: 64-bit lanes for even channels (2i) then odd
/// channels (2i + 1): multiplier (low 32 bits used), rounding term 2^(shift−1), shift.
typedef struct { int64_t multiplier[2][8], rounding[2][8], shift[2][8]; } mnistq_requant16;

/// conv1 + pool + requantize/ReLU with u8 activations. image: u8 [32][40] (28×28 at row+2, col+2, zeros elsewhere);
/// weights: int8 [5][2][16][4] (ky, tap quad kx 0-3 / 4-7, output channel, tap; kx ≥ 5 zero); bias [16];
/// requant: 1 group; output: u8 [18][18][16], interior written.
void mnistq_conv1_relu_maxpool_vnni512(const uint8_t *image, const int8_t *weights, const int32_t *bias,
                                       const mnistq_requant16 *requant, uint8_t *output);

/// conv2 + pool + requantize/ReLU with u8 activations. input: u8 [18][18][16] (zero border 2); weights: int8
/// [5][5][4][32][4] (ky, kx, input channel quad, output channel, channel of the quad); bias [32]; requant: 2 groups;
/// output: u8 [7][7][32].
void mnistq_conv2_relu_maxpool_vnni512(const uint8_t *input, const int8_t *weights, const int32_t *bias,
                                       const mnistq_requant16 *requant, uint8_t *output);

/// Fully connected with u8 input [input_count] and int8 weights [output_count][input_count]: requantized ReLU u8 to
/// relu_output when scores is NULL, else saturated Int32 scores.
void mnistq_linear_vnni512(const uint8_t *input, int input_count, const int8_t *weights, const int32_t *bias,
                           const int32_t *multiplier, const int8_t *shift, int output_count,
                           uint8_t *relu_output, int32_t *scores);
#endif
