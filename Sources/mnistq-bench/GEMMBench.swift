// Benchmark: sgemm GMAC/s on the MNIST CNN's training shapes, against the reference loop in the same run.
import Foundation
import MNISTQRuntime
import MNISTQSupport
import MNISTQTrainer

/// One product of the training step, named after the layer and pass it comes from.
private struct GEMMShape {
    let name: String
    let transposeA: Bool, transposeB: Bool
    let m: Int, n: Int, k: Int
    var macs: Double { Double(m) * Double(n) * Double(k) }
}

/// Per-image shapes (slice = one image) and the batched forms the trainer may use (8 images side by side,
/// a 32-image slice for the fully connected layers).
private let trainingShapes: [GEMMShape] = {
    // The CNN's sizes from the network description: image pixels, channels, 5×5 taps, conv2's plane, fc features.
    let pixels = ModelFormat.inputPixelCount, taps = ModelFormat.kernelSide * ModelFormat.kernelSide
    let c1 = ModelFormat.conv1Channels, c2 = ModelFormat.conv2Channels, unfolded2 = c1 * taps
    let plane2 = ModelFormat.conv1OutputSide * ModelFormat.conv1OutputSide, flattened = ModelFormat.flattenedFeatureCount
    let f1 = ModelFormat.fc1Features, f2 = ModelFormat.fc2Features, images = 8, slice = 32
    return [
        GEMMShape(name: "conv1 fwd  W·cols", transposeA: false, transposeB: false, m: c1, n: pixels, k: taps),
        GEMMShape(name: "conv1 dW   dY·colsᵀ", transposeA: false, transposeB: true, m: c1, n: taps, k: pixels),
        GEMMShape(name: "conv2 fwd  W·cols", transposeA: false, transposeB: false, m: c2, n: plane2, k: unfolded2),
        GEMMShape(name: "conv2 dW   dY·colsᵀ", transposeA: false, transposeB: true, m: c2, n: unfolded2, k: plane2),
        GEMMShape(name: "conv2 dX   Wᵀ·dY", transposeA: true, transposeB: false, m: unfolded2, n: plane2, k: c2),
        GEMMShape(name: "conv1 fwd  ×8 images", transposeA: false, transposeB: false, m: c1, n: images * pixels, k: taps),
        GEMMShape(name: "conv2 fwd  ×8 images", transposeA: false, transposeB: false, m: c2, n: images * plane2, k: unfolded2),
        GEMMShape(name: "conv2 dW   ×8 images", transposeA: false, transposeB: true, m: c2, n: unfolded2, k: images * plane2),
        GEMMShape(name: "conv2 dX   ×8 images", transposeA: true, transposeB: false, m: unfolded2, n: images * plane2, k: c2),
        GEMMShape(name: "fc1 fwd    X·Wᵀ (B=32)", transposeA: false, transposeB: true, m: slice, n: f1, k: flattened),
        GEMMShape(name: "fc1 dW     dYᵀ·X", transposeA: true, transposeB: false, m: f1, n: flattened, k: slice),
        GEMMShape(name: "fc1 dX     dY·W", transposeA: false, transposeB: false, m: slice, n: flattened, k: f1),
        GEMMShape(name: "fc2 fwd    X·Wᵀ", transposeA: false, transposeB: true, m: slice, n: f2, k: f1),
    ]
}()

private typealias Kernel = (Bool, Bool, Int, Int, Int, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int,
                            UnsafeMutablePointer<Float>, Int, Bool) -> Void

/// Seconds per call: `iterations` back-to-back calls timed together.
private func secondsPerCall(_ shape: GEMMShape, _ kernel: Kernel, iterations: Int,
                            a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) -> Double {
    let lda = shape.transposeA ? shape.m : shape.k
    let ldb = shape.transposeB ? shape.k : shape.n
    let start = threadCPUSeconds()
    for _ in 0..<iterations {
        kernel(shape.transposeA, shape.transposeB, shape.m, shape.n, shape.k, a, lda, b, ldb, c, shape.n, false)
    }
    return (threadCPUSeconds() - start) / Double(iterations)
}

