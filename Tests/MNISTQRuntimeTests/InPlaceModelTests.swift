// The in-place image and InPlaceModel: byte-exact round trips, scores equal to the reference on every kernel path,
// no allocation from load through classify, one specific error per kind of damage, and the C API over them.
#if canImport(_CAllocationCounter)
import _CAllocationCounter
#endif
@testable import MNISTQRuntime
import XCTest

/// An in-place image copied into memory aligned as firmware or a memory map would hold it (plus an offset, to test
/// misalignment). Freed on deinit.
final class AlignedImage {
    let storage: UnsafeMutableRawBufferPointer
    let bytes: UnsafeRawBufferPointer
    init(_ image: [UInt8], offset: Int = 0) {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: image.count + offset, alignment: 64)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        image.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: storage[offset...]).copyMemory(from: $0) }
        self.storage = storage
        bytes = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(storage)[offset...])
    }
    deinit { storage.deallocate() }
}

final class InPlaceModelTests: XCTestCase {
    static let sampleModelPath = "\(packageRoot)/samples/mnistq-int8.mnq8"

    func sampleModel() throws -> Model {
        guard let data = FileManager.default.contents(atPath: Self.sampleModelPath) else {
            throw KernelTestDataError(message: "no sample model at \(Self.sampleModelPath)")
        }
        return try Model(bytes: [UInt8](data))
    }

    /// Layers whose values sit at the ends of every range the format allows (weights ±127, |bias| 2^30, multipliers
    /// 2^30 and 2^31 − 1, shifts 1 and 62) among ordinary ones.
    func extremeValidLayers(seed: UInt64) -> [QuantizedLayer] {
        kernelRandomLayers(seed: seed, extremes: true).map { layer in
            var layer = layer
            layer.weights = layer.weights.map { max(-127, $0) }
            return layer
        }
    }

    // MARK: - Format

    func testRoundTripIsByteExactAndTheHostedLoaderReadsImages() throws {
        let layers = syntheticLayers(seed: 7)
        let image = try InPlaceImage.encode(layers: layers, metadata: syntheticMetadata)
        let aligned = AlignedImage(image)
        let model = try InPlaceModel(borrowing: aligned.bytes)
        let decoded = model.decoded()
        XCTAssertEqual(decoded.layers, layers)
        XCTAssertEqual(decoded.metadata.map { [$0.key, $0.value] }, syntheticMetadata.map { [$0.key, $0.value] })
        XCTAssertEqual(try InPlaceImage.encode(layers: decoded.layers, metadata: decoded.metadata), image, "re-encoding is byte-exact")
        // Header: flag bit 0, 64-byte header, payload stored as is, CRC at the end.
        XCTAssertEqual(model.header.flags, ModelFormat.inPlaceFlag)
        XCTAssertEqual(model.header.headerLength, 64)
        XCTAssertEqual(model.header.payloadLength, model.header.compressedLength)
        XCTAssertEqual(image.count, 64 + Int(model.header.payloadLength) + 4)
        // Sections 64-byte aligned; the weights fill the bytes the spec gives them.
        for layer in 0..<5 {
            XCTAssertEqual(InPlaceImage.weightOffset(of: layer) % 64, 0)
            XCTAssertEqual(InPlaceImage.constantsOffset(of: layer) % 64, 0)
        }
        XCTAssertEqual(InPlaceImage.weightOffset(of: 0), 64)
        XCTAssertEqual(InPlaceImage.metadataOffset, 216_320, "the spec's table of offsets")
        // Model(bytes:) accepts the image and holds exactly the same model as from the packed file.
        let packed = try Model(bytes: try ModelFile.encode(layers: layers, metadata: syntheticMetadata, deflate: zlibDeflate))
        let hosted = try Model(bytes: image)
        XCTAssertEqual(hosted.layers, packed.layers)
        XCTAssertEqual(hosted.metadata.map { [$0.key, $0.value] }, packed.metadata.map { [$0.key, $0.value] })
        XCTAssertEqual(InPlaceImage.imageLength(ofPacked: packed.header), image.count, "size from the packed header alone")
    }

    // MARK: - Scores

