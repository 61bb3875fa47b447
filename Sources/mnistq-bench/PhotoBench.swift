// Accuracy on the seeded photo-like test set (MNISTQPhotoSet), per class: the full figures of issue 9.
import Foundation
import MNISTQData
import MNISTQImage
import MNISTQPhotoSet
import MNISTQRuntime
import MNISTQSupport

/// Usage: photos [--model FILE.mnq8] [--classes a,b,…] [--count N] [--count-12mp N] [--write DIR]
///
/// Renders MNIST test digits (MNIST_DIR, default ../shared/mnist) as each class of `PhotoClass` (the first N test
/// images, default all 10,000; the 12 MP class the first --count-12mp, default 1,000), stores each as JPEG and
/// classifies it the way `mnistq classify` does (decode with the classifier's reduced JPEG size, preprocess,
/// int8). Prints one line per class: correct / total and percent. --failures DIR keeps each misclassified photo
/// and the 28×28 input the model saw, as PGM. With --write DIR the JPEGs are written to
/// DIR/<class>/<label>/<index>.jpg instead (for `mnistq classify --recursive DIR/<class>`), nothing is classified.
func runPhotoBench(_ arguments: [String]) throws {
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
    print("class                 correct / total   accuracy")
    for photoClass in classes {
        let total = min(test.count, photoClass == .phone12MP ? count12MP : count)
        let progress = ProgressLine(label: photoClass.rawValue, total: total, unit: "images")
        var correct = 0, blank = 0
        for image in 0..<total {
            let sample = try PhotoSet.sample(photoClass, index: image, test: test)
            if let writeDirectory {
                let folder = "\(writeDirectory)/\(photoClass.rawValue)/\(sample.label)"
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try AtomicFile.write(sample.jpeg, to: String(format: "%@/%05d.jpg", folder, image))
            } else {
                let decoded = try ImageDecoder.decode(sample.jpeg, file: "\(image).jpg", jpegMinimumSide: classifier.jpegMinimumSide)
                let input = try? classifier.modelInput(for: decoded.images[0])
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
            print(name + String(format: " %6d / %-6d %7.2f%%", correct, total, 100 * Double(correct) / Double(total))
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
