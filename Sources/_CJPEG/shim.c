// libjpeg wrapper: setjmp/longjmp stay inside these C functions and libjpeg never writes to stderr.
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>
#include "_CJPEG.h"

int mnistq_jpeg_shim_version(void) { return JPEG_LIB_VERSION; }

void mnistq_jpeg_free(void *pointer) { free(pointer); }

// libjpeg's error manager extended with our jump target and the last message.
typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char message[200];
    int saw_eof_warning;
} mnistq_error_mgr;

static void mnistq_keep_message(j_common_ptr cinfo) {
    mnistq_error_mgr *err = (mnistq_error_mgr *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    snprintf(err->message, sizeof err->message, "%s", text);
}

// Fatal errors: remember the text and jump back to the shim function that called libjpeg.
static void mnistq_error_exit(j_common_ptr cinfo) {
    mnistq_keep_message(cinfo);
    longjmp(((mnistq_error_mgr *)cinfo->err)->jump, 1);
}

// Replaces libjpeg's printing to stderr.
static void mnistq_output_message(j_common_ptr cinfo) { mnistq_keep_message(cinfo); }

// Warnings (level -1) are counted and kept; trace messages (level >= 0) are dropped.
static void mnistq_emit_message(j_common_ptr cinfo, int msg_level) {
    mnistq_error_mgr *err = (mnistq_error_mgr *)cinfo->err;
    if (msg_level < 0) {
        err->base.num_warnings++;
        if (err->base.msg_code == JWRN_JPEG_EOF) err->saw_eof_warning = 1;
        mnistq_keep_message(cinfo);
    }
}

static void mnistq_install_errors(mnistq_error_mgr *err) {
    jpeg_std_error(&err->base);
    err->base.error_exit = mnistq_error_exit;
    err->base.output_message = mnistq_output_message;
    err->base.emit_message = mnistq_emit_message;
    err->message[0] = 0;
    err->saw_eof_warning = 0;
}

static unsigned char clamp_byte(int value) { return (unsigned char)(value < 0 ? 0 : (value > 255 ? 255 : value)); }

mnistq_jpeg_decoded mnistq_jpeg_decode_gray(const unsigned char *data, size_t size, int max_side, long max_pixels,
                                            int min_output_side) {
    mnistq_jpeg_decoded result;
    memset(&result, 0, sizeof result);
    struct jpeg_decompress_struct cinfo;
    mnistq_error_mgr err;
    // Written after setjmp and read after a longjmp, so volatile.
    unsigned char *volatile pixels = NULL;
    unsigned char *volatile row = NULL;

    cinfo.err = &err.base;
    mnistq_install_errors(&err);
    if (setjmp(err.jump)) {
        result.status = err.saw_eof_warning ? MNISTQ_JPEG_ERROR_TRUNCATED : MNISTQ_JPEG_ERROR_CORRUPT;
        snprintf(result.message, sizeof result.message, "%s", err.message);
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        result.pixels = NULL;
        return result;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);

    result.width = (int)cinfo.image_width;
    result.height = (int)cinfo.image_height;
    result.components = cinfo.num_components;
    result.color_space = (int)cinfo.jpeg_color_space;
    result.progressive = cinfo.progressive_mode ? 1 : 0;
    if ((long)cinfo.image_width > max_side || (long)cinfo.image_height > max_side ||
        (long)cinfo.image_width * (long)cinfo.image_height > max_pixels) {
        result.status = MNISTQ_JPEG_ERROR_TOO_LARGE;
        jpeg_destroy_decompress(&cinfo);
        return result;
    }

    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    int inverted = cmyk && cinfo.saw_Adobe_marker;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_GRAYSCALE;
    if (min_output_side > 0) {
        long shorter = cinfo.image_width < cinfo.image_height ? (long)cinfo.image_width : (long)cinfo.image_height;
        for (int denom = 8; denom >= 2; denom /= 2) {
            if ((shorter + denom - 1) / denom >= min_output_side) { cinfo.scale_num = 1; cinfo.scale_denom = (unsigned)denom; break; }
        }
    }
    jpeg_start_decompress(&cinfo);

    size_t width = cinfo.output_width, height = cinfo.output_height;
    pixels = malloc(width * height ? width * height : 1);
    if (cmyk) row = malloc(width * 4);
    if (!pixels || (cmyk && !row)) {
        result.status = MNISTQ_JPEG_ERROR_NO_MEMORY;
        snprintf(result.message, sizeof result.message, "out of memory for %zux%zu pixels", width, height);
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        return result;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        unsigned char *out = pixels + (size_t)cinfo.output_scanline * width;
        JSAMPROW target = cmyk ? row : out;
        if (jpeg_read_scanlines(&cinfo, &target, 1) != 1) break;
        if (cmyk) {
            for (size_t x = 0; x < width; x++) {
                int c = row[4 * x], m = row[4 * x + 1], y = row[4 * x + 2], k = row[4 * x + 3];
                // Inverted (Adobe) storage: 255 means no ink. Normalise to "amount of ink" first.
                if (inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
                int white = 255 - k;
                int r = (255 - c) * white / 255, g = (255 - m) * white / 255, b = (255 - y) * white / 255;
                out[x] = clamp_byte((299 * r + 587 * g + 114 * b + 500) / 1000);
            }
        }
    }
    if (err.saw_eof_warning) {
        result.status = MNISTQ_JPEG_ERROR_TRUNCATED;
        snprintf(result.message, sizeof result.message, "%s", err.message);
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        return result;
    }
    jpeg_finish_decompress(&cinfo);
    result.warning_count = (int)err.base.num_warnings;
    snprintf(result.message, sizeof result.message, "%s", err.message);
    result.width = (int)width;
    result.height = (int)height;
    result.pixels = pixels;
    jpeg_destroy_decompress(&cinfo);
    free(row);
    return result;
}

mnistq_jpeg_encoded mnistq_jpeg_encode(const unsigned char *pixels, int width, int height, int components,
                                       int quality, int progressive, int ycck) {
    mnistq_jpeg_encoded result;
    memset(&result, 0, sizeof result);
    if ((components != 1 && components != 3 && components != 4) || quality < 1 || quality > 100 ||
        width < 1 || height < 1 || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION) {
        result.status = MNISTQ_JPEG_ERROR_ARGUMENT;
        snprintf(result.message, sizeof result.message,
                 "bad encoder arguments: %dx%d, %d components, quality %d", width, height, components, quality);
        return result;
    }
    struct jpeg_compress_struct cinfo;
    mnistq_error_mgr err;
    unsigned char *volatile out = NULL;
    unsigned long out_size = 0;

    cinfo.err = &err.base;
    mnistq_install_errors(&err);
    if (setjmp(err.jump)) {
        result.status = MNISTQ_JPEG_ERROR_CORRUPT;
        snprintf(result.message, sizeof result.message, "%s", err.message);
        jpeg_destroy_compress(&cinfo);
        free(out);
        return result;
    }
    jpeg_create_compress(&cinfo);
    unsigned char *buffer = NULL;
    jpeg_mem_dest(&cinfo, &buffer, &out_size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = components;
    cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : (components == 3 ? JCS_RGB : JCS_CMYK);
    jpeg_set_defaults(&cinfo);
    if (components == 4) jpeg_set_colorspace(&cinfo, ycck ? JCS_YCCK : JCS_CMYK);
    jpeg_set_quality(&cinfo, quality, TRUE);
    if (progressive) jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    size_t stride = (size_t)width * (size_t)components;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * stride);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    out = buffer;
    result.bytes = out;
    result.size = (size_t)out_size;
    jpeg_destroy_compress(&cinfo);
    return result;
}