    /// The sample model on all 10,000 test images: both kernel paths of the in-place model equal the reference
    /// kernels (the definition of the results) and the hosted model's fast path, score for score.
    func testSampleModelScoresEqualReferenceOnAllTestImagesOnEveryPath() throws {
        let model = try sampleModel()
        let aligned = AlignedImage(try InPlaceImage.encode(layers: model.layers, metadata: model.metadata))
        let fastest = try InPlaceModel(borrowing: aligned.bytes), portable = try InPlaceModel(borrowing: aligned.bytes, kernels: .portable)
        let vector = try InPlaceModel(borrowing: aligned.bytes, kernels: .vector)
        XCTAssertEqual(portable.kernelName.description, "portable-c")
        XCTAssertEqual(vector.kernelName.description, "vector", "this 64-bit host builds the generic-vector kernels")
        let images = try kernelLoadMNISTTestImages()
        let scratch = InferenceScratch(byteCount: max(model.arenaByteCount, InPlaceModel.arenaByteCount))
        var mismatches = 0
        images.withUnsafeBufferPointer { all in
            for index in 0..<10_000 {
                let pixels = UnsafeBufferPointer(rebasing: all[(index * 784)..<((index + 1) * 784)])
                let reference = model.classifyReference(pixels: pixels, scratch: scratch)
                for (name, result) in [("hosted", model.classify(pixels: pixels, scratch: scratch)),
                                       (fastest.kernelName.description, fastest.classify(pixels: pixels, scratch: scratch)),
                                       ("portable-c", portable.classify(pixels: pixels, scratch: scratch)),
                                       ("vector", vector.classify(pixels: pixels, scratch: scratch))]
                where result.scores != reference.scores {
                    mismatches += 1
                    if mismatches <= 5 { XCTFail("image \(index), \(name): \(Array(result.scores)) != reference \(Array(reference.scores))") }
                }
            }
        }
        XCTAssertEqual(mismatches, 0)
    }

    /// The hosted Model on each of its paths (VNNI, AVX2 with its paired conv weights, vector, portable) equals the reference
    /// on 1,000 real images, and batches equal single calls.
    func testHostedModelEveryPathEqualsReference() throws {
        guard let data = FileManager.default.contents(atPath: Self.sampleModelPath) else { return XCTFail("no sample model") }
        let images = try kernelLoadMNISTTestImages()
        let models = try [ModelKernels.fastest, .avx2, .vector, .portable].map { try Model(bytes: [UInt8](data), kernels: $0) }
        let scratch = InferenceScratch(byteCount: models.map(\.arenaByteCount).max()!)
        let reference = Int8Network(layers: models[0].layers)
        let arena = UnsafeMutableRawPointer.allocate(byteCount: reference.arenaByteCount, alignment: 64)
        defer { arena.deallocate() }
        var expected = [Int32](repeating: 0, count: 10)
        try images.withUnsafeBufferPointer { all in
            for model in models {
                let batch = UnsafeMutableBufferPointer<Classification>.allocate(capacity: 1_000)
                defer { batch.deallocate() }
                model.classifyBatch(pixels: UnsafeBufferPointer(rebasing: all[0..<(1_000 * 784)]), scratch: scratch, into: batch)
                for index in 0..<1_000 {
                    reference.runReference(pixels: all.baseAddress! + index * 784, arena: arena, scores: &expected)
                    let one = model.classify(pixels: UnsafeBufferPointer(rebasing: all[(index * 784)..<((index + 1) * 784)]), scratch: scratch)
                    guard Array(one.scores) == expected, batch[index] == one else {
                        XCTFail("\(model.kernelName), image \(index): \(Array(one.scores)) vs reference \(expected)")
                        throw KernelTestDataError(message: "stop")
                    }
                }
            }
        }
        XCTAssertEqual(models.map { $0.kernelName.description }.suffix(2), ["vector", "portable-c"])
    }

