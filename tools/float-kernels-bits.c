// Cross-architecture bit check of Sources/_MNISTQFloatKernels (run by tools/check-float-kernels-arm64): runs
// mnistq_sgemm and the layer loops on fixed pseudo-random inputs (SplitMix64) and prints one FNV-1a hash of all
// result bits per case. Every path on every CPU must print the same lines except the last ("path N").
//   float-kernels-bits [PATH]     PATH 0 portable, 1 avx2, 2 avx512 (default: the best this CPU runs)
#include "_MNISTQFloatKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

static uint64_t state;
static float next_float(void) {
    state += 0x9E3779B97F4A7C15ull; uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull; z = (z ^ (z >> 27)) * 0x94D049BB133111EBull; z ^= z >> 31;
    return (float)(z >> 40) / (float)(1 << 23) - 1.0f;
}
static uint64_t hash(const float *x, long n) {
    uint64_t h = 1469598103934665603ull;
    for (long i = 0; i < n; i++) { uint32_t b; memcpy(&b, &x[i], 4); for (int k = 0; k < 4; k++) { h ^= (b >> (8 * k)) & 255; h *= 1099511628211ull; } }
    return h;
}
int main(int argc, char **argv) {
    if (argc > 1 && !mnistq_float_set_path(atoi(argv[1]))) { fprintf(stderr, "path unavailable\n"); return 2; }
    static const long shapes[][3] = {{1,1,1},{1,17,3},{3,1,17},{7,17,63},{17,65,3},{63,65,17},{65,63,64},{13,33,129},
        {12,84,29},{84,12,300},{16,784,25},{32,196,400},{32,400,196},{400,196,32},{16,25,784},{64,120,1568},{64,1568,120},
        {120,1568,64},{64,10,84},{5,9,1100},{40,33,1500}};
    uint64_t all = 0;
    for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        long m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        for (int ta = 0; ta < 2; ta++) for (int tb = 0; tb < 2; tb++) for (int acc = 0; acc < 2; acc++) {
            state = s * 8 + ta * 4 + tb * 2 + acc;
            long lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 2, ldc = n + 3;
            long an = (ta ? k : m) * lda, bn = (tb ? n : k) * ldb, cn = m * ldc;
            float *a = malloc(an * 4), *b = malloc(bn * 4), *c = malloc(cn * 4);
            for (long i = 0; i < an; i++) a[i] = next_float();
            for (long i = 0; i < bn; i++) b[i] = next_float();
            for (long i = 0; i < cn; i++) c[i] = next_float();
            mnistq_sgemm(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, acc);
            uint64_t h = hash(c, cn); all ^= h + s;
            printf("sgemm %ld %ld %ld %d%d%d %016llx\n", m, n, k, ta, tb, acc, (unsigned long long)h);
            free(a); free(b); free(c);
        }
    }
    static const long layers[][2] = {{1,28},{16,14},{3,5},{2,7},{2,8},{3,9},{2,17},{32,14},{1,16},{1,34}};
    for (unsigned s = 0; s < sizeof layers / sizeof layers[0]; s++) {
        long ch = layers[s][0], side = layers[s][1], plane = side * side;
        state = 1000 + s;
        float *in = malloc(ch * plane * 4), *cols = malloc(ch * 25 * plane * 4), *grad = malloc(ch * plane * 4);
        float *colsT = malloc(ch * 25 * plane * 4), *out = malloc(ch * plane * 4), *win = malloc(ch * plane * 4);
        for (long i = 0; i < ch * plane; i++) in[i] = next_float();
        mnistq_im2col5x5(in, ch, side, cols, plane);
        mnistq_im2col5x5_transposed(in, ch, side, colsT);
        for (long i = 0; i < ch * 25 * plane; i++) cols[i] = next_float();
        mnistq_col2im5x5(cols, ch, side, plane, grad, 0);
        mnistq_col2im5x5(cols, ch, side, plane, grad, 1);
        long pooled = ch * (side / 2) * (side / 2);
        if (side % 2 == 0) {
            mnistq_relu_maxpool2x2_forward(in, ch, side, out, win);
            mnistq_relu_maxpool2x2_backward(out, win, ch, side, in);
        }
        printf("layers %ld %ld %016llx %016llx %016llx %016llx %016llx\n", ch, side,
               (unsigned long long)hash(colsT, ch * 25 * plane), (unsigned long long)hash(grad, ch * plane),
               (unsigned long long)(side % 2 == 0 ? hash(out, pooled) : 0), (unsigned long long)(side % 2 == 0 ? hash(win, pooled) : 0),
               (unsigned long long)hash(in, ch * plane));
        free(in); free(cols); free(grad); free(colsT); free(out); free(win);
    }
    printf("path %d\n", mnistq_float_path());
    return 0;
}
