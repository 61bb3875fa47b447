// Outlier exposure (Hendrycks, Mazeika & Dietterich 2019): every training step also shows the network images that
// are not digits and trains their softmax towards the uniform distribution, so that the int8 model's
// out-of-distribution score can tell letters, symbols and clothing from digits. The network's shape is unchanged.
import Foundation
import MNISTQRuntime

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

    /// The outlier image used in slot `slot` of global step `step` (SplitMix64 of the three).
    func draw(step: Int, slot: Int) -> Int {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* (UInt64(step) &* UInt64(perBatch) &+ UInt64(slot) &+ 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Int(z % UInt64(count))
    }
}

/// Assembles each step's batch (the step's digits, then its outliers) in buffers allocated once, and runs the step.
final class OutlierBatch: @unchecked Sendable {  // used by one training loop at a time; never shared across threads
    let exposure: OutlierExposure
    let capacity: Int
    let pixels: UnsafeMutablePointer<UInt8>
    let labels: UnsafeMutablePointer<UInt8>
    let indices: UnsafeMutablePointer<Int32>

    init(_ exposure: OutlierExposure, digitsPerBatch: Int) {
        self.exposure = exposure
        capacity = digitsPerBatch + exposure.perBatch
        pixels = .allocate(capacity: capacity * ModelFormat.inputPixelCount)
        labels = .allocate(capacity: capacity)
        indices = .allocate(capacity: capacity)
        for i in 0..<capacity { indices[i] = Int32(i) }
    }

    deinit { pixels.deallocate(); labels.deallocate(); indices.deallocate() }

    /// One SGD step on the `count` digits at `digitIndices` plus `perBatch` outliers; the loss is a mean over the
    /// digits (see ``OutlierExposure``), and `correct` counts digits only.
    func step(_ sgd: SGDTrainer, pixels digitPixels: UnsafePointer<UInt8>, labels digitLabels: UnsafePointer<UInt8>,
              indices digitIndices: UnsafePointer<Int32>, count: Int, globalStep: Int,
              learningRate: Float, momentum: Float) -> (loss: Double, correct: Int) {
        let side = ModelFormat.inputPixelCount, extra = exposure.perBatch
        precondition(count + extra <= capacity)
        for b in 0..<count {
            let i = Int(digitIndices[b])
            (pixels + b * side).update(from: digitPixels + i * side, count: side)
            labels[b] = digitLabels[i]
        }
        exposure.pixels.withUnsafeBufferPointer { outliers in
            for k in 0..<extra {
                let i = exposure.draw(step: globalStep, slot: k)
                (pixels + (count + k) * side).update(from: outliers.baseAddress! + i * side, count: side)
                labels[count + k] = OutlierExposure.outlierLabel
            }
        }
        // Mean over the digits: the outlier rows' weight λ·B/perBatch makes their term λ · mean over outliers.
        sgd.outlierWeight = exposure.weight * Float(count) / Float(extra)
        defer { sgd.outlierWeight = 0 }
        return sgd.step(pixels: pixels, labels: labels, indices: indices, count: count + extra,
                        learningRate: learningRate, momentum: momentum, meanOver: count)
    }
}

/// Cross-entropy of `row` against the uniform distribution over `classes`: logsumexp − mean logit.
@inline(__always)
func uniformCrossEntropy(_ row: UnsafePointer<Float>, classes: Int, max m: Float, expSum sum: Float) -> Double {
    var mean: Float = 0
    for j in 0..<classes { mean += row[j] }
    return Double(logf(sum) + m - mean / Float(classes))
}
