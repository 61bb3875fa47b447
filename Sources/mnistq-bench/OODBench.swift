// Figures of the "not a digit" score: unsure rates on MNIST test, Fashion-MNIST test and rendered letters/symbols,
// and the cost of the score (the same model with and without its section, timed in the same run).
import Foundation
import MNISTQData
import MNISTQQuantizer
import MNISTQRuntime
import MNISTQSupport

/// Usage: ood [--model FILE.mnq8] [--glyphs DIR] [--rounds N]
///
/// MNIST_DIR (default ../shared/mnist) and FASHION_MNIST_DIR (default /usr/share/datasets/fashion-mnist) give the data
/// sets; --glyphs a folder written by tools/render-glyphs.py. tools/ood-figures runs it.
func runOODBench(_ arguments: [String]) throws {
    var modelPath = "samples/mnistq-int8.mnq8"
    var glyphDirectory: String?
    var rounds = 7
    var index = 0
    while index < arguments.count {
        switch arguments[index] {
        case "--model" where index + 1 < arguments.count: modelPath = arguments[index + 1]; index += 2
        case "--glyphs" where index + 1 < arguments.count: glyphDirectory = arguments[index + 1]; index += 2
        case "--rounds" where index + 1 < arguments.count: rounds = max(1, Int(arguments[index + 1]) ?? rounds); index += 2
        default: throw BenchError.usage("usage: mnistq-bench ood [--model FILE.mnq8] [--glyphs DIR] [--rounds N]")
        }
    }
    let model = try Model(bytes: try readBenchModelFile(modelPath))
    guard let calibration = model.outOfDistributionCalibration else {
        throw BenchError.usage("\(modelPath) has no out-of-distribution section; quantize it with this mnistq")
    }
    print("model: \(modelPath); threshold \(calibration.threshold), minimum confidence \(calibration.minimumConfidence)")
    let environment = ProcessInfo.processInfo.environment
    let mnist = try MNIST.loadTest(directory: benchMNISTDirectory)
    let fashionDirectory = environment["FASHION_MNIST_DIR"] ?? "/usr/share/datasets/fashion-mnist"
    let fashion = try IDX.readImages(path: "\(fashionDirectory)/t10k-images-idx3-ubyte.gz")
    let fashionLabels = try IDX.readLabels(path: "\(fashionDirectory)/t10k-labels-idx1-ubyte.gz")

    func percent(_ flags: [Bool]) -> String {
        String(format: "%6.2f%% (%d of %d)", 100 * Double(flags.filter { $0 }.count) / Double(max(1, flags.count)), flags.filter { $0 }.count, flags.count)
    }
    let mnistUnsure = OutOfDistributionEvaluation.unsure(model: model, images: mnist.images.pixels)
    let byConfidence = OutOfDistributionEvaluation.unsure(model: model, images: mnist.images.pixels, threshold: Int32.max)
    print("MNIST test unsure:         \(percent(mnistUnsure))   [confidence alone: \(percent(byConfidence))]")
    let results = model.classifyBatch(pixels: mnist.images.pixels, scratch: InferenceScratch(for: model))
    let kept = (0..<mnist.count).filter { !mnistUnsure[$0] }
    let keptCorrect = kept.filter { results[$0].digit == Int(mnist.labels[$0]) }.count
    let wrong = (0..<mnist.count).filter { results[$0].digit != Int(mnist.labels[$0]) }
    print(String(format: "MNIST test accuracy of the answers not unsure: %.2f%% (%d of %d); of the %d wrong answers %d are unsure",
                 100 * Double(keptCorrect) / Double(max(1, kept.count)), keptCorrect, kept.count, wrong.count,
                 wrong.filter { mnistUnsure[$0] }.count))
    let fashionUnsure = OutOfDistributionEvaluation.unsure(model: model, images: fashion.pixels)
    print("Fashion-MNIST test unsure: \(percent(fashionUnsure))")
    let fashionNames = ["T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"]
    print("  per class: " + (0..<10).map { c in
        let flags = (0..<fashion.count).filter { fashionLabels[$0] == c }.map { fashionUnsure[$0] }
        return String(format: "%@ %.1f%%", fashionNames[c], 100 * Double(flags.filter { $0 }.count) / Double(max(1, flags.count)))
    }.joined(separator: ", "))
    if let glyphDirectory {
        let script = "tools/render-glyphs.py"
        let rendered = try OutOfDistributionEvaluation.renderGlyphs(script: script, directory: glyphDirectory)
        let glyphUnsure = OutOfDistributionEvaluation.unsure(model: model, images: rendered.pixels)
        print("Letters/symbols unsure:    \(percent(glyphUnsure))  (\(rendered.glyphs.count) glyphs, tools/render-glyphs.py)")
        var line = "  per glyph:"
        for (label, glyph) in rendered.glyphs.enumerated() {
            let flags = (0..<rendered.labels.count).filter { Int(rendered.labels[$0]) == label }.map { glyphUnsure[$0] }
            line += String(format: " %@ %.0f%%", String(glyph), 100 * Double(flags.filter { $0 }.count) / Double(max(1, flags.count)))
        }
        print(line)
    }

    // Cost: the same layers without the section, batch of 64 and single images, alternating, medians.
    let plain = try Model(bytes: try Int8ModelWriter.encode(layers: model.layers, metadata: model.metadata))
    let pixelsPerImage = ModelFormat.inputPixelCount
    let pixels = Array(mnist.images.pixels.prefix(64 * pixelsPerImage))
    var buffers = [[Classification]](repeating: plain.classifyBatch(pixels: pixels, scratch: InferenceScratch(for: plain)), count: 2)
    let scratch = InferenceScratch(byteCount: max(model.arenaByteCount, plain.arenaByteCount))
    var batchTimes = [[Double](), [Double]()], singleTimes = [[Double](), [Double]()]
    pixels.withUnsafeBufferPointer { all in
        for _ in 0..<rounds {
            for (slot, candidate) in [plain, model].enumerated() {
                for _ in 0..<20 {
                    let start = monotonicSeconds()
                    buffers[slot].withUnsafeMutableBufferPointer { candidate.classifyBatch(pixels: all, scratch: scratch, into: $0) }
                    batchTimes[slot].append(monotonicSeconds() - start)
                }
                for _ in 0..<5 {
                    let start = monotonicSeconds()
                    for image in 0..<64 {
                        _ = candidate.classify(pixels: UnsafeBufferPointer(rebasing: all[(image * pixelsPerImage)..<((image + 1) * pixelsPerImage)]), scratch: scratch)
                    }
                    singleTimes[slot].append(monotonicSeconds() - start)
                }
            }
        }
    }
    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    let batch = batchTimes.map { 64 / median($0) }, single = singleTimes.map { 64 / median($0) }
    print(String(format: "speed, batch of 64: without score %.0f images/s, with score %.0f images/s (ratio %.3f)", batch[0], batch[1], batch[1] / batch[0]))
    print(String(format: "speed, single image: without score %.0f images/s, with score %.0f images/s (ratio %.3f)", single[0], single[1], single[1] / single[0]))
    print("kernels: \(model.kernelName)")
}
