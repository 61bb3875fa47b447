// The out-of-distribution section (flag bit 1): byte-exact round trips in both kinds of file, bit-identical scores on
// every kernel path and entry point (Model, InPlaceModel, batch, reference, C API), the integer definition, errors.
#if canImport(_CAllocationCounter)
import _CAllocationCounter
#endif
@testable import MNISTQRuntime
import XCTest

/// A calibration with every value inside the format's ranges, from a seed.
func syntheticCalibration(seed: UInt64) -> OutOfDistributionCalibration {
    var rng = SeededGenerator(seed: seed)
    func int32s(_ range: ClosedRange<Int32>) -> [Int32] { (0..<10).map { _ in Int32.random(in: range, using: &rng) } }
    return OutOfDistributionCalibration(
        threshold: Int32.random(in: -2000...2000, using: &rng), minimumConfidence: 0.5,
        reference: int32s(-(1 << 30)...(1 << 30)), evidenceMultiplier: int32s(0...(1 << 28)),
        distanceOffset: int32s(0...5_462_100), distanceMultiplier: int32s(0...(1 << 28)),
        centroid: (0..<840).map { _ in UInt8.random(in: 0...255, using: &rng) },
        weight: (0..<840).map { _ in UInt8.random(in: 0...255, using: &rng) })
}

final class OutOfDistributionTests: XCTestCase {
    /// The score as <doc:ModelFormat> defines it, in plain Int64 arithmetic from the calibration's arrays.
    func definitionScore(_ calibration: OutOfDistributionCalibration, scores: [Int32], features: [UInt8]) -> Int32 {
        let digit = Classification.indexOfHighest(scores)
        var distance: Int64 = 0
        for j in 0..<84 {
            distance += Int64(calibration.weight[digit * 84 + j]) * Int64(abs(Int(features[j]) - Int(calibration.centroid[digit * 84 + j])))
        }
        let evidence = (Int64(calibration.reference[digit]) - Int64(scores[digit])) * Int64(calibration.evidenceMultiplier[digit])
        let spread = (distance - Int64(calibration.distanceOffset[digit])) * Int64(calibration.distanceMultiplier[digit])
        return Int32((evidence + spread) >> 32)
    }

    func sampleLayers() throws -> [QuantizedLayer] {
        guard let data = FileManager.default.contents(atPath: InPlaceModelTests.sampleModelPath) else {
            throw KernelTestDataError(message: "no sample model at \(InPlaceModelTests.sampleModelPath)")
        }
        return try Model(bytes: [UInt8](data)).layers
    }

    func testPackedAndInPlaceRoundTripsAreByteExact() throws {
        let layers = syntheticLayers(seed: 31), calibration = syntheticCalibration(seed: 32)
        let packed = try ModelFile.encode(layers: layers, metadata: syntheticMetadata, outOfDistribution: calibration, deflate: zlibDeflate)
        XCTAssertEqual(packed[6], 2, "flag bit 1")
        let model = try Model(bytes: packed)
        XCTAssertTrue(model.hasOutOfDistributionScore)
        XCTAssertEqual(model.outOfDistributionCalibration, calibration)
        XCTAssertEqual(try ModelFile.encode(layers: model.layers, metadata: model.metadata, outOfDistribution: model.outOfDistributionCalibration,
                                            deflate: zlibDeflate), packed, "re-encoding is byte-exact")
        XCTAssertEqual(model.payloadByteCount, 4 + 215_806 + OutOfDistributionLayout.byteCount + model.metadata.reduce(4) {
            $0 + 8 + $1.key.utf8.count + $1.value.utf8.count
        })

        let image = try InPlaceImage.encode(layers: layers, metadata: syntheticMetadata, outOfDistribution: calibration)
        XCTAssertEqual(image[6], 3, "flag bits 0 and 1")
        XCTAssertEqual(InPlaceImage.outOfDistributionOffset, 216_320, "the spec's table")
        XCTAssertEqual(InPlaceImage.metadataStart(hasOutOfDistribution: true), 218_176, "the spec's table")
        XCTAssertEqual(InPlaceImage.imageLength(ofPacked: model.header), image.count, "size from the packed header alone")
        let aligned = AlignedImage(image)
        let view = try InPlaceModel(borrowing: aligned.bytes)
        XCTAssertEqual(view.outOfDistributionCalibration, calibration)
        XCTAssertEqual(view.decoded().layers, layers)
        XCTAssertEqual(try InPlaceImage.encode(layers: layers, metadata: syntheticMetadata, outOfDistribution: view.outOfDistributionCalibration),
                       image, "re-encoding is byte-exact")
        XCTAssertEqual(try Model(bytes: image).outOfDistributionCalibration, calibration, "Model reads the in-place image too")

        // A file without the section: unchanged format, no score.
        let plain = try Model(bytes: try ModelFile.encode(layers: layers, metadata: syntheticMetadata, deflate: zlibDeflate))
        XCTAssertEqual(plain.header.flags, 0)
        XCTAssertFalse(plain.hasOutOfDistributionScore)
        XCTAssertNil(plain.outOfDistributionCalibration)
        XCTAssertNil(plain.classify(pixels: [UInt8](repeating: 0, count: 784), scratch: InferenceScratch(for: plain)).outOfDistributionScore)
    }

