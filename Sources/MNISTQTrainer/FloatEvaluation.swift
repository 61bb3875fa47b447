// Fast batched float evaluation (im2col + GEMM, multi-threaded) for `mnistq eval`, validation and reports.
import Foundation
import MNISTQData

/// Batched forward passes over many images on several threads.
///
/// Images are processed in chunks of `chunk`; chunk c goes to thread c mod threads, so the work split is
/// fixed and every image's logits are computed the same way whatever the thread count (results do not
/// depend on threads at all: no value is summed across images).
package enum FloatEvaluator {
    /// Images per forward call.
    package static let chunk = 64

    /// Runs the network on `count` images of `pixels` ([count, 28·28], uint8) and calls `visit(image, logits)`
    /// for each — from several threads at once, each image exactly once.
    static func run(parameters: UnsafePointer<Float>, pixels: UnsafePointer<UInt8>, count: Int, threads: Int,
                    visit: (Int, UnsafePointer<Float>) -> Void) {
        guard count > 0 else { return }
        let chunks = (count + chunk - 1) / chunk
        let workers = max(1, min(threads, chunks))
        func work(_ t: Int) {
            let ws = CNNWorkspace(capacity: chunk, forTraining: false)
            var c = t
            while c < chunks {
                let first = c * chunk, n = min(chunk, count - first)
                ws.loadInput(pixels: pixels, first: first, count: n)
                ws.forward(parameters: parameters, count: n)
                for b in 0..<n { visit(first + b, ws.logits + b * CNNSize.classes) }
                c += workers
            }
        }
        forEachWorker(workers, work)
    }

    /// Predicted class (first maximal logit) of each image.
    package static func predict(parameters: ParameterVector, pixels: [UInt8], threads: Int) -> [UInt8] {
        let count = pixels.count / CNNSize.inputPixels
        var predictions = [UInt8](repeating: 0, count: count)
        predictions.withUnsafeMutableBufferPointer { out in
            let o = out.baseAddress!
            pixels.withUnsafeBufferPointer { px in
                run(parameters: parameters.storage, pixels: px.baseAddress!, count: count, threads: threads) { i, logits in
                    var best = 0
                    for j in 1..<CNNSize.classes where logits[j] > logits[best] { best = j }
                    o[i] = UInt8(best)   // each i written by exactly one thread
                }
            }
        }
        return predictions
    }

    /// Accuracy and mean cross-entropy loss on labelled images.
    package static func evaluate(parameters: ParameterVector, pixels: [UInt8], labels: [UInt8], threads: Int) -> Evaluation {
        let count = labels.count
        precondition(pixels.count == count * CNNSize.inputPixels)
        var losses = [Double](repeating: 0, count: count)
        var hits = [UInt8](repeating: 0, count: count)
        losses.withUnsafeMutableBufferPointer { lossOut in
            hits.withUnsafeMutableBufferPointer { hitOut in
                let lo = lossOut.baseAddress!, ho = hitOut.baseAddress!
                pixels.withUnsafeBufferPointer { px in
                    labels.withUnsafeBufferPointer { lb in
                        let lab = lb.baseAddress!
                        run(parameters: parameters.storage, pixels: px.baseAddress!, count: count, threads: threads) { i, logits in
                            let (m, best, sum) = softmaxStatistics(logits, classes: CNNSize.classes, exps: nil)
                            lo[i] = crossEntropy(logits, label: Int(lab[i]), max: m, expSum: sum)
                            ho[i] = best == Int(lab[i]) ? 1 : 0
                        }
                    }
                }
            }
        }
        // Summed in image order so the result does not depend on the thread count.
        let correct = hits.reduce(0) { $0 + Int($1) }
        return Evaluation(correct: correct, total: count, meanLoss: count > 0 ? losses.reduce(0, +) / Double(count) : 0)
    }
}

/// Result of evaluating a model on labelled images.
package struct Evaluation: Sendable, Equatable {
    package let correct: Int
    package let total: Int
    /// Mean cross-entropy loss (nats).
    package let meanLoss: Double
    /// correct / total (0 for no images).
    package var accuracy: Double { total > 0 ? Double(correct) / Double(total) : 0 }
}

extension FloatCNN {
    /// Predicted digit of every image, computed in batches on `threads` threads (im2col + GEMM). The logits can
    /// differ from `forward(pixels:trace:)` in the last bits (different summation order); both are PyTorch's
    /// math within float rounding.
    package func predict(images: IDXImages, threads: Int = ProcessInfo.processInfo.activeProcessorCount) -> [UInt8] {
        precondition(images.rows == CNNSize.inputSide && images.columns == CNNSize.inputSide, "the CNN takes 28×28 images")
        return FloatEvaluator.predict(parameters: ParameterVector(parameters), pixels: images.pixels, threads: threads)
    }

    /// Accuracy and mean loss on a labelled split (e.g. the 10,000 MNIST test images).
    package func evaluate(on split: MNISTSplit, threads: Int = ProcessInfo.processInfo.activeProcessorCount) -> Evaluation {
        FloatEvaluator.evaluate(parameters: ParameterVector(parameters), pixels: split.images.pixels, labels: split.labels, threads: threads)
    }

    /// Fraction of `split` classified correctly.
    package func accuracy(on split: MNISTSplit, threads: Int = ProcessInfo.processInfo.activeProcessorCount) -> Double {
        evaluate(on: split, threads: threads).accuracy
    }
}
