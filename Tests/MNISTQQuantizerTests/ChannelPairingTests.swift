// conv1's channel order for the vector kernels: the pairing is the cheapest one, reordering changes no result, and
// the quantizer writes the reordered layers and says so in the file.
import XCTest
@testable import MNISTQQuantizer
import MNISTQRuntime
import MNISTQTrainer

final class ChannelPairingTests: XCTestCase {
    /// The cheapest pairing by trying every one (n = 8: 105 pairings).
    private func bruteForceCost(_ cost: [[Int]], _ unpaired: [Int]) -> Int {
        guard let first = unpaired.first else { return 0 }
        var best = Int.max
        for k in 1..<unpaired.count {
            var rest = unpaired; rest.remove(at: k); rest.removeFirst()
            best = min(best, cost[first][unpaired[k]] + bruteForceCost(cost, rest))
        }
        return best
    }

    func testMinimumCostPairingIsTheCheapestPairing() {
        var state: UInt64 = 7 // xorshift64: the same matrices on every run
        func next() -> UInt64 { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state }
        for n in [2, 4, 6, 8] {
            for _ in 0..<20 {
                var cost = [[Int]](repeating: [Int](repeating: 0, count: n), count: n)
                for a in 0..<n { for b in (a + 1)..<n { cost[a][b] = Int(next() % 1000); cost[b][a] = cost[a][b] } }
                let pairs = ChannelPairing.minimumCostPairing(cost: cost)
                XCTAssertEqual(pairs.flatMap { [$0.0, $0.1] }.sorted(), Array(0..<n), "every channel in one pair")
                XCTAssertEqual(pairs.map(\.0), pairs.map(\.0).sorted(), "pairs in order of their first channel")
                XCTAssertTrue(pairs.allSatisfy { $0.0 < $0.1 })
                XCTAssertEqual(pairs.reduce(0) { $0 + cost[$1.0][$1.1] }, bruteForceCost(cost, Array(0..<n)))
            }
        }
        // Ties go to the lower channels: all costs equal → (0, 1), (2, 3), ...
        let flat = [[Int]](repeating: [Int](repeating: 5, count: 6), count: 6)
        XCTAssertEqual(ChannelPairing.minimumCostPairing(cost: flat).map { [$0.0, $0.1] }, [[0, 1], [2, 3], [4, 5]])
    }

    func testReorderedLayersGiveTheSameIntegersOnEveryTestImage() throws {
        let (outcome, _) = try QuantizerTestData.defaultOutcome()
        let data = try QuantizerTestData.mnist()
        let order = [5, 12, 0, 9, 3, 15, 1, 7, 14, 2, 10, 6, 13, 4, 11, 8]
        let reordered = ChannelPairing.apply(order, to: outcome.layers)
        XCTAssertNotEqual(reordered[0].weights, outcome.layers[0].weights)
        XCTAssertEqual(reordered[0].bias, order.map { outcome.layers[0].bias[$0] })
        XCTAssertEqual(Array(reordered[2...]), Array(outcome.layers[2...]), "fc layers untouched")
        // The order undone gives the layers back.
        var inverse = [Int](repeating: 0, count: order.count)
        for (n, c) in order.enumerated() { inverse[c] = n }
        XCTAssertEqual(ChannelPairing.apply(inverse, to: reordered), outcome.layers)
        // Every score of every test image is the same integer.
        let before = Int8Network(layers: outcome.layers), after = Int8Network(layers: reordered)
        let arena = UnsafeMutableRawPointer.allocate(byteCount: max(before.arenaByteCount, after.arenaByteCount), alignment: 64)
        defer { arena.deallocate() }
        var a = [Int32](repeating: 0, count: ModelFormat.classCount), b = a
        var differing = 0
        for i in 0..<data.test.count {
            Array(data.test.pixels(of: i)).withUnsafeBufferPointer { px in
                a.withUnsafeMutableBufferPointer { before.run(pixels: px.baseAddress!, arena: arena, scores: $0.baseAddress!) }
                b.withUnsafeMutableBufferPointer { after.run(pixels: px.baseAddress!, arena: arena, scores: $0.baseAddress!) }
            }
            differing += a == b ? 0 : 1
        }
        XCTAssertEqual(differing, 0, "images whose scores changed")
    }

    func testReorderedFloatReferenceComputesTheSameLogits() throws {
        let (outcome, _) = try QuantizerTestData.defaultOutcome()
        let data = try QuantizerTestData.mnist()
        let order = [5, 12, 0, 9, 3, 15, 1, 7, 14, 2, 10, 6, 13, 4, 11, 8]
        let before = FloatCNN(parameters: outcome.network.floatReference)
        let after = FloatCNN(parameters: ChannelPairing.apply(order, to: outcome.network.floatReference))
        var traceBefore = FloatCNN.Trace(), traceAfter = FloatCNN.Trace()
        for i in 0..<200 {
            before.forward(pixels: data.test.pixels(of: i), trace: &traceBefore)
            after.forward(pixels: data.test.pixels(of: i), trace: &traceAfter)
            // conv2 sums its input channels in another order: equal up to float rounding.
            for k in 0..<ModelFormat.classCount {
                XCTAssertEqual(traceAfter.logits[k], traceBefore.logits[k], accuracy: 1e-4 * max(1, abs(traceBefore.logits[k])),
                               "image \(i) logit \(k)")
            }
        }
    }

    func testTheQuantizerWritesTheCheapestOrderAndSaysSo() throws {
        let (outcome, path) = try QuantizerTestData.defaultOutcome()
        let data = try QuantizerTestData.mnist()
        let model = try Model(bytes: try XCTUnwrap(FileManager.default.contents(atPath: path).map { [UInt8]($0) }))
        let written = try XCTUnwrap(model.metadataValue(forKey: "conv1-channel-order"))
        let order = try XCTUnwrap(ChannelPairing.order(recorded: written), "a permutation: \(written)")
        XCTAssertEqual(order.map(String.init).joined(separator: " "), written)
        // What the report reads back: nothing but a permutation of the 16 channels.
        for bad in ["", "0 1 2", "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 14", "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 16",
                    "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 x", "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 0"] {
            XCTAssertNil(ChannelPairing.order(recorded: bad), "'\(bad)'")
        }
        // The order is what ChannelPairing picks for the written layers' own channels (a cheapest pairing is one
        // again after its own reordering: pairs (2k, 2k + 1) in the file).
        let count = ChannelPairing.imageCount
        let again = try ChannelPairing.order(layers: model.layers,
                                             images: Array(data.train.images.pixels.prefix(count * ModelFormat.inputPixelCount)),
                                             count: count)
        XCTAssertEqual(again, Array(0..<ModelFormat.conv1Channels), "the written order is already the cheapest")
        XCTAssertEqual(model.layers, outcome.layers)
    }
}
