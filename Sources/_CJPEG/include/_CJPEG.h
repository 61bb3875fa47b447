// C shim over the system libjpeg: decode to 8-bit grayscale and encode, with libjpeg's errors kept inside C.
#ifndef MNISTQ_CJPEG_H
#define MNISTQ_CJPEG_H
#include <stddef.h>

/// Outcome codes of the shim's functions.
enum {
    MNISTQ_JPEG_OK = 0,
    /// libjpeg rejected the data; `message` holds libjpeg's own text.
    MNISTQ_JPEG_ERROR_CORRUPT = 1,
    /// The data ended before the image was complete ("Premature end of JPEG file").
    MNISTQ_JPEG_ERROR_TRUNCATED = 2,
    /// The header declares a width or height above `max_side`, or more than `max_pixels` pixels.
    MNISTQ_JPEG_ERROR_TOO_LARGE = 3,
    /// malloc failed.
    MNISTQ_JPEG_ERROR_NO_MEMORY = 4,
    /// Bad arguments (encoder: components not 1, 3 or 4; quality out of 1...100).
    MNISTQ_JPEG_ERROR_ARGUMENT = 5
};

/// Result of a decode: a width × height 8-bit grayscale buffer (malloc'd; free it with mnistq_jpeg_free).
typedef struct {
    int status;
    int width;
    int height;
    /// Components in the file: 1 gray, 3 YCbCr/RGB, 4 CMYK/YCCK.
    int components;
    /// libjpeg's J_COLOR_SPACE of the file (1 gray, 2 RGB, 3 YCbCr, 4 CMYK, 5 YCCK).
    int color_space;
    int progressive;
    /// Warnings libjpeg raised (corrupt-but-decodable data); they are never printed.
    int warning_count;
    unsigned char *pixels;
    /// libjpeg's last error or warning text, NUL-terminated.
    char message[200];
} mnistq_jpeg_decoded;

/// Decodes a JPEG (baseline or progressive; gray, YCbCr, RGB, CMYK or YCCK) to grayscale.
/// The header is read first and its dimensions checked against `max_side` and `max_pixels`
/// before any pixel memory is allocated. Gray/YCbCr/RGB are converted by libjpeg (luma only);
/// CMYK/YCCK are converted here, treating files with an Adobe marker as inverted CMYK (as Photoshop writes them).
/// A truncated stream is an error, not a gray-filled image. Never prints, never exits.
/// `min_output_side` > 0 lets libjpeg decode at 1/2, 1/4 or 1/8 size (DCT scaling: far faster for photos) as long
/// as the shorter output side stays ≥ `min_output_side`; 0 always decodes at full size.
mnistq_jpeg_decoded mnistq_jpeg_decode_gray(const unsigned char *data, size_t size, int max_side, long max_pixels,
                                            int min_output_side);

/// Result of an encode: a malloc'd JPEG byte buffer (free it with mnistq_jpeg_free).
typedef struct {
    int status;
    unsigned char *bytes;
    size_t size;
    char message[200];
} mnistq_jpeg_encoded;

/// Encodes interleaved 8-bit pixels with 1 (gray), 3 (RGB, stored as YCbCr) or 4 (CMYK, stored as YCCK when
/// `ycck` is nonzero, else CMYK; libjpeg writes an Adobe marker) components at `quality` 1...100,
/// optionally progressive. Used by tests and the benchmark's fixture generator.
mnistq_jpeg_encoded mnistq_jpeg_encode(const unsigned char *pixels, int width, int height, int components,
                                       int quality, int progressive, int ycck);

/// Frees a buffer returned by this shim (NULL is fine).
void mnistq_jpeg_free(void *pointer);

/// JPEG_LIB_VERSION of the libjpeg headers the shim was compiled against.
int mnistq_jpeg_shim_version(void);
#endif
