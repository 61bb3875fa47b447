// `mnistq classify` run as a subprocess: exact output formats, bad files in a batch, exit codes, labels.
import Foundation
import MNISTQImage
import MNISTQRuntime
import XCTest

final class ClassifyCLITests: CLITestCase {
    /// What the library says about a fixture file, computed in this process.
    func expectedGuesses(_ relativePath: String, _ classifier: ImageClassifier, topK: Int) throws -> [DigitGuess] {
        let image = try ImageDecoder.decodeFile(atPath: directory.appendingPathComponent(relativePath).path).images[0]
        let scratch = InferenceScratch(for: classifier.model)
        return ImageClassifier.topGuesses(try classifier.classify(image, scratch: scratch), count: topK)
    }

    /// The ten int32 scores the library gives a fixture file, as the JSON rows print them.
    func expectedScores(_ relativePath: String, _ classifier: ImageClassifier) throws -> String {
        let image = try ImageDecoder.decodeFile(atPath: directory.appendingPathComponent(relativePath).path).images[0]
        let classification = try classifier.classify(image, scratch: InferenceScratch(for: classifier.model))
        return classification.scores.map { String($0) }.joined(separator: ",")
    }

    /// The status and out-of-distribution score `classify` reports for a fixture file with the model's defaults.
    func expectedVerdict(_ relativePath: String, _ classifier: ImageClassifier) throws -> (status: String, ood: String) {
        let image = try ImageDecoder.decodeFile(atPath: directory.appendingPathComponent(relativePath).path).images[0]
        return verdict(try classifier.classify(image, scratch: InferenceScratch(for: classifier.model)), classifier.model)
    }

    func verdict(_ result: Classification, _ model: Model) -> (status: String, ood: String) {
        let calibration = model.outOfDistributionCalibration
        let confidence = ImageClassifier.topGuesses(result, count: 1)[0].probability
        var unsure = confidence < (calibration?.minimumConfidence ?? 0.5)
        if let calibration, let score = result.outOfDistributionScore, score > calibration.threshold { unsure = true }
        return (unsure ? "unsure" : "ok", result.outOfDistributionScore.map(String.init) ?? "")
    }

    func p(_ value: Float, _ digits: Int) -> String { String(format: "%.\(digits)f", Double(value)) }

    /// The small fixture: three MNIST test digits in label folders, as JPEG, PGM and raw, and a text file named .jpg.
    func makeFixture() throws -> [(path: String, label: Int?)] {
        let mnist = try mnistTest()
        try write("digits/7/mnist-0.jpg", try JPEGEncoder.encode(mnist.images[0].pixels, width: 28, height: 28, quality: 90))
        try write("digits/2/mnist-1.pgm", Array("P5\n28 28\n255\n".utf8) + mnist.images[1].pixels)
        try write("digits/1/mnist-2.raw", mnist.images[2].pixels)
        try write("digits/notes.jpg", Array("not a picture\n".utf8))
        XCTAssertEqual(mnist.labels.prefix(3), [7, 2, 1])
        return [("digits/1/mnist-2.raw", 1), ("digits/2/mnist-1.pgm", 2), ("digits/7/mnist-0.jpg", 7), ("digits/notes.jpg", nil)]
    }

    // MARK: Tests

