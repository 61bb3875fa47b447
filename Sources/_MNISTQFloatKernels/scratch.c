// The per-thread scratch buffer of scratch.h: the kernels allocate nothing in steady state, and no kernel needs a
// large stack frame (threads of Dispatch's pool may have small stacks).
#include "scratch.h"
#include <pthread.h>
#include <stdlib.h>

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static void make_scratch_key(void) { pthread_key_create(&scratch_key, free); }

float *mnistq_thread_scratch(void) {
    pthread_once(&scratch_once, make_scratch_key);
    float *buffer = pthread_getspecific(scratch_key);
    if (buffer == NULL) {
        void *memory = NULL;
        if (posix_memalign(&memory, 64, MNISTQ_SCRATCH_FLOATS * sizeof(float)) != 0) abort();
        buffer = memory;
        pthread_setspecific(scratch_key, buffer);
    }
    return buffer;
}
