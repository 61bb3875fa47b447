// Freestanding C support for the WebAssembly build (tools/build-wasm): what the Embedded Swift runtime and the C
// kernels call that a libc would provide. No WASI, no imports: the module runs on a bare `WebAssembly.instantiate`.
//   heap:   malloc/free/posix_memalign/calloc (first-fit free list over memory.grow), and mnq_alloc/mnq_free for
//           JavaScript, which hands the module its model file and pixels through them
//   memory: memcpy/memmove/memset (bulk-memory instructions), memcmp
//   the rest: ceil (Dictionary/Set capacities), round/roundf (the preprocessing's rounding), arc4random_buf (Hasher's seed; a constant is fine, nothing here is
//           exposed to hash flooding), __multi3 (128-bit multiply; the toolchain ships no wasm compiler-rt)
#include <stddef.h>
#include <stdint.h>

extern unsigned char __heap_base; // set by wasm-ld: the first byte after the stack and static data

// ---- Heap. A block is [size_t size][payload…]; a freed block goes on a singly linked list and is reused first-fit
// (the page allocates a model once and a few buffers; fragmentation does not matter at that scale).
typedef struct free_block {
    size_t size; // bytes of the whole block, header included
    struct free_block *next;
} free_block;

static uintptr_t heap_end;    // first unused byte of linear memory
static free_block *free_list; // freed blocks
static size_t live_bytes, peak_bytes;

/// `bytes` more bytes at the end of the heap (16-byte aligned), growing linear memory as needed; NULL when the
/// engine refuses to grow it.
static void *grow(size_t bytes) {
    if (heap_end == 0) heap_end = ((uintptr_t)&__heap_base + 15) & ~(uintptr_t)15;
    const uintptr_t start = heap_end, end = start + bytes;
    if (end < start) return NULL;
    const size_t have = __builtin_wasm_memory_size(0) * 65536;
    if (end > have && __builtin_wasm_memory_grow(0, (end - have + 65535) / 65536) == (size_t)-1) return NULL;
    heap_end = end;
    return (void *)start;
}

/// A block for `size` bytes at `alignment` (a power of two ≥ 8). The two words before the returned pointer hold
/// the block's start and size, for free.
static void *allocate(size_t size, size_t alignment) {
    if (alignment < 8) alignment = 8;
    if (size > ((size_t)1 << 30)) return NULL; // 1 GiB: more than a 32-bit module can ever hand out
    const size_t need = (size + alignment + 2 * sizeof(size_t) + 15) & ~(size_t)15;
    free_block **link = &free_list, *block = NULL;
    for (; *link; link = &(*link)->next) {
        if ((*link)->size >= need) {
            block = *link;
            *link = block->next;
            break;
        }
    }
    size_t block_size = block ? block->size : need;
    if (!block && !(block = grow(need))) return NULL;
    uintptr_t payload = ((uintptr_t)block + 2 * sizeof(size_t) + alignment - 1) & ~(uintptr_t)(alignment - 1);
    ((size_t *)payload)[-2] = (size_t)(uintptr_t)block;
    ((size_t *)payload)[-1] = block_size;
    live_bytes += block_size;
    if (live_bytes > peak_bytes) peak_bytes = live_bytes;
    return (void *)payload;
}

void free(void *pointer) {
    if (!pointer) return;
    free_block *block = (free_block *)(uintptr_t)((size_t *)pointer)[-2];
    block->size = ((size_t *)pointer)[-1];
    live_bytes -= block->size;
    block->next = free_list;
    free_list = block;
}

void *malloc(size_t size) { return allocate(size, 16); }

void *calloc(size_t count, size_t size) {
    if (size && count > (size_t)-1 / size) return NULL;
    unsigned char *p = allocate(count * size, 16);
    if (p) __builtin_memset(p, 0, count * size);
    return p;
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1))) return 22; // EINVAL
    void *p = allocate(size, alignment);
    if (!p) return 12; // ENOMEM
    *result = p;
    return 0;
}

/// For JavaScript: `size` bytes, 64-byte aligned (an in-place model image must be 16-byte aligned), or 0.
__attribute__((export_name("mnq_alloc"))) void *mnq_alloc(size_t size) { return allocate(size, 64); }
__attribute__((export_name("mnq_free"))) void mnq_free(void *pointer) { free(pointer); }
/// Bytes of heap in use now and at most so far (the tests report the model's memory).
__attribute__((export_name("mnq_heap_live"))) size_t mnq_heap_live(void) { return live_bytes; }
__attribute__((export_name("mnq_heap_peak"))) size_t mnq_heap_peak(void) { return peak_bytes; }

// ---- Memory functions: the bulk-memory instructions (memory.copy handles overlap, so memmove is the same).
void *memcpy(void *restrict d, const void *restrict s, size_t n) { return __builtin_memcpy(d, s, n); }
void *memmove(void *d, const void *s, size_t n) { return __builtin_memmove(d, s, n); }
void *memset(void *d, int c, size_t n) { return __builtin_memset(d, c, n); }
int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}
size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

// ---- The rest.
double ceil(double x) { return __builtin_ceil(x); } // f64.ceil
float ceilf(float x) { return __builtin_ceilf(x); }
// round: halves away from zero, as C's (wasm's `nearest` rounds halves to even). The difference x − trunc(x) is exact.
double round(double x) {
    const double t = __builtin_trunc(x);
    return __builtin_fabs(x - t) >= 0.5 ? t + __builtin_copysign(1.0, x) : t;
}
float roundf(float x) {
    const float t = __builtin_truncf(x);
    return __builtin_fabsf(x - t) >= 0.5f ? t + __builtin_copysignf(1.0f, x) : t;
}

void arc4random_buf(void *buffer, size_t count) {
    unsigned char *bytes = buffer;
    for (size_t i = 0; i < count; i++) bytes[i] = (unsigned char)(0x5A ^ (i * 29));
}

/// 128-bit product modulo 2^128 from 32-bit limbs; the halves go in and out through memory (little-endian), since
/// 128-bit shifts would be library calls too.
__int128 __multi3(__int128 a, __int128 b) {
    uint64_t ah[2], bh[2];
    __builtin_memcpy(ah, &a, 16);
    __builtin_memcpy(bh, &b, 16);
    const uint64_t x0 = (uint32_t)ah[0], x1 = ah[0] >> 32, y0 = (uint32_t)bh[0], y1 = bh[0] >> 32;
    const uint64_t p00 = x0 * y0, p01 = x0 * y1, p10 = x1 * y0, p11 = x1 * y1;
    const uint64_t middle = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
    const uint64_t product[2] = {(middle << 32) | (uint32_t)p00,
                                 p11 + (p01 >> 32) + (p10 >> 32) + (middle >> 32) + ah[0] * bh[1] + ah[1] * bh[0]};
    __int128 result;
    __builtin_memcpy(&result, product, 16);
    return result;
}

// Swift emits stack protectors: the canary and the handler (a trap: JavaScript sees a RuntimeError).
uintptr_t __stack_chk_guard = 0x5A17C0DE;
void __stack_chk_fail(void) { __builtin_trap(); }
