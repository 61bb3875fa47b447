// C inner kernels of the int8 runtime: x86-64 AVX-512 VNNI and AVX2, Arm NEON and NEON dot product (chosen at run
// time), and the portable kernels (SMLAD-style, native on Armv7E-M, exact C elsewhere); plus CRC-32. Layouts are documented here, in
// Sources/MNISTQRuntime/Kernels/PackedInt8Weights.swift and in the model format spec (the in-place image). Results
// equal the Swift reference kernels bit for bit.
#ifndef MNISTQ_INT8_KERNELS_H
#define MNISTQ_INT8_KERNELS_H
#include <stdint.h>

// Every family but the portable one has the same three kernels with one parameter list per kind of kernel, so
// the list is written once here and a family is declared by one MNISTQ_KERNEL_FAMILY line (the symbols keep their
// `<op>_<types>_<family>` names: mnistq_conv1_relu_maxpool_u8s8_neon, mnistq_linear_u8s8_neon, ...).
//
// conv1 + pool + requantize/ReLU (input: the padded image; output: the conv2 input, interior written, border
// untouched), conv2 + pool + requantize/ReLU (input: [18][18][16], zero border 2; output [7][7][32]), and the fully
// connected kernel (input [input_count], int8 weights [output_count][input_count]; requantized ReLU to relu_output
// when scores is NULL, else saturated Int32 scores). Layouts per family below.
#define MNISTQ_CONV_KERNEL(name, activation, weight)                                                                  \
    void name(const activation *input, const weight *weights, const int32_t *bias, const int32_t *multiplier,         \
              const int8_t *shift, activation *output)
#define MNISTQ_LINEAR_KERNEL(name, activation)                                                                        \
    void name(const activation *input, int input_count, const int8_t *weights, const int32_t *bias,                    \
              const int32_t *multiplier, const int8_t *shift, int output_count, activation *relu_output,               \
              int32_t *scores)