    /// Every entry point and kernel path gives the same score, and it is the definition's, on real MNIST digits.
    func testScoresAreBitIdenticalOnEveryPathAndMatchTheDefinition() throws {
        let layers = try sampleLayers(), calibration = syntheticCalibration(seed: 33)
        let packed = try ModelFile.encode(layers: layers, metadata: [], outOfDistribution: calibration, deflate: zlibDeflate)
        let count = 64
        let pixels = try Array(kernelLoadMNISTTestImages()[0..<(count * 784)])
        let models = try [ModelKernels.fastest, .avx2, .vector, .portable].map { try Model(bytes: packed, kernels: $0) }
        let aligned = AlignedImage(try InPlaceImage.encode(layers: layers, metadata: [], outOfDistribution: calibration))
        let views = try [InPlaceModel.Kernels.fastest, .vector, .portable].map { try InPlaceModel(borrowing: aligned.bytes, kernels: $0) }
        let scratch = InferenceScratch(byteCount: max(models.map(\.arenaByteCount).max()!, InPlaceModel.arenaByteCount))
        let feature = try InPlaceModel(borrowing: aligned.bytes, kernels: .portable)
        var expected: [Int32] = []
        try pixels.withUnsafeBufferPointer { all in
            for image in 0..<count {
                let one = UnsafeBufferPointer(rebasing: all[(image * 784)..<((image + 1) * 784)])
                var scores = [Int32](repeating: 0, count: 10), features = [UInt8](repeating: 0, count: 84)
                feature.classify(pixels: one.baseAddress!, arena: scratch.arena, scores: &scores, penultimateFeatures: &features)
                let score = definitionScore(calibration, scores: scores, features: features)
                expected.append(score)
                XCTAssertEqual(models[0].classifyReference(pixels: one, scratch: scratch).outOfDistributionScore, score, "reference, image \(image)")
                for (index, model) in models.enumerated() {
                    XCTAssertEqual(model.classify(pixels: one, scratch: scratch).outOfDistributionScore, score, "Model path \(index), image \(image)")
                }
                for (index, view) in views.enumerated() {
                    XCTAssertEqual(view.classify(pixels: one, scratch: scratch).outOfDistributionScore, score, "InPlaceModel path \(index), image \(image)")
                }
            }
            for model in models {
                XCTAssertEqual(model.classifyBatch(pixels: Array(all), scratch: scratch).map(\.outOfDistributionScore), expected.map { $0 }, "batch")
            }
            for view in views {
                var scores = [Int32](repeating: 0, count: count * 10), ood = [Int32](repeating: 0, count: count)
                view.classify(batch: all.baseAddress!, count: count, arena: scratch.arena, scores: &scores, outOfDistributionScores: &ood)
                XCTAssertEqual(ood, expected, "InPlaceModel batch")
            }
            // The C API over the same image.
            let handle = UnsafeMutableRawPointer.allocate(byteCount: 32, alignment: 8)
            defer { handle.deallocate() }
            XCTAssertEqual(mnistq_model_init(handle, aligned.bytes.baseAddress, aligned.bytes.count), 0)
            XCTAssertEqual(mnistq_has_ood_score(handle), 1)
            var threshold: Int32 = 0, confidence: Float = 0
            XCTAssertEqual(mnistq_ood_defaults(handle, &threshold, &confidence), 0)
            XCTAssertEqual(threshold, calibration.threshold)
            XCTAssertEqual(confidence, calibration.minimumConfidence)
            var scores = [Int32](repeating: 0, count: count * 10), ood = [Int32](repeating: 0, count: count)
            var digits = [UInt8](repeating: 0, count: count)
            XCTAssertEqual(mnistq_classify_batch_ood(handle, all.baseAddress, count, scratch.arena, InPlaceModel.arenaByteCount,
                                                     &scores, &digits, &ood), 0)
            XCTAssertEqual(ood, expected, "mnistq_classify_batch_ood")
            var one: Int32 = 0, digit: Int32 = -1
            XCTAssertEqual(mnistq_classify_ood(handle, all.baseAddress! + 5 * 784, scratch.arena, InPlaceModel.arenaByteCount,
                                               &scores, &digit, &one), 0)
            XCTAssertEqual(one, expected[5], "mnistq_classify_ood")
            XCTAssertEqual(Int(digit), Int(digits[5]))
            XCTAssertEqual(mnistq_classify_ood(handle, all.baseAddress, scratch.arena, InPlaceModel.arenaByteCount, &scores, nil, nil), 1,
                           "the score pointer is required")
            // A model without the section says so by its own status.
            let plain = AlignedImage(try InPlaceImage.encode(layers: layers, metadata: []))
            XCTAssertEqual(mnistq_model_init(handle, plain.bytes.baseAddress, plain.bytes.count), 0)
            XCTAssertEqual(mnistq_has_ood_score(handle), 0)
            XCTAssertEqual(mnistq_ood_defaults(handle, &threshold, &confidence), 19)
            XCTAssertEqual(mnistq_classify_ood(handle, all.baseAddress, scratch.arena, InPlaceModel.arenaByteCount, &scores, nil, &one), 19)
            XCTAssertTrue(String(cString: mnistq_status_message(19)).contains("no out-of-distribution section"))
        }
    }

