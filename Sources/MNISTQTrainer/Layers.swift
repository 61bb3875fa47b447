// The CNN's layers as forward/backward pairs over raw buffers; every buffer's shape is in its comment.
//
// Layouts are PyTorch's (NCHW activations, [out, in, kh, kw] conv weights, [out, in] linear weights), so the
// golden vectors compare directly. Backward functions *accumulate* weight and bias gradients (callers zero
// them once per step) and *overwrite* input gradients.
import Foundation
import _MNISTQFloatKernels

/// 5×5 convolution, padding 2, stride 1, with bias, on one image, as im2col + one GEMM.
public enum Conv2d {
    /// output [outChannels, side·side] = weight [outChannels, inChannels·25] · columns + bias.
    /// `columns` [inChannels·25, side·side] receives the unfolded input and is kept for `backward`.
    public static func forward(input: UnsafePointer<Float>,            // [inChannels, side, side]
                               inChannels: Int, outChannels: Int, side: Int,
                               weight: UnsafePointer<Float>,           // [outChannels, inChannels, 5, 5]
                               bias: UnsafePointer<Float>,             // [outChannels]
                               columns: UnsafeMutablePointer<Float>,   // [inChannels·25, side·side]
                               output: UnsafeMutablePointer<Float>) {  // [outChannels, side·side]
        let plane = side &* side, k = inChannels &* 25
        im2col5x5(input: input, channels: inChannels, side: side, columns: columns)
        for o in 0..<outChannels { (output + o &* plane).update(repeating: bias[o], count: plane) }
        sgemm(transposeA: false, transposeB: false, m: outChannels, n: plane, k: k,
              a: weight, lda: k, b: columns, ldb: plane, c: output, ldc: plane, accumulate: true)
    }

    /// gradWeight += gradOutput · columnsᵀ; gradBias += row sums of gradOutput; and, when `gradInput` is
    /// given, gradInput = col2im(weightᵀ · gradOutput) using `gradColumns` as scratch.
    public static func backward(gradOutput: UnsafePointer<Float>,          // [outChannels, side·side]
                                columns: UnsafePointer<Float>,             // [inChannels·25, side·side] from forward
                                inChannels: Int, outChannels: Int, side: Int,
                                weight: UnsafePointer<Float>,              // [outChannels, inChannels·25]
                                gradWeight: UnsafeMutablePointer<Float>,   // [outChannels, inChannels·25], accumulated
                                gradBias: UnsafeMutablePointer<Float>,     // [outChannels], accumulated
                                gradColumns: UnsafeMutablePointer<Float>?, // [inChannels·25, side·side] scratch
                                gradInput: UnsafeMutablePointer<Float>?) { // [inChannels, side, side], overwritten
        let plane = side &* side, k = inChannels &* 25
        sgemm(transposeA: false, transposeB: true, m: outChannels, n: k, k: plane,
              a: gradOutput, lda: plane, b: columns, ldb: plane, c: gradWeight, ldc: k, accumulate: true)
        addRowSums(matrix: gradOutput, rows: outChannels, columns: plane, rowStride: plane, sums: gradBias)
        if let gradInput, let gradColumns {
            sgemm(transposeA: true, transposeB: false, m: k, n: plane, k: outChannels,
                  a: weight, lda: k, b: gradOutput, ldb: plane, c: gradColumns, ldc: plane, accumulate: false)
            col2im5x5(columns: gradColumns, channels: inChannels, side: side, gradInput: gradInput, accumulate: false)
        }
    }