#define MNISTQ_KERNEL_FAMILY(conv_types, linear_types, family, activation, conv_weight)                               \
    MNISTQ_CONV_KERNEL(mnistq_conv1_relu_maxpool_##conv_types##_##family, activation, conv_weight);                  \
    MNISTQ_CONV_KERNEL(mnistq_conv2_relu_maxpool_##conv_types##_##family, activation, conv_weight);                  \
    MNISTQ_LINEAR_KERNEL(mnistq_linear_##linear_types##_##family, activation)
/// The u8 families (VNNI, NEON with and without dot product, generic vectors): one signature set, so Swift picks a
/// family's kernels as values of one function type.
#define MNISTQ_U8_KERNEL_FAMILY(family) MNISTQ_KERNEL_FAMILY(u8s8, u8s8, family, uint8_t, int8_t)

// ---- AVX2 (kernels.c), int16 activations. conv1 image: int16 [32][32] (+8 spare), zero border 2; weights int16
// [5][3][16][2] (ky, kx pair, output channel, tap of the pair; kx = 5 has weight 0); output int16 [18][18][16].
// conv2 weights: int16 [5][5][8][32][2] (ky, kx, input channel pair, output channel, channel of the pair). Linear:
// int16 input (values 0...255), int16 ReLU output.

/// 1 when this CPU (and OS) runs the AVX2 kernels, else 0 (always 0 off x86-64).
int mnistq_int8_avx2_available(void);
MNISTQ_KERNEL_FAMILY(s16s16, s16s8, avx2, int16_t, int16_t);

// ---- AVX-512 VNNI (kernels.c), u8 activations. conv1 image: u8 [32][40] (28×28 at row+2, col+2, zeros elsewhere);
// weights int8 [5][2][16][4] (ky, tap quad kx 0-3 / 4-7, output channel, tap; kx ≥ 5 zero); output u8 [18][18][16].
// conv2 input u8 [18][18][16]; weights int8 [5][5][4][32][4] (ky, kx, input channel quad, output channel, channel
// of the quad); output u8 [7][7][32]. These are the layouts of the in-place image, which every u8 family reads.

/// 1 when this CPU (and OS) runs the AVX-512 VNNI kernels (avx512f, avx512bw, avx512vnni), else 0.
int mnistq_int8_avx512vnni_available(void);
MNISTQ_U8_KERNEL_FAMILY(vnni512);

/// mnistq_linear_u8s8_vnni512 for `count` (1...4) images at once, whose weights are read once for all of them: image b's
/// input at input + b·input_stride, its ReLU output at relu_output + b·output_stride, or its scores at
/// scores + b·output_count. Each image's results equal a single call's.
void mnistq_linear_u8s8_vnni512_batch4(const uint8_t *input, int input_stride, int count, int input_count,
                                  const int8_t *weights, const int32_t *bias, const int32_t *multiplier,
                                  const int8_t *shift, int output_count, uint8_t *relu_output, int output_stride,
                                  int32_t *scores);

// ---- Arm NEON kernels (neon.c): the VNNI kernels' layouts, so a caller picks `_neondot`, `_neon` or `_vnni512`
// with the same arguments. Results equal the portable and Swift reference kernels bit for bit within the format's
// ranges (weights −127...127: the baseline kernels add two int8 products in an int16 lane, which −128 × −128 twice
// would overflow). Baseline NEON uses SMULL/SMLAL/SADALP; its conv2 uses about 18 KB of stack (the input offset by
// −128 and the weights regrouped, per call). `_neondot` uses SDOT (conv, about 6 KB of stack for conv2) and UDOT
// (linear), only when mnistq_int8_neon_dotprod_available() is 1. Off Arm, or without NEON, the availability
// functions return 0 and the kernels are empty definitions that must not be called.

/// 1 when the NEON kernels run here: always on AArch64, and on 32-bit Arm built with NEON (-mfpu=neon); else 0.
int mnistq_int8_neon_available(void);

/// 1 when this CPU has the Armv8.2 dot-product instructions (FEAT_DotProd: SDOT/UDOT) for the `_neondot` kernels:
/// on Linux and Android the kernel's AT_HWCAP bit HWCAP_ASIMDDP; on other AArch64 systems whether the build targets
/// such a CPU (__ARM_FEATURE_DOTPROD, as for Apple M1 and later); 0 on 32-bit Arm and everywhere else.
int mnistq_int8_neon_dotprod_available(void);
MNISTQ_U8_KERNEL_FAMILY(neon);
MNISTQ_U8_KERNEL_FAMILY(neondot);

// ---- Generic-vector kernels (vector.c): the VNNI layouts again, in plain C with GCC/clang vector extensions (SSE2
// pmaddwd on x86-64, i32x4.dot_i16x8_s on wasm simd128): the u8 family for CPUs without a dedicated one.
// Bit-identical to the reference kernels within the format's ranges; they skip the work of exact zeros, so they are
// faster on sparse images (MNIST digits) than on dense ones. About 4 KB of stack for conv1, 47 KB for conv2 (the
// input widened to int16 and the weights regrouped as int16 pairs, per call). Their ReLU clamps the sums before
// requantizing, which needs the format's positive multipliers.

/// 1 when this build has the vector kernels: 64-bit hosts and WebAssembly with simd128; 0 on 32-bit targets (the
/// microcontrollers keep the portable kernels), where the kernels are empty definitions that must not be called.
int mnistq_int8_vector_available(void);
MNISTQ_U8_KERNEL_FAMILY(vector);

/// Inputs mnistq_linear_u8s8_vector_batch4 takes at most: it widens the 4 images' inputs to int16 on the stack (16 KB).
#define MNISTQ_VECTOR_BATCH4_MAX_INPUTS 2048

/// mnistq_linear_u8s8_vector for `count` (1...4) images at once, arguments as for mnistq_linear_u8s8_vnni512_batch4
/// (input_count ≤ MNISTQ_VECTOR_BATCH4_MAX_INPUTS): each weight row is read once for the 4 images. Each image's
/// results equal a single call's. Not built for WebAssembly (the module's size limit).
void mnistq_linear_u8s8_vector_batch4(const uint8_t *input, int input_stride, int count, int input_count,
                                 const int8_t *weights, const int32_t *bias, const int32_t *multiplier,
                                 const int8_t *shift, int output_count, uint8_t *relu_output, int output_stride,
                                 int32_t *scores);

/// The signature of a batch conv-layers kernel (written once for the definition and its stub).
#define MNISTQ_CONV_LAYERS_BATCH_KERNEL(name)                                                                         \
    void name(const uint8_t *pixels, int count, const int8_t *conv1_weights, const int32_t *conv1_bias,              \
              const int32_t *conv1_multiplier, const int8_t *conv1_shift, const int8_t *conv2_weights,               \
              const int32_t *conv2_bias, const int32_t *conv2_multiplier, const int8_t *conv2_shift,                 \
              uint8_t *conv1_input, uint8_t *conv2_input, uint8_t *outputs, int output_stride)
/// mnistq_conv1_relu_maxpool_u8s8_vector then mnistq_conv2_relu_maxpool_u8s8_vector for `count` images (28×28 u8
/// pixels each, back to back) with the weights regrouped once for all of them (and conv2's background sums once per
/// background): image b's conv2 output ([7][7][32] u8) goes to outputs + b·output_stride. conv1_input (u8 [32][40])
/// and conv2_input (u8 [18][18][16]) are the caller's scratch. Each image's output equals the two single calls' on its
/// padded input. About 50 KB of stack. Not built for WebAssembly (the module's size limit).
MNISTQ_CONV_LAYERS_BATCH_KERNEL(mnistq_conv_layers_u8s8_vector_batch);

// ---- Portable kernels (portable.c): the same weight layouts as the VNNI kernels (the in-place image's), int16
// activations. Every int16 activation vector is stored in "pair order": within each group of 4 values v0 v1 v2 v3
// the memory order is v0 v2 v1 v3, so that one 32-bit load yields the pair (v0, v2) and the next (v1, v3), the
// halves SXTB16 makes of 4 packed int8 weights. Counts are multiples of 4 (16, 32, 32·7·7, 120, 84 all are).

/// 1 when the portable kernels use the Armv7E-M DSP instructions (SMLAD, SXTB16, UXTB16), 0 when they compute the
/// same with plain C.
int mnistq_portable_uses_dsp(void);

/// Bytes of the scratch mnistq_conv1_relu_maxpool_u8s8_portable needs (4-byte aligned): the image's pixel pairs and the
/// widened weights.
#define MNISTQ_CONV1_PORTABLE_SCRATCH_BYTES 9152 /* [32][32][2] + [16][5][3] words; a literal so Swift imports it */
/// Bytes of the scratch mnistq_conv2_relu_maxpool_s16s8_portable needs (4-byte aligned): two channels' widened weights.
#define MNISTQ_CONV2_PORTABLE_SCRATCH_BYTES 1600 /* [25][4][2][2] words */

/// conv1 + pool + requantize/ReLU. image: u8 [32][40] as for the VNNI kernel; weights: int8 [5][2][16][4] (VNNI
/// layout); output: int16 [18][18][16] in pair order per position, interior written (the border must be 0);
/// scratch: MNISTQ_CONV1_PORTABLE_SCRATCH_BYTES, overlapping neither.
void mnistq_conv1_relu_maxpool_u8s8_portable(const uint8_t *image, const int8_t *weights, const int32_t *bias,
                                        const int32_t *multiplier, const int8_t *shift, int16_t *output,
                                        void *scratch);

/// conv2 + pool + requantize/ReLU. input: int16 [18][18][16] in pair order (zero border 2); weights: int8
/// [5][5][4][32][4] (VNNI layout); output: int16 [7][7][32] in pair order; scratch:
/// MNISTQ_CONV2_PORTABLE_SCRATCH_BYTES, overlapping neither.
void mnistq_conv2_relu_maxpool_s16s8_portable(const int16_t *input, const int8_t *weights, const int32_t *bias,
                                        const int32_t *multiplier, const int8_t *shift, int16_t *output,
                                        void *scratch);

/// Fully connected: int16 input [input_count] in pair order (input_count a multiple of 4), int8 weights
/// [output_count][input_count] in natural order. Writes requantized ReLU int16 in pair order to relu_output
/// (output_count a multiple of 4) when scores is NULL, else saturated Int32 scores in natural order.
void mnistq_linear_s16s8_portable(const int16_t *input, int input_count, const int8_t *weights, const int32_t *bias,
                            const int32_t *multiplier, const int8_t *shift, int output_count,
                            int16_t *relu_output, int32_t *scores);

/// CRC-32 (IEEE, reflected 0xEDB88320, as zlib's crc32) register update over `count` bytes: pass 0xFFFFFFFF first,
/// invert the final register. The table is a constant (flash on a microcontroller, no heap, no lazy init).
uint32_t mnistq_crc32_update(uint32_t crc, const uint8_t *bytes, long count);
#endif
