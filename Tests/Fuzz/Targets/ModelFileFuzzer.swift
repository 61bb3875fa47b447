// Fuzz target `model-file`: Model(bytes:) on whole files (header, CRC-32, zlib, layers), then one classify.
// Most mutations stop at the CRC-32, as they would in the wild; `model-payload` goes past it.
@testable import MNISTQRuntime

private let pixels = [UInt8](repeating: 0, count: 784)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let model = try? Model(bytes: bytes) else { return 0 }
    _ = model.classify(pixels: pixels, scratch: InferenceScratch(for: model))
    return 0
}
