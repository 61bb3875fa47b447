/* classify.c — classifies 28×28 digit images with the mnistq C library; uses only include/mnistq.h and libc.
 *
 *   classify MODEL IMAGE...
 *
 * MODEL: a packed .mnq8 file (unpacked in memory with mnistq_unpack) or an in-place image (.mnqi, used as read).
 * IMAGE: a raw file of N × 784 bytes, a binary PGM (P5, 28×28, maxval 255) or an uncompressed IDX3 ubyte file
 * (magic 0x00000803, 28×28). Pixels are used as they are: 0 = background, as in MNIST (no preprocessing).
 *
 * Output, one line per image: `name digit s0 s1 … s9` (the ten int32 scores), then ` ood` (the out-of-distribution
 * score) when the model carries it; name is FILE, or FILE#index when the file holds more than one image. A bad image file gets a line on stderr naming the file and the problem, and the
 * run goes on. Exit status: 0 all classified, 1 some image file failed, 2 usage error or unusable model.
 *
 * Build (see samples/c/README.md):  cc -Iinclude samples/c/classify.c path/to/libmnistq.a -lm
 */
#define _POSIX_C_SOURCE 200112L /* posix_memalign: C99 has no aligned allocation */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mnistq.h"

#define IMAGE_SIDE 28
/* Images per mnistq_classify_batch call: bounds the scores buffer (40 KB) whatever the file's size. */
#define BATCH_IMAGES 1024

/* A whole file in memory, at an address aligned to MNISTQ_IMAGE_ALIGNMENT (an in-place model needs it). */
typedef struct {
    unsigned char *bytes;
    size_t length;
} file_bytes;

/* Reads `path` completely. On failure returns 0 and points *problem at a static description (errno's text). */
static int read_file(const char *path, file_bytes *out, const char **problem) {
    FILE *file = fopen(path, "rb");
    size_t capacity = 1 << 16, length = 0;
    unsigned char *bytes = NULL;
    out->bytes = NULL;
    out->length = 0;
    if (file == NULL) {
        *problem = strerror(errno);
        return 0;
    }
    for (;;) {
        unsigned char *larger;
        size_t got;
        if (bytes == NULL || length == capacity) {
            void *memory = NULL;
            if (bytes != NULL) capacity *= 2;
            /* posix_memalign, not realloc: the copy must stay aligned for mnistq_model_init. */
            if (posix_memalign(&memory, MNISTQ_IMAGE_ALIGNMENT, capacity) != 0) {
                free(bytes);
                fclose(file);
                *problem = "out of memory";
                return 0;
            }
            larger = memory;
            if (bytes != NULL) memcpy(larger, bytes, length);
            free(bytes);
            bytes = larger;
        }
        got = fread(bytes + length, 1, capacity - length, file);
        length += got;
        if (got == 0) break;
    }
    if (ferror(file)) {
        *problem = strerror(errno); /* e.g. "Is a directory" */
        free(bytes);
        fclose(file);
        return 0;
    }
    fclose(file);
    out->bytes = bytes;
    out->length = length;
    return 1;
}

