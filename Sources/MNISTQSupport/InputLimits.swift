// Every bound on untrusted input in one place, each with its reason. The modules that enforce them refer here.

/// The limits on what mnistq reads: image files for `classify`, IDX data sets, model files, and the sizes of work.
///
/// The classify limits all follow from one number, the pixel limit: no file of an accepted image can need more bytes
/// than its pixels plus a header, so a bigger file (or a gzip stream inflating past that) is refused while it is
/// read, and a `classify --jobs N` run holds at most N inputs at a time. A hostile input (`/dev/zero`, a gzip bomb)
/// therefore stops at one `imageFileBytes` of memory, about 65 MB per worker; an accepted 64-megapixel file costs
/// its file bytes plus one byte per decoded pixel.
@usableFromInline package enum InputLimits {
    // MARK: Images (`classify`, MNISTQImage's DecodeLimits.standard: `@usableFromInline`, since its
    // public initialiser's default arguments name them)

    /// Pixels of one image file: 64 Mi (8192 × 8192), all images of an IDX or raw file together. A photo of a digit
    /// needs far fewer (MNIST digits are 28 × 28 and every input is scaled down to that); 64 MP admits any phone
    /// camera's full-size picture, and at one byte per decoded grayscale pixel it caps a decoded file at 64 MiB.
    @usableFromInline package static let imagePixels = 64 << 20
    /// Width or height of one image: 16,384. Admits panoramas and scans, and keeps the row buffer of any decoder (up
    /// to 8 bytes per pixel, for 16-bit RGBA PNG) at 128 KiB.
    @usableFromInline package static let imageSide = 16_384
    /// Bytes of one image file as read, and of a gzip-compressed IDX image file once inflated: the pixel limit plus
    /// 1 MiB. The largest accepted file is an uncompressed raw or IDX file, its pixels plus a 16-byte header;
    /// PNG and JPEG files of an accepted size are smaller. Anything bigger is refused at this many bytes, without
    /// reading on (a device, a pipe or a growing file), so reading one input never costs more than this.
    @usableFromInline package static let imageFileBytes = imagePixels + (1 << 20)

    // MARK: Data sets (`train`, `eval`, `quantize`: MNISTQData's IDX reader)

    /// Bytes of one IDX data set file, as read and once inflated: 256 MiB. MNIST's largest (the training images)
    /// is 47 MB; the bound is far above it and still keeps a corrupt header or a gzip bomb from exhausting memory.
    /// A data set is read once per run, not once per worker.
    package static let datasetBytes = 256 << 20
    /// Width or height of the images of an IDX data set: 4096 (MNIST: 28). The image count is bounded by
    /// `datasetBytes` divided by the image size, checked against the header before anything is allocated.
    package static let datasetSide = 4096

    // MARK: Models

    /// Bytes of a model file found by `--model` or the model search: 64 MiB, so a wrong path cannot make mnistq read a
    /// huge file. A packed int8 model is about 190 KB; the runtime itself refuses any payload over 4 MiB
    /// (`ModelFormat.maximumPayloadLength`, in MNISTQRuntime, which depends on nothing and so keeps its own limits:
    /// at most 256 metadata entries, keys of at most 256 bytes).
    package static let modelFileBytes = 64 << 20

    // MARK: Work sizes (CLI options)

    /// Threads of `train --threads` and workers of `classify --jobs`: 1...256. More threads than that only add
    /// per-thread memory (a scratch arena, one input in flight) with no speed to gain.
    package static let threads = 1...256
    /// Images per training step (`train --batch-size`): 1...60,000, the size of MNIST's training set.
    package static let trainingBatch = 1...60_000
}
