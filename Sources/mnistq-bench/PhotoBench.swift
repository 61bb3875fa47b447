// Accuracy on the seeded photo-like test set (MNISTQPhotoSet), per class: the full figures of issue 9.
import Foundation
import MNISTQData
import MNISTQImage
import MNISTQPhotoSet
import MNISTQQuantizer
import MNISTQRuntime
import MNISTQSupport
import MNISTQTrainer

/// Usage: photos [--model FILE.mnq8] [--classes a,b,…] [--count N] [--count-12mp N] [--write DIR]
///
/// Renders MNIST test digits (MNIST_DIR, default ../shared/mnist) as each class of `PhotoClass` (the first N test
/// images, default all 10,000; the 12 MP class the first --count-12mp, default 1,000), stores each as JPEG and
/// classifies it the way `mnistq classify` does (decode with the classifier's reduced JPEG size, preprocess,
/// int8). Prints one line per class: correct / total, percent, and the share `mnistq classify` would report `unsure`
/// (the model's own threshold and minimum confidence; accuracy counts the digit whatever the status). --failures DIR keeps each misclassified photo
/// and the 28×28 input the model saw, as PGM. With --write DIR the JPEGs are written to
/// DIR/<class>/<label>/<index>.jpg instead (for `mnistq classify --recursive DIR/<class>`), nothing is classified.
///
/// `photos --split train --write-idx DIR [--seed S] [--holdout-seed S] [--validation-split N] [--count N]` instead
/// renders the MNIST *training* digits that `mnistq train --seed S --validation-split N` trains on (its validation
/// images are left out; defaults 0 and 5000, train's), one photo-style rendering each (`PhotoSet.trainingInput`),
/// and writes the 28×28 inputs the CLI's preprocessing made of them as DIR/photo-train-images-idx3-ubyte and
/// DIR/photo-train-labels-idx1-ubyte, for `mnistq train --extra-digits … --extra-labels …`. Images the
/// preprocessing refuses as blank are left out. Deterministic: the same options give the same bytes.
func runPhotoBench(_ arguments: [String]) throws {
    if let split = arguments.firstIndex(of: "--split") {
        guard split + 1 < arguments.count, arguments[split + 1] == "train" else {
            throw BenchError.usage("photos --split takes only \"train\" (the test split is what `photos` measures on)")
        }
        return try writeTrainingRenderings(Array(arguments[..<split] + arguments[(split + 2)...]))
    }
    var modelPath = "samples/mnistq-int8.mnq8"
    var classes = PhotoClass.allCases
    var count = 10_000, count12MP = 1_000
    var writeDirectory: String?
    var failureDirectory: String?
    var index = 0
    let usage = "usage: mnistq-bench photos [--model FILE.mnq8] [--classes a,b,…] [--count N] [--count-12mp N] [--write DIR] [--failures DIR]"
    while index < arguments.count {
        guard index + 1 < arguments.count else { throw BenchError.usage(usage) }
        let value = arguments[index + 1]
        switch arguments[index] {
        case "--model": modelPath = value
        case "--count": count = max(1, Int(value) ?? count)
        case "--count-12mp": count12MP = max(1, Int(value) ?? count12MP)
        case "--write": writeDirectory = value
        case "--failures": failureDirectory = value
        case "--classes":
            classes = try value.split(separator: ",").map { name in
                guard let found = PhotoClass(rawValue: String(name)) else {
                    throw BenchError.usage("unknown class \(name); classes: \(PhotoClass.allCases.map(\.rawValue).joined(separator: ","))")
                }
                return found
            }
        default: throw BenchError.usage(usage)
        }
        index += 2
    }
    let test = try MNIST.loadTest(directory: benchMNISTDirectory)
    let classifier = ImageClassifier(model: try Model(bytes: try readBenchModelFile(modelPath)))
    let scratch = InferenceScratch(for: classifier.model)
    print("class                 correct / total   accuracy   reported unsure (as classify would)")
    for photoClass in classes {
        let total = min(test.count, photoClass == .phone12MP ? count12MP : count)
        let progress = ProgressLine(label: photoClass.rawValue, total: total, unit: "images")
        var correct = 0, blank = 0
        var inputs: [UInt8] = []  // every image's 28×28, for the `unsure` count
        for image in 0..<total {
            let sample = try PhotoSet.sample(photoClass, index: image, test: test)
            if let writeDirectory {
                let folder = "\(writeDirectory)/\(photoClass.rawValue)/\(sample.label)"
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try AtomicFile.write(sample.jpeg, to: String(format: "%@/%05d.jpg", folder, image))
            } else {
                let decoded = try ImageDecoder.decode(sample.jpeg, file: "\(image).jpg", jpegMinimumSide: classifier.jpegMinimumSide)
                let input = try? classifier.modelInput(for: decoded.images[0])
                if let input { inputs += input }
                if let input, classifier.model.classify(pixels: input, scratch: scratch).digit == sample.label {
                    correct += 1
                } else {
                    if input == nil { blank += 1 }
                    if let failureDirectory {
                        // The photo as decoded and the 28×28 the model saw (all zero when refused), as PGM.
                        let base = String(format: "%@/%@-%05d-label%d", failureDirectory, photoClass.rawValue, image, sample.label)
                        let photo = decoded.images[0]
                        FileHandle.standardError.write(Data("\(base): \(tracePreprocess(photo))\n".utf8))
                        try AtomicFile.write(Array("P5\n\(photo.width) \(photo.height)\n255\n".utf8) + photo.pixels, to: base + ".pgm")
                        try AtomicFile.write(Array("P5\n28 28\n255\n".utf8) + (input ?? [UInt8](repeating: 0, count: ModelFormat.inputPixelCount)), to: base + "-input.pgm")
                    }
                }
            }
            progress.update(done: image + 1)
        }
        progress.finish()
        if writeDirectory == nil {
            let name = photoClass.rawValue.padding(toLength: 21, withPad: " ", startingAt: 0)
            let unsure = OutOfDistributionEvaluation.unsure(model: classifier.model, images: inputs).filter { $0 }.count
            print(name + String(format: " %6d / %-6d %7.2f%%   unsure %5.2f%%", correct, total, 100 * Double(correct) / Double(total),
                                100 * Double(unsure) / Double(total))
                  + (blank > 0 ? " (\(blank) refused as blank)" : ""))
        }
    }
}