static uint32_t big_endian32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* The images of one input file: `count` × MNISTQ_PIXEL_COUNT bytes at `pixels` (inside the file's bytes). */
typedef struct {
    const unsigned char *pixels;
    size_t count;
} image_run;

/* Skips PGM whitespace and #-comments; returns the position of the next token. */
static size_t pgm_skip(const file_bytes *file, size_t at) {
    while (at < file->length) {
        unsigned char c = file->bytes[at];
        if (c == '#') {
            while (at < file->length && file->bytes[at] != '\n' && file->bytes[at] != '\r') at++;
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
            at++;
        } else {
            break;
        }
    }
    return at;
}

/* Reads a PGM header number at *at (after whitespace); 0 when there is none or it is absurdly long. */
static int pgm_number(const file_bytes *file, size_t *at, long *value) {
    size_t digits = 0;
    *at = pgm_skip(file, *at);
    *value = 0;
    while (*at < file->length && file->bytes[*at] >= '0' && file->bytes[*at] <= '9') {
        if (++digits > 9) return 0;
        *value = *value * 10 + (file->bytes[*at] - '0');
        (*at)++;
    }
    return digits > 0;
}

/* Finds the images in a file's bytes by content. Returns 1, or 0 with an explanation in `problem`. */
static int find_images(const file_bytes *file, image_run *run, char *problem, size_t problem_size) {
    const unsigned char *b = file->bytes;
    size_t n = file->length;
    if (n == 0) {
        snprintf(problem, problem_size, "empty file (0 bytes)");
        return 0;
    }
    if (n >= 2 && b[0] == 0x1F && b[1] == 0x8B) {
        snprintf(problem, problem_size, "gzip-compressed; decompress it first (gunzip)");
        return 0;
    }
    if (n >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0x08 && b[3] <= 0x0F) {
        /* IDX: 0x00 0x00, type 0x08 (ubyte), dimension count; images have 3 dimensions. */
        uint32_t count, rows, columns;
        size_t expected;
        if (b[3] != 3) {
            snprintf(problem, problem_size, "IDX file with %d dimensions (magic 0x%08lX); images need 3 (0x00000803)",
                     b[3], (unsigned long)big_endian32(b));
            return 0;
        }
        if (n < 16) {
            snprintf(problem, problem_size, "IDX header truncated: %lu bytes, need 16", (unsigned long)n);
            return 0;
        }
        count = big_endian32(b + 4);
        rows = big_endian32(b + 8);
        columns = big_endian32(b + 12);
        if (rows != IMAGE_SIDE || columns != IMAGE_SIDE) {
            snprintf(problem, problem_size, "IDX images are %lux%lu; need 28x28", (unsigned long)rows, (unsigned long)columns);
            return 0;
        }
        if (count == 0) {
            snprintf(problem, problem_size, "IDX file declares 0 images");
            return 0;
        }
        expected = 16 + (size_t)count * MNISTQ_PIXEL_COUNT;
        if (n != expected) {
            snprintf(problem, problem_size, "IDX file declares %lu images (%lu bytes) but has %lu bytes (%s)",
                     (unsigned long)count, (unsigned long)expected, (unsigned long)n, n < expected ? "truncated" : "trailing bytes");
            return 0;
        }
        run->pixels = b + 16;
        run->count = count;
        return 1;
    }
    if (n >= 2 && b[0] == 'P' && b[1] == '5') {
        long width, height, maxval;
        size_t at = 2;
        if (!pgm_number(file, &at, &width) || !pgm_number(file, &at, &height) || !pgm_number(file, &at, &maxval)) {
            snprintf(problem, problem_size, "bad PGM header (expected P5, width, height, maxval)");
            return 0;
        }
        if (width != IMAGE_SIDE || height != IMAGE_SIDE) {
            snprintf(problem, problem_size, "PGM image is %ldx%ld; need 28x28", width, height);
            return 0;
        }
        if (maxval != 255) {
            snprintf(problem, problem_size, "PGM maxval %ld; need 255 (one byte per pixel)", maxval);
            return 0;
        }
        /* Exactly one whitespace byte separates the header from the pixels. */
        if (at >= n || !(b[at] == ' ' || b[at] == '\t' || b[at] == '\n' || b[at] == '\r')) {
            snprintf(problem, problem_size, "bad PGM header: no whitespace after maxval");
            return 0;
        }
        at++;
        if (n - at != MNISTQ_PIXEL_COUNT) {
            snprintf(problem, problem_size, "PGM has %lu pixel bytes; need 784 (%s)", (unsigned long)(n - at),
                     n - at < MNISTQ_PIXEL_COUNT ? "truncated" : "trailing bytes");
            return 0;
        }
        run->pixels = b + at;
        run->count = 1;
        return 1;
    }
    if (n % MNISTQ_PIXEL_COUNT != 0) {
        snprintf(problem, problem_size,
                 "%lu bytes is not a multiple of 784 (raw images are 28x28 bytes each), and not a PGM or IDX file",
                 (unsigned long)n);
        return 0;
    }
    run->pixels = b;
    run->count = n / MNISTQ_PIXEL_COUNT;
    return 1;
}

/* Loads MODEL into *model. On failure prints the reason and returns 0. *storage receives the memory the model
 * borrows (the caller frees it after the last classify). */
static int load_model(const char *path, mnistq_model *model, unsigned char **storage) {
    file_bytes file;
    const char *problem;
    int status;
    *storage = NULL;
    if (!read_file(path, &file, &problem)) {
        fprintf(stderr, "classify: %s: cannot read model: %s\n", path, problem);
        return 0;
    }
    status = mnistq_model_init(model, file.bytes, file.length);
    if (status == MNISTQ_ERROR_NOT_IN_PLACE) {
        /* A packed .mnq8: expand it into an in-place image in aligned memory, then load that. */
        size_t image_length = 0;
        void *image = NULL;
        status = mnistq_unpacked_size(file.bytes, file.length, &image_length);
        if (status == MNISTQ_OK) {
            if (posix_memalign(&image, MNISTQ_IMAGE_ALIGNMENT, image_length > 0 ? image_length : 1) != 0) {
                fprintf(stderr, "classify: %s: out of memory for the %lu-byte unpacked model\n", path,
                        (unsigned long)image_length);
                free(file.bytes);
                return 0;
            }
            status = mnistq_unpack(file.bytes, file.length, image, image_length);
        }
        free(file.bytes);
        if (status == MNISTQ_OK) status = mnistq_model_init(model, image, image_length);
        if (status != MNISTQ_OK) {
            free(image);
            fprintf(stderr, "classify: %s: %s\n", path, mnistq_status_message(status));
            return 0;
        }
        *storage = image;
        return 1;
    }
    if (status != MNISTQ_OK) {
        fprintf(stderr, "classify: %s: %s\n", path, mnistq_status_message(status));
        free(file.bytes);
        return 0;
    }
    *storage = file.bytes;
    return 1;
}

/* Classifies every image of one run and prints its lines. Returns 1, or 0 after printing why not. */
static int classify_run(const char *path, const image_run *run, const mnistq_model *model, void *arena,
                        size_t arena_size, int32_t *scores, uint8_t *digits, int32_t *ood) {
    size_t start;
    int has_ood = mnistq_has_ood_score(model);
    for (start = 0; start < run->count; start += BATCH_IMAGES) {
        size_t count = run->count - start < BATCH_IMAGES ? run->count - start : BATCH_IMAGES, i;
        const uint8_t *pixels = run->pixels + start * MNISTQ_PIXEL_COUNT;
        int status = has_ood ? mnistq_classify_batch_ood(model, pixels, count, arena, arena_size, scores, digits, ood)
                             : mnistq_classify_batch(model, pixels, count, arena, arena_size, scores, digits);
        if (status != MNISTQ_OK) {
            fprintf(stderr, "classify: %s: %s\n", path, mnistq_status_message(status));
            return 0;
        }
        for (i = 0; i < count; i++) {
            const int32_t *s = scores + i * MNISTQ_CLASS_COUNT;
            int k;
            if (run->count > 1) {
                printf("%s#%lu %d", path, (unsigned long)(start + i), digits[i]);
            } else {
                printf("%s %d", path, digits[i]);
            }
            for (k = 0; k < MNISTQ_CLASS_COUNT; k++) printf(" %ld", (long)s[k]);
            if (has_ood) printf(" %ld", (long)ood[i]);
            putchar('\n');
        }
    }
    return 1;
}

int main(int argc, char **argv) {
    mnistq_model model;
    unsigned char *model_storage;
    size_t arena_size = mnistq_arena_size(), images = 0;
    void *arena;
    int32_t *scores, *ood;
    uint8_t *digits;
    int i, failed_files = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL IMAGE...\n"
                        "  MODEL  a packed .mnq8 model or an in-place image (.mnqi)\n"
                        "  IMAGE  raw N x 784 bytes, binary PGM (P5, 28x28, maxval 255) or IDX3 ubyte (28x28)\n"
                        "prints `name digit s0 ... s9 [ood]` per image; exit 0 ok, 1 some file failed, 2 usage/model error\n",
                argc > 0 ? argv[0] : "classify");
        return 2;
    }
    if (!load_model(argv[1], &model, &model_storage)) return 2;
    arena = malloc(arena_size);
    scores = malloc(sizeof(int32_t) * MNISTQ_CLASS_COUNT * BATCH_IMAGES);
    digits = malloc(BATCH_IMAGES);
    ood = malloc(sizeof(int32_t) * BATCH_IMAGES);
    if (arena == NULL || scores == NULL || digits == NULL || ood == NULL) {
        fprintf(stderr, "classify: out of memory\n");
        return 2;
    }
    for (i = 2; i < argc; i++) {
        file_bytes file;
        const char *read_problem;
        char problem[256];
        image_run run;
        if (!read_file(argv[i], &file, &read_problem)) {
            fprintf(stderr, "classify: %s: cannot read: %s\n", argv[i], read_problem);
            failed_files++;
            continue;
        }
        if (!find_images(&file, &run, problem, sizeof problem)) {
            fprintf(stderr, "classify: %s: %s\n", argv[i], problem);
            failed_files++;
        } else if (!classify_run(argv[i], &run, &model, arena, arena_size, scores, digits, ood)) {
            failed_files++;
        } else {
            images += run.count;
        }
        free(file.bytes);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "classify: cannot write the results: %s\n", strerror(errno));
        return 1;
    }
    fprintf(stderr, "classify: %lu images classified, %d of %d files failed (mnistq %s, %s kernels)\n",
            (unsigned long)images, failed_files, argc - 2, mnistq_version(), mnistq_kernel_name(&model));
    free(digits);
    free(scores);
    free(arena);
    free(model_storage);
    return failed_files > 0 ? 1 : 0;
}
