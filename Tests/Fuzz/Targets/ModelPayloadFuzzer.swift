// Fuzz target `model-payload`: the model reader after the CRC-32 and zlib layers. Input byte 0 chooses the form:
// bit 0 clear: the rest is an inflated packed payload (ModelFile.decodePayload, then the image encoding and kernels
// of a loaded model); bit 0 set: the rest is the body of an in-place image, which gets a correct header and CRC-32
// here so that InPlaceModel's own checks (padding, weights, constants, metadata) are what the mutations meet.
// Bit 1 set (packed form): an accepted model's fast kernels are also compared with the reference kernels. That
// costs 5 times the rest of a run (the reference kernels are Swift, instrumented), so it is the fuzzer's choice.
// Bit 2 set: the header's out-of-distribution flag (bit 1) is set, so the section after the layer records is read
// and checked too.
@testable import MNISTQRuntime

private let pixels: [UInt8] = (0..<784).map { UInt8(truncatingIfNeeded: $0 &* 37) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelPayload(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    if data[0] & 1 == 0 {
        guard let model = try? Model(payload: body, hasOutOfDistributionSection: data[0] & 4 != 0) else { return 0 }
        let scratch = InferenceScratch(for: model)
        let fast = model.classify(pixels: pixels, scratch: scratch)
        guard data[0] & 2 != 0 else { return 0 }
        let reference = pixels.withUnsafeBufferPointer { model.classifyReference(pixels: $0, scratch: scratch) }
        // Every accepted model must give the same scores on the fast and the reference kernels.
        if fast.scores != reference.scores { fatalError("fast and reference kernels disagree on an accepted model") }
    } else {
        let image = inPlaceImage(body: body, outOfDistribution: data[0] & 4 != 0)
        image.withUnsafeBytes { raw in
            // The image must start at the format's alignment, as a memory map or flash image would.
            let aligned = UnsafeMutableRawBufferPointer.allocate(byteCount: max(raw.count, 1), alignment: ModelFormat.inPlaceAlignment)
            defer { aligned.deallocate() }
            aligned.copyMemory(from: raw)
            let view = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(aligned)[0..<raw.count])
            guard let model = try? InPlaceModel(borrowing: view) else { return }
            let arena = UnsafeMutableRawPointer.allocate(byteCount: InPlaceModel.arenaByteCount, alignment: 64)
            defer { arena.deallocate() }
            var scores = [Int32](repeating: 0, count: 10)
            pixels.withUnsafeBufferPointer { p in
                scores.withUnsafeMutableBufferPointer { s in
                    model.classify(pixels: p.baseAddress!, arena: arena, scores: s.baseAddress!)
                }
            }
        }
    }
    return 0
}

/// An in-place image around `body`: header with the in-place flag and the body's length, the body, CRC-32.
private func inPlaceImage(body: [UInt8], outOfDistribution: Bool) -> [UInt8] {
    var file = ModelFormat.magic
    file.appendLittleEndian(ModelFormat.currentVersion)
    file.appendLittleEndian(ModelFormat.inPlaceFlag | (outOfDistribution ? ModelFormat.outOfDistributionFlag : 0))
    file.appendLittleEndian(UInt32(ModelFormat.inPlaceHeaderLength))
    file.appendLittleEndian(UInt32(body.count))
    file.appendLittleEndian(UInt32(body.count))
    while file.count < ModelFormat.inPlaceHeaderLength { file.append(0) }
    file += body
    file.appendLittleEndian(CRC32.checksum(file))
    return file
}
