// Activation range equalization: rescale ReLU channels so each uses the per-tensor uint8 range, exactly in float.
import Foundation
import MNISTQData
import MNISTQTrainer

/// Rescaling hidden channels before quantization (a function-preserving float transform).
///
/// ReLU and max-pool commute with multiplication by a positive factor, so scaling row c of layer l's weights
/// and bias by α_c and the weights that read channel c in layer l+1 by 1/α_c leaves the network's function
/// unchanged (up to float rounding). With one uint8 scale per activation tensor, a channel whose largest value
/// R_c is far below the tensor's largest R_max uses only a few of the 255 levels; α_c = (R_max/R_c)^power
/// widens it. `power` 1 gives every channel the full range; 0.5 splits the gain with the next layer's weight
/// precision (the scaled-down columns get coarser per-row int8 steps).
package enum Equalization {
    /// The largest α used: channels that are (nearly) dead gain nothing from more and would only lose weight precision.
    package static let maximumFactor: Double = 16

    /// Per-channel maxima of the four ReLU outputs (pool1 16, pool2 32, fc1 120, fc2 84) over `indices`.
    static func channelRanges(parameters: CNNParameters, split: MNISTSplit, indices: [Int]) -> [[Float]] {
        var ranges = [[Float](repeating: 0, count: 16), [Float](repeating: 0, count: 32),
                      [Float](repeating: 0, count: 120), [Float](repeating: 0, count: 84)]
        let cnn = FloatCNN(parameters: parameters)
        var acts = FloatCNN.Trace()
        for index in indices {
            cnn.forward(pixels: split.pixels(of: index), trace: &acts)
            for (l, values) in [acts.pool1, acts.pool2, acts.hidden1, acts.hidden2].enumerated() {
                let per = values.count / ranges[l].count
                for c in 0..<ranges[l].count {
                    for j in 0..<per { ranges[l][c] = max(ranges[l][c], values[c * per + j]) }
                }
            }
        }
        return ranges
    }

    /// The equalization factors α per hidden channel for `ranges` (1 for dead channels).
    static func factors(ranges: [[Float]], power: Double) -> [[Double]] {
        ranges.map { r in
            let top = Double(r.max() ?? 0)
            return r.map { rc in
                guard rc > 0, top > 0 else { return 1 }
                return min(Foundation.pow(top / Double(rc), power), maximumFactor)
            }
        }
    }

    /// `parameters` with hidden channel c of layer l scaled by factors[l][c] (and its readers by 1/factors[l][c]).
    static func apply(_ parameters: CNNParameters, factors: [[Double]]) -> CNNParameters {
        var p = parameters
        for l in 0..<4 {
            let alpha = factors[l]
            let per = LayerGeometry.fanIn[l]
            for c in 0..<alpha.count {
                let a = alpha[c]
                for i in 0..<per { p.tensors[2 * l][c * per + i] = Float(Double(p.tensors[2 * l][c * per + i]) * a) }
                p.tensors[2 * l + 1][c] = Float(Double(p.tensors[2 * l + 1][c]) * a)
            }
            // Readers in layer l+1: conv2 reads channel c through 25 taps per output; fc1 reads channel c at
            // inputs c·49 ..< (c+1)·49 (PyTorch flatten of [32, 7, 7]); fc2/fc3 read feature c at input c.
            let next = l + 1
            let outputs = LayerGeometry.outputs[next], fanIn = LayerGeometry.fanIn[next]
            let span = fanIn / alpha.count
            for o in 0..<outputs {
                for c in 0..<alpha.count {
                    let inverse = 1 / alpha[c]
                    for j in 0..<span {
                        let k = o * fanIn + c * span + j
                        p.tensors[2 * next][k] = Float(Double(p.tensors[2 * next][k]) * inverse)
                    }
                }
            }
        }
        return p
    }
}