/// The FMA rate this core delivers right now: 12 independent FMA chains of `V` (SIMD8: one 256-bit register; SIMD16:
/// one 512-bit register where the CPU has AVX-512, two 256-bit ones elsewhere), no memory traffic. The machine is
/// shared, so sgemm is also quoted as a fraction of this, measured in the same run.
private func fmaPeakGMACs<V: SIMD>(_: V.Type, iterations: Int) -> Double where V.Scalar == Float {
    let x = V(repeating: 1e-7), y = V(repeating: Float(iterations & 7))
    // Distinct starting values, so the compiler cannot merge the twelve identical chains into one.
    var c0 = V(repeating: 0), c1 = V(repeating: 1), c2 = V(repeating: 2), c3 = V(repeating: 3)
    var c4 = V(repeating: 4), c5 = V(repeating: 5), c6 = V(repeating: 6), c7 = V(repeating: 7)
    var c8 = V(repeating: 8), c9 = V(repeating: 9), c10 = V(repeating: 10), c11 = V(repeating: 11)
    let start = threadCPUSeconds()
    for _ in 0..<iterations {
        c0 = c0.addingProduct(y, x); c1 = c1.addingProduct(y, x); c2 = c2.addingProduct(y, x)
        c3 = c3.addingProduct(y, x); c4 = c4.addingProduct(y, x); c5 = c5.addingProduct(y, x)
        c6 = c6.addingProduct(y, x); c7 = c7.addingProduct(y, x); c8 = c8.addingProduct(y, x)
        c9 = c9.addingProduct(y, x); c10 = c10.addingProduct(y, x); c11 = c11.addingProduct(y, x)
    }
    let seconds = threadCPUSeconds() - start
    let total = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11
    if total.sum() == 42 { print("") }  // keeps the loop alive
    return Double(iterations) * 12 * Double(V.scalarCount) / seconds / 1e9
}

private let usage = "usage: mnistq-bench gemm [--repeats N] [--millis T] [--shape NN|NT|TN|TT,M,N,K ...]"

