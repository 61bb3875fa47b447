// Cross-architecture bit check of Sources/_MNISTQFloatKernels (run by tools/check-float-kernels-arm64): runs
// mnistq_sgemm_f32 and the layer loops on fixed pseudo-random inputs (SplitMix64) and prints one FNV-1a hash of all
// result bits per case. Every path on every CPU must print the same lines except the last ("path N").
//   float-kernels-bits [PATH]               PATH 0 portable, 1 avx2, 2 avx512 (default: the best this CPU runs)
//   float-kernels-bits PATH IMAGES.idx      also the whole float CNN forward (PyTorch-style seeded weights) on every
//                                           image of an uncompressed IDX file: one hash of its logits per 1,000 images
#include "_MNISTQFloatKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <math.h>

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
/// The float CNN's forward pass on one image as the trainer runs it (CNNWorkspace.forward: im2col + sgemm with the bias
/// preset, ReLU + 2×2 max-pool, fully connected layers as sgemm against transposed weights, ReLU): logits[10].
static void forward(const float *w, const float *pixels, float *logits) {
    static float cols1[25 * 784], conv1[16 * 784], pool1[16 * 196], win1[16 * 196], cols2[400 * 196], conv2[32 * 196];
    static float pool2[1568], win2[1568], fc1[120], fc2[84];
    const float *c1w = w, *c1b = c1w + 400, *c2w = c1b + 16, *c2b = c2w + 12800, *f1w = c2b + 32, *f1b = f1w + 188160;
    const float *f2w = f1b + 120, *f2b = f2w + 10080, *f3w = f2b + 84, *f3b = f3w + 840;
    mnistq_im2col5x5_f32(pixels, 1, 28, cols1, 784);
    for (int o = 0; o < 16; o++) for (int i = 0; i < 784; i++) conv1[o * 784 + i] = c1b[o];
    mnistq_sgemm_f32(0, 0, 16, 784, 25, c1w, 25, cols1, 784, conv1, 784, 1);
    mnistq_relu_maxpool2x2_f32_forward(conv1, 16, 28, pool1, win1);
    mnistq_im2col5x5_f32(pool1, 16, 14, cols2, 196);
    for (int o = 0; o < 32; o++) for (int i = 0; i < 196; i++) conv2[o * 196 + i] = c2b[o];
    mnistq_sgemm_f32(0, 0, 32, 196, 400, c2w, 400, cols2, 196, conv2, 196, 1);
    mnistq_relu_maxpool2x2_f32_forward(conv2, 32, 14, pool2, win2);
    memcpy(fc1, f1b, sizeof fc1);
    mnistq_sgemm_f32(0, 1, 1, 120, 1568, pool2, 1568, f1w, 1568, fc1, 120, 1);
    for (int i = 0; i < 120; i++) fc1[i] = fc1[i] > 0 ? fc1[i] : 0;
    memcpy(fc2, f2b, sizeof fc2);
    mnistq_sgemm_f32(0, 1, 1, 84, 120, fc1, 120, f2w, 120, fc2, 84, 1);
    for (int i = 0; i < 84; i++) fc2[i] = fc2[i] > 0 ? fc2[i] : 0;
    memcpy(logits, f3b, 10 * sizeof(float));
    mnistq_sgemm_f32(0, 1, 1, 10, 84, fc2, 84, f3w, 84, logits, 10, 1);
}

/// The network on every image of an uncompressed IDX image file (28×28): a hash per 1,000 images and of all logits.
static int network(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "%s: cannot open\n", path); return 2; }
    unsigned char header[16];
    if (fread(header, 1, 16, f) != 16 || header[2] != 8 || header[3] != 3) { fprintf(stderr, "%s: not an IDX image file\n", path); return 2; }
    long count = (long)header[4] << 24 | header[5] << 16 | header[6] << 8 | header[7];
    unsigned char *bytes = malloc(count * 784);
    if (fread(bytes, 1, count * 784, f) != (size_t)(count * 784)) { fprintf(stderr, "%s: truncated\n", path); return 2; }
    fclose(f);
    // Weights drawn like PyTorch's default init: uniform in ±1/sqrt(fan_in) per layer.
    static const long sizes[][2] = {{400, 25}, {16, 25}, {12800, 400}, {32, 400}, {188160, 1568}, {120, 1568},
                                    {10080, 120}, {84, 120}, {840, 84}, {10, 84}};
    float *w = malloc(212542 * sizeof(float)), *p = w;  // the 212,542 parameters
    state = 42;
    for (int l = 0; l < 10; l++) {
        const float bound = 1.0f / sqrtf((float)sizes[l][1]);
        for (long i = 0; i < sizes[l][0]; i++) *p++ = next_float() * bound;
    }
    float pixels[784], *logits = malloc(count * 10 * sizeof(float));
    for (long n = 0; n < count; n++) {
        for (int i = 0; i < 784; i++) pixels[i] = (float)bytes[n * 784 + i] / 255.0f;
        forward(w, pixels, logits + n * 10);
    }
    for (long first = 0; first < count; first += 1000) {
        const long n = count - first < 1000 ? count - first : 1000;
        printf("network images %ld..<%ld %016llx\n", first, first + n, (unsigned long long)hash(logits + first * 10, n * 10));
    }
    printf("network %ld images %016llx\n", count, (unsigned long long)hash(logits, count * 10));
    free(bytes); free(w); free(logits);
    return 0;
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
            mnistq_sgemm_f32(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, acc);
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
        mnistq_im2col5x5_f32(in, ch, side, cols, plane);
        mnistq_im2col5x5_f32_transposed(in, ch, side, colsT);
        for (long i = 0; i < ch * 25 * plane; i++) cols[i] = next_float();
        mnistq_col2im5x5_f32(cols, ch, side, plane, grad, 0);
        mnistq_col2im5x5_f32(cols, ch, side, plane, grad, 1);
        long pooled = ch * (side / 2) * (side / 2);
        if (side % 2 == 0) {
            mnistq_relu_maxpool2x2_f32_forward(in, ch, side, out, win);
            mnistq_relu_maxpool2x2_f32_backward(out, win, ch, side, in);
        }
        printf("layers %ld %ld %016llx %016llx %016llx %016llx %016llx\n", ch, side,
               (unsigned long long)hash(colsT, ch * 25 * plane), (unsigned long long)hash(grad, ch * plane),
               (unsigned long long)(side % 2 == 0 ? hash(out, pooled) : 0), (unsigned long long)(side % 2 == 0 ? hash(win, pooled) : 0),
               (unsigned long long)hash(in, ch * plane));
        free(in); free(cols); free(grad); free(colsT); free(out); free(win);
    }
    if (argc > 2 && network(argv[2]) != 0) return 2;
    printf("path %d\n", mnistq_float_path());
    return 0;
}
