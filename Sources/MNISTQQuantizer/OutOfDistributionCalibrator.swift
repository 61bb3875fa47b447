// Calibrating the "not a digit" score at quantize time, on the training images, with the int8 network's own features.
import Foundation
import MNISTQData
import MNISTQRuntime
import MNISTQSupport

/// Fits the constants of the out-of-distribution score (<doc:ModelFormat#Out-of-distribution-section>) to the int8
/// network's behaviour on training digits: per predicted class, the typical top score and its spread (the evidence
/// term), and the centroid of fc2's 84 features with per-feature weights, the typical distance and its spread (the
/// distance term). 1000 score units are one class-specific spread of the evidence term; the distance term counts
/// `distanceShare` as much. The threshold is then the score that `trainingUnsureFraction` of the training images
/// (together with the minimum-confidence rule) exceed.
///
/// Why these terms (measured on the sample model; tools/ood-figures prints the figures): images that are not
/// digits mostly give the network little evidence for any class (Fashion-MNIST: top scores about 10× lower than
/// digits'), which the evidence term catches; the distance term adds letters and symbols whose evidence looks like a
/// digit's but whose features sit away from that digit's centroid.
package enum OutOfDistributionCalibrator {
    /// Default softmax confidence below which `classify` reports unsure.
    package static let defaultMinimumConfidence: Float = 0.5
    /// Share of training images reported unsure by the default threshold and minimum confidence together. Test
    /// digits are scored a little higher than training digits (the network has seen the latter), so 0.4% here gives
    /// about 0.9% on the MNIST test images.
    package static let trainingUnsureFraction = 0.004
    /// Weight of the distance term against the evidence term.
    package static let distanceShare = 0.1

    /// The calibration of `layers` on `images` (n × `ModelFormat.inputPixelCount` training pixels). Runs the int8 network twice over them
    /// (features, then scores); deterministic.
    package static func calibrate(layers: [QuantizedLayer], images: [UInt8],
                                 progress: ((String, Int, Int) -> Void)? = nil) throws -> OutOfDistributionCalibration {
        let count = images.count / ModelFormat.inputPixelCount
        guard count >= 100 else { throw QuantizationError("out-of-distribution calibration needs at least 100 training images, got \(count)") }
        let plain = try InPlaceHost(layers: layers, outOfDistribution: nil)
        var features = [UInt8](repeating: 0, count: count * 84)
        var digits = [Int](repeating: 0, count: count)
        var tops = [Int32](repeating: 0, count: count)
        var scores = [Int32](repeating: 0, count: 10)
        images.withUnsafeBufferPointer { pixels in
            features.withUnsafeMutableBufferPointer { out in
                scores.withUnsafeMutableBufferPointer { s in
                    for i in 0..<count {
                        plain.model.classify(pixels: pixels.baseAddress! + i * ModelFormat.inputPixelCount, arena: plain.arena, scores: s.baseAddress!,
                                             penultimateFeatures: out.baseAddress! + i * 84)
                        let digit = Classification.indexOfHighest(s)
                        digits[i] = digit
                        tops[i] = s[digit]
                        if i % 5000 == 4999 || i == count - 1 { progress?("calibrating out-of-distribution score", i + 1, 2 * count) }
                    }
                }
            }
        }
        var reference = [Int32](repeating: 0, count: 10), evidenceMultiplier = [Int32](repeating: 0, count: 10)
        var distanceOffset = [Int32](repeating: 0, count: 10), distanceMultiplier = [Int32](repeating: 0, count: 10)
        var centroid = [UInt8](repeating: 0, count: 840), weight = [UInt8](repeating: 0, count: 840)
        let scale = 1000.0 * 4_294_967_296.0  // 1000 units, and the score's final >> 32
        let maximumMultiplier = Double(1 << 28)
        for c in 0..<10 {
            let members = (0..<count).filter { digits[$0] == c }
            guard members.count >= 10 else {
                throw QuantizationError("out-of-distribution calibration: only \(members.count) training images are classified as \(c); the model is not usable")
            }
            // Evidence: the median top score and the distance down to its 1st percentile.
            let sortedTops = members.map { Int64(tops[$0]) }.sorted()
            let median = sortedTops[sortedTops.count / 2], low = sortedTops[sortedTops.count / 100]
            reference[c] = Int32(median)
            evidenceMultiplier[c] = Int32(min(maximumMultiplier, (scale / Double(max(1, median - low))).rounded()))
            // Features: centroid and per-feature weights ∝ 1 / (standard deviation + 2), the largest 255.
            var deviations = [Double](repeating: 0, count: 84)
            for j in 0..<84 {
                let values = members.map { Double(features[$0 * 84 + j]) }
                let mean = values.reduce(0, +) / Double(values.count)
                centroid[c * 84 + j] = UInt8(min(255, max(0, mean.rounded())))
                deviations[j] = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot() + 2
            }
            let smallest = deviations.min()!
            for j in 0..<84 { weight[c * 84 + j] = UInt8(min(255, max(1, (255 * smallest / deviations[j]).rounded()))) }
            // Distance: the weighted L1 distance's median and the spread up to its 99th percentile.
            let distances = members.map { i -> Int64 in
                var d: Int64 = 0
                for j in 0..<84 {
                    d += Int64(weight[c * 84 + j]) * Int64(abs(Int(features[i * 84 + j]) - Int(centroid[c * 84 + j])))
                }
                return d
            }.sorted()
            let typical = distances[distances.count / 2], high = distances[distances.count * 99 / 100]
            distanceOffset[c] = Int32(typical)
            distanceMultiplier[c] = Int32(min(maximumMultiplier, (distanceShare * scale / Double(max(1, high - typical))).rounded()))
        }
        let calibration = OutOfDistributionCalibration(
            threshold: 0, minimumConfidence: defaultMinimumConfidence, reference: reference, evidenceMultiplier: evidenceMultiplier,
            distanceOffset: distanceOffset, distanceMultiplier: distanceMultiplier, centroid: centroid, weight: weight)
        return try withThreshold(calibration, layers: layers, images: images, unsureFraction: trainingUnsureFraction,
                                 progress: progress)
    }

    /// `calibration` with the threshold that leaves `unsureFraction` of `images` unsure (with the minimum confidence).
    static func withThreshold(_ calibration: OutOfDistributionCalibration, layers: [QuantizedLayer], images: [UInt8],
                              unsureFraction: Double, progress: ((String, Int, Int) -> Void)?) throws -> OutOfDistributionCalibration {
        let count = images.count / ModelFormat.inputPixelCount
        var calibration = calibration
        // The scores themselves, from the runtime (the definition), then the threshold: the training images not already
        // unsure by confidence are ranked by score, and the threshold leaves the allowed share above it.
        let scored = try InPlaceHost(layers: layers, outOfDistribution: calibration)
        var rest: [Int32] = []
        var lowConfidence = 0
        images.withUnsafeBufferPointer { pixels in
            let scratch = InferenceScratch(byteCount: InPlaceModel.arenaByteCount)
            for i in 0..<count {
                let result = scored.model.classify(pixels: UnsafeBufferPointer(rebasing: pixels[(i * ModelFormat.inputPixelCount)..<((i + 1) * ModelFormat.inputPixelCount)]), scratch: scratch)
                if result.probabilities()[result.digit] < defaultMinimumConfidence {
                    lowConfidence += 1
                } else {
                    rest.append(result.outOfDistributionScore!)
                }
                if i % 5000 == 4999 || i == count - 1 { progress?("calibrating out-of-distribution score", count + i + 1, 2 * count) }
            }
        }
        rest.sort()
        let allowedAbove = max(0, Int((unsureFraction * Double(count)).rounded()) - lowConfidence)
        calibration.threshold = rest[max(0, rest.count - 1 - allowedAbove)]
        return calibration
    }
}

