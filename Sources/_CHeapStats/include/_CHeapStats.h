// Heap statistics for the memory benchmark (mnistq-bench memory); not part of any library product.
#ifndef MNISTQ_CHEAPSTATS_H
#define MNISTQ_CHEAPSTATS_H
#include <stddef.h>

/// Bytes the C allocator has handed out and not yet been given back (glibc: in-use heap chunks plus mmapped chunks;
/// 0 where the C library cannot tell).
size_t mnistq_heap_bytes_in_use(void);
#endif
