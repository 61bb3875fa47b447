// Empty definitions of a kernel family that this build cannot run, so the Swift side links on every platform.
#ifndef MNISTQ_FAMILY_STUBS_H
#define MNISTQ_FAMILY_STUBS_H
#include "_MNISTQInt8Kernels.h"

// The family's availability function returns 0 in such a build, so these are never called; the (void) casts keep
// -Wextra quiet about the unused parameters.
#define MNISTQ_CONV_KERNEL_STUB(name, activation, weight)                                                             \
    MNISTQ_CONV_KERNEL(name, activation, weight) {                                                                    \
        (void)input; (void)weights; (void)bias; (void)multiplier; (void)shift; (void)output;                          \
    }
#define MNISTQ_LINEAR_KERNEL_STUB(name, activation)                                                                   \
    MNISTQ_LINEAR_KERNEL(name, activation) {                                                                          \
        (void)input; (void)input_count; (void)weights; (void)bias; (void)multiplier; (void)shift;                     \
        (void)output_count; (void)relu_output; (void)scores;                                                          \
    }
/// A batch linear kernel (the arguments of mnistq_linear_u8s8_vnni512_batch4 and mnistq_linear_u8s8_vector_batch4).
#define MNISTQ_LINEAR_BATCH4_KERNEL_STUB(name)                                                                        \
    void name(const uint8_t *input, int input_stride, int count, int input_count, const int8_t *weights,             \
              const int32_t *bias, const int32_t *multiplier, const int8_t *shift, int output_count,                 \
              uint8_t *relu_output, int output_stride, int32_t *scores) {                                            \
        (void)input; (void)input_stride; (void)count; (void)input_count; (void)weights; (void)bias;                 \
        (void)multiplier; (void)shift; (void)output_count; (void)relu_output; (void)output_stride; (void)scores;    \
    }
/// A batch conv-layers kernel (mnistq_conv_layers_u8s8_vector_batch's arguments).
#define MNISTQ_CONV_LAYERS_BATCH_KERNEL_STUB(name)                                                                    \
    MNISTQ_CONV_LAYERS_BATCH_KERNEL(name) {                                                                           \
        (void)pixels; (void)count; (void)conv1_weights; (void)conv1_bias; (void)conv1_multiplier; (void)conv1_shift; \
        (void)conv2_weights; (void)conv2_bias; (void)conv2_multiplier; (void)conv2_shift; (void)conv1_input;       \
        (void)conv2_input; (void)outputs; (void)output_stride;                                                       \
    }
/// The stubs of the family MNISTQ_KERNEL_FAMILY declares with the same arguments.
#define MNISTQ_KERNEL_FAMILY_STUBS(conv_types, linear_types, family, activation, conv_weight)                         \
    MNISTQ_CONV_KERNEL_STUB(mnistq_conv1_relu_maxpool_##conv_types##_##family, activation, conv_weight)               \
    MNISTQ_CONV_KERNEL_STUB(mnistq_conv2_relu_maxpool_##conv_types##_##family, activation, conv_weight)               \
    MNISTQ_LINEAR_KERNEL_STUB(mnistq_linear_##linear_types##_##family, activation)
#define MNISTQ_U8_KERNEL_FAMILY_STUBS(family) MNISTQ_KERNEL_FAMILY_STUBS(u8s8, u8s8, family, uint8_t, int8_t)
#endif
