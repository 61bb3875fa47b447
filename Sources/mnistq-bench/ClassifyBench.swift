// Benchmark: the classify pipeline per stage (read, decode, preprocess, inference) on MNIST-test JPEGs, in process.
import Foundation
import MNISTQData
import MNISTQImage
import MNISTQRuntime
import MNISTQSupport

/// Usage: classify [--model FILE.mnq8] [--count N] [--rounds R] [--write-fixtures DIR]
///
/// Encodes the first N MNIST test images (MNIST_DIR, default ../shared/mnist) as 28×28 quality-90 JPEGs with
/// libjpeg. With --write-fixtures, writes them as DIR/<label>/<index>.jpg (for tools/bench-classify.sh) and stops.
/// Otherwise times each stage single-threaded over all N images, R rounds (median), and compares accuracy
/// with the raw pixels.
func runClassifyBench(_ arguments: [String]) throws {
    var modelPath: String?
    var count = 10_000
    var rounds = 5
    var fixtureDirectory: String?
    var index = 0
    while index < arguments.count {
        switch arguments[index] {
        case "--model" where index + 1 < arguments.count: modelPath = arguments[index + 1]; index += 2
        case "--count" where index + 1 < arguments.count: count = max(1, Int(arguments[index + 1]) ?? count); index += 2
        case "--rounds" where index + 1 < arguments.count: rounds = max(1, Int(arguments[index + 1]) ?? rounds); index += 2
        case "--write-fixtures" where index + 1 < arguments.count: fixtureDirectory = arguments[index + 1]; index += 2
        default: throw BenchError.usage("usage: mnistq-bench classify [--model FILE.mnq8] [--count N] [--rounds R] [--write-fixtures DIR]")
        }
    }
    let test = try MNIST.loadTest(directory: benchMNISTDirectory)
    count = min(count, test.count)
    let jpegs = try (0..<count).map { try JPEGEncoder.encode(Array(test.pixels(of: $0)), width: 28, height: 28, quality: 90) }

    if let fixtureDirectory {
        for digit in 0...9 {
            try FileManager.default.createDirectory(atPath: "\(fixtureDirectory)/\(digit)", withIntermediateDirectories: true)
        }
        for (image, bytes) in jpegs.enumerated() {
            let name = String(format: "%@/%d/%05d.jpg", fixtureDirectory, Int(test.labels[image]), image)
            try Data(bytes).write(to: URL(fileURLWithPath: name))
        }
        let total = jpegs.reduce(0) { $0 + $1.count }
        print("wrote \(count) JPEGs (q90, \(total / count) bytes each on average) to \(fixtureDirectory)/<label>/")
        return
    }

    let (model, foundPath) = try ModelLocator.load(explicit: modelPath)
    let classifier = ImageClassifier(model: model)
    let scratch = InferenceScratch(for: model)
    print("model: \(foundPath); \(count) MNIST test images as 28x28 q90 JPEG (\(jpegs.reduce(0) { $0 + $1.count } / count) bytes avg)")

    var decoded: [GrayImage] = []
    var inputs: [[UInt8]] = []
    var digits: [Int] = []
    func time(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
    var decodeTimes: [Double] = [], preprocessTimes: [Double] = [], inferenceTimes: [Double] = []
    for _ in 0..<rounds {
        decodeTimes.append(try time { decoded = try jpegs.enumerated().map { try ImageDecoder.decode($1, file: "\($0).jpg").images[0] } })
        preprocessTimes.append(try time { inputs = try decoded.map { try classifier.modelInput(for: $0) } })
        inferenceTimes.append(time { digits = inputs.map { model.classify(pixels: $0, scratch: scratch).digit } })
    }
    let stages = [("decode (libjpeg + EXIF scan)", median(decodeTimes)), ("preprocess", median(preprocessTimes)),
                  ("inference (int8)", median(inferenceTimes))]
    let total = stages.reduce(0) { $0 + $1.1 }
    for (name, seconds) in stages {
        let label = name.padding(toLength: 30, withPad: " ", startingAt: 0)
        print(label + String(format: " %7.2f µs/image  %5.1f%%", 1e6 * seconds / Double(count), 100 * seconds / total))
    }
    print("total".padding(toLength: 30, withPad: " ", startingAt: 0)
          + String(format: " %7.2f µs/image  → %.0f images/s per core (median of %d rounds, one thread)",
                   1e6 * total / Double(count), Double(count) / total, rounds))

    var rawCorrect = 0, jpegCorrect = 0
    for image in 0..<count {
        let label = Int(test.labels[image])
        if model.classify(pixels: Array(test.pixels(of: image)), scratch: scratch).digit == label { rawCorrect += 1 }
        if digits[image] == label { jpegCorrect += 1 }
    }
    print(String(format: "accuracy: raw %.2f%%, JPEG q90 %.2f%% (difference %.2f pp)", 100 * Double(rawCorrect) / Double(count),
                 100 * Double(jpegCorrect) / Double(count), 100 * Double(jpegCorrect - rawCorrect) / Double(count)))
}
