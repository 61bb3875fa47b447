/* mnistq.h — the mnistq int8 digit classifier for C and C++: load a model from memory, classify 28×28 images.
 *
 * The library (libmnistq.a, built by tools/build-c-lib) is the Swift runtime compiled in Embedded mode: it needs
 * no Swift runtime, only libc (memcpy, memset, malloc/free for mnistq_unpack alone) and libm. Link line:
 *
 *     cc -Iinclude app.c path/to/libmnistq.a -lm
 *
 * Two kinds of model file exist (spec: Sources/MNISTQRuntime/MNISTQRuntime.docc/ModelFormat.md):
 *   - the packed file (.mnq8, zlib-compressed), what `mnistq quantize` writes and what is shipped;
 *   - the in-place image (.mnqi, `mnistq export --flash`): uncompressed, aligned, in the order the kernels read it.
 * mnistq_model_init takes an in-place image and BORROWS it: nothing is copied or allocated, from load through
 * classify. Firmware keeps it in flash (`mnistq export --flash --c-array` writes it as a C array); a host app
 * can memory-map it, or convert a packed file in memory with mnistq_unpack.
 *
 * Memory: the library allocates nothing except inside mnistq_unpack. Each classify call works in a caller-owned
 * arena of mnistq_arena_size() bytes (any alignment) and writes into caller memory. Stack: a classify call uses up
 * to about 50 KB of the calling thread's stack where the generic vector kernels run (x86-64 without AVX2, other
 * 64-bit hosts, WebAssembly: conv2 keeps its widened input and regrouped weights there), about 18 KB with NEON and
 * under 4 KB with AVX-512, AVX2 or the Cortex-M4 kernels; threads with small stacks (musl: 128 KB) have room.
 *
 * Threads: a loaded mnistq_model is never written after mnistq_model_init returns, so any number of threads may
 * classify with it at once, each with its OWN arena. The image bytes must stay valid and unchanged as long as the
 * model is used. All functions are reentrant; none keeps global state.
 *
 * Errors: every function that can fail returns an mnistq_status (0 = MNISTQ_OK) and never aborts on bad bytes;
 * mnistq_status_message gives a one-line English explanation with a hint. Results are integers and identical on
 * every CPU and build (x86 AVX-512 VNNI / AVX2 / portable C, Cortex-M, WebAssembly).
 */
#ifndef MNISTQ_H
#define MNISTQ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Version of this header and library: "MAJOR.MINOR.PATCH". mnistq_version() returns the library's. */
#define MNISTQ_VERSION "0.5.0"

/** Pixels per image: 28 × 28 uint8, row-major, 0 = background (a light digit on a dark ground, as in MNIST). */
#define MNISTQ_PIXEL_COUNT 784
/** Scores per image, one per digit 0…9. */
#define MNISTQ_CLASS_COUNT 10
/** Alignment an in-place image must have in memory (its start address must be a multiple of this). */
#define MNISTQ_IMAGE_ALIGNMENT 16

/** Status codes. Every failing call returns exactly one; the numbers are stable across versions. */
typedef enum mnistq_status {
    MNISTQ_OK = 0,
    MNISTQ_ERROR_ARGUMENT = 1,            /* a NULL pointer where memory is required, or a count that cannot be right */
    MNISTQ_ERROR_FILE_TOO_SHORT = 2,      /* fewer bytes than a header */
    MNISTQ_ERROR_BAD_MAGIC = 3,           /* does not start with "MNQ8": not a model file */
    MNISTQ_ERROR_UNSUPPORTED_VERSION = 4, /* a format version this library does not read */
    MNISTQ_ERROR_UNKNOWN_FLAGS = 5,       /* header flag bits this library does not know */
    MNISTQ_ERROR_BAD_HEADER = 6,          /* header length or payload length field is wrong */
    MNISTQ_ERROR_TRUNCATED = 7,           /* fewer bytes than the header declares */
    MNISTQ_ERROR_TRAILING_BYTES = 8,      /* more bytes than the header declares */
    MNISTQ_ERROR_CRC_MISMATCH = 9,        /* CRC-32 differs: the bytes were damaged */
    MNISTQ_ERROR_BAD_PAYLOAD = 10,        /* the zlib stream or the payload's structure is broken */
    MNISTQ_ERROR_BAD_LAYER = 11,          /* a layer's kind or shape is not the network's */
    MNISTQ_ERROR_VALUE_OUT_OF_RANGE = 12, /* a weight, bias, multiplier, shift or scale is out of its range */
    MNISTQ_ERROR_BAD_METADATA = 13,       /* a metadata entry is malformed */
    MNISTQ_ERROR_MISALIGNED = 14,         /* the in-place image does not start at a multiple of MNISTQ_IMAGE_ALIGNMENT */
    MNISTQ_ERROR_NOT_IN_PLACE = 15,       /* a packed .mnq8 given to mnistq_model_init: convert it with mnistq_unpack */
    MNISTQ_ERROR_BUFFER_TOO_SMALL = 16,   /* an arena or output buffer smaller than required */
    MNISTQ_ERROR_NOT_LOADED = 17,         /* the model was never initialised, or its initialisation failed */
    MNISTQ_ERROR_OUT_OF_MEMORY = 18,      /* mnistq_unpack could not allocate its temporary buffer */
    MNISTQ_ERROR_NO_OOD = 19              /* the model has no out-of-distribution section (quantized before 0.4.0) */
} mnistq_status;

