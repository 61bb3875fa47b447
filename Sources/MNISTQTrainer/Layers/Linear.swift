// Fully connected layer: the plain reference, the four-rows variant that sums in the reference's order (same
// bits), and the sgemm variant training runs on a batch, with its backward.

/// Fully connected layer: output = input · weightᵀ + bias.
enum Linear {
    /// The definition, one image: output[o] = bias[o] + Σ_i weight[o, i] · input[i], i ascending.
    static func forwardReference(input: UnsafePointer<Float>,            // [inFeatures]
                                 inFeatures: Int, outFeatures: Int,
                                 weight: UnsafePointer<Float>,           // [outFeatures, inFeatures]
                                 bias: UnsafePointer<Float>,             // [outFeatures]
                                 output: UnsafeMutablePointer<Float>) {  // [outFeatures]
        for o in 0..<outFeatures {
            var sum = bias[o]
            for i in 0..<inFeatures { sum += weight[o * inFeatures + i] * input[i] }
            output[o] = sum
        }
    }

    /// `forwardReference`'s bits, four outputs at a time: each sum is still one chain in ascending i, but four
    /// independent chains hide the latency of the additions (fc1's 1,568-long chains dominated the per-image
    /// forward). The quantizer's calibration runs this (`FloatCNN`).
    static func forwardInReferenceOrder(input: UnsafePointer<Float>,            // [inFeatures]
                                        inFeatures n: Int, outFeatures count: Int,
                                        weight: UnsafePointer<Float>,           // [outFeatures, inFeatures]
                                        bias: UnsafePointer<Float>,             // [outFeatures]
                                        output: UnsafeMutablePointer<Float>) {  // [outFeatures]
        var o = 0
        while o + 4 <= count {
            var s0 = bias[o], s1 = bias[o + 1], s2 = bias[o + 2], s3 = bias[o + 3]
            let r0 = weight + o * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n
            for i in 0..<n {
                let xi = input[i]
                s0 += r0[i] * xi; s1 += r1[i] * xi; s2 += r2[i] * xi; s3 += r3[i] * xi
            }
            output[o] = s0; output[o + 1] = s1; output[o + 2] = s2; output[o + 3] = s3
            o += 4
        }
        if o < count {
            forwardReference(input: input, inFeatures: n, outFeatures: count - o, weight: weight + o * n,
                             bias: bias + o, output: output + o)
        }
    }

    /// A batch at once (training and evaluation; equals `forwardReference` to float rounding).
    static func forward(input: UnsafePointer<Float>,            // [batch, inFeatures]
                        batch: Int, inFeatures: Int, outFeatures: Int,
                        weight: UnsafePointer<Float>,           // [outFeatures, inFeatures]
                        bias: UnsafePointer<Float>,             // [outFeatures]
                        output: UnsafeMutablePointer<Float>) {  // [batch, outFeatures]
        for b in 0..<batch { (output + b &* outFeatures).update(from: bias, count: outFeatures) }
        sgemm(transposeA: false, transposeB: true, m: batch, n: outFeatures, k: inFeatures,
              a: input, lda: inFeatures, b: weight, ldb: inFeatures, c: output, ldc: outFeatures, accumulate: true)
    }

    /// gradWeight += gradOutputᵀ · input; gradBias += column sums; gradInput (if given) = gradOutput · weight.
    static func backward(gradOutput: UnsafePointer<Float>,          // [batch, outFeatures]
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
