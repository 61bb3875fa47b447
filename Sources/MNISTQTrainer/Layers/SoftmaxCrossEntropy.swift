// Softmax cross-entropy against integer labels (the loss and its gradient), and the statistics evaluation shares.
import Foundation

/// Softmax cross-entropy against integer labels, numerically stable (log-sum-exp with the row maximum removed).
enum SoftmaxCrossEntropy {
    /// Returns the *sum* of per-sample losses over `batch` rows and writes
    /// gradLogits = (softmax − onehot) · `gradientScale` (1/N for a mean over a batch of N, which may be larger
    /// than this slice). `correct` counts rows whose first maximal logit is the label.
    static func forwardBackward(logits: UnsafePointer<Float>,             // [batch, classes]
                                labels: UnsafePointer<UInt8>,             // [batch]
                                batch: Int, classes: Int, gradientScale: Float,
                                gradLogits: UnsafeMutablePointer<Float>,  // [batch, classes], overwritten
                                correct: inout Int, outlierWeight: Float = 0) -> Double {
        var total = 0.0
        for b in 0..<batch {
            let row = logits + b &* classes, grad = gradLogits + b &* classes
            let (m, arg, sum) = softmaxStatistics(row, classes: classes, exps: grad)
            let label = Int(labels[b])
            if label >= classes {  // an outlier (OutlierExposure.outlierLabel): uniform target, weighted
                total += Double(outlierWeight) * uniformCrossEntropy(row, classes: classes, max: m, expSum: sum)
                let scale = gradientScale * outlierWeight
                for j in 0..<classes { grad[j] = scale * (grad[j] / sum - 1 / Float(classes)) }
                continue
            }
            if arg == label { correct += 1 }
            total += crossEntropy(row, label: label, max: m, expSum: sum)
            let scale = gradientScale / sum
            for j in 0..<classes { grad[j] *= scale }
            grad[label] -= gradientScale
        }
        return total
    }
}

/// Largest logit of `row`, its first index, and Σ_j exp(row[j] − max) summed in ascending j; stores each
/// exp in `exps` when given. Shared by training and evaluation so both compute the loss the same way.
@inline(__always)
func softmaxStatistics(_ row: UnsafePointer<Float>, classes: Int, exps: UnsafeMutablePointer<Float>?)
    -> (max: Float, argmax: Int, expSum: Float) {
    var m = row[0], arg = 0
    for j in 1..<classes where row[j] > m { m = row[j]; arg = j }
    var sum: Float = 0
    if let exps {
        for j in 0..<classes { let e = expf(row[j] - m); exps[j] = e; sum += e }
    } else {
        for j in 0..<classes { sum += expf(row[j] - m) }
    }
    return (m, arg, sum)
}

/// Cross-entropy of `row` for `label`: logsumexp − logit[label] = log(expSum) + max − logit[label].
@inline(__always)
func crossEntropy(_ row: UnsafePointer<Float>, label: Int, max m: Float, expSum sum: Float) -> Double {
    Double(logf(sum) + m - row[label])
}
