// ReLU + 2×2, stride-2 max pooling on one image: the plain reference (first-maximum index, PyTorch's tie rule) and
// the winner-code variant training runs (C, vectorized per CPU), proven equal to it in MaxPool2dTests.
import _MNISTQFloatKernels

/// ReLU followed by 2×2, stride-2 max pooling: output = maxpool(relu(input)).
///
/// The window maximum is taken over the pre-ReLU values and then clamped at 0, which equals pooling the ReLU
/// output. The winner is the first maximum in row-major window order (PyTorch's tie rule: the running maximum
/// is replaced only on a strictly greater value).
enum MaxPool2d {
    /// Side of a pooling window (and its stride).
    static let window = 2

    /// The definition. `argmax` (when given) receives each window's winner as an index into `input`.
    static func forwardReLUReference(input: UnsafePointer<Float>,             // [channels, side, side], pre-ReLU
                                     channels: Int, side: Int,
                                     output: UnsafeMutablePointer<Float>,     // [channels, side/2, side/2]
                                     argmax: UnsafeMutablePointer<Int32>?) {  // [channels, side/2, side/2]
        let half = side / window
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
                    output[o] = ReLU.apply(m)
                    argmax?[o] = Int32(truncatingIfNeeded: best)
                }
            }
        }
    }

    /// Backward of the definition: gradInput = ReLU′ ⊙ scatter(gradOutput at argmax); every other entry 0.
    static func backwardReLUReference(gradOutput: UnsafePointer<Float>,           // [channels, side/2, side/2]
                                      argmax: UnsafePointer<Int32>,               // from forwardReLUReference
                                      input: UnsafePointer<Float>,                // [channels, side, side], pre-ReLU
                                      channels: Int, side: Int,
                                      gradInput: UnsafeMutablePointer<Float>) {   // [channels, side, side], overwritten
        gradInput.update(repeating: 0, count: channels &* side &* side)
        let outCount = channels &* (side / window) &* (side / window)
        for o in 0..<outCount {
            let i = Int(argmax[o])
            // Windows do not overlap, so each input gets at most one gradient: assignment, not +=.
            if input[i] > 0 { gradInput[i] = gradOutput[o] }
        }
    }

    /// `forwardReLUReference` with each window's winner as a float code instead of an index: 0…3 = the position
    /// in row-major window order that the strict-`>` scan picks, 4 = the maximum is ≤ 0 (no gradient passes).
    /// Float codes keep every select in vector registers, and backward then needs neither the pre-ReLU
    /// input nor an index scatter. `side` must be even. The loop is C, vectorized per CPU at run time.
    static func forwardReLU(input: UnsafePointer<Float>,           // [channels, side, side], pre-ReLU
                            channels: Int, side: Int,
                            output: UnsafeMutablePointer<Float>,   // [channels, side/2, side/2]
                            winner: UnsafeMutablePointer<Float>) { // [channels, side/2, side/2], codes 0…4
        precondition(side & 1 == 0)
        mnistq_relu_maxpool2x2_f32_forward(input, channels, side, output, winner)
    }

    /// Backward of the winner-code `forwardReLU`: each window's gradient goes to the input its code names
    /// (none for code 4), the same input `backwardReLUReference` picks. Every entry of gradInput is written
    /// (side is even, windows tile the plane).
    static func backwardReLU(gradOutput: UnsafePointer<Float>,          // [channels, side/2, side/2]
                             winner: UnsafePointer<Float>,              // [channels, side/2, side/2] from forward
                             channels: Int, side: Int,
                             gradInput: UnsafeMutablePointer<Float>) {  // [channels, side, side], overwritten
        precondition(side & 1 == 0)
        mnistq_relu_maxpool2x2_f32_backward(gradOutput, winner, channels, side, gradInput)
    }
}
