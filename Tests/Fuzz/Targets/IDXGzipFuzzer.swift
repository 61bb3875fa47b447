// Fuzz target `idx-gzip`: the host's IDX reader behind gunzip (system zlib, bounded output), images and labels.
import MNISTQData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDXGzip(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
        // A small bound keeps each run fast; the bound itself is what is being tested.
        guard let inflated = try? gunzip(bytes, file: "fuzz.gz", maxOutput: 1 << 20) else { return 0 }
        bytes = inflated
    }
    _ = try? IDX.parseImages(bytes, file: "fuzz")
    _ = try? IDX.parseLabels(bytes, file: "fuzz")
    return 0
}