    /// Layers at the ends of every range, on real images and on all-black, all-white and noise images, with the
    /// arena filled with garbage before each call: every path equals the reference kernels.
    func testExtremeLayersEqualReferenceOnEveryPath() throws {
        let images = try kernelLoadMNISTTestImages()
        var probes = [[UInt8]](repeating: [UInt8](repeating: 0, count: 784), count: 1) + [[UInt8](repeating: 255, count: 784)]
        var random = SeededGenerator(seed: 99)
        for _ in 0..<30 { probes.append((0..<784).map { _ in UInt8(truncatingIfNeeded: random.next()) }) }
        for index in stride(from: 0, to: 10_000, by: 25) { probes.append(Array(images[(index * 784)..<((index + 1) * 784)])) }
        for seed: UInt64 in [11, 12, 13] {
            let layers = extremeValidLayers(seed: seed)
            let reference = Int8Network(layers: layers)
            let aligned = AlignedImage(try InPlaceImage.encode(layers: layers, metadata: []))
            let paths = try [InPlaceModel.Kernels.fastest, .vector, .portable].map { try InPlaceModel(borrowing: aligned.bytes, kernels: $0) }
            // Each classify gets the arena at offset probe % 64 (any alignment must work) and needs arenaByteCount bytes
            // from there: 64 more than the largest arena (AddressSanitizer caught the portable path 1 byte past a
            // buffer without them).
            let arena = UnsafeMutableRawPointer.allocate(byteCount: max(reference.arenaByteCount, InPlaceModel.arenaByteCount) + 64, alignment: 64)
            defer { arena.deallocate() }
            var expected = [Int32](repeating: 0, count: 10), actual = expected
            var distinct = Set<[Int32]>()
            for (probe, pixels) in probes.enumerated() {
                pixels.withUnsafeBufferPointer { reference.runReference(pixels: $0.baseAddress!, arena: arena, scores: &expected) }
                distinct.insert(expected)
                for path in paths {
                    arena.initializeMemory(as: UInt8.self, repeating: 0xA5, count: InPlaceModel.arenaByteCount)
                    pixels.withUnsafeBufferPointer { path.classify(pixels: $0.baseAddress!, arena: arena + probe % 64, scores: &actual) }
                    XCTAssertEqual(actual, expected, "seed \(seed), probe \(probe), \(path.kernelName)")
                }
            }
            XCTAssertGreaterThan(distinct.count, probes.count / 2, "seed \(seed): degenerate scores would make a weak comparison")
        }
    }

    /// The vector kernels skip work on exact zeros (conv1: blank kernel rows and windows; conv2: inputs equal to the
    /// background vector it takes from the top-left interior position; blank windows are copies). Images that would
    /// catch a wrong skip: all zero, one pixel at every corner, edge midpoint and a grid over the image (the windows
    /// and edge classes each pixel reaches), lines along every border, a non-zero top-left corner (so that conv2's
    /// background is not the digit's), dense noise, and real digits with their corner set: on the sample model and on
    /// extreme layers, the vector path equals the reference kernels.
    func testVectorZeroSkippingEqualsReferenceOnSparseAndDenseImages() throws {
        let side = ModelFormat.inputSide, blank = [UInt8](repeating: 0, count: side * side)
        func image(_ pixels: [(Int, Int)], value: UInt8 = 255) -> [UInt8] {
            var image = blank
            for (y, x) in pixels { image[y * side + x] = value }
            return image
        }
        let last = side - 1, middle = side / 2
        var probes = [blank]
        for (y, x) in [(0, 0), (0, last), (last, 0), (last, last), (0, middle), (last, middle), (middle, 0), (middle, last)] {
            probes.append(image([(y, x)]))
            probes.append(image([(y, x)], value: 1))
        }
        for y in stride(from: 0, to: side, by: 3) { for x in stride(from: 1, to: side, by: 4) { probes.append(image([(y, x)])) } }
        for line in 0..<4 {
            probes.append(image((0..<side).map { [(0, $0), (last, $0), ($0, 0), ($0, last)][line] }, value: 200))
        }
        probes.append(image([(0, 0), (0, 1), (1, 0), (1, 1), (middle, middle)]))
        var random = SeededGenerator(seed: 2026)
        for _ in 0..<8 { probes.append((0..<(side * side)).map { _ in UInt8(truncatingIfNeeded: random.next()) }) }
        for _ in 0..<8 { probes.append((0..<(side * side)).map { _ in random.next() % 8 == 0 ? UInt8(truncatingIfNeeded: random.next()) : 0 }) }
        let images = try kernelLoadMNISTTestImages()
        for index in stride(from: 7, to: 10_000, by: 500) {
            var digit = Array(images[(index * 784)..<((index + 1) * 784)])
            probes.append(digit)
            digit[0] = 255
            probes.append(digit)
        }
        let sample = try sampleModel().layers
        for (name, layers) in [("sample", sample), ("extreme 21", extremeValidLayers(seed: 21)), ("extreme 22", extremeValidLayers(seed: 22))] {
            let reference = Int8Network(layers: layers)
            let aligned = AlignedImage(try InPlaceImage.encode(layers: layers, metadata: []))
            let vector = try InPlaceModel(borrowing: aligned.bytes, kernels: .vector)
            XCTAssertEqual(vector.kernelName.description, "vector")
            let arena = UnsafeMutableRawPointer.allocate(byteCount: max(reference.arenaByteCount, InPlaceModel.arenaByteCount), alignment: 64)
            defer { arena.deallocate() }
            var expected = [Int32](repeating: 0, count: 10), actual = expected
            for (probe, pixels) in probes.enumerated() {
                pixels.withUnsafeBufferPointer { reference.runReference(pixels: $0.baseAddress!, arena: arena, scores: &expected) }
                arena.initializeMemory(as: UInt8.self, repeating: 0x5A, count: InPlaceModel.arenaByteCount)
                pixels.withUnsafeBufferPointer { vector.classify(pixels: $0.baseAddress!, arena: arena, scores: &actual) }
                XCTAssertEqual(actual, expected, "\(name), probe \(probe)")
            }
        }
    }

