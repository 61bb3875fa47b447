#include <stdio.h>
#include <jpeglib.h>
#include "_CJPEG.h"
int mnistq_jpeg_shim_version(void) { return JPEG_LIB_VERSION; }
