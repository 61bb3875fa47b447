// Wrappers for zlib's macro-only init entry points.
#include "_CZlib.h"

int mnistq_inflate_init2(z_stream *stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}

int mnistq_deflate_init2(z_stream *stream, int level, int windowBits, int strategy) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, 8, strategy);
}