    func testZeroAllocationsWithTheScore() throws {
        #if canImport(_CAllocationCounter)
        let layers = syntheticLayers(seed: 34)
        let model = try Model(bytes: try ModelFile.encode(layers: layers, metadata: [], outOfDistribution: syntheticCalibration(seed: 35),
                                                          deflate: zlibDeflate))
        let scratch = InferenceScratch(for: model)
        let pixels = [UInt8](repeating: 7, count: 16 * 784)
        var results = model.classifyBatch(pixels: pixels, scratch: scratch)
        var checksum: Int32 = 0
        mnistq_allocation_count_begin()
        pixels.withUnsafeBufferPointer { all in
            for image in 0..<16 {
                checksum &+= model.classify(pixels: UnsafeBufferPointer(rebasing: all[(image * 784)..<((image + 1) * 784)]), scratch: scratch)
                    .outOfDistributionScore ?? 0
            }
            results.withUnsafeMutableBufferPointer { model.classifyBatch(pixels: all, scratch: scratch, into: $0) }
        }
        XCTAssertEqual(mnistq_allocation_count_end(), 0, "heap allocations while scoring")
        XCTAssertNotNil(results[0].outOfDistributionScore)
        _ = checksum
        #endif
    }

    func testOutOfRangeValuesAreRejectedByName() throws {
        let layers = syntheticLayers(seed: 36)
        var calibration = syntheticCalibration(seed: 37)
        calibration.evidenceMultiplier[3] = (1 << 28) + 1
        XCTAssertThrowsError(try ModelFile.encode(layers: layers, metadata: [], outOfDistribution: calibration, deflate: zlibDeflate)) {
            XCTAssertEqual($0 as? ModelError, .badOutOfDistributionSection(field: "multiplier", reason: "must be in 0...268435456 (2^28)"))
        }
        calibration = syntheticCalibration(seed: 37)
        calibration.centroid.removeLast()
        XCTAssertThrowsError(try InPlaceImage.encode(layers: layers, metadata: [], outOfDistribution: calibration))
        // Damage inside a written in-place image, resealed so that it reaches the section's checks.
        let good = try InPlaceImage.encode(layers: layers, metadata: [], outOfDistribution: syntheticCalibration(seed: 37))
        var damaged = good
        damaged.setLE(UInt32(5_462_101), at: InPlaceImage.outOfDistributionOffset + 88)
        assertRejects(resealed(damaged), .badOutOfDistributionSection(field: "distanceOffset", reason: "must be in 0...5462100 (255 · 255 · 84)"),
                            "distance offset")
        damaged = good
        damaged.setLE(Float.nan.bitPattern, at: InPlaceImage.outOfDistributionOffset + 4)
        assertRejects(resealed(damaged), .badOutOfDistributionSection(field: "minimumConfidence", reason: "must be a number in 0...1"),
                            "confidence")
        damaged = good
        damaged[InPlaceImage.outOfDistributionOffset + OutOfDistributionLayout.byteCount] = 1
        assertRejects(resealed(damaged), .nonZeroPadding(offset: InPlaceImage.outOfDistributionOffset + OutOfDistributionLayout.byteCount, found: 1),
                            "padding after the section")
        // A packed file whose flag promises the section but whose payload is too short for it.
        let plain = try ModelFile.encode(layers: layers, metadata: [], deflate: zlibDeflate)
        var flagged = plain
        flagged[6] = 2
        let end = flagged.count - 4
        flagged.setLE(CRC32.checksum(Array(flagged[0..<end])), at: end)
        XCTAssertThrowsError(try Model(bytes: flagged)) {
            XCTAssertEqual($0 as? ModelError, .payloadTruncated(field: "out-of-distribution section"))
        }
    }
}