/** A loaded model: caller-owned storage (stack, static or heap), filled by mnistq_model_init. Treat as opaque.
 *  It holds a pointer into the image and a few integers; copying it is allowed (the copy borrows the same image). */
typedef struct mnistq_model {
    uint64_t opaque[4];
} mnistq_model;

/** The library's version string, e.g. "0.5.0" (static storage). */
const char *mnistq_version(void);

/** One line of English for a status code, ending with a hint (static storage; unknown codes get a generic line). */
const char *mnistq_status_message(int status);

/** Bytes of arena one classify call needs (a constant of the library; about 21 KB). */
size_t mnistq_arena_size(void);

/** Validates an in-place image and makes `model` borrow it. Checks everything, once: header, CRC-32, shapes, every
 *  weight/bias/multiplier/shift range, metadata structure. Reads the image where it lies; copies and allocates
 *  nothing. On failure `model` is marked not loaded and classify calls on it return MNISTQ_ERROR_NOT_LOADED.
 *  image: `length` bytes at an address that is a multiple of MNISTQ_IMAGE_ALIGNMENT; must outlive the model. */
int mnistq_model_init(mnistq_model *model, const void *image, size_t length);

/** Bytes of the in-place image that mnistq_unpack makes of a packed .mnq8 file (read from its header alone). For
 *  an in-place image, its own length. */
int mnistq_unpacked_size(const void *file, size_t length, size_t *image_length);

/** Converts a packed .mnq8 file into an in-place image in caller memory (`out`, at least the size from
 *  mnistq_unpacked_size, aligned to MNISTQ_IMAGE_ALIGNMENT), after validating the file fully. The only call that
 *  allocates (a temporary buffer for the inflated payload, freed before it returns). Host use; firmware stores
 *  the image made by `mnistq export --flash` instead. */
int mnistq_unpack(const void *file, size_t length, void *out, size_t capacity);

/** Classifies one image. pixels: MNISTQ_PIXEL_COUNT bytes. arena: mnistq_arena_size() bytes of scratch, any
 *  alignment, not used by another thread during the call. scores: room for MNISTQ_CLASS_COUNT int32 fixed-point
 *  logits (real logit ≈ score × mnistq_score_scale). digit: may be NULL; else receives the index of the highest
 *  score (the lowest digit on a tie). */
int mnistq_classify(const mnistq_model *model, const uint8_t *pixels, void *arena, size_t arena_size,
                    int32_t *scores, int *digit);

/** Classifies `count` images stored back to back (count × MNISTQ_PIXEL_COUNT bytes). scores: count ×
 *  MNISTQ_CLASS_COUNT int32; digits: NULL or count bytes. Each result equals mnistq_classify's on that image. */
int mnistq_classify_batch(const mnistq_model *model, const uint8_t *pixels, size_t count, void *arena,
                          size_t arena_size, int32_t *scores, uint8_t *digits);

/** Real value of one score step (fc3's output scale); 0 when the model is not loaded. */
float mnistq_score_scale(const mnistq_model *model);

/** Which kernels this model's classify calls run on this CPU: "avx512-vnni", "armv7em-dsp" or "portable-c"
 *  (static storage); "none" when the model is not loaded. All give identical scores. */
const char *mnistq_kernel_name(const mnistq_model *model);

/* "Not a digit": the out-of-distribution (OOD) score. Models quantized since 0.4.0 carry its calibration (flag bit 1
 * of the format). The score is an int32 computed with integers only from fc2's features and the top score, identical
 * on every CPU and build; higher means less like the training digits, and an image whose score exceeds the model's
 * threshold is "not a digit" (report it as unsure). */

/** 1 when the loaded model carries the out-of-distribution section, else 0 (also for a model not loaded). */
int mnistq_has_ood_score(const mnistq_model *model);

/** The defaults the model stores: the OOD threshold (scores above it are out of distribution) and the softmax
 *  confidence below which `mnistq classify` reports unsure. Either pointer may be NULL. MNISTQ_ERROR_NO_OOD when the
 *  model has no section. */
int mnistq_ood_defaults(const mnistq_model *model, int32_t *threshold, float *min_confidence);

/** mnistq_classify, plus the image's OOD score into *ood_score (required). Allocation-free; MNISTQ_ERROR_NO_OOD when
 *  the model has no section. */
int mnistq_classify_ood(const mnistq_model *model, const uint8_t *pixels, void *arena, size_t arena_size,
                        int32_t *scores, int *digit, int32_t *ood_score);

/** mnistq_classify_batch, plus `count` OOD scores into ood_scores (required). */
int mnistq_classify_batch_ood(const mnistq_model *model, const uint8_t *pixels, size_t count, void *arena,
                              size_t arena_size, int32_t *scores, uint8_t *digits, int32_t *ood_scores);

#ifdef __cplusplus
}
#endif
#endif /* MNISTQ_H */