/// Usage: gemm [--repeats N] [--millis T] [--shape tAtB,m,n,k]... (each repeat times both kernels for about
/// T ms, interleaved; --shape replaces the training shapes, e.g. `--shape NT,32,400,196`).
func runGEMMBench(_ arguments: [String]) throws {
    var repeats = 7
    var millis = 40.0
    var shapes: [GEMMShape] = []
    var index = 0
    while index < arguments.count {
        let flag = arguments[index]
        guard index + 1 < arguments.count else { throw BenchError.usage("\(usage)  (missing value after \(flag))") }
        let text = arguments[index + 1]
        switch flag {
        case "--repeats", "--millis":
            guard let value = Double(text), value > 0 else { throw BenchError.usage("\(usage)  (bad value \(text) after \(flag))") }
            if flag == "--repeats" { repeats = Int(value) } else { millis = value }
        case "--shape":
            let parts = text.split(separator: ",")
            guard parts.count == 4, ["NN", "NT", "TN", "TT"].contains(parts[0]),
                  let m = Int(parts[1]), let n = Int(parts[2]), let k = Int(parts[3]), m > 0, n > 0, k > 0 else {
                throw BenchError.usage("\(usage)  (bad shape \(text); expected e.g. NT,32,400,196)")
            }
            shapes.append(GEMMShape(name: "custom \(text)", transposeA: parts[0].first == "T", transposeB: parts[0].last == "T",
                                    m: m, n: n, k: k))
        default: throw BenchError.usage("\(usage)  (unknown option \(flag))")
        }
        index += 2
    }
    let custom = !shapes.isEmpty
    if !custom { shapes = trainingShapes }
    let fast: Kernel = { sgemm(transposeA: $0, transposeB: $1, m: $2, n: $3, k: $4, a: $5, lda: $6, b: $7, ldb: $8, c: $9, ldc: $10, accumulate: $11) }
    let naive: Kernel = { sgemmReference(transposeA: $0, transposeB: $1, m: $2, n: $3, k: $4, a: $5, lda: $6, b: $7, ldb: $8, c: $9, ldc: $10, accumulate: $11) }
    let peak = median((0..<repeats).map { _ in fmaPeakGMACs(SIMD8<Float>.self, iterations: 2_000_000) })
    let peak16 = median((0..<repeats).map { _ in fmaPeakGMACs(SIMD16<Float>.self, iterations: 2_000_000) })
    // The probe is Swift: built without -target-cpu it measures fmaf library calls, not the CPU (sgemm is C and
    // unaffected), so its %-of-peak column is meaningless in such a build.
    print(String(format: "FMA peak probe (12 chains, registers only; Swift, so without -target-cpu it times fmaf calls): "
                 + "SIMD8 %.1f GMAC/s, SIMD16 %.1f GMAC/s this run", peak, peak16))
    print("sgemm kernel path: \(FloatKernelPath.active) (MNISTQ_FLOAT_KERNELS=avx512|avx2|portable forces one; "
          + "available here: \(FloatKernelPath.available.map(\.description).joined(separator: ", ")))")
    print("sgemm vs sgemmReference (i-k-j pointer loop), single thread, thread CPU time, median of \(repeats) repeats; GMAC/s")
    print("shape                        tA tB     m     n     k     sgemm     naive   ratio  %SIMD16 peak")
    var fastRates: [String: Double] = [:]
    for shape in shapes {
        let aCount = shape.m * shape.k, bCount = shape.k * shape.n, cCount = shape.m * shape.n
        let a = UnsafeMutablePointer<Float>.allocate(capacity: aCount)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: bCount)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: cCount)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        for i in 0..<aCount { a[i] = Float(i % 13) * 0.01 - 0.06 }
        for i in 0..<bCount { b[i] = Float(i % 7) * 0.02 - 0.06 }
        // Calibrate iteration counts once (warm-up included), then interleave the two kernels per repeat.
        let fastIterations = max(1, Int(millis * 1e-3 / max(1e-9, secondsPerCall(shape, fast, iterations: 3, a: a, b: b, c: c))))
        let naiveIterations = max(1, Int(millis * 1e-3 / max(1e-9, secondsPerCall(shape, naive, iterations: 1, a: a, b: b, c: c))))
        var fastTimes: [Double] = [], naiveTimes: [Double] = []
        for _ in 0..<repeats {
            fastTimes.append(secondsPerCall(shape, fast, iterations: fastIterations, a: a, b: b, c: c))
            naiveTimes.append(secondsPerCall(shape, naive, iterations: naiveIterations, a: a, b: b, c: c))
        }
        let fastRate = shape.macs / median(fastTimes) / 1e9
        let naiveRate = shape.macs / median(naiveTimes) / 1e9
        fastRates[shape.name] = fastRate
        let line = shape.name.padding(toLength: 28, withPad: " ", startingAt: 0)
            + " \(shape.transposeA ? "T" : "N")  \(shape.transposeB ? "T" : "N")"
            + String(format: " %5d %5d %5d  %8.2f  %8.2f  %6.1fx  %4.0f%%", shape.m, shape.n, shape.k, fastRate, naiveRate, fastRate / naiveRate, 100 * fastRate / peak16)
        print(line)
    }
    if custom { return }
    try runIm2colBench(repeats: repeats, millis: millis)
    runRowSumsBench(repeats: repeats, millis: millis)
    // GEMM time of one epoch (60,000 images) on one core if every product ran at the per-image rates above.
    let perImage = ["conv1 fwd  W·cols", "conv1 dW   dY·colsᵀ", "conv2 fwd  W·cols", "conv2 dW   dY·colsᵀ", "conv2 dX   Wᵀ·dY"]
    var seconds = 0.0
    for shape in shapes where perImage.contains(shape.name) { seconds += shape.macs / (fastRates[shape.name]! * 1e9) }
    for shape in shapes where shape.name.hasPrefix("fc1") { seconds += shape.macs / 32 / (fastRates[shape.name]! * 1e9) }
    print(String(format: "estimated conv+fc1 GEMM time per epoch at per-image conv shapes: %.2f s on one core (%.2f s on two)",
                 seconds * 60000, seconds * 30000))
}

