/* main.c — Cortex-M4 firmware: loads the in-place model from flash, classifies every test image in a static arena and reports.
 *
 * Output (semihosting, one record per line, parsed by tools/mcu-run):
 *   calibration TICKS INSTRUCTIONS   FPGAIO ticks a loop of exactly INSTRUCTIONS instructions took
 *   arena NEEDED STATIC              mnistq_arena_size() and the static arena's size
 *   reject T O N                     statuses for the image cut short by a byte, the image read from its second
 *                                    byte, and classify on the model those left not loaded (refusing bad bytes
 *                                    must not need the heap either)
 *   load TICKS                       mnistq_model_init (validates the whole image in place)
 *   kernels NAME
 *   score INDEX DIGIT S0 … S9 [OOD]  one per image (OOD: the out-of-distribution score, when the model has it)
 *   classify TICKS IMAGES            ticks spent inside mnistq_classify over all images
 *   stack BYTES                      stack high-water mark since reset
 *   heap CALLS                       calls into malloc/posix_memalign/free & co (must be 0)
 * Exit status: 0 ok, 2 a mnistq call failed, 4 the arena is too small, 5 the heap was called.
 */
#include <stddef.h>
#include <stdint.h>

#include "firmware.h"
#include "mnistq.h"

/* Generated at build time by tools/mcu-run: the model (mnistq export --flash --c-array) and the first N MNIST test
 * images (never committed). */
extern const uint8_t mnistq_model_image[];
extern const size_t mnistq_model_image_size;
extern const unsigned char mnistq_test_images[];
extern const unsigned int mnistq_test_image_count;

/* The classify arena: static, so it is part of .bss and of the RAM figure. tools/mcu-run sets ARENA_BYTES to
 * exactly mnistq_arena_size() (it asks a first build of this firmware, which stops at the `arena` line). */
#ifndef ARENA_BYTES
#define ARENA_BYTES 16384
#endif
static unsigned char arena[ARENA_BYTES] __attribute__((aligned(8)));
static mnistq_model model;

/* Runs `2 × iterations` instructions exactly (subs + bne per turn), to turn counter ticks into instructions. */
static void counted_loop(uint32_t iterations) {
    __asm volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(iterations) : : "cc");
}

static int failed(line_buffer *line, const char *what, int status) {
    line_text(line, "firmware: ");
    line_text(line, what);
    line_text(line, ": ");
    line_text(line, mnistq_status_message(status));
    line_flush(line);
    return 2;
}

int main(void) {
    line_buffer line = {.length = 0};
    const uint32_t calibration_iterations = 2500000;
    uint32_t start = fpgaio_counter();
    counted_loop(calibration_iterations);
    uint32_t calibration_ticks = fpgaio_counter() - start;
    line_text(&line, "calibration ");
    line_unsigned(&line, calibration_ticks);
    line_text(&line, " ");
    line_unsigned(&line, 2 * calibration_iterations);
    line_flush(&line);

    uint32_t needed = (uint32_t)mnistq_arena_size();
    line_text(&line, "arena ");
    line_unsigned(&line, needed);
    line_text(&line, " ");
    line_unsigned(&line, sizeof arena);
    line_flush(&line);
    if (needed > sizeof arena) return 4;

    /* Damage a device can meet: an image cut short by one byte, and a wrong start address (one byte in: not the
     * image's first byte, and not aligned either; which check refuses it first is the library's business). */
    int32_t scores[MNISTQ_CLASS_COUNT];
    int digit = -1;
    int truncated = mnistq_model_init(&model, mnistq_model_image, mnistq_model_image_size - 1);
    int offset = mnistq_model_init(&model, mnistq_model_image + 1, mnistq_model_image_size - 1);
    int not_loaded = mnistq_classify(&model, mnistq_test_images, arena, sizeof arena, scores, &digit);
    line_text(&line, "reject ");
    line_unsigned(&line, (uint32_t)truncated);
    line_text(&line, " ");
    line_unsigned(&line, (uint32_t)offset);
    line_text(&line, " ");
    line_unsigned(&line, (uint32_t)not_loaded);
    line_flush(&line);

    start = fpgaio_counter();
    int status = mnistq_model_init(&model, mnistq_model_image, mnistq_model_image_size);
    uint32_t load_ticks = fpgaio_counter() - start;
    if (status != MNISTQ_OK) return failed(&line, "mnistq_model_init", status);
    line_text(&line, "load ");
    line_unsigned(&line, load_ticks);
    line_flush(&line);
    line_text(&line, "kernels ");
    line_text(&line, mnistq_kernel_name(&model));
    line_flush(&line);

    uint32_t classify_ticks = 0;
    int has_ood = mnistq_has_ood_score(&model);
    int32_t ood = 0;
    for (uint32_t image = 0; image < mnistq_test_image_count; image++) {
        digit = -1;
        start = fpgaio_counter();
        const uint8_t *pixels = mnistq_test_images + image * MNISTQ_PIXEL_COUNT;
        status = has_ood ? mnistq_classify_ood(&model, pixels, arena, sizeof arena, scores, &digit, &ood)
                         : mnistq_classify(&model, pixels, arena, sizeof arena, scores, &digit);
        classify_ticks += fpgaio_counter() - start;
        if (status != MNISTQ_OK) return failed(&line, "mnistq_classify", status);
        line_text(&line, "score ");
        line_unsigned(&line, image);
        line_text(&line, " ");
        line_signed(&line, digit);
        for (int k = 0; k < MNISTQ_CLASS_COUNT; k++) {
            line_text(&line, " ");
            line_signed(&line, scores[k]);
        }
        if (has_ood) {
            line_text(&line, " ");
            line_signed(&line, ood);
        }
        line_flush(&line);
    }
    line_text(&line, "classify ");
    line_unsigned(&line, classify_ticks);
    line_text(&line, " ");
    line_unsigned(&line, mnistq_test_image_count);
    line_flush(&line);

    line_text(&line, "stack ");
    line_unsigned(&line, firmware_stack_high_water());
    line_flush(&line);
    line_text(&line, "heap ");
    line_unsigned(&line, firmware_heap_calls);
    line_flush(&line);
    return firmware_heap_calls == 0 ? 0 : 5;
}