/// An in-place image of `layers` in memory this object owns, borrowed by an ``InPlaceModel``, with one arena.
final class InPlaceHost {
    let model: InPlaceModel
    let arena: UnsafeMutableRawPointer
    private let storage: UnsafeMutableRawBufferPointer

    init(layers: [QuantizedLayer], outOfDistribution: OutOfDistributionCalibration?) throws {
        let image = try InPlaceImage.encode(layers: layers, metadata: [], outOfDistribution: outOfDistribution)
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: image.count, alignment: 64)
        image.withUnsafeBytes { storage.copyMemory(from: $0) }
        do {
            model = try InPlaceModel(borrowing: UnsafeRawBufferPointer(storage))
        } catch {
            storage.deallocate()
            throw error
        }
        self.storage = storage
        arena = UnsafeMutableRawPointer.allocate(byteCount: InPlaceModel.arenaByteCount, alignment: 64)
    }

    deinit {
        storage.deallocate()
        arena.deallocate()
    }
}

/// How many images a model reports "unsure" (confidence below the minimum, or out-of-distribution score above the
/// threshold), as `mnistq classify` decides it: the figures of tools/ood-figures and the tests.
package enum OutOfDistributionEvaluation {
    /// Per image (n × `ModelFormat.inputPixelCount` pixels, used as is: MNIST-style), whether it is unsure. Defaults: the model's.
    package static func unsure(model: Model, images: [UInt8], minimumConfidence: Float? = nil, threshold: Int32? = nil) -> [Bool] {
        let calibration = model.outOfDistributionCalibration
        let minimum = minimumConfidence ?? calibration?.minimumConfidence ?? OutOfDistributionCalibrator.defaultMinimumConfidence
        let limit = threshold ?? calibration?.threshold
        let results = model.classifyBatch(pixels: images, scratch: InferenceScratch(for: model))
        return results.map { result in
            if result.probabilities()[result.digit] < minimum { return true }
            if let limit, let score = result.outOfDistributionScore, score > limit { return true }
            return false
        }
    }

    /// The letters and symbols of tools/render-glyphs.py: renders them into `directory` with /usr/bin/python3 and
    /// returns (pixels, labels, glyphs), label i naming glyphs[i].
    package static func renderGlyphs(script: String, directory: String) throws -> (pixels: [UInt8], labels: [UInt8], glyphs: [Character]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script, directory]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw QuantizationError("\(script) failed (\(process.terminationStatus)): \(String(decoding: message, as: UTF8.self)); run tools/install-deps (python3-pil, fonts-dejavu-core, fonts-liberation)")
        }
        let images = try IDX.readImages(path: "\(directory)/glyphs-images-idx3-ubyte")
        let labels = Array(try IDX.readBytes(path: "\(directory)/glyphs-labels-idx1-ubyte").dropFirst(IDXFormat.labelHeaderLength))
        let glyphs = Array(try String(contentsOfFile: "\(directory)/glyphs.txt", encoding: .utf8).trimmingCharacters(in: .newlines))
        guard labels.count == images.count, images.rows == ModelFormat.inputSide, images.columns == ModelFormat.inputSide else {
            throw QuantizationError("\(directory): the rendered glyph files do not match (\(images.count) images, \(labels.count) labels)")
        }
        return (images.pixels, labels, glyphs)
    }
}