/// Thread CPU seconds per call of `body`, from a run of at least `millis` ms (iterations grow 4× until it is that long).
private func cpuSecondsPerCall(millis: Double, _ body: () -> Void) -> Double {
    var iterations = 1
    while true {
        let start = threadCPUSeconds()
        for _ in 0..<iterations { body() }
        let seconds = threadCPUSeconds() - start
        if seconds > millis * 1e-3 { return seconds / Double(iterations) }
        iterations *= 4
    }
}

/// im2col5x5 / col2im5x5 for both convolutions of the CNN, in microseconds per image (thread CPU time).
private func runIm2colBench(repeats: Int, millis: Double) throws {
    print("im2col5x5 / col2im5x5, µs per image (median of \(repeats)), and GB/s of columns written/read")
    for (channels, side) in [(1, ModelFormat.inputSide), (ModelFormat.conv1Channels, ModelFormat.conv1OutputSide)] {
        let plane = side * side
        let input = UnsafeMutablePointer<Float>.allocate(capacity: channels * plane)
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: channels * 25 * plane)
        defer { input.deallocate(); columns.deallocate() }
        for i in 0..<channels * plane { input[i] = Float(i % 11) }
        for i in 0..<channels * 25 * plane { columns[i] = Float(i % 5) }
        let forward = median((0..<repeats).map { _ in cpuSecondsPerCall(millis: millis) { im2col5x5(input: input, channels: channels, side: side, columns: columns) } })
        let backward = median((0..<repeats).map { _ in
            cpuSecondsPerCall(millis: millis) { col2im5x5(columns: columns, channels: channels, side: side, gradInput: input, accumulate: false) }
        })
        let bytes = Double(channels * 25 * plane * 4)
        print(String(format: "  channels %2d side %2d: im2col %7.2f µs (%5.1f GB/s)   col2im %7.2f µs (%5.1f GB/s)",
                     channels, side, forward * 1e6, bytes / forward / 1e9, backward * 1e6, bytes / backward / 1e9))
    }
}

/// Bias row sums (addRowSums) against the plain running-sum loop, per image, thread CPU time.
private func runRowSumsBench(repeats: Int, millis: Double) {
    print("bias row sums: addRowSums vs a running-sum loop, µs per image (median of \(repeats))")
    for (channels, side) in [(ModelFormat.conv1Channels, ModelFormat.inputSide), (ModelFormat.conv2Channels, ModelFormat.conv1OutputSide)] {
        let plane = side * side
        let input = UnsafeMutablePointer<Float>.allocate(capacity: channels * plane)
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: channels)
        defer { input.deallocate(); sums.deallocate() }
        for i in 0..<channels * plane { input[i] = Float((i &* 7919) % 13) - 6 }
        sums.initialize(repeating: 0, count: channels)
        let fastSums = median((0..<repeats).map { _ in cpuSecondsPerCall(millis: millis) {
            addRowSums(matrix: input, rows: channels, columns: plane, rowStride: plane, sums: sums) } })
        let plainSums = median((0..<repeats).map { _ in cpuSecondsPerCall(millis: millis) {
            for o in 0..<channels {
                var sum: Float = 0
                for i in 0..<plane { sum += input[o * plane + i] }
                sums[o] += sum
            }
        } })
        print(String(format: "  %2d×%3d: %6.2f vs %6.2f µs", channels, plane, fastSums * 1e6, plainSums * 1e6))
    }
}