    /// `classify(batch:)` runs the linear layers for 4 images at once on VNNI and on the vector kernels (each weight
    /// row read once per group): batches of 1 to 9 images (full groups and every tail), mixing digits, blank images
    /// and dense noise, at any arena alignment, equal the reference kernels image by image on the sample model and
    /// on extreme layers (the batch kernels' sums at the ends of their ranges), on every path.
    func testBatchesOfOneToNineEqualReferenceOnEveryPath() throws {
        let pixelCount = ModelFormat.inputPixelCount
        let images = try kernelLoadMNISTTestImages()
        var random = SeededGenerator(seed: 4_040)
        var pool: [UInt8] = []
        for index in 0..<12 {
            switch index % 4 {
            case 1: pool += (0..<pixelCount).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            case 3: pool += [UInt8](repeating: index == 3 ? 0 : 255, count: pixelCount)
            default: pool += images[(index * 97 * pixelCount)..<((index * 97 + 1) * pixelCount)]
            }
        }
        let sample = try sampleModel().layers
        for (name, layers) in [("sample", sample), ("extreme 31", extremeValidLayers(seed: 31)), ("extreme 32", extremeValidLayers(seed: 32))] {
            let reference = Int8Network(layers: layers)
            let aligned = AlignedImage(try InPlaceImage.encode(layers: layers, metadata: []))
            let paths = try [InPlaceModel.Kernels.fastest, .vector, .portable].map { try InPlaceModel(borrowing: aligned.bytes, kernels: $0) }
            XCTAssertEqual(paths[1].kernelName.description, "vector")
            let arena = UnsafeMutableRawPointer.allocate(byteCount: max(reference.arenaByteCount, InPlaceModel.arenaByteCount) + 64, alignment: 64)
            defer { arena.deallocate() }
            var expected = [Int32](repeating: 0, count: 12 * 10)
            pool.withUnsafeBufferPointer { px in
                for image in 0..<12 {
                    expected.withUnsafeMutableBufferPointer {
                        reference.runReference(pixels: px.baseAddress! + image * pixelCount, arena: arena, scores: $0.baseAddress! + image * 10)
                    }
                }
                for path in paths {
                    for count in 1...9 {
                        let first = count % 4 // batches start at different images, so each group mixes kinds differently
                        var actual = [Int32](repeating: -1, count: count * 10)
                        arena.initializeMemory(as: UInt8.self, repeating: 0xA5, count: InPlaceModel.arenaByteCount + 64)
                        path.classify(batch: px.baseAddress! + first * pixelCount, count: count, arena: arena + count * 7 % 64, scores: &actual)
                        XCTAssertEqual(actual, Array(expected[(first * 10)..<((first + count) * 10)]), "\(name), \(path.kernelName), batch of \(count)")
                    }
                }
            }
        }
    }

    // MARK: - Memory

