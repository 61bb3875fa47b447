// Fuzz target `jpeg`: the JPEG path (libjpeg through the _CJPEG shim, EXIF orientation, DCT-scaled decoding) and
// MNIST-style preprocessing of the result. Input byte 0 chooses full-size or reduced decoding; the rest is the file.
import MNISTQImage

private let limits = DecodeLimits(maxSide: 2048, maxPixels: 1 << 20, maxFileBytes: 1 << 20)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJPEG(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let minimumSide = data[0] & 1 == 0 ? 0 : 28
    guard let image = try? JPEGDecoder.decode(bytes, file: "fuzz", limits: limits, minimumSide: minimumSide) else { return 0 }
    _ = try? Preprocess.mnistStyle(image, file: "fuzz")
    return 0
}
