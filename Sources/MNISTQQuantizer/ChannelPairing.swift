// conv1's output channels reordered so that the generic-vector kernels waste fewer multiplies: an exact
// transformation (the network computes the same integers), chosen on training images.
import MNISTQRuntime
import MNISTQTrainer

/// The order of conv1's output channels (conv2's input channels) in the written model.
///
/// Why: the generic-vector kernels (vector.c: x86-64 without a dedicated kernel family, WebAssembly, other 64-bit
/// hosts) compute conv2 from channel pairs (2k, 2k + 1), one 2-way multiply-add per pair, and skip a (tap, pair) whose
/// two channels both equal the blank background's value. A pair with one channel active and one at background still
/// costs the whole multiply, so pairing channels that are active at the same places saves work: for the shipped
/// sample, the pairing chosen on training digits leaves 8.6% fewer (tap, pair) entries on the MNIST test images than
/// the trained order (9,397 against 10,276 per image), and the vector family classifies them 4–5% faster. Reordering a hidden layer's channels (conv1's weights, bias, multiplier, shift
/// and scales, and conv2's weights along their input axis) changes no result: every score and activation downstream
/// is the same integer. Every other kernel family does the same work in any order.
package enum ChannelPairing {
    /// Training images the pairing is measured on (the first ones of the split), in about a second: enough for the
    /// costs (on the sample, 10,000 images pick a pairing that saves 0.15% more on the test images).
    package static let imageCount = 2000

    /// The order (new channel n is channel order[n] of `layers`) that minimises the vector kernels' conv2 work on
    /// `images` (`count` of them, ModelFormat.inputPixelCount bytes each): the minimum-cost pairing of conv1's
    /// channels, pairs in order of their first channel.
    package static func order(layers: [QuantizedLayer], images: [UInt8], count: Int) throws -> [Int] {
        precondition(layers.count >= 1 && images.count >= count * ModelFormat.inputPixelCount)
        let channels = ModelFormat.conv1Channels, side = ModelFormat.conv1OutputSide, area = side * side
        let conv1 = Array(layers.prefix(1))
        let outputs = try Int8Passes.lastLayerOutputs(layers: conv1, pixels: images, count: count)
        // The kernels' background: what conv1 makes of blank pixels (the same at every position).
        let blank = try Int8Passes.lastLayerOutputs(layers: conv1, pixels: [UInt8](repeating: 0, count: ModelFormat.inputPixelCount),
                                                    count: 1)
        let background = (0..<channels).map { blank[$0 * area] }
        // How many conv2 positions read input row (or column) y: its 5×5 windows over the zero-padded 14×14.
        let reach = ModelFormat.kernelPadding
        let uses = (0..<side).map { y in min(y + reach, side - 1) - max(y - reach, 0) + 1 }
        // active[a]: entries channel a would cost alone (Σ over images and positions of its reads where it differs
        // from the background); both[a][b]: those where a and b differ together. A pair (a, b) costs
        // active[a] + active[b] − both[a][b].
        var active = [Int](repeating: 0, count: channels)
        var both = [[Int]](repeating: [Int](repeating: 0, count: channels), count: channels)
        var differing = [Int](); differing.reserveCapacity(channels)
        for image in 0..<count {
            let out = image * channels * area
            for y in 0..<side {
                for x in 0..<side {
                    differing.removeAll(keepingCapacity: true)
                    for c in 0..<channels where outputs[out + c * area + y * side + x] != background[c] { differing.append(c) }
                    let weight = uses[y] * uses[x]
                    for (k, a) in differing.enumerated() {
                        active[a] += weight
                        for b in differing[(k + 1)...] { both[a][b] += weight; both[b][a] += weight }
                    }
                }
            }
        }
        let cost = (0..<channels).map { a in (0..<channels).map { b in active[a] + active[b] - both[a][b] } }
        return minimumCostPairing(cost: cost).flatMap { [$0.0, $0.1] }
    }

    /// The pairing of channels 0..<cost.count (an even count, at most 20) with the least total cost[a][b], pairs in
    /// order of their first channel; ties go to the lower channels. Exact: dynamic programming over the subsets of
    /// channels still unpaired, each pairing its lowest channel.
    package static func minimumCostPairing(cost: [[Int]]) -> [(Int, Int)] {
        let n = cost.count
        precondition(n % 2 == 0 && n <= 20 && cost.allSatisfy { $0.count == n })
        let full = (1 << n) - 1
        var best = [Int](repeating: Int.max, count: full + 1), partner = [Int](repeating: -1, count: full + 1)
        best[0] = 0
        for set in 1...full where set.nonzeroBitCount % 2 == 0 {
            let first = set.trailingZeroBitCount
            for second in (first + 1)..<n where set & (1 << second) != 0 {
                let rest = best[set & ~(1 << first) & ~(1 << second)]
                if rest != Int.max, rest + cost[first][second] < best[set] {
                    best[set] = rest + cost[first][second]
                    partner[set] = second
                }
            }
        }
        var pairs = [(Int, Int)](), set = full
        while set != 0 {
            let first = set.trailingZeroBitCount, second = partner[set]
            pairs.append((first, second))
            set &= ~(1 << first) & ~(1 << second)
        }
        return pairs
    }

    /// The order a model's `conv1-channel-order` metadata records (`value`), if it is a permutation of conv1's
    /// channels: what a float model's channels need to compare channel by channel with the model's layers.
    package static func order(recorded value: String) -> [Int]? {
        let order = value.split(separator: " ").map { Int($0) ?? -1 }
        return order.sorted() == Array(0..<ModelFormat.conv1Channels) ? order : nil
    }

    /// The metadata key of the order.
    package static let metadataKey = "conv1-channel-order"

    /// `layers` with conv1's output channels (and conv2's input channels) in `order`.
    package static func apply(_ order: [Int], to layers: [QuantizedLayer]) -> [QuantizedLayer] {
        let taps = ModelFormat.kernelSide * ModelFormat.kernelSide
        var result = layers
        var conv1 = layers[0]
        conv1.weights = order.flatMap { layers[0].weights[($0 * taps)..<(($0 + 1) * taps)] }
        conv1.bias = order.map { layers[0].bias[$0] }
        conv1.multiplier = order.map { layers[0].multiplier[$0] }
        conv1.shift = order.map { layers[0].shift[$0] }
        conv1.weightScales = order.map { layers[0].weightScales[$0] }
        result[0] = conv1
        var conv2 = layers[1]
        conv2.weights = reorderInputs(layers[1].weights, order: order, outputs: conv2.outputCount, taps: taps)
        result[1] = conv2
        return result
    }

    /// `parameters` (function-equivalent to the layers, see `QuantizedNetwork.floatReference`) with conv1's output
    /// channels in `order`, so that they stay the layers' float counterpart channel by channel.
    package static func apply(_ order: [Int], to parameters: CNNParameters) -> CNNParameters {
        let taps = ModelFormat.kernelSide * ModelFormat.kernelSide
        var p = parameters
        p.tensors[0] = order.flatMap { parameters.tensors[0][($0 * taps)..<(($0 + 1) * taps)] }
        p.tensors[1] = order.map { parameters.tensors[1][$0] }
        p.tensors[2] = reorderInputs(parameters.tensors[2], order: order, outputs: ModelFormat.conv2Channels, taps: taps)
        return p
    }

    /// conv weights [outputs][inputs][taps] with the input channels in `order`.
    private static func reorderInputs<T>(_ weights: [T], order: [Int], outputs: Int, taps: Int) -> [T] {
        let inputs = order.count
        var result = weights
        for o in 0..<outputs {
            for (n, c) in order.enumerated() {
                for t in 0..<taps { result[(o * inputs + n) * taps + t] = weights[(o * inputs + c) * taps + t] }
            }
        }
        return result
    }
}
