// Thin C shim over the system zlib: its init functions are macros, which Swift cannot call.
#ifndef MNISTQ_CZLIB_H
#define MNISTQ_CZLIB_H
#include <zlib.h>

/// inflateInit2 as a function. windowBits: 15 zlib, -15 raw deflate, 31 gzip only, 47 zlib or gzip.
int mnistq_inflate_init2(z_stream *stream, int windowBits);
/// deflateInit2 as a function (method Z_DEFLATED, memLevel 8).
int mnistq_deflate_init2(z_stream *stream, int level, int windowBits, int strategy);
#endif
