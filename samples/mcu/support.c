/* support.c — the few libc pieces the Embedded Swift runtime object and the kernels need on bare metal, and semihosting I/O.
 *
 * Compiled with -fno-builtin -fno-tree-loop-distribute-patterns so that gcc does not turn these loops back into
 * calls to themselves. Speed does not matter here: the classify path copies almost nothing.
 */
#include <stddef.h>
#include <stdint.h>

#include "firmware.h"

/* ---- Semihosting ---- */

#define SYS_WRITE0 0x04
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

static int semihosting_call(int operation, const void *argument) {
    register int r0 __asm("r0") = operation;
    register const void *r1 __asm("r1") = argument;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void semihosting_write(const char *text) { semihosting_call(SYS_WRITE0, text); }

void semihosting_exit(int status) {
    /* SYS_EXIT_EXTENDED carries the status (plain SYS_EXIT on 32-bit Arm only says "stopped"). */
    const uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status};
    semihosting_call(SYS_EXIT_EXTENDED, block);
    for (;;) __asm volatile("bkpt 0");
}

void line_text(line_buffer *line, const char *text) {
    while (*text && line->length < sizeof line->text - 2) line->text[line->length++] = *text++;
}

void line_unsigned(line_buffer *line, uint32_t value) {
    char digits[10];
    int count = 0;
    do {
        digits[count++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (count > 0 && line->length < sizeof line->text - 2) line->text[line->length++] = digits[--count];
}

void line_signed(line_buffer *line, int32_t value) {
    if (value < 0) {
        line_text(line, "-");
        line_unsigned(line, (uint32_t)0 - (uint32_t)value);
    } else {
        line_unsigned(line, (uint32_t)value);
    }
}

void line_flush(line_buffer *line) {
    line->text[line->length++] = '\n';
    line->text[line->length] = '\0';
    semihosting_write(line->text);
    line->length = 0;
}

/* ---- Memory routines (C names and the Arm EABI ones the compilers emit; note __aeabi_memset's argument order) ---- */

void *memcpy(void *restrict destination, const void *restrict source, size_t count) {
    unsigned char *d = destination;
    const unsigned char *s = source;
    while (count--) *d++ = *s++;
    return destination;
}

void *memmove(void *destination, const void *source, size_t count) {
    unsigned char *d = destination;
    const unsigned char *s = source;
    if (d < s) {
        while (count--) *d++ = *s++;
    } else {
        while (count--) d[count] = s[count];
    }
    return destination;
}

void *memset(void *destination, int value, size_t count) {
    unsigned char *d = destination;
    while (count--) *d++ = (unsigned char)value;
    return destination;
}

int memcmp(const void *left, const void *right, size_t count) {
    const unsigned char *a = left, *b = right;
    for (; count--; a++, b++)
        if (*a != *b) return *a < *b ? -1 : 1;
    return 0;
}

void __aeabi_memcpy(void *d, const void *s, size_t n) { memcpy(d, s, n); }
void __aeabi_memcpy4(void *d, const void *s, size_t n) { memcpy(d, s, n); }
void __aeabi_memcpy8(void *d, const void *s, size_t n) { memcpy(d, s, n); }
void __aeabi_memmove(void *d, const void *s, size_t n) { memmove(d, s, n); }
void __aeabi_memmove4(void *d, const void *s, size_t n) { memmove(d, s, n); }
void __aeabi_memmove8(void *d, const void *s, size_t n) { memmove(d, s, n); }
void __aeabi_memset(void *d, size_t n, int c) { memset(d, c, n); }
void __aeabi_memset4(void *d, size_t n, int c) { memset(d, c, n); }
void __aeabi_memset8(void *d, size_t n, int c) { memset(d, c, n); }
void __aeabi_memclr(void *d, size_t n) { memset(d, 0, n); }
void __aeabi_memclr4(void *d, size_t n) { memset(d, 0, n); }
void __aeabi_memclr8(void *d, size_t n) { memset(d, 0, n); }

/* ---- Heap: none. Every call is counted and reported; allocation fails (the Swift runtime then traps). ---- */

volatile uint32_t firmware_heap_calls;

static void heap_call(const char *name) {
    firmware_heap_calls++;
    semihosting_write("firmware: heap call: ");
    semihosting_write(name);
    semihosting_write(" (the in-place model must not allocate)\n");
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    (void)alignment, (void)size;
    heap_call("posix_memalign");
    *result = NULL;
    return 12; /* ENOMEM */
}

void *malloc(size_t size) {
    (void)size;
    heap_call("malloc");
    return NULL;
}

void *calloc(size_t count, size_t size) {
    (void)count, (void)size;
    heap_call("calloc");
    return NULL;
}

void *realloc(void *pointer, size_t size) {
    (void)pointer, (void)size;
    heap_call("realloc");
    return NULL;
}

void free(void *pointer) {
    if (pointer != NULL) heap_call("free");
}

/* ---- The rest the Swift object references ---- */

/* Hasher's per-process seed. A constant is enough: nothing here hashes untrusted input. */
void arc4random_buf(void *buffer, size_t count) {
    unsigned char *b = buffer;
    for (size_t i = 0; i < count; i++) b[i] = (unsigned char)(0x9E + 37 * i);
}

/* Dictionary/Set capacity rounding. Exact for |x| < 2^52 (larger values are already integers). */
double ceil(double x) {
    if (!(x > -4503599627370496.0 && x < 4503599627370496.0)) return x; /* ±2^52, infinities and NaN */
    double truncated = (double)(int64_t)x;
    return truncated < x ? truncated + 1.0 : truncated;
}

uintptr_t __stack_chk_guard = 0x5EC0DE42u;

__attribute__((noreturn)) void __stack_chk_fail(void) {
    semihosting_write("firmware: stack smashing detected\n");
    semihosting_exit(6);
}
