// C shim over the system libjpeg (owned by the image-decoding work; see Sources/MNISTQImage).
#ifndef MNISTQ_CJPEG_H
#define MNISTQ_CJPEG_H
#include <stddef.h>
int mnistq_jpeg_shim_version(void);
#endif
