// Fast kernels (AVX2 and portable Swift) equal the reference kernels bit for bit: every layer, random and real data.
import Foundation
import XCTest
@testable import MNISTQRuntime
import _CZlib

final class KernelNetworkTests: XCTestCase {
    /// Images for the whole-network comparisons: all 10,000 in release builds (how CI runs the tests); a debug build
    /// runs the reference kernels ~50× slower, so it checks the first 1,000.
    #if DEBUG
    static let networkImageCount = 1_000
    #else
    static let networkImageCount = 10_000
    #endif

    /// Real MNIST test images, loaded once (MNIST_DIR, else ../shared/mnist next to the package root).
    static let testImages: Result<[UInt8], any Error> = Result { try kernelLoadMNISTTestImages() }

    func mnistImages() throws -> [UInt8] {
        switch Self.testImages {
        case .success(let images): return images
        case .failure(let error): XCTFail("\(error)"); throw error
        }
    }

    /// Compares every layer's output of both fast kernel sets with the reference; returns the first difference.
    func firstLayerDifference(_ layers: [QuantizedLayer], image: [UInt8]) -> String? {
        let reference = Int8Network(layers: layers)
        let expected = image.withUnsafeBufferPointer { reference.layerOutputs(pixels: $0.baseAddress!, reference: true) }
        for kernels in [Int8Network.Kernels.fastest, .avx2, .portable] {
            let network = Int8Network(layers: layers, kernels: kernels)
            let actual = image.withUnsafeBufferPointer { network.layerOutputs(pixels: $0.baseAddress!, reference: false) }
            for (stage, (e, a)) in zip(expected, actual).enumerated() where e != a {
                let index = e.indices.first { e[$0] != a[$0] } ?? min(e.count, a.count)
                return "\(network.kernelName) layer \(stage) element \(index): fast \(a.count > index ? a[index] : -1), reference \(e.count > index ? e[index] : -1)"
            }
        }
        return nil
    }

    func testEveryLayerOnRandomTensorsWithExtremeValues() {
        var random = SeededGenerator(seed: 11)
        let specialImages: [[UInt8]] = [
            [UInt8](repeating: 0, count: 784), [UInt8](repeating: 255, count: 784),
            (0..<784).map { ($0 / 28 + $0 % 28) % 2 == 0 ? 255 : 0 },
        ]
        for seed in 0..<24 {
            let layers = kernelRandomLayers(seed: UInt64(seed), extremes: true)
            var images = specialImages
            images.append((0..<784).map { _ in random.next() % 3 == 0 ? UInt8(truncatingIfNeeded: random.next()) : 0 })
            images.append((0..<784).map { _ in UInt8(truncatingIfNeeded: random.next()) })
            for (index, image) in images.enumerated() {
                if let difference = firstLayerDifference(layers, image: image) {
                    return XCTFail("layers seed \(seed), image \(index): \(difference)")
                }
            }
        }
    }

    /// All-extreme layers: every weight −128 or 127, biases ±2^30, shifts 1 and 62 — saturation everywhere.
    func testEveryLayerAtRangeEnds() {
        var random = SeededGenerator(seed: 5)
        for variant in 0..<4 {
            let layers = Int8Network.layerShapes.map { shape in
                let count = shape.outputCount * shape.inputCount * (shape.kind == .conv5x5ReluMaxPool ? 25 : 1)
                return QuantizedLayer(
                    kind: shape.kind, outputCount: shape.outputCount, inputCount: shape.inputCount,
                    weights: (0..<count).map { _ in variant == 0 ? -128 : (variant == 1 ? 127 : (random.next() % 2 == 0 ? -128 : 127)) },
                    bias: (0..<shape.outputCount).map { _ in random.next() % 2 == 0 ? 1 << 30 : -(1 << 30) },
                    multiplier: (0..<shape.outputCount).map { _ in random.next() % 2 == 0 ? 1 << 30 : .max },
                    shift: (0..<shape.outputCount).map { _ in [1, 62, 31, 45][Int(random.next() % 4)] },
                    inputScale: 1, outputScale: 1, weightScales: [Float](repeating: 1, count: shape.outputCount))
            }
            for image in [[UInt8](repeating: 255, count: 784), (0..<784).map { _ in UInt8(truncatingIfNeeded: random.next()) }] {
                if let difference = firstLayerDifference(layers, image: image) { return XCTFail("variant \(variant): \(difference)") }
            }
        }
    }