    #if canImport(_CAllocationCounter)
    func testNoAllocationFromLoadThroughClassify() throws {
        try XCTSkipUnless(mnistq_allocation_counting_available() != 0, "allocation counting is off under a sanitizer, which owns malloc")
        let model = try sampleModel()
        let aligned = AlignedImage(try InPlaceImage.encode(layers: model.layers, metadata: model.metadata))
        let pixels = try Array(kernelLoadMNISTTestImages()[0..<(100 * 784)])
        let arena = UnsafeMutableRawPointer.allocate(byteCount: InPlaceModel.arenaByteCount, alignment: 1)
        defer { arena.deallocate() }
        var scores = [Int32](repeating: 0, count: 10)
        let handle = UnsafeMutableRawPointer.allocate(byteCount: 32, alignment: 8)
        defer { handle.deallocate() }
        try pixels.withUnsafeBufferPointer { all in
            try scores.withUnsafeMutableBufferPointer { out in
                mnistq_allocation_count_begin()
                for kernels in [InPlaceModel.Kernels.fastest, .vector, .portable] {
                    let view = try InPlaceModel(borrowing: aligned.bytes, kernels: kernels)
                    for image in 0..<100 { view.classify(pixels: all.baseAddress! + image * 784, arena: arena, scores: out.baseAddress!) }
                }
                let status = mnistq_model_init(handle, aligned.bytes.baseAddress, aligned.bytes.count)
                let classified = mnistq_classify(handle, all.baseAddress, arena, InPlaceModel.arenaByteCount, out.baseAddress, nil)
                let allocations = mnistq_allocation_count_end()
                XCTAssertEqual(status, 0)
                XCTAssertEqual(classified, 0)
                XCTAssertEqual(allocations, 0, "load and 300 classify calls must not allocate")
            }
        }
    }
    #endif

    // MARK: - Bad input

    func testEachKindOfDamageHasItsOwnError() throws {
        let layers = syntheticLayers(seed: 3)
        let good = try InPlaceImage.encode(layers: layers, metadata: syntheticMetadata)
        let end = good.count - 4
        assertRejects(Array(good.dropLast()), .truncated(length: good.count - 1, expected: good.count), "truncated")
        assertRejects(good + [0], .trailingBytes(length: good.count + 1, expected: good.count), "trailing byte")
        assertRejects(Array(good.prefix(3)), .fileTooShort(length: 3, minimum: 24), "3 bytes")
        var damaged = good; damaged[100_000] ^= 1
        assertRejects(damaged, .crcMismatch(stored: CRC32.checksum(Array(good[0..<end])), computed: CRC32.checksum(Array(damaged[0..<end]))), "bit flip")
        damaged = good; damaged.setLE(UInt16(5), at: 6)
        assertRejects(damaged, .unknownFlags(found: 5, known: 3), "unknown flag")
        damaged = good; damaged.setLE(UInt32(20), at: 8)
        assertRejects(damaged, .badHeaderLength(found: 20, expected: 64), "in-place header length")
        damaged = good; damaged.setLE(UInt32(1000), at: 16)
        assertRejects(damaged, .storedLengthMismatch(stored: 1000, payload: UInt32(end - 64)), "stored length")
        // A packed file where an image is needed.
        let packed = try ModelFile.encode(layers: layers, metadata: syntheticMetadata, deflate: zlibDeflate)
        assertRejects(packed, .notInPlace, "packed file")
        // Misaligned: the same bytes one byte further on.
        let shifted = AlignedImage(good, offset: 1)
        XCTAssertThrowsError(try InPlaceModel(borrowing: shifted.bytes)) { error in
            XCTAssertEqual(error as? ModelError, .misaligned(address: UInt(bitPattern: shifted.bytes.baseAddress), alignment: 16))
        }
        // Structural damage behind a valid CRC.
        let fc1 = InPlaceImage.weightOffset(of: 2)
        damaged = good; damaged[fc1 + 10] = 0x80
        assertRejects(resealed(damaged), .weightOutOfRange(layer: "fc1", index: 10, found: -128), "weight -128")
        damaged = good; damaged[InPlaceImage.weightOffset(of: 0) + 64 + 1] = 5
        assertRejects(resealed(damaged), .nonZeroPadding(offset: 64 + 64 + 1, found: 5), "conv1 tap kx = 5")
        damaged = good; damaged[30] = 1
        assertRejects(resealed(damaged), .nonZeroPadding(offset: 30, found: 1), "header padding")
        damaged = good; damaged.setLE(UInt32(0), at: InPlaceImage.multiplierOffset(of: 1) + 4 * 5)
        assertRejects(resealed(damaged), .multiplierOutOfRange(layer: "conv2", channel: 5, found: 0), "multiplier")
        damaged = good; damaged[InPlaceImage.shiftOffset(of: 3) + 2] = 63
        assertRejects(resealed(damaged), .shiftOutOfRange(layer: "fc2", channel: 2, found: 63), "shift")
        damaged = good; damaged.setLE(UInt32((1 << 30) + 1), at: InPlaceImage.biasOffset(of: 4) + 4 * 9)
        assertRejects(resealed(damaged), .biasOutOfRange(layer: "fc3", channel: 9, found: (1 << 30) + 1), "bias")
        damaged = good; damaged.setLE(Float.nan.bitPattern, at: InPlaceImage.outputScaleOffset(of: 0))
        let nanScale = AlignedImage(resealed(damaged))
        XCTAssertThrowsError(try InPlaceModel(borrowing: nanScale.bytes)) { error in
            guard case .invalidScale(layer: "conv1", field: "outputScale", _)? = error as? ModelError else { return XCTFail("\(error)") }
        }
        damaged = good; damaged[InPlaceImage.shiftOffset(of: 4) + 10] = 7  // padding after fc3's 10 shifts
        assertRejects(resealed(damaged), .nonZeroPadding(offset: InPlaceImage.shiftOffset(of: 4) + 10, found: 7), "shift padding")
        // Metadata: a duplicate key, invalid UTF-8, a count beyond the payload.
        let duplicate = try InPlaceImage.encode(layers: layers, metadata: [("a", "1"), ("b", "2")])
        damaged = duplicate; damaged[InPlaceImage.metadataOffset + 4 + 4 + 1 + 4 + 1 + 4] = UInt8(ascii: "a")
        assertRejects(resealed(damaged), .badMetadata(index: 1, reason: "duplicate key; keys must be unique"), "duplicate key")
        damaged = duplicate; damaged[InPlaceImage.metadataOffset + 4 + 4] = 0xFF
        assertRejects(resealed(damaged), .badMetadata(index: 0, reason: "key is not valid UTF-8"), "invalid UTF-8")
        damaged = duplicate; damaged.setLE(UInt32(3), at: InPlaceImage.metadataOffset)
        assertRejects(resealed(damaged), .payloadTruncated(field: "metadata key length"), "metadata count too large")
    }