    /// `backward` that unfolds `input` itself, transposed ([side·side, inChannels·25] in `columnsScratch`),
    /// so the weight gradient gradOutput · columnsᵀ is a plain product (no transposed stores into gradWeight).
    public static func backward(gradOutput: UnsafePointer<Float>,          // [outChannels, side·side]
                                input: UnsafePointer<Float>,               // [inChannels, side, side] of forward
                                columnsScratch: UnsafeMutablePointer<Float>, // [side·side, inChannels·25]
                                inChannels: Int, outChannels: Int, side: Int,
                                weight: UnsafePointer<Float>,              // [outChannels, inChannels·25]
                                gradWeight: UnsafeMutablePointer<Float>,   // [outChannels, inChannels·25], accumulated
                                gradBias: UnsafeMutablePointer<Float>,     // [outChannels], accumulated
                                gradColumns: UnsafeMutablePointer<Float>?, // [inChannels·25, side·side] scratch
                                gradInput: UnsafeMutablePointer<Float>?) { // [inChannels, side, side], overwritten
        let plane = side &* side, k = inChannels &* 25
        im2col5x5Transposed(input: input, channels: inChannels, side: side, columns: columnsScratch)
        sgemm(transposeA: false, transposeB: false, m: outChannels, n: k, k: plane,
              a: gradOutput, lda: plane, b: columnsScratch, ldb: k, c: gradWeight, ldc: k, accumulate: true)
        addRowSums(matrix: gradOutput, rows: outChannels, columns: plane, rowStride: plane, sums: gradBias)
        if let gradInput, let gradColumns {
            sgemm(transposeA: true, transposeB: false, m: k, n: plane, k: outChannels,
                  a: weight, lda: k, b: gradOutput, ldb: plane, c: gradColumns, ldc: plane, accumulate: false)
            col2im5x5(columns: gradColumns, channels: inChannels, side: side, gradInput: gradInput, accumulate: false)
        }
    }
}

/// ReLU followed by 2×2, stride-2 max pooling, on one image: output = maxpool(relu(input)).
///
/// The window maximum is taken over the pre-ReLU values and then clamped at 0, which equals pooling the ReLU
/// output. `argmax` keeps the first maximum in row-major window order (PyTorch's tie rule: it replaces the
/// running maximum only on a strictly greater value).
public enum MaxPool2d {
    public static func forwardReLU(input: UnsafePointer<Float>,            // [channels, side, side], pre-ReLU
                                   channels: Int, side: Int,
                                   output: UnsafeMutablePointer<Float>,    // [channels, side/2, side/2]
                                   argmax: UnsafeMutablePointer<Int32>) {  // [channels, side/2, side/2], index into input
        let half = side / 2
        for c in 0..<channels {
            let plane = c &* side &* side
            for y in 0..<half {
                for x in 0..<half {
                    let i0 = plane &+ (2 &* y) &* side &+ 2 &* x
                    var best = i0, m = input[i0]
                    let i1 = i0 &+ 1, i2 = i0 &+ side, i3 = i2 &+ 1
                    if input[i1] > m { m = input[i1]; best = i1 }
                    if input[i2] > m { m = input[i2]; best = i2 }
                    if input[i3] > m { m = input[i3]; best = i3 }
                    let o = (c &* half &+ y) &* half &+ x
                    output[o] = max(m, 0)
                    argmax[o] = Int32(truncatingIfNeeded: best)
                }
            }
        }
    }

    /// `forwardReLU` with each window's winner as a float code instead of an index: 0…3 = the position in
    /// row-major window order that the strict-`>` scan picks, 4 = the maximum is ≤ 0 (no gradient passes).
    /// Float codes keep every select in vector registers, and backward then needs neither the pre-ReLU
    /// input nor an index scatter. `side` must be even. The loop is C, vectorized per CPU at run time.
    static func forwardReLU(input: UnsafePointer<Float>, channels: Int, side: Int,
                            output: UnsafeMutablePointer<Float>, winner: UnsafeMutablePointer<Float>) {
        precondition(side & 1 == 0)
        mnistq_relu_maxpool2x2_forward(input, channels, side, output, winner)
    }

    /// Backward of the winner-code `forwardReLU`: each window's gradient goes to the input its code names
    /// (none for code 4), the same input `backwardReLU(gradOutput:argmax:…)` would pick. Every entry of
    /// gradInput is written (side is even, windows tile the plane).
    static func backwardReLU(gradOutput: UnsafePointer<Float>,          // [channels, side/2, side/2]
                             winner: UnsafePointer<Float>,              // [channels, side/2, side/2] from forward
                             channels: Int, side: Int,
                             gradInput: UnsafeMutablePointer<Float>) {  // [channels, side, side], overwritten
        precondition(side & 1 == 0)
        mnistq_relu_maxpool2x2_backward(gradOutput, winner, channels, side, gradInput)
    }