    func testEveryLayerOnRealImages() throws {
        let images = try mnistImages()
        let layers = kernelRandomLayers(seed: 99, extremes: false)
        for index in stride(from: 0, to: 10_000, by: 50) {
            if let difference = firstLayerDifference(layers, image: Array(images[index * 784 ..< (index + 1) * 784])) {
                return XCTFail("test image \(index): \(difference)")
            }
        }
    }

    /// The whole network with a real quantized model ($MNISTQ_MODEL, else samples/mnistq-int8.mnq8): every layer on
    /// 100 real images, scores on all 10,000, fast (every kernel set) == reference.
    func testRealModelFastEqualsReferenceOn10000RealImages() throws {
        let path = ProcessInfo.processInfo.environment["MNISTQ_MODEL"]
            ?? "\(#filePath)".components(separatedBy: "/Tests/MNISTQRuntimeTests/")[0] + "/samples/mnistq-int8.mnq8"
        guard let data = FileManager.default.contents(atPath: path) else {
            return XCTFail("no int8 model at \(path): set MNISTQ_MODEL to an .mnq8 file from `mnistq quantize`")
        }
        let layers = try Model(bytes: [UInt8](data)).layers
        let images = try mnistImages()
        for index in stride(from: 0, to: 10_000, by: 100) {
            if let difference = firstLayerDifference(layers, image: Array(images[index * 784 ..< (index + 1) * 784])) {
                return XCTFail("test image \(index): \(difference)")
            }
        }
        try checkScores(layers: layers, images: images, count: Self.networkImageCount, minimumDistinct: Self.networkImageCount * 9 / 10)
    }

    /// Random valid layers, scores fast == reference on 2,000 real images (200 in debug builds).
    func testNetworkScoresOnRealImagesWithRandomLayers() throws {
        let count = Self.networkImageCount / 5
        try checkScores(layers: kernelRandomLayers(seed: 2024, extremes: false), images: try mnistImages(), count: count,
                        minimumDistinct: count * 9 / 10)
    }

    /// Scores of both fast kernel sets == reference on the first `count` images, with the arena filled with
    /// garbage before every fast call so that stale borders would show.
    func checkScores(layers: [QuantizedLayer], images: [UInt8], count: Int, minimumDistinct: Int) throws {
        let fastest = Int8Network(layers: layers), avx2 = Int8Network(layers: layers, kernels: .avx2), portable = Int8Network(layers: layers, kernels: .portable)
        let arena = UnsafeMutableRawPointer.allocate(byteCount: fastest.arenaByteCount, alignment: 64)
        defer { arena.deallocate() }
        var expected = [Int32](repeating: 0, count: 10), actual = expected
        var distinctScores = Set<[Int32]>()
        try images.withUnsafeBufferPointer { all in
            for index in 0..<count {
                let pixels = all.baseAddress! + index * 784
                fastest.runReference(pixels: pixels, arena: arena, scores: &expected)
                distinctScores.insert(expected)
                for network in [fastest, avx2, portable] {
                    arena.initializeMemory(as: UInt8.self, repeating: 0xA5, count: network.arenaByteCount)
                    network.run(pixels: pixels, arena: arena, scores: &actual)
                    if actual != expected {
                        XCTFail("image \(index), \(network.kernelName): fast \(actual), reference \(expected)")
                        throw KernelTestDataError(message: "stop")
                    }
                }
            }
        }
        // The layers must exercise the network (not saturate to a few constant answers).
        XCTAssertGreaterThan(distinctScores.count, minimumDistinct, "the layers give degenerate scores; the comparison would be weak")
    }

    func testBatchEqualsSingleCallsAndAnyArenaAlignmentWorks() throws {
        let images = Array(try mnistImages()[0 ..< 64 * 784])
        let network = Int8Network(layers: kernelRandomLayers(seed: 3, extremes: false))
        XCTAssertLessThanOrEqual(network.arenaByteCount, 16 * 1024)
        let arena = UnsafeMutableRawPointer.allocate(byteCount: network.arenaByteCount + 64, alignment: 64)
        defer { arena.deallocate() }
        var batchScores = [Int32](repeating: 0, count: 64 * 10)
        network.run(batch: images, count: 64, arena: arena, scores: &batchScores)
        var single = [Int32](repeating: 0, count: 10)
        for index in 0..<64 {
            images.withUnsafeBufferPointer { network.run(pixels: $0.baseAddress! + index * 784, arena: arena + index % 64, scores: &single) }
            XCTAssertEqual(Array(batchScores[index * 10 ..< (index + 1) * 10]), single, "image \(index), arena offset \(index % 64)")
        }
    }
}