    /// 3,000 random damages behind a valid CRC: each is rejected with a ModelError or, when the damage left a valid
    /// model (e.g. a weight changed to another valid value), the model runs and matches its own decoded reference.
    func testRandomDamageNeverCrashes() throws {
        let good = try InPlaceImage.encode(layers: syntheticLayers(seed: 5), metadata: syntheticMetadata)
        var random = SeededGenerator(seed: 77)
        var rejected = 0, accepted = 0
        let pixels = [UInt8]((0..<784).map { UInt8(truncatingIfNeeded: $0 * 7) })
        for _ in 0..<3_000 {
            var damaged = good
            // Half the damage lands anywhere (mostly weights), half in the header, constants and metadata.
            let constants = InPlaceImage.constantsOffset(of: 0), tail = good.count - 4 - constants
            for _ in 0..<Int(1 + random.next() % 3) {
                let anywhere = Int(random.next() % UInt64(good.count - 4))
                let structured = random.next() % 8 == 0 ? Int(random.next() % 64) : constants + Int(random.next() % UInt64(tail))
                damaged[random.next() % 2 == 0 ? anywhere : structured] = UInt8(truncatingIfNeeded: random.next())
            }
            let aligned = AlignedImage(resealed(damaged))
            do {
                let view = try InPlaceModel(borrowing: aligned.bytes, kernels: .portable)
                accepted += 1
                if accepted % 50 == 1 {
                    let reference = Int8Network(layers: view.decoded().layers)
                    var expected = [Int32](repeating: 0, count: 10), actual = expected
                    let arena = UnsafeMutableRawPointer.allocate(byteCount: InPlaceModel.arenaByteCount + reference.arenaByteCount, alignment: 64)
                    defer { arena.deallocate() }
                    reference.runReference(pixels: pixels, arena: arena, scores: &expected)
                    view.classify(pixels: pixels, arena: arena, scores: &actual)
                    XCTAssertEqual(actual, expected)
                }
            } catch {
                rejected += 1
            }
        }
        XCTAssertGreaterThan(rejected, 300, "damage to constants, header and metadata is mostly caught")
        XCTAssertGreaterThan(accepted, 300, "most changes to weights leave a valid model")
    }

    // MARK: - C API