    func testOutputFormatsAreExact() throws {
        let rows = try makeFixture()
        let classifier = try classifier()
        let topK = 2
        var guesses: [String: [DigitGuess]] = [:]
        for row in rows where row.label != nil { guesses[row.path] = try expectedGuesses(row.path, classifier, topK: topK) }
        let common = ["classify", "--model", Self.modelPath, "--recursive", "--top-k", "\(topK)", "--no-progress", "digits"]
        let errorText = "digits/notes.jpg: not an image (looks like text)"

        var table = "DIGIT  CONF    STATUS  LABEL  TOP-2            PATH\n"
        var csv = "path,status,digit,confidence,label,top,error,ood_score\n"
        var json = "["
        for (index, row) in rows.enumerated() {
            json += index == 0 ? "\n" : ",\n"
            guard let label = row.label, let top = guesses[row.path] else {
                table += "-      -       -       -      error            \(row.path)\n"
                csv += "\(row.path),error,,,,,\(errorText),\n"
                json += "{\"path\":\"\(row.path)\",\"status\":\"error\",\"error\":\"\(errorText)\"}"
                continue
            }
            let best = top[0]
            let (status, ood) = try expectedVerdict(row.path, classifier)
            let topText = top.map { "\($0.digit):\(p($0.probability, 3))" }.joined(separator: " ")
            table += "\(best.digit)      \(p(best.probability, 4))  \(status.padding(toLength: 6, withPad: " ", startingAt: 0))  \(label)      \(topText)  \(row.path)\n"
            csv += "\(row.path),\(status),\(best.digit),\(p(best.probability, 4)),\(label),"
                + top.map { "\($0.digit):\(p($0.probability, 4))" }.joined(separator: ";") + ",,\(ood)\n"
            json += "{\"path\":\"\(row.path)\",\"status\":\"\(status)\",\"digit\":\(best.digit),\"confidence\":\(p(best.probability, 4)),"
                + "\"ood_score\":\(ood.isEmpty ? "null" : ood),\"label\":\(label),\"top\":["
                + top.map { "{\"digit\":\($0.digit),\"probability\":\(p($0.probability, 4))}" }.joined(separator: ",") + "],"
                + "\"scores\":[\(try expectedScores(row.path, classifier))]}"
        }
        json += "\n]\n"

        for (format, expected) in [("table", table), ("csv", csv), ("json", json)] {
            let result = try run(common + ["--format", format])
            XCTAssertEqual(result.stdout, expected, format)
            XCTAssertEqual(result.status, 1, "one input failed → exit 1 (\(format))")
            XCTAssertTrue(result.stderr.contains("mnistq classify: \(errorText)\n"), result.stderr)
            XCTAssertTrue(result.stderr.contains("classified 3 of 4 images, 1 error"), result.stderr)
            let correct = rows.filter { $0.label != nil && guesses[$0.path]![0].digit == $0.label }.count
            XCTAssertTrue(result.stderr.contains("accuracy \(correct)/3 = "), result.stderr)
        }
        // JSON output parses as JSON.
        let parsed = try JSONSerialization.jsonObject(with: Data(try run(common + ["--format", "json"]).stdout.utf8)) as? [[String: Any]]
        XCTAssertEqual(parsed?.count, 4)

        // Without the bad file: exit 0, and with no labels the LABEL column is absent.
        try FileManager.default.removeItem(at: directory.appendingPathComponent("digits/notes.jpg"))
        try write("plain.pgm", Array("P5\n28 28\n255\n".utf8) + (try mnistTest()).images[1].pixels)
        let clean = try run(["classify", "--model", Self.modelPath, "--top-k", "1", "plain.pgm"])
        let top = try expectedGuesses("plain.pgm", classifier, topK: 1)[0]
        let status = try expectedVerdict("plain.pgm", classifier).status.padding(toLength: 6, withPad: " ", startingAt: 0)
        XCTAssertEqual(clean.status, 0, clean.stderr)
        XCTAssertEqual(clean.stdout, "DIGIT  CONF    STATUS  TOP-1    PATH\n\(top.digit)      \(p(top.probability, 4))  \(status)  \(top.digit):\(p(top.probability, 3))  plain.pgm\n")
    }

