// Allocation counter: defines the allocation functions in the test executable, which takes precedence over libc's
// for the whole process (ELF symbol interposition), and forwards to glibc's __libc_* entry points. No dlsym,
// so no allocation or recursion during start-up; counting is per thread and off unless a test turns it on.
#include "_CAllocationCounter.h"
#include <errno.h>
#include <stddef.h>

// AddressSanitizer and ThreadSanitizer replace malloc themselves (and initialise through it): forwarding to glibc's
// allocator under them would crash at start-up and mix two heaps, so those builds get no counter at all.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define MNISTQ_SANITIZER_OWNS_MALLOC 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MNISTQ_SANITIZER_OWNS_MALLOC 1
#endif

#ifdef MNISTQ_SANITIZER_OWNS_MALLOC
void mnistq_allocation_count_begin(void) {}
long mnistq_allocation_count_end(void) { return 0; }
int mnistq_allocation_counting_available(void) { return 0; }
#else
int mnistq_allocation_counting_available(void) { return 1; }

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);

static _Thread_local int counting;
static _Thread_local long count;

static inline void note(void) {
    if (counting) count += 1;
}

void *malloc(size_t size) { note(); return __libc_malloc(size); }
void *calloc(size_t count_, size_t size) { note(); return __libc_calloc(count_, size); }
void *realloc(void *pointer, size_t size) { note(); return __libc_realloc(pointer, size); }
void *memalign(size_t alignment, size_t size) { note(); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { note(); return __libc_memalign(alignment, size); }
void *valloc(size_t size) { note(); return __libc_valloc(size); }
int posix_memalign(void **result, size_t alignment, size_t size) {
    note();
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL && size != 0) return ENOMEM;
    *result = pointer;
    return 0;
}

void mnistq_allocation_count_begin(void) { count = 0; counting = 1; }
long mnistq_allocation_count_end(void) { counting = 0; return count; }
#endif