    /// gradInput = ReLU′ ⊙ scatter(gradOutput at argmax); every other entry 0.
    public static func backwardReLU(gradOutput: UnsafePointer<Float>,           // [channels, side/2, side/2]
                                    argmax: UnsafePointer<Int32>,               // from forward
                                    input: UnsafePointer<Float>,                // [channels, side, side], pre-ReLU
                                    channels: Int, side: Int,
                                    gradInput: UnsafeMutablePointer<Float>) {   // [channels, side, side], overwritten
        gradInput.update(repeating: 0, count: channels &* side &* side)
        let outCount = channels &* (side / 2) &* (side / 2)
        for o in 0..<outCount {
            let i = Int(argmax[o])
            // Windows do not overlap, so each input gets at most one gradient: assignment, not +=.
            if input[i] > 0 { gradInput[i] = gradOutput[o] }
        }
    }
}

/// ReLU on a flat buffer.
public enum ReLU {
    /// output = max(input, 0).
    public static func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { output[i] = max(input[i], 0) }
    }

    /// gradient *= (input > 0), in place (PyTorch's derivative at 0 is 0).
    public static func backward(input: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count where !(input[i] > 0) { gradient[i] = 0 }
    }
}

/// Fully connected layer on a batch: output = input · weightᵀ + bias.
public enum Linear {
    public static func forward(input: UnsafePointer<Float>,            // [batch, inFeatures]
                               batch: Int, inFeatures: Int, outFeatures: Int,
                               weight: UnsafePointer<Float>,           // [outFeatures, inFeatures]
                               bias: UnsafePointer<Float>,             // [outFeatures]
                               output: UnsafeMutablePointer<Float>) {  // [batch, outFeatures]
        for b in 0..<batch { (output + b &* outFeatures).update(from: bias, count: outFeatures) }
        sgemm(transposeA: false, transposeB: true, m: batch, n: outFeatures, k: inFeatures,
              a: input, lda: inFeatures, b: weight, ldb: inFeatures, c: output, ldc: outFeatures, accumulate: true)
    }

    /// gradWeight += gradOutputᵀ · input; gradBias += column sums; gradInput (if given) = gradOutput · weight.
    public static func backward(gradOutput: UnsafePointer<Float>,          // [batch, outFeatures]
                                input: UnsafePointer<Float>,               // [batch, inFeatures]
                                batch: Int, inFeatures: Int, outFeatures: Int,
                                weight: UnsafePointer<Float>,              // [outFeatures, inFeatures]
                                gradWeight: UnsafeMutablePointer<Float>,   // [outFeatures, inFeatures], accumulated
                                gradBias: UnsafeMutablePointer<Float>,     // [outFeatures], accumulated
                                gradInput: UnsafeMutablePointer<Float>?) { // [batch, inFeatures], overwritten
        sgemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: batch,
              a: gradOutput, lda: outFeatures, b: input, ldb: inFeatures, c: gradWeight, ldc: inFeatures, accumulate: true)
        for b in 0..<batch {
            let row = gradOutput + b &* outFeatures
            for o in 0..<outFeatures { gradBias[o] += row[o] }
        }
        if let gradInput {
            sgemm(transposeA: false, transposeB: false, m: batch, n: inFeatures, k: outFeatures,
                  a: gradOutput, lda: outFeatures, b: weight, ldb: inFeatures, c: gradInput, ldc: inFeatures, accumulate: false)
        }
    }
}

/// Softmax cross-entropy against integer labels, numerically stable (log-sum-exp with the row maximum removed).
public enum SoftmaxCrossEntropy {
    /// Returns the *sum* of per-sample losses over `batch` rows and writes
    /// gradLogits = (softmax − onehot) · `gradientScale` (1/N for a mean over a batch of N, which may be larger
    /// than this slice). `correct` counts rows whose first maximal logit is the label. Rows whose label is not
    /// a class (outlier exposure, `OutlierExposure.outlierLabel`) are trained towards the uniform distribution:
    /// loss `outlierWeight` · (logsumexp − mean logit), gradient `outlierWeight` · (softmax − 1/classes) · scale.
    public static func forwardBackward(logits: UnsafePointer<Float>,             // [batch, classes]
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
