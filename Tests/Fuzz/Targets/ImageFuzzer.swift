// Fuzz target `image`: format sniffing, the PNG, PGM, raw and IDX (plain or gzip) decoders, and MNIST-style
// preprocessing of every decoded image. JPEG files go to the `jpeg` target, so libjpeg does not slow this one down.
import MNISTQImage

/// Small limits keep every run fast; how the limits are enforced is part of what is tested.
private let limits = DecodeLimits(maxSide: 2048, maxPixels: 1 << 20, maxFileBytes: 1 << 20)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImage(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if ImageDecoder.sniff(bytes) == .jpeg { return 0 }
    guard let decoded = try? ImageDecoder.decode(bytes, file: "fuzz", limits: limits) else { return 0 }
    for image in decoded.images.prefix(3) {
        _ = try? Preprocess.mnistStyle(image, file: "fuzz")
    }
    return 0
}
