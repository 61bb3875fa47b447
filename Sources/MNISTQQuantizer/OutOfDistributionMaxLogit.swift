// The max-logit form of the "not a digit" score: for networks trained with outlier exposure (`mnistq train
// --outlier-exposure`), whose top score itself is what they learned to lower on non-digits.
import MNISTQRuntime

extension OutOfDistributionCalibrator {
    /// Which calibration `mnistq quantize --ood-score` writes. Both are the same section and the same integer score
    /// (<doc:ModelFormat#Out-of-distribution-section>); only the constants differ, so every runtime reads both.
    package enum ScoreForm: String, CaseIterable, Sendable {
        /// Per class: evidence below that class's typical top score, plus a weighted feature distance to its centroid
        /// (the default; what a network trained on digits alone needs).
        case classConditional = "class-conditional"
        /// The top score alone, one reference and one scale for every class, no distance term. A network trained with
        /// outlier exposure was taught to give non-digits a flat softmax, i.e. a low top score; there, on the sample
        /// model, this form reports more letters and symbols unsure at the same MNIST rate than the class-conditional
        /// one (per-class references and the distance term add noise to that learned signal).
        case maxLogit = "max-logit"

        /// The form a calibration has: max-logit when it has no distance term and one reference for all classes.
        package init(of calibration: OutOfDistributionCalibration) {
            let plain = calibration.distanceMultiplier.allSatisfy { $0 == 0 }
                && Set(calibration.reference).count == 1 && Set(calibration.evidenceMultiplier).count == 1
            self = plain ? .maxLogit : .classConditional
        }

        /// Share of training images the default threshold reports unsure. Outlier exposure trains the network to be
        /// less sure of hard digits too, so the training images sit further from the test images than without it:
        /// 0.3% of training images gives about 0.9% of the MNIST test images on the sample model.
        package var trainingUnsureFraction: Double {
            switch self {
            case .classConditional: return OutOfDistributionCalibrator.trainingUnsureFraction
            case .maxLogit: return 0.003
            }
        }
    }

    /// The calibration of `layers` on `images` (n 28×28 training images) in `form`.
    package static func calibrate(layers: [QuantizedLayer], images: [UInt8], form: ScoreForm,
                                 progress: ((String, Int, Int) -> Void)? = nil) throws -> OutOfDistributionCalibration {
        switch form {
        case .classConditional: return try calibrate(layers: layers, images: images, progress: progress)
        case .maxLogit: return try calibrateMaxLogit(layers: layers, images: images, progress: progress)
        }
    }

    /// score = ((R − top) · M) >> 32 for every class: R the median top score of the training images, M such that
    /// 1000 units are the distance from R down to the 1st percentile; centroid, weights and distance term zero.
    static func calibrateMaxLogit(layers: [QuantizedLayer], images: [UInt8],
                                  progress: ((String, Int, Int) -> Void)?) throws -> OutOfDistributionCalibration {
        let pixelCount = ModelFormat.inputPixelCount, classes = ModelFormat.classCount
        let count = images.count / pixelCount
        guard count >= 100 else { throw QuantizationError("out-of-distribution calibration needs at least 100 training images, got \(count)") }
        let plain = try InPlaceHost(layers: layers, outOfDistribution: nil)
        var tops = [Int64](repeating: 0, count: count)
        var scores = [Int32](repeating: 0, count: classes)
        images.withUnsafeBufferPointer { pixels in
            scores.withUnsafeMutableBufferPointer { s in
                for i in 0..<count {
                    plain.model.classify(pixels: pixels.baseAddress! + i * pixelCount, arena: plain.arena, scores: s.baseAddress!)
                    tops[i] = Int64(s[Classification.indexOfHighest(s)])
                    if i % 5000 == 4999 || i == count - 1 { progress?("calibrating out-of-distribution score", i + 1, 2 * count) }
                }
            }
        }
        tops.sort()
        let median = tops[count / 2], low = tops[count / 100]
        let scale = 1000.0 * 4_294_967_296.0  // 1000 units, and the score's final >> 32
        let multiplier = Int32(min(Double(1 << 28), (scale / Double(max(1, median - low))).rounded()))
        let reference = Int32(clamping: median)
        let calibration = OutOfDistributionCalibration(
            threshold: 0, minimumConfidence: defaultMinimumConfidence,
            reference: [Int32](repeating: reference, count: classes), evidenceMultiplier: [Int32](repeating: multiplier, count: classes),
            distanceOffset: [Int32](repeating: 0, count: classes), distanceMultiplier: [Int32](repeating: 0, count: classes),
            centroid: [UInt8](repeating: 0, count: classes * OutOfDistributionLayout.featureCount), weight: [UInt8](repeating: 0, count: classes * OutOfDistributionLayout.featureCount))
        return try withThreshold(calibration, layers: layers, images: images,
                                 unsureFraction: ScoreForm.maxLogit.trainingUnsureFraction, progress: progress)
    }
}
