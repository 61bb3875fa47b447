/* firmware.h — what the Cortex-M4 firmware's C files share: semihosting output, the cycle counter, stack and heap figures. */
#ifndef MNISTQ_FIRMWARE_H
#define MNISTQ_FIRMWARE_H
#include <stdint.h>

/* Word written over the whole free stack at reset; the deepest overwritten word gives the high-water mark. */
#define STACK_PAINT 0xA5C3E1F7u

/* Semihosting (the debugger's, here QEMU's, services through `bkpt 0xAB`): a NUL-terminated string to the host's
 * console, and ending the run with an exit status the host sees as QEMU's own. */
void semihosting_write(const char *text);
__attribute__((noreturn)) void semihosting_exit(int status);

/* Output helpers: append to a line buffer, then write it in one semihosting call. */
typedef struct {
    char text[160];
    unsigned length;
} line_buffer;
void line_text(line_buffer *line, const char *text);
void line_unsigned(line_buffer *line, uint32_t value);
void line_signed(line_buffer *line, int32_t value);
void line_flush(line_buffer *line); /* writes the line and a newline, then empties it */

/* The mps2 FPGAIO COUNTER: 32 bits, counts at the board's 25 MHz reference clock (with `-icount shift=0` QEMU
 * runs one instruction per virtual nanosecond, so one tick is 40 instructions; main.c measures the ratio). */
static inline uint32_t fpgaio_counter(void) { return *(volatile const uint32_t *)0x40028018u; }

/* Bytes of stack ever used since reset (startup.c). */
uint32_t firmware_stack_high_water(void);

/* Calls into the heap functions of support.c (posix_memalign, malloc, calloc, realloc, free). They all fail or trap:
 * the in-place model must never reach them, and this count proves it. */
extern volatile uint32_t firmware_heap_calls;
#endif
