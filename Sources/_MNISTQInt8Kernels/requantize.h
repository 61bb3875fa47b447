// The integer rescale shared by every C kernel: exactly requantize_s32 and its two clamps in Requantize.swift.
#ifndef MNISTQ_REQUANTIZE_H
#define MNISTQ_REQUANTIZE_H
#include <stdint.h>

// (acc * multiplier + 2^(shift-1)) >> shift, arithmetic. |acc * multiplier| <= 2^62 and the rounding term is at most
// 2^61, so the int64 sum cannot overflow for shift in 1...62.
//
// Shifts above 32 (every ReLU layer of a trained model) take a cheaper route that is exactly the same: the rounding
// term only touches the high word, and floor(p / 2^shift) = floor(floor(p / 2^32) / 2^(shift - 32)); the high word
// of p fits in int32 (|p| < 2^63). On 32-bit cores this is a multiply, an add and a shift instead of a variable
// 64-bit shift sequence.
static inline int64_t requantize(int32_t acc, int32_t multiplier, int8_t shift) {
    const int64_t product = (int64_t)acc * (int64_t)multiplier;
    if (shift > 32) {
        const int32_t high = (int32_t)((uint64_t)(product + (int64_t)((uint64_t)1 << (shift - 33) << 32)) >> 32);
        return (int64_t)(high >> (shift - 32));
    }
    return (product + ((int64_t)1 << (shift - 1))) >> shift;
}
// Rescaled and clamped to 0...255: the clamp at 0 is the fused ReLU.
static inline int16_t requantize_relu(int32_t acc, int32_t multiplier, int8_t shift) {
    int64_t r = requantize(acc, multiplier, shift);
    return (int16_t)(r < 0 ? 0 : (r > 255 ? 255 : r));
}
// The scores layer's epilogue: rescaled and saturated to int32 (no ReLU).
static inline int32_t requantize_scores(int32_t acc, int32_t multiplier, int8_t shift) {
    int64_t q = requantize(acc, multiplier, shift);
    return (int32_t)(q < INT32_MIN ? INT32_MIN : (q > INT32_MAX ? INT32_MAX : q));
}
#endif
