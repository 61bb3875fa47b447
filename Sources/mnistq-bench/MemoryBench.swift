// Benchmark: heap held after loading a model, hosted `Model(bytes:)` against `InPlaceModel(borrowing:)` (mallinfo2).
import Foundation
import MNISTQRuntime
import _CHeapStats

/// Usage: memory [--model FILE.mnq8]. Heap in use (glibc mallinfo2: in-use and mmapped chunks) after each loader returns, with the
/// file's bytes already freed (hosted) or still held by the caller (in place, where they are the model).
func runMemoryBench(_ arguments: [String]) throws {
    var modelPath = "samples/mnistq-int8.mnq8"
    if arguments.count == 2 && arguments[0] == "--model" {
        modelPath = arguments[1]
    } else if !arguments.isEmpty {
        throw BenchError.usage("usage: mnistq-bench memory [--model FILE.mnq8]")
    }
    let packed = try readBenchModelFile(modelPath)
    func heapInUse() -> Int { mnistq_heap_bytes_in_use() }

    // Hosted: the file is read, loaded, then dropped; what remains is the model.
    let before = heapInUse()
    var model: Model? = try { () throws -> Model in
        let bytes = packed.map { $0 }  // a private copy, freed when this closure returns
        return try Model(bytes: bytes)
    }()
    let hosted = heapInUse() - before
    // The file's bytes must outlive the measurement: freed early by the optimizer, they would count against the model.
    withExtendedLifetime(packed) {}
    let kernel = model.map { "\($0.kernelName)" } ?? "?", scratch = model?.arenaByteCount ?? 0
    let image = try InPlaceImage.encode(layers: model!.layers, metadata: model!.metadata,
                                        outOfDistribution: model!.outOfDistributionCalibration)
    model = nil

    // In place: the image is the caller's (flash, a memory map); the loader adds nothing.
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: image.count, alignment: ModelFormat.inPlaceAlignment)
    defer { buffer.deallocate() }
    buffer.copyBytes(from: image)
    let beforeInPlace = heapInUse()
    let view = try InPlaceModel(borrowing: UnsafeRawBufferPointer(buffer))
    let inPlace = heapInUse() - beforeInPlace
    print("""
    model: \(modelPath) (\(packed.count) bytes packed, \(image.count) bytes in-place image)
    Model(bytes:)                 heap after load: \(hosted) bytes (kernels: \(kernel)); scratch per thread: \(scratch) bytes
    InPlaceModel(borrowing:)      heap after load: \(inPlace) bytes (kernels: \(view.kernelName)); arena per thread: \(InPlaceModel.arenaByteCount) bytes; the image itself: \(image.count) bytes, the caller's
    """)
}
