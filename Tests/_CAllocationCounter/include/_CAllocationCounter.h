// Counts heap allocations made by the calling thread, for the runtime's zero-allocation test (tests only).
#ifndef MNISTQ_CALLOCATION_COUNTER_H
#define MNISTQ_CALLOCATION_COUNTER_H

/// Starts counting allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign, valloc) made by
/// the calling thread from now on; other threads are never counted.
void mnistq_allocation_count_begin(void);
/// Stops counting on the calling thread and returns how many allocations it made since the matching begin.
long mnistq_allocation_count_end(void);
/// 0 in a build under AddressSanitizer or ThreadSanitizer (tools/sanitize): those own malloc, so the counter does not
/// replace it and counts nothing; 1 otherwise.
int mnistq_allocation_counting_available(void);
#endif