    func testCInterface() throws {
        let model = try sampleModel()
        let image = try InPlaceImage.encode(layers: model.layers, metadata: model.metadata)
        let aligned = AlignedImage(image)
        let handle = UnsafeMutableRawPointer.allocate(byteCount: 32, alignment: 8)
        defer { handle.deallocate() }
        let arenaSize = mnistq_arena_size()
        XCTAssertEqual(arenaSize, InPlaceModel.arenaByteCount)
        XCTAssertLessThanOrEqual(arenaSize, 21 * 1024, "the arena is what a microcontroller must spare (RAM budget 32 KB)")
        let arena = UnsafeMutableRawPointer.allocate(byteCount: arenaSize, alignment: 1)
        defer { arena.deallocate() }
        var scores = [Int32](repeating: 0, count: 10)
        var digit: Int32 = -1
        let pixels = Array(try kernelLoadMNISTTestImages()[0..<(64 * 784)])

        // Not loaded, NULLs, bad bytes: codes, never a crash.
        handle.initializeMemory(as: UInt8.self, repeating: 0, count: 32)
        XCTAssertEqual(mnistq_classify(handle, pixels, arena, arenaSize, &scores, &digit), 17)
        XCTAssertEqual(mnistq_model_init(nil, aligned.bytes.baseAddress, image.count), 1)
        XCTAssertEqual(mnistq_model_init(handle, nil, image.count), 1)
        XCTAssertEqual(mnistq_model_init(handle, aligned.bytes.baseAddress, image.count - 1), 7, "truncated")
        XCTAssertEqual(mnistq_classify(handle, pixels, arena, arenaSize, &scores, &digit), 17, "a failed init leaves it not loaded")
        let packed = try ModelFile.encode(layers: model.layers, metadata: model.metadata, deflate: zlibDeflate)
        let packedAligned = AlignedImage(packed)
        XCTAssertEqual(mnistq_model_init(handle, packedAligned.bytes.baseAddress, packed.count), 15, "packed file")
        let misaligned = AlignedImage(image, offset: 4)
        XCTAssertEqual(mnistq_model_init(handle, misaligned.bytes.baseAddress, image.count), 14, "misaligned")
        var flipped = image; flipped[5000] ^= 0x10
        let flippedAligned = AlignedImage(flipped)
        XCTAssertEqual(mnistq_model_init(handle, flippedAligned.bytes.baseAddress, image.count), 9, "CRC")
        let text = AlignedImage(Array("not a model at all".utf8))
        XCTAssertEqual(mnistq_model_init(handle, text.bytes.baseAddress, 18), 3, "magic")
        XCTAssertEqual(mnistq_score_scale(handle), 0)
        XCTAssertEqual(String(cString: mnistq_kernel_name(handle)), "none")
        var version = image; version[4] = 9
        let versionAligned = AlignedImage(version)
        XCTAssertEqual(mnistq_model_init(handle, versionAligned.bytes.baseAddress, image.count), 4, "version")
        var weight = image; weight[InPlaceImage.weightOffset(of: 2) + 7] = 0x80
        let weightAligned = AlignedImage(resealed(weight))
        XCTAssertEqual(mnistq_model_init(handle, weightAligned.bytes.baseAddress, image.count), 12, "weight -128")
        #if canImport(_CAllocationCounter)
        // A device may have no heap at all: rejecting bad bytes must not allocate either (an allocation there would
        // stop the program instead of returning the code).
        var statuses = [Int32]()
        statuses.reserveCapacity(8)  // appending within capacity allocates nothing
        mnistq_allocation_count_begin()
        statuses.append(mnistq_model_init(handle, text.bytes.baseAddress, 18))
        statuses.append(mnistq_model_init(handle, versionAligned.bytes.baseAddress, image.count))
        statuses.append(mnistq_model_init(handle, aligned.bytes.baseAddress, image.count - 1))
        statuses.append(mnistq_model_init(handle, flippedAligned.bytes.baseAddress, image.count))
        statuses.append(mnistq_model_init(handle, misaligned.bytes.baseAddress, image.count))
        statuses.append(mnistq_model_init(handle, weightAligned.bytes.baseAddress, image.count))
        statuses.append(mnistq_model_init(handle, aligned.bytes.baseAddress! + 1, image.count - 1))
        statuses.append(mnistq_model_init(handle, packedAligned.bytes.baseAddress, packed.count))
        let allocations = mnistq_allocation_count_end()
        XCTAssertEqual(statuses, [3, 4, 7, 9, 14, 12, 3, 15])
        XCTAssertEqual(allocations, 0, "rejecting a model allocated")
        #endif

        // Loaded: the same scores and digit as InPlaceModel and the hosted Model.
        XCTAssertEqual(mnistq_model_init(handle, aligned.bytes.baseAddress, image.count), 0)
        XCTAssertEqual(mnistq_score_scale(handle), model.scoreScale)
        XCTAssertEqual(String(cString: mnistq_kernel_name(handle)), try InPlaceModel(borrowing: aligned.bytes).kernelName.description)
        XCTAssertEqual(mnistq_classify(handle, pixels, arena, arenaSize - 1, &scores, &digit), 16, "small arena")
        XCTAssertEqual(mnistq_classify(handle, nil, arena, arenaSize, &scores, &digit), 1)
        var batchScores = [Int32](repeating: 0, count: 64 * 10), digits = [UInt8](repeating: 0, count: 64)
        XCTAssertEqual(mnistq_classify_batch(handle, pixels, 64, arena, arenaSize, &batchScores, &digits), 0)
        XCTAssertEqual(mnistq_classify_batch(handle, nil, 0, nil, 0, nil, nil), 0, "an empty batch needs no memory")
        let scratch = InferenceScratch(for: model)
        for index in 0..<64 {
            let expected = pixels.withUnsafeBufferPointer { model.classify(pixels: UnsafeBufferPointer(rebasing: $0[(index * 784)..<((index + 1) * 784)]), scratch: scratch) }
            XCTAssertEqual(pixels.withUnsafeBufferPointer { mnistq_classify(handle, $0.baseAddress! + index * 784, arena, arenaSize, &scores, &digit) }, 0)
            XCTAssertEqual(scores, Array(expected.scores), "image \(index)")
            XCTAssertEqual(Int(digit), expected.digit)
            XCTAssertEqual(Array(batchScores[(index * 10)..<((index + 1) * 10)]), scores, "batch image \(index)")
            XCTAssertEqual(Int(digits[index]), expected.digit)
        }

        // Unpack: a packed file becomes exactly the image `export --flash` writes.
        var size = 0
        XCTAssertEqual(mnistq_unpacked_size(packed, packed.count, &size), 0)
        XCTAssertEqual(size, image.count)
        XCTAssertEqual(mnistq_unpacked_size(image, image.count, &size), 0)
        XCTAssertEqual(size, image.count, "an image's own length")
        let out = UnsafeMutableRawPointer.allocate(byteCount: image.count + 16, alignment: 64)
        defer { out.deallocate() }
        XCTAssertEqual(mnistq_unpack(packed, packed.count, out, image.count - 1), 16, "capacity")
        XCTAssertEqual(mnistq_unpack(packed, packed.count, out + 8, image.count), 14, "misaligned output")
        var damagedPacked = packed; damagedPacked[1000] ^= 1
        XCTAssertEqual(mnistq_unpack(damagedPacked, packed.count, out, image.count), 9, "CRC")
        XCTAssertEqual(mnistq_unpack(packed, packed.count, out, image.count), 0)
        XCTAssertEqual(Array(UnsafeRawBufferPointer(start: out, count: image.count)), image)

        // Messages: one per code of include/mnistq.h, the header's numbers equal ours, version strings agree.
        let header = try String(contentsOfFile: "\(packageRoot)/include/mnistq.h", encoding: .utf8)
        let codes = header.split(separator: "\n").compactMap { line -> (String, Int32)? in
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "=" || $0 == "," }).map(String.init)
            guard parts.count >= 2, parts[0].hasPrefix("MNISTQ_"), parts[0] != "MNISTQ_H", let value = Int32(parts[1]),
                  line.contains("=") else { return nil }
            return (parts[0], value)
        }
        XCTAssertEqual(codes.count, 20, "mnistq_status has 20 codes: \(codes)")
        for (name, value) in codes {
            XCTAssertNotNil(CStatus(rawValue: value), name)
            XCTAssertGreaterThan(String(cString: mnistq_status_message(value)).count, value == 0 ? 1 : 10, name)
        }
        XCTAssertTrue(String(cString: mnistq_status_message(99)).hasPrefix("unknown status"))
        XCTAssertTrue(header.contains("#define MNISTQ_VERSION \"\(String(cString: mnistq_version()))\""))
        XCTAssertEqual(Int(InPlaceModel.arenaByteCount), arenaSize)
    }
}
