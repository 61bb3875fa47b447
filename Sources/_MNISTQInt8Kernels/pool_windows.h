// The pool windows of the two conv layers in the u8 layouts (the in-place image's) that every u8 kernel family reads.
#ifndef MNISTQ_POOL_WINDOWS_H
#define MNISTQ_POOL_WINDOWS_H

// Window (py, px) covers conv positions (2·py ..< 2·py + 2, 2·px ..< 2·px + 2); a kernel reads its input from the
// window's top-left corner and writes the pooled channels at the window's output offset. conv1: 14×14 windows over the
// [32][40] padded image, into the interior [2..<16][2..<16] of the [18][18][16] conv2 input (its zero border
// untouched); conv2: 7×7 windows over that [18][18][16] input, into [7][7][32]. Offsets count elements, so they serve
// the u8 input and its int16 or offset int8 copies alike.
enum { CONV1_WINDOWS_PER_SIDE = 14, CONV2_WINDOWS_PER_SIDE = 7, CONV1_INPUT_ROW = 40, CONV2_INPUT_ROW = 18 * 16 };

static inline int conv1_window_input(int py, int px) { return 2 * py * CONV1_INPUT_ROW + 2 * px; }
static inline int conv1_window_output(int py, int px) { return ((py + 2) * 18 + px + 2) * 16; }
static inline int conv2_window_input(int py, int px) { return 2 * py * CONV2_INPUT_ROW + 2 * px * 16; }
static inline int conv2_window_output(int py, int px) { return (py * 7 + px) * 32; }
#endif
