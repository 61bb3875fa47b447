// Fuzz target `model-file`: Model(bytes:) on whole files (header, CRC-32, zlib, layers), then one classify.
// A mutated file almost always fails its CRC-32, as it would in the wild. An input whose stored CRC-32 is 0 is also
// tried with the CRC-32 recomputed, which lets the mutations of the header and the zlib stream reach the inflater and
// the payload checks (`model-payload` goes further, past the zlib layer). Only those: inflating 216 KB every run
// would cut the runs per second twentyfold; a generated seed has its CRC-32 zeroed so the fuzzer can take that road.
@testable import MNISTQRuntime

private let pixels = [UInt8](repeating: 0, count: 784)

private func load(_ bytes: [UInt8]) -> ModelError? {
    do {
        let model = try Model(bytes: bytes)
        _ = model.classify(pixels: pixels, scratch: InferenceScratch(for: model))
        return nil
    } catch {
        return error
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard case .crcMismatch? = load(bytes) else { return 0 }
    let covered = bytes.count - ModelFormat.trailerLength
    guard bytes[covered...].allSatisfy({ $0 == 0 }) else { return 0 }
    let crc = bytes.withUnsafeBufferPointer { CRC32.checksum(UnsafeBufferPointer(rebasing: $0[0..<covered])) }
    for index in 0..<4 { bytes[covered + index] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(index))) }
    _ = load(bytes)
    return 0
}
