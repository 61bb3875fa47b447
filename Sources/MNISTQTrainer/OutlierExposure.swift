// Outlier exposure (Hendrycks, Mazeika & Dietterich 2019): every training step also shows the network images that
// are not digits and trains their softmax towards the uniform distribution, so that the int8 model's
// out-of-distribution score can tell letters, symbols and clothing from digits. The network's shape is unchanged.
import Foundation
import MNISTQRuntime
import MNISTQSupport

/// The outlier images and how a run uses them (`mnistq train --outlier-exposure FILE...`).
///
/// Each SGD step of `B` digits adds `perBatch` outlier images, drawn with replacement by a hash of (seed, global
/// step, slot), so the draw needs no generator state: a checkpoint resumes to the same draws. The step's loss is
///
/// ```
/// mean over the digits of CE(digit)  +  weight · mean over the outliers of (logsumexp(z) − mean(z))
/// ```
///
/// (the second term is the cross-entropy against the uniform distribution over the ten classes).
package struct OutlierExposure: Sendable {
    /// The label that marks an outlier row inside a batch (not a class).
    package static let outlierLabel: UInt8 = 255
    /// [count, 28 × 28] pixels, white on black like MNIST.
    package let pixels: [UInt8]
    /// Outlier images added to each step.
    package let perBatch: Int
    /// λ of the outlier term (Hendrycks et al. use 0.5).
    package let weight: Float
    /// Seed of the draws.
    package let seed: UInt64

    package var count: Int { pixels.count / ModelFormat.inputPixelCount }

    package init(pixels: [UInt8], perBatch: Int, weight: Float, seed: UInt64) throws(TrainingError) {
        guard !pixels.isEmpty, pixels.count % ModelFormat.inputPixelCount == 0 else {
            throw .data("outlier images: \(pixels.count) bytes is not a whole number of 28×28 images (or none)")
        }
        guard perBatch > 0 else { throw .data("outlier images per step must be at least 1, got \(perBatch)") }
        guard weight.isFinite && weight > 0 && weight <= 10 else {
            throw .data("outlier weight must be in (0, 10], got \(weight)")
        }
        self.pixels = pixels
        self.perBatch = perBatch
        self.weight = weight
        self.seed = seed
    }

    /// The outlier image used in slot `slot` of global step `step`: the first value of `SplitMix64` started at
    /// draw number `step · perBatch + slot` of the sequence seeded with `seed`, so each draw stands alone.
    func draw(step: Int, slot: Int) -> Int {
        let position = UInt64(step) &* UInt64(perBatch) &+ UInt64(slot)
        var random = SplitMix64(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* position)
        return Int(random.next() % UInt64(count))
    }
}

/// Draws each step's outliers into an index buffer allocated once and runs the step; the outlier images are read
/// from `exposure.pixels` in place.
final class OutlierBatch: @unchecked Sendable {  // used by one training loop at a time; never shared across threads
    let exposure: OutlierExposure
    let indices: UnsafeMutablePointer<Int32>

    init(_ exposure: OutlierExposure) {
        self.exposure = exposure
        indices = .allocate(capacity: exposure.perBatch)
        indices.initialize(repeating: 0, count: exposure.perBatch)
    }

    deinit { indices.deallocate() }

    /// One SGD step on the `count` digits at `digitIndices` plus `perBatch` outliers; the loss is a mean over the
    /// digits (see ``OutlierExposure``), and `correct` counts digits only.
    func step(_ sgd: SGDTrainer, pixels digitPixels: UnsafePointer<UInt8>, labels digitLabels: UnsafePointer<UInt8>,
              indices digitIndices: UnsafePointer<Int32>, count: Int, globalStep: Int,
              learningRate: Float, momentum: Float, distortions: RowDistortions?) -> (loss: Double, correct: Int) {
        let extra = exposure.perBatch
        for k in 0..<extra { indices[k] = Int32(exposure.draw(step: globalStep, slot: k)) }
        // Mean over the digits: the outlier rows' weight λ·B/perBatch makes their term λ · mean over outliers.
        let weight = exposure.weight * Float(count) / Float(extra)
        return exposure.pixels.withUnsafeBufferPointer { outliers in
            sgd.step(pixels: digitPixels, labels: digitLabels, indices: digitIndices, count: count,
                     learningRate: learningRate, momentum: momentum,
                     outliers: OutlierRows(pixels: outliers.baseAddress!, indices: indices, count: extra, weight: weight),
                     distortions: distortions)
        }
    }
}

/// Cross-entropy of `row` against the uniform distribution over `classes`: logsumexp − mean logit.
@inline(__always)
func uniformCrossEntropy(_ row: UnsafePointer<Float>, classes: Int, max m: Float, expSum sum: Float) -> Double {
    var mean: Float = 0
    for j in 0..<classes { mean += row[j] }
    return Double(logf(sum) + m - mean / Float(classes))
}
