// Benchmark: int8 kernels and network, reference vs fast in the same run (GMAC/s per kernel, images/s, µs, arena).
import Foundation
import MNISTQRuntime

/// Multiply-accumulates per image of each pipeline stage (conv1, conv2, fc1, fc2, fc3).
let int8StageMACs = [784 * 16 * 25, 196 * 32 * 400, 120 * 1568, 84 * 120, 10 * 84]
let int8StageNames = ["conv1", "conv2", "fc1", "fc2", "fc3"]

/// Usage: int8 [--model FILE.mnq8] [--rounds N]. Without a model, random valid layers (speed does not depend on values).
func runInt8Bench(_ arguments: [String]) throws {
    var rounds = 7
    var modelPath: String?
    var index = 0
    while index < arguments.count {
        switch arguments[index] {
        case "--rounds" where index + 1 < arguments.count: rounds = max(1, Int(arguments[index + 1]) ?? 7); index += 2
        case "--model" where index + 1 < arguments.count: modelPath = arguments[index + 1]; index += 2
        default: throw BenchError.usage("usage: mnistq-bench int8 [--model FILE.mnq8] [--rounds N]")
        }
    }
    let layers: [QuantizedLayer]
    if let modelPath {
        layers = try loadInt8BenchLayers(path: modelPath)
        print("model: \(modelPath)")
    } else {
        layers = randomInt8Layers(seed: 1)
        print("model: random valid layers (seed 1)")
    }
    let network = Int8Network(layers: layers)
    let arena = UnsafeMutableRawPointer.allocate(byteCount: network.arenaByteCount, alignment: 64)
    defer { arena.deallocate() }
    print("arena: \(network.arenaByteCount) bytes")

    // 64 distinct images: random strokes on black, like MNIST digits (values only affect timing through caches).
    var random = BenchRandom(seed: 7)
    let batch = 64
    var pixels = [UInt8](repeating: 0, count: batch * 784)
    for i in 0..<pixels.count where random.next() % 4 == 0 { pixels[i] = UInt8(truncatingIfNeeded: random.next()) }
    var scores = [Int32](repeating: 0, count: batch * 10)

    // Per-stage GMAC/s, reference vs fast, interleaved rounds; median.
    pixels.withUnsafeBufferPointer { px in scores.withUnsafeMutableBufferPointer { sc in
        let image = px.baseAddress!, out = sc.baseAddress!
        print("kernel   MACs/image   reference GMAC/s   fast GMAC/s   speed-up")
        for stage in 0..<5 {
            var times = [[Double](), [Double]()]
            for _ in 0..<rounds {
                for (path, reference) in [(0, true), (1, false)] {
                    if reference { network.runReference(pixels: image, arena: arena, scores: out) }
                    else { network.run(pixels: image, arena: arena, scores: out) }
                    let target = reference ? 0.02 : 0.05
                    var iterations = 0
                    let start = benchSeconds()
                    var elapsed = 0.0
                    repeat {
                        for _ in 0..<8 { network.runStage(stage, reference: reference, pixels: image, arena: arena, scores: out) }
                        iterations += 8
                        elapsed = benchSeconds() - start
                    } while elapsed < target
                    times[path].append(elapsed / Double(iterations))
                }
            }
            let gmacs = times.map { Double(int8StageMACs[stage]) / median($0) / 1e9 }
            print(String(format: "%-8@ %10d   %16.2f   %11.2f   %7.1f×", int8StageNames[stage], int8StageMACs[stage],
                         gmacs[0], gmacs[1], gmacs[1] / gmacs[0]))
        }

        // Whole network: batch-64 images/s (batch API and single calls), batch-1 latency distribution.
        var batchRates = [Double](), singleLoopRates = [Double](), referenceRates = [Double]()
        for _ in 0..<rounds {
            var start = benchSeconds()
            for _ in 0..<4 { network.run(batch: image, count: batch, arena: arena, scores: out) }
            batchRates.append(Double(4 * batch) / (benchSeconds() - start))
            start = benchSeconds()
            for _ in 0..<4 { for i in 0..<batch { network.run(pixels: image + i * 784, arena: arena, scores: out + i * 10) } }
            singleLoopRates.append(Double(4 * batch) / (benchSeconds() - start))
            start = benchSeconds()
            for i in 0..<8 { network.runReference(pixels: image + i * 784, arena: arena, scores: out + i * 10) }
            referenceRates.append(8 / (benchSeconds() - start))
        }
        var latencies = [Double]()
        for call in 0..<(rounds * 300) {
            let start = benchSeconds()
            network.run(pixels: image + (call % batch) * 784, arena: arena, scores: out)
            latencies.append((benchSeconds() - start) * 1e6)
        }
        latencies.sort()
        let totalMACs = Double(int8StageMACs.reduce(0, +))
        print(String(format: "network fast, batch-64 (batch API): %.0f images/s (%.1f GMAC/s)", median(batchRates), median(batchRates) * totalMACs / 1e9))
        print(String(format: "network fast, 64 single calls:      %.0f images/s", median(singleLoopRates)))
        print(String(format: "network reference:                  %.0f images/s", median(referenceRates)))
        print(String(format: "network fast, batch-1 latency: median %.1f µs, p99 %.1f µs (%d calls)",
                     latencies[latencies.count / 2], latencies[latencies.count * 99 / 100], latencies.count))
        print(String(format: "RESULT int8 batch64_images_per_s=%.0f batch1_median_us=%.2f batch1_p99_us=%.2f arena_bytes=%d",
                     median(batchRates), latencies[latencies.count / 2], latencies[latencies.count * 99 / 100], network.arenaByteCount))
    } }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
}

func benchSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}

/// SplitMix64: seeded, so every run benchmarks the same layers and images.
struct BenchRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random layers that satisfy `Int8Network.shapeMismatch == nil`.
func randomInt8Layers(seed: UInt64) -> [QuantizedLayer] {
    var random = BenchRandom(seed: seed)
    return Int8Network.layerShapes.map { shape in
        let weightCount = shape.outputCount * shape.inputCount * (shape.kind == .conv5x5ReluMaxPool ? 25 : 1)
        return QuantizedLayer(
            kind: shape.kind, outputCount: shape.outputCount, inputCount: shape.inputCount,
            weights: (0..<weightCount).map { _ in Int8(truncatingIfNeeded: random.next()) },
            bias: (0..<shape.outputCount).map { _ in Int32(truncatingIfNeeded: random.next() % 200_000) - 100_000 },
            multiplier: (0..<shape.outputCount).map { _ in Int32(1 << 30) + Int32(random.next() % (1 << 30)) },
            shift: (0..<shape.outputCount).map { _ in Int8(40 + random.next() % 8) },
            inputScale: 1, outputScale: 1, weightScales: [Float](repeating: 1, count: shape.outputCount))
    }
}