/// The numbers behind one preprocessing decision, for `photos --failures` (stderr).
func tracePreprocess(_ image: GrayImage, options: PreprocessOptions = PreprocessOptions()) -> String {
    var work = Preprocess.reduced(image, maxSide: options.workingSide)
    let sigma = Preprocess.noiseSigma(work)
    work = Preprocess.boxBlur(work, radius: Preprocess.denoiseRadius(sigma: sigma))
    let dark = Preprocess.inkIsDark(work)
    if !dark { work = Preprocess.inverted(work) }
    let window = Preprocess.paperWindow(width: work.width, height: work.height)
    let paper = Preprocess.paperLevel(work, window: window)
    let raw = Preprocess.darkInk(work, paper: paper)
    var text = "work \(work.width)x\(work.height) sigma \(sigma) dark \(dark) window \(window) maxInk \(raw.pixels.max() ?? 0)"
    guard let (ink, levels) = Preprocess.inkLevels(raw, minimumContrast: Int(options.minimumContrast)) else { return text + " BLANK" }
    text += " levels \(levels)"
    let (_, found) = Preprocess.components(ink, low: levels.low, high: levels.high)
    text += " components \(found.count) group \(Preprocess.digitGroup(found, width: ink.width, height: ink.height))"
    return text
}

/// `photos --split train --write-idx DIR`: see `runPhotoBench`.
func writeTrainingRenderings(_ arguments: [String]) throws {
    let usage = "usage: mnistq-bench photos --split train --write-idx DIR [--seed S] [--holdout-seed S] [--validation-split N] [--count N]"
    var directory: String?
    var seed: UInt64 = 0
    var holdOut = TrainingConfiguration()
    var count = Int.max
    var index = 0
    while index < arguments.count {
        guard index + 1 < arguments.count else { throw BenchError.usage(usage) }
        let value = arguments[index + 1]
        switch arguments[index] {
        case "--write-idx": directory = value
        case "--seed": seed = try UInt64(value) ?? { throw BenchError.usage(usage) }()
        case "--holdout-seed": holdOut.seed = try UInt64(value) ?? { throw BenchError.usage(usage) }()
        case "--validation-split": holdOut.validationCount = try Int(value) ?? { throw BenchError.usage(usage) }()
        case "--count": count = try Int(value).map { max(1, $0) } ?? { throw BenchError.usage(usage) }()
        default: throw BenchError.usage(usage)
        }
        index += 2
    }
    guard let directory else { throw BenchError.usage(usage) }
    let train = try MNIST.loadTrain(directory: benchMNISTDirectory)
    let chosen = Array(holdOut.holdOut(imageCount: train.count).train.prefix(count))
    print("rendering \(chosen.count) of \(train.count) training digits (leaving out the \(holdOut.validationCount) that `train --seed \(holdOut.seed) --validation-split \(holdOut.validationCount)` holds out), seed \(seed)")
    let progress = ProgressLine(label: "photo-train", total: chosen.count, unit: "images")
    let side = ModelFormat.inputPixelCount
    // Each image is rendered from its own seed, so the chunks can run on any thread in any order.
    let chunk = 500, chunks = (chosen.count + chunk - 1) / chunk
    let rendered = RenderedChunks(count: chunks)
    let renderSeed = seed
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        var out: [(PhotoClass, [UInt8]?)] = []
        do {
            for k in (c * chunk)..<min((c + 1) * chunk, chosen.count) {
                let image = Int(chosen[k])
                out.append(try PhotoSet.trainingInput(digit: Array(train.pixels(of: image)), index: image, seed: renderSeed))
            }
        } catch {
            rendered.store(c, [], failure: error)
            return
        }
        rendered.store(c, out, failure: nil)
        progress.update(done: rendered.imagesDone)
    }
    progress.finish()
    if let failure = rendered.failure { throw failure }
    let results = rendered.slots.flatMap { $0 }
    var pixels: [UInt8] = [], labels: [UInt8] = []
    pixels.reserveCapacity(chosen.count * side)
    var perClass: [PhotoClass: Int] = [:], blank = 0
    for (k, image) in chosen.enumerated() {
        let (photoClass, input) = results[k]
        guard let input else { blank += 1; continue }
        pixels += input
        labels.append(train.labels[Int(image)])
        perClass[photoClass, default: 0] += 1
    }
    let images = "\(directory)/photo-train-images-idx3-ubyte", labelFile = "\(directory)/photo-train-labels-idx1-ubyte"
    try AtomicFile.write(idxHeader(type: 0x08, dimensions: [labels.count, ModelFormat.inputSide, ModelFormat.inputSide]) + pixels, to: images)
    try AtomicFile.write(idxHeader(type: 0x08, dimensions: [labels.count]) + labels, to: labelFile)
    for entry in PhotoSet.trainingMix { print("\(entry.photoClass.rawValue): \(perClass[entry.photoClass] ?? 0)") }
    print("wrote \(labels.count) images (\(blank) refused as blank, left out): \(images), \(labelFile)")
}

/// The per-chunk results of the rendering threads.
final class RenderedChunks: @unchecked Sendable {  // written under `lock`; `slots` and `failure` read after the threads joined
    private let lock = NSLock()
    private(set) var slots: [[(PhotoClass, [UInt8]?)]]
    private(set) var failure: Error?
    private var done = 0

    init(count: Int) { slots = Array(repeating: [], count: count) }

    func store(_ chunk: Int, _ results: [(PhotoClass, [UInt8]?)], failure: Error?) {
        lock.lock(); defer { lock.unlock() }
        slots[chunk] = results
        done += results.count
        if let failure { self.failure = failure }
    }

    var imagesDone: Int { lock.lock(); defer { lock.unlock() }; return done }
}

/// An IDX header: two zero bytes, the element type, the dimension count, then each dimension big-endian.
func idxHeader(type: UInt8, dimensions: [Int]) -> [UInt8] {
    [0, 0, type, UInt8(dimensions.count)] + dimensions.flatMap { d in (0..<4).map { UInt8(truncatingIfNeeded: d >> (24 - 8 * $0)) } }
}