    func testBatchWithBadFilesClassifiesEveryGoodFileAndExits1() throws {
        let mnist = try mnistTest()
        let classifier = try classifier()
        var arguments = ["classify", "--model", Self.modelPath, "--format", "csv", "--top-k", "1", "--jobs", "2"]
        var expectations: [(path: String, check: (String) -> Bool)] = []
        let tiny = try JPEGEncoder.encode(mnist.images[5].pixels, width: 28, height: 28, quality: 90)
        var huge = tiny
        let sof = (2..<(huge.count - 9)).first { huge[$0] == 0xFF && huge[$0 + 1] == 0xC0 }!
        for offset in [sof + 5, sof + 7] { huge[offset] = 0xEA; huge[offset + 1] = 0x60 }
        var state: UInt64 = 7  // a seeded LCG: bytes that are no image format and not text
        let bad: [(String, [UInt8]?, String)] = [
            ("empty.jpg", [], "empty file (0 bytes)"),
            ("truncated.jpg", Array(tiny.prefix(tiny.count / 2)), "truncated JPEG"),
            ("random.jpg", (0..<999).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 56)
            }, "not an image: unknown format"),
            ("text.jpg", Array("hello\n".utf8), "not an image (looks like text)"),
            ("short.raw", [UInt8](repeating: 1, count: 700), "700 bytes is not a multiple of 784"),
            ("huge.jpg", huge, "declares 60000x60000 pixels"),
            ("pipe.png", nil, "pipe.png: is a FIFO (named pipe), not a regular file"),
            ("missing.png", nil, "missing.png: cannot open: No such file or directory"),
        ]
        for index in 0..<40 {
            // Good files interleaved with bad ones, in argument order.
            let name = String(format: "good-%02d.jpg", index)
            try write(name, try JPEGEncoder.encode(mnist.images[index].pixels, width: 28, height: 28, quality: 90))
            let digit = try expectedGuesses(name, classifier, topK: 1)[0].digit
            let status = try expectedVerdict(name, classifier).status
            arguments.append(name)
            expectations.append((name, { $0.hasPrefix("\(name),\(status),\(digit),") }))
            if index % 5 == 0, index / 5 < bad.count {
                let (badName, bytes, message) = bad[index / 5]
                if let bytes { try write(badName, bytes) } else if badName == "pipe.png" {
                    XCTAssertEqual(mkfifo(directory.appendingPathComponent(badName).path, 0o600), 0)
                }
                arguments.append(badName)
                expectations.append((badName, { $0.hasPrefix("\(badName),error,,,,,") && $0.contains(message) }))
            }
        }
        let result = try run(arguments, timeout: 20)
        XCTAssertEqual(result.status, 1)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "path,status,digit,confidence,label,top,error,ood_score")
        XCTAssertEqual(lines.count - 1, expectations.count)
        for (line, expectation) in zip(lines.dropFirst(), expectations) {
            XCTAssertTrue(expectation.check(line), "\(expectation.path): \(line)")
        }
        XCTAssertTrue(result.stderr.contains("classified 40 of 48 images, 8 errors"), result.stderr)
    }

    func testMultiImageRawFileAndIDXLabels() throws {
        let mnist = try mnistTest()
        let count = 50
        try write("batch.raw", mnist.images.prefix(count).flatMap(\.pixels))
        try write("labels.idx", [0, 0, 8, 1, 0, 0, 0, UInt8(count)] + mnist.labels.prefix(count))
        let classifier = try classifier()
        let scratch = InferenceScratch(for: classifier.model)
        let results = try mnist.images.prefix(count).map { try classifier.classify($0, scratch: scratch) }
        let digits = results.map(\.digit)
        let correct = zip(digits, mnist.labels).filter { $0 == Int($1) }.count
        let result = try run(["classify", "--model", Self.modelPath, "--format", "csv", "--top-k", "1", "--labels", "labels.idx", "batch.raw"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").dropFirst()
        XCTAssertEqual(lines.count, count)
        for (index, line) in lines.enumerated() {
            let (status, ood) = verdict(results[index], classifier.model)
            XCTAssertTrue(line.hasPrefix("batch.raw#\(index),\(status),\(digits[index]),"), String(line))
            XCTAssertTrue(line.hasSuffix(",\(ood)"), String(line))
            XCTAssertTrue(line.contains(",\(mnist.labels[index]),\(digits[index]):"), String(line))
        }
        XCTAssertTrue(result.stderr.contains("accuracy \(correct)/\(count) = "), result.stderr)
    }

    func testCSVLabelsMatchByPathOrFileName() throws {
        let mnist = try mnistTest()
        try write("a.pgm", Array("P5 28 28 255\n".utf8) + mnist.images[0].pixels)
        try write("sub/b.pgm", Array("P5 28 28 255\n".utf8) + mnist.images[1].pixels)
        try write("c.pgm", Array("P5 28 28 255\n".utf8) + mnist.images[2].pixels)
        // Header line, a path as given, a bare file name; c.pgm has no label.
        try write("labels.csv", Array("path,label\na.pgm,7\nb.pgm, 2\n".utf8))
        let result = try run(["classify", "--model", Self.modelPath, "--format", "csv", "--top-k", "1", "--labels", "labels.csv",
                              "a.pgm", "sub/b.pgm", "c.pgm"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let labels = result.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false)[4] }
        XCTAssertEqual(labels, ["7", "2", ""])
        let bad = try run(["classify", "--model", Self.modelPath, "--labels", "a.pgm", "a.pgm"])
        XCTAssertEqual(bad.status, 2, "an unusable labels file is a usage error")
    }

    func testUsageErrorsAndUnusableModelsExit2() throws {
        try write("a.raw", [UInt8](repeating: 0, count: 784))
        try write("model.txt", Array("not a model".utf8))
        XCTAssertEqual(try run(["classify", "--model", Self.modelPath]).status, 2, "no paths")
        XCTAssertEqual(try run(["classify", "--model", Self.modelPath, "--top-k", "0", "a.raw"]).status, 2)
        XCTAssertEqual(try run(["classify", "--model", Self.modelPath, "--format", "xml", "a.raw"]).status, 2)
        let garbage = try run(["classify", "--model", "model.txt", "a.raw"])
        XCTAssertEqual(garbage.status, 2)
        XCTAssertTrue(garbage.stderr.contains("unusable model model.txt"), garbage.stderr)
        let missing = try run(["classify", "--model", "nope.mnq8", "a.raw"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("nope.mnq8"), missing.stderr)
        // $MNISTQ_MODEL is used when --model is absent.
        let fromEnvironment = try run(["classify", "a.raw"], environment: ["MNISTQ_MODEL": Self.modelPath])
        XCTAssertEqual(fromEnvironment.status, 0, fromEnvironment.stderr)
        let help = try run(["classify", "--help"])
        XCTAssertTrue(help.stdout.contains("MNISTQ_MODEL"), help.stdout)
    }

    /// "unsure" is a status, not an error: the digit it would have said and the score are still reported, exit 0;
    /// the two flags override the model's defaults; --ood-threshold needs a model that has the score.
    func testUnsureIsReportedWithTheScoreAndExits0() throws {
        let mnist = try mnistTest()
        try write("seven.raw", mnist.images[0].pixels)
        let classifier = try classifier()
        let result = classifier.model.classify(pixels: mnist.images[0].pixels, scratch: InferenceScratch(for: classifier.model))
        let score = try XCTUnwrap(result.outOfDistributionScore, "the sample model carries the out-of-distribution score")
        let byDefault = try run(["classify", "--model", Self.modelPath, "--format", "json", "--no-preprocess", "seven.raw"])
        XCTAssertEqual(byDefault.status, 0, byDefault.stderr)
        XCTAssertTrue(byDefault.stdout.contains("\"status\":\"\(verdict(result, classifier.model).status)\",\"digit\":\(result.digit),"), byDefault.stdout)
        XCTAssertTrue(byDefault.stdout.contains("\"ood_score\":\(score),"), byDefault.stdout)

        let forced = try run(["classify", "--model", Self.modelPath, "--format", "csv", "--no-preprocess", "--ood-threshold=\(score - 1)", "seven.raw"])
        XCTAssertEqual(forced.status, 0, "unsure is not an error: \(forced.stderr)")
        XCTAssertTrue(forced.stdout.hasSuffix("\nseven.raw,unsure,\(result.digit),"
                                              + p(ImageClassifier.topGuesses(result, count: 1)[0].probability, 4) + ",,"
                                              + ImageClassifier.topGuesses(result, count: 3).map { "\($0.digit):\(p($0.probability, 4))" }.joined(separator: ";")
                                              + ",,\(score)\n"), forced.stdout)
        XCTAssertTrue(forced.stderr.contains("0 errors, 1 unsure"), forced.stderr)
        let relaxed = try run(["classify", "--model", Self.modelPath, "--format", "csv", "--no-preprocess", "--ood-threshold=\(score)",
                               "--min-confidence", "0", "seven.raw"])
        XCTAssertTrue(relaxed.stdout.contains("seven.raw,ok,"), relaxed.stdout)
        let confident = try run(["classify", "--model", Self.modelPath, "--format", "csv", "--no-preprocess", "--min-confidence", "1", "seven.raw"])
        XCTAssertEqual(confident.status, 0)
        XCTAssertEqual(confident.stdout.contains("seven.raw,unsure,"), ImageClassifier.topGuesses(result, count: 1)[0].probability < 1, confident.stdout)

        XCTAssertEqual(try run(["classify", "--model", Self.modelPath, "--min-confidence", "1.5", "seven.raw"]).status, 2)
        // A model without the section (written as an in-place image of the same layers): no score, and the flag is refused.
        try write("plain.mnqi", try InPlaceImage.encode(layers: classifier.model.layers, metadata: classifier.model.metadata))
        let plain = try run(["classify", "--model", "plain.mnqi", "--format", "json", "--no-preprocess", "seven.raw"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertTrue(plain.stdout.contains("\"ood_score\":null"), plain.stdout)
        let refused = try run(["classify", "--model", "plain.mnqi", "--ood-threshold", "0", "seven.raw"])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("no out-of-distribution score"), refused.stderr)
    }

    func testNoPreprocessNeeds28x28() throws {
        try write("big.pgm", Array("P5 30 30 255\n".utf8) + [UInt8](repeating: 9, count: 900))
        let result = try run(["classify", "--model", Self.modelPath, "--no-preprocess", "--format", "csv", "big.pgm"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stdout.contains("big.pgm,error,,,,,\"big.pgm: image is 30x30, expected 28x28 without preprocessing (hint: drop --no-preprocess)\",\n"),
                      result.stdout)
    }
}
