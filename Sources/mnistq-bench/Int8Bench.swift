// Benchmark: int8 kernels and network, reference vs fast in the same run (GMAC/s per kernel, images/s, µs, arena).
import Foundation
import MNISTQData
import MNISTQRuntime
import MNISTQSupport

/// Multiply-accumulates per image of each pipeline stage (conv1, conv2, fc1, fc2, fc3): every output position before
/// pooling (input side²) times each output's weights.
let int8StageMACs = ModelFormat.network.map { $0.inputSide * $0.inputSide * $0.weightCount }
let int8StageNames = ModelFormat.network.map(\.name)
/// Bytes of one image.
private let pixelCount = ModelFormat.inputPixelCount

/// Usage: int8 [--model FILE.mnq8] [--rounds N] [--portable] (the pure-Swift kernels instead of AVX2)
///             [--families] (instead: the in-place model's kernel families side by side: fastest, vector, portable C)
///             [--images strokes|mnist-test|noise] (the families' images: see `Int8BenchImages`).
/// Without a model, random valid layers (speed does not depend on values, only the vector family's on the images'
/// zeros).
func runInt8Bench(_ arguments: [String]) throws {
    var rounds = 7
    var modelPath: String?
    var portable = false
    var families = false
    var images = Int8BenchImages.strokes
    var index = 0
    while index < arguments.count {
        switch arguments[index] {
        case "--rounds" where index + 1 < arguments.count: rounds = max(1, Int(arguments[index + 1]) ?? 7); index += 2
        case "--model" where index + 1 < arguments.count: modelPath = arguments[index + 1]; index += 2
        case "--portable": portable = true; index += 1
        case "--families": families = true; index += 1
        case "--images" where index + 1 < arguments.count:
            guard let set = Int8BenchImages(rawValue: arguments[index + 1]) else {
                throw BenchError.usage("--images: strokes, mnist-test or noise, not '\(arguments[index + 1])'")
            }
            images = set; index += 2
        default:
            throw BenchError.usage("usage: mnistq-bench int8 [--model FILE.mnq8] [--rounds N] [--portable | --families [--images strokes|mnist-test|noise]]")
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
    if families { return try runInt8FamiliesBench(layers: layers, rounds: rounds, images: images) }
    let network = Int8Network(layers: layers, kernels: portable ? .portable : .fastest)
    let arena = UnsafeMutableRawPointer.allocate(byteCount: network.arenaByteCount, alignment: 64)
    defer { arena.deallocate() }
    print("arena: \(network.arenaByteCount) bytes")

    // 64 distinct images: random strokes on black, like MNIST digits (values only affect timing through caches).
    var random = Int8BenchRandom(seed: 7)
    let batch = 64
    var pixels = [UInt8](repeating: 0, count: batch * pixelCount)
    for i in 0..<pixels.count where random.next() % 4 == 0 { pixels[i] = UInt8(truncatingIfNeeded: random.next()) }
    var scores = [Int32](repeating: 0, count: batch * ModelFormat.classCount)

    // The machine is shared: every figure is a median of many short timings (a preempted one lands in the tail).
    pixels.withUnsafeBufferPointer { px in scores.withUnsafeMutableBufferPointer { sc in
        let image = px.baseAddress!, out = sc.baseAddress!
        print("kernel   MACs/image   reference GMAC/s   fast GMAC/s   speed-up   (median per call)")
        for stage in 0..<5 {
            var times = [[Double](), [Double]()]
            for round in 0..<(rounds * 10) {
                for (path, reference) in [(0, true), (1, false)] where !reference || round % 5 == 0 {
                    if reference { network.runReference(pixels: image, arena: arena, scores: out) }
                    else { network.run(pixels: image, arena: arena, scores: out) }
                    for _ in 0..<(reference ? 3 : 20) {
                        let start = monotonicSeconds()
                        network.runStage(stage, reference: reference, pixels: image, arena: arena, scores: out)
                        times[path].append(monotonicSeconds() - start)
                    }
                }
            }
            let gmacs = times.map { Double(int8StageMACs[stage]) / median($0) / 1e9 }
            print(String(format: "%-8@ %10d   %16.2f   %11.2f   %7.1f×", int8StageNames[stage], int8StageMACs[stage],
                         gmacs[0], gmacs[1], gmacs[1] / gmacs[0]))
        }

        // Whole network. batch-64: median time of one 64-image batch-API call; also the ORT script's method
        // (all of a 10,000-image pass in batches of 64, median of passes) on the 64 images cycled.
        var batchTimes = [Double](), singleLoopTimes = [Double](), referenceTimes = [Double]()
        for round in 0..<(rounds * 20) {
            var start = monotonicSeconds()
            network.run(batch: image, count: batch, arena: arena, scores: out)
            batchTimes.append(monotonicSeconds() - start)
            start = monotonicSeconds()
            for i in 0..<batch { network.run(pixels: image + i * pixelCount, arena: arena, scores: out + i * ModelFormat.classCount) }
            singleLoopTimes.append(monotonicSeconds() - start)
            if round % 10 == 0 {
                start = monotonicSeconds()
                network.runReference(pixels: image + round % batch * pixelCount, arena: arena, scores: out)
                referenceTimes.append(monotonicSeconds() - start)
            }
        }
        var passRates = [Double](), passCPURates = [Double]()
        for _ in 0..<rounds {
            let start = monotonicSeconds(), startCPU = threadCPUSeconds()
            for _ in 0..<(10_000 / batch) { network.run(batch: image, count: batch, arena: arena, scores: out) }
            passRates.append(Double(10_000 / batch * batch) / (monotonicSeconds() - start))
            passCPURates.append(Double(10_000 / batch * batch) / (threadCPUSeconds() - startCPU))
        }
        var latencies = [Double]()
        for call in 0..<(rounds * 300) {
            let start = monotonicSeconds()
            network.run(pixels: image + (call % batch) * pixelCount, arena: arena, scores: out)
            latencies.append((monotonicSeconds() - start) * 1e6)
        }
        latencies.sort()
        let totalMACs = Double(int8StageMACs.reduce(0, +))
        let batchRate = Double(batch) / median(batchTimes)
        print("kernels: \(network.kernelName)")
        print(String(format: "network fast, batch-64 call (median):       %.0f images/s (%.1f GMAC/s)", batchRate, batchRate * totalMACs / 1e9))
        print(String(format: "network fast, 64 single calls (median):     %.0f images/s", Double(batch) / median(singleLoopTimes)))
        print(String(format: "network fast, 10k pass in batches of 64 (median of %d passes, as the ORT script): %.0f images/s",
                     rounds, median(passRates)))
        print(String(format: "  same passes by thread CPU time (time this thread actually ran; immune to other load): %.0f images/s",
                     median(passCPURates)))
        print(String(format: "network reference (median):                 %.0f images/s", 1 / median(referenceTimes)))
        print(String(format: "network fast, batch-1 latency: median %.1f µs, p99 %.1f µs (%d calls)",
                     latencies[latencies.count / 2], latencies[latencies.count * 99 / 100], latencies.count))
        print(String(format: "RESULT int8 kernels=%@ batch64_images_per_s=%.0f pass10k_images_per_s=%.0f pass10k_cpu_images_per_s=%.0f batch1_median_us=%.2f batch1_p99_us=%.2f arena_bytes=%d",
                     network.kernelName, batchRate, median(passRates), median(passCPURates), latencies[latencies.count / 2],
                     latencies[latencies.count * 99 / 100], network.arenaByteCount))
    } }
}

/// SplitMix64: seeded, so every run benchmarks the same layers and images.
private struct Int8BenchRandom {
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

/// Random layers that pass the model format's checks (`ModelFile.validate(layers:)`).
func randomInt8Layers(seed: UInt64) -> [QuantizedLayer] {
    var random = Int8BenchRandom(seed: seed)
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

/// The images of the families benchmark. The vector kernels skip work on exact zeros, so their speed depends on them.
enum Int8BenchImages: String {
    /// 64 images of random pixels on black, a quarter of them non-zero (the benchmark's images before `--images`).
    case strokes
    /// The 10,000 MNIST test images (MNIST_DIR), 156 batches of 64 in turn: what the network is for.
    case mnistTest = "mnist-test"
    /// 64 images of uniformly random pixels, almost none zero: the vector kernels' worst case.
    case noise

    /// Pixels of whole batches of 64, back to back.
    func pixels(batch: Int) throws -> [UInt8] {
        var random = Int8BenchRandom(seed: 7)
        switch self {
        case .strokes:
            var pixels = [UInt8](repeating: 0, count: batch * pixelCount)
            for i in 0..<pixels.count where random.next() % 4 == 0 { pixels[i] = UInt8(truncatingIfNeeded: random.next()) }
            return pixels
        case .mnistTest:
            let test = try MNIST.loadTest(directory: benchMNISTDirectory)
            return Array(test.images.pixels.prefix(test.count / batch * batch * pixelCount))
        case .noise:
            return (0..<(batch * pixelCount)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        }
    }
}

/// The in-place model's kernel families on the same image and pixels, in interleaved rounds (so drift on a shared
/// machine hits them alike): batch-64 images/s (median of `classify(batch:)` calls) and batch-1 latency for
/// `.fastest`, `.vector` (what a CPU without a dedicated family runs, and wasm) and `.portable` (the C kernels).
func runInt8FamiliesBench(layers: [QuantizedLayer], rounds: Int, images: Int8BenchImages) throws {
    let image = try InPlaceImage.encode(layers: layers, metadata: [])
    let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: image.count, alignment: 64)
    defer { storage.deallocate() }
    image.withUnsafeBytes { storage.copyMemory(from: $0) }
    let kinds: [InPlaceModel.Kernels] = [.fastest, .vector, .portable]
    let models = try kinds.map { try InPlaceModel(borrowing: UnsafeRawBufferPointer(storage), kernels: $0) }
    let arena = UnsafeMutableRawPointer.allocate(byteCount: InPlaceModel.arenaByteCount, alignment: 64)
    defer { arena.deallocate() }
    let batch = 64
    let pixels = try images.pixels(batch: batch)
    let batchCount = pixels.count / (batch * pixelCount)
    print("images: \(images.rawValue), \(batchCount) batch\(batchCount == 1 ? "" : "es") of \(batch)")
    var scores = [Int32](repeating: 0, count: batch * ModelFormat.classCount), check = scores
    var batchTimes = [[Double]](repeating: [], count: models.count), single = batchTimes, batchCPU = batchTimes
    pixels.withUnsafeBufferPointer { px in scores.withUnsafeMutableBufferPointer { sc in
        var nextBatch = 0
        for round in 0..<(rounds * 5) {
            for (m, model) in models.enumerated() {
                // Slow families get fewer calls per round; every family runs in every round.
                let calls = model.kernelName.description == "portable-c" ? 1 : 4
                for call in 0..<calls {
                    // Every family gets the same batches (with several, each round moves on to the next ones).
                    let first = px.baseAddress! + (nextBatch + call) % batchCount * batch * pixelCount
                    let start = monotonicSeconds(), startCPU = threadCPUSeconds()
                    model.classify(batch: first, count: batch, arena: arena, scores: sc.baseAddress!)
                    batchTimes[m].append(monotonicSeconds() - start)
                    batchCPU[m].append(threadCPUSeconds() - startCPU)
                }
                for call in 0..<(calls * 16) {
                    let start = monotonicSeconds()
                    model.classify(pixels: px.baseAddress! + ((call + round) % (batch * batchCount)) * pixelCount, arena: arena, scores: sc.baseAddress!)
                    single[m].append(monotonicSeconds() - start)
                }
            }
            nextBatch += 4
        }
        // Every family gives the same scores (the tests prove it on real data; this guards the benchmark itself).
        models[0].classify(batch: px.baseAddress!, count: batch, arena: arena, scores: sc.baseAddress!)
        check = Array(sc)
        for model in models.dropFirst() {
            model.classify(batch: px.baseAddress!, count: batch, arena: arena, scores: sc.baseAddress!)
            if Array(sc) != check { print("WARNING: \(model.kernelName) scores differ from \(models[0].kernelName)") }
        }
    } }
    let rates = batchTimes.map { Double(batch) / median($0) }, cpuRates = batchCPU.map { Double(batch) / median($0) }
    print("in-place model, one thread, \(rounds * 5) interleaved rounds; ratios against the vector family")
    print("(CPU: the same batch calls timed by this thread's CPU time, immune to other load on a shared machine)")
    print("family          batch-64 images/s   batch-64 CPU images/s   batch-1 median µs   vs vector (CPU)")
    for (m, model) in models.enumerated() {
        print(String(format: "%-15@ %17.0f   %21.0f   %17.2f   %8.2f×", model.kernelName.description, rates[m], cpuRates[m],
                     median(single[m]) * 1e6, cpuRates[m] / cpuRates[1]))
    }
    print(String(format: "RESULT int8-families fastest=%@ fastest_images_per_s=%.0f vector_images_per_s=%.0f portable_c_images_per_s=%.0f fastest_cpu_images_per_s=%.0f vector_cpu_images_per_s=%.0f portable_c_cpu_images_per_s=%.0f",
                 models[0].kernelName.description, rates[0], rates[1], rates[2], cpuRates[0], cpuRates[1], cpuRates[2]))
}