/// Random layers of the network's shapes (`ModelFile.validate(firstLayers:checkingValues: false)`). Shifts are chosen so that activations spread over
/// 0...255 for random weights; with `extremes`, some weights are −128/127, and some channels get |bias| = 2^30,
/// multiplier 2^30 or 2^31 − 1, shift 1 or 62.
func kernelRandomLayers(seed: UInt64, extremes: Bool) -> [QuantizedLayer] {
    var random = SeededGenerator(seed: seed)
    return Int8Network.layerShapes.map { shape in
        let count = shape.outputCount * shape.inputCount * (shape.kind == .conv5x5ReluMaxPool ? 25 : 1)
        // Typical |acc| ≈ √K · 74 · 128 (random weights, inputs about half zero); aim the rescale at ≈ 2^7.
        let typicalShift = 30 + Int(Double(shape.inputCount * (shape.kind == .conv5x5ReluMaxPool ? 25 : 1)).squareRoot() * 74 * 128).bitWidthUsed - 7
        func pick(_ odds: UInt64) -> Bool { extremes && random.next() % odds == 0 }
        return QuantizedLayer(
            kind: shape.kind, outputCount: shape.outputCount, inputCount: shape.inputCount,
            weights: (0..<count).map { _ in pick(8) ? (random.next() % 2 == 0 ? -128 : 127) : Int8(truncatingIfNeeded: random.next()) },
            bias: (0..<shape.outputCount).map { _ in
                pick(8) ? (random.next() % 2 == 0 ? 1 << 30 : -(1 << 30)) : Int32(truncatingIfNeeded: random.next() % 200_000) - 100_000
            },
            multiplier: (0..<shape.outputCount).map { _ in
                pick(8) ? (random.next() % 2 == 0 ? 1 << 30 : .max) : Int32(1 << 30) + Int32(random.next() % (1 << 30))
            },
            shift: (0..<shape.outputCount).map { _ in
                pick(10) ? (random.next() % 2 == 0 ? 1 : 62) : Int8(typicalShift - 2 + Int(random.next() % 5))
            },
            inputScale: 1, outputScale: 1, weightScales: [Float](repeating: 1, count: shape.outputCount))
    }
}

extension Int {
    /// Number of bits needed to write a positive value (0 for 0).
    var bitWidthUsed: Int { Int.bitWidth - leadingZeroBitCount }
}

struct KernelTestDataError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// The 10,000 MNIST test images (784 bytes each) from t10k-images-idx3-ubyte.gz in MNIST_DIR, else
/// `<package root>/../shared/mnist`; gunzipped with the system zlib.
func kernelLoadMNISTTestImages() throws -> [UInt8] {
    let directory: String
    if let value = getenv("MNIST_DIR") {
        directory = String(cString: value)
    } else {
        let root = "\(#filePath)".components(separatedBy: "/Tests/MNISTQRuntimeTests/")[0]
        directory = root + "/../shared/mnist"
    }
    let path = directory + "/t10k-images-idx3-ubyte.gz"
    guard let file = fopen(path, "rb") else {
        throw KernelTestDataError(message: "cannot open \(path): set MNIST_DIR to the folder with the MNIST gz files")
    }
    defer { fclose(file) }
    var compressed = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let read = fread(&chunk, 1, chunk.count, file)
        if read <= 0 { break }
        compressed += chunk[0..<read]
    }
    let expectedCount = 16 + 10_000 * 784
    var output = [UInt8](repeating: 0, count: expectedCount + 1)
    var stream = z_stream()
    guard mnistq_inflate_init2(&stream, 16 + 15) == Z_OK else { throw KernelTestDataError(message: "\(path): zlib init failed") }
    defer { inflateEnd(&stream) }
    let status: Int32 = compressed.withUnsafeMutableBufferPointer { input in
        output.withUnsafeMutableBufferPointer { out in
            stream.next_in = input.baseAddress; stream.avail_in = UInt32(input.count)
            stream.next_out = out.baseAddress; stream.avail_out = UInt32(out.count)
            return inflate(&stream, Z_FINISH)
        }
    }
    guard status == Z_STREAM_END, Int(stream.total_out) == expectedCount else {
        throw KernelTestDataError(message: "\(path): gunzip gave status \(status), \(stream.total_out) bytes; expected \(expectedCount)")
    }
    guard output[0] == 0, output[1] == 0, output[2] == 8, output[3] == 3 else {
        throw KernelTestDataError(message: "\(path): not an IDX uint8 image file (magic \(output[0..<4]))")
    }
    return Array(output[16 ..< expectedCount])
}
