// Accuracy through the whole pipeline on the 10,000 MNIST test images: as JPEGs, and as photo-like renderings.
@testable import MNISTQImage
@testable import MNISTQPhotoSet
import MNISTQRuntime
import XCTest

final class AccuracyTests: XCTestCase {
    /// JPEG (quality 90) may cost at most this much accuracy compared with the raw pixels, in percentage points.
    static let jpegTolerancePoints = 0.1
    /// Issue 9's figures, in percent: MNIST-test JPEGs (the float model's accuracy) and each real-photo class of
    /// MNISTQPhotoSet.
    static let mnistMinimumPercent = 99.3
    static let realPhotoMinimumPercent = 95.0
    /// Dark-on-light photo-like renderings of the MNIST test digits: issue 9 asks for 99.3%; the shipped sample gives
    /// 99.33% (trained with `--augment` and photo renderings of the training digits; the sample trained on the digits
    /// alone gave 99.19%).
    static let darkOnLightMinimumPercent = 99.3
    /// Test images per real-photo class (every 33rd MNIST test digit) and for the 12 MP class (every 100th): the
    /// full figures come from tools/bench-photos.sh; these keep the suite within about a minute.
    static let photosPerClass = 300
    static let photos12MP = 100

    func testMNISTTestImagesAsJPEGClassifyLikeTheRawImages() throws {
        let split = try TestData.mnistTest()
        let classifier = ImageClassifier(model: try TestData.model())
        let scratch = InferenceScratch(for: classifier.model)
        var rawCorrect = 0, jpegCorrect = 0, passedThrough = 0
        for index in 0..<split.count {
            let pixels = Array(split.pixels(of: index))
            let label = Int(split.labels[index])
            if classifier.model.classify(pixels: pixels, scratch: scratch).digit == label { rawCorrect += 1 }
            let jpeg = try JPEGEncoder.encode(pixels, width: 28, height: 28, quality: 90)
            let decoded = try ImageDecoder.decode(jpeg, file: "test-\(index).jpg")
            XCTAssertEqual(decoded.format, .jpeg)
            if Preprocess.isMNISTStyle(decoded.images[0]) { passedThrough += 1 }
            if try classifier.classify(decoded.images[0], scratch: scratch).digit == label { jpegCorrect += 1 }
        }
        let rawPercent = 100 * Double(rawCorrect) / Double(split.count)
        let jpegPercent = 100 * Double(jpegCorrect) / Double(split.count)
        print("raw \(rawPercent)%, JPEG q90 \(jpegPercent)%, \(passedThrough) of \(split.count) passed through unchanged")
        XCTAssertEqual(passedThrough, split.count, "every 28×28 MNIST JPEG must be recognised as MNIST-style")
        XCTAssertEqual(jpegPercent, rawPercent, accuracy: Self.jpegTolerancePoints)
        XCTAssertGreaterThanOrEqual(jpegPercent, Self.mnistMinimumPercent)
        XCTAssertGreaterThan(rawPercent, 95, "the model itself should be a trained one")
    }

    /// The share of `count` test digits (every `stride`-th) of `photoClass` that classify right through JPEG, decode
    /// (at the classifier's reduced JPEG size), preprocess and the int8 model.
    func accuracy(_ photoClass: PhotoClass, count: Int, stride: Int) throws -> Double {
        let split = try TestData.mnistTest()
        let classifier = ImageClassifier(model: try TestData.model())
        let scratch = InferenceScratch(for: classifier.model)
        var correct = 0
        for image in 0..<count {
            let sample = try PhotoSet.sample(photoClass, index: image * stride, test: split)
            let decoded = try ImageDecoder.decode(sample.jpeg, file: "\(photoClass.rawValue)-\(image).jpg",
                                                  jpegMinimumSide: classifier.jpegMinimumSide)
            if let input = try? classifier.modelInput(for: decoded.images[0]),
               classifier.model.classify(pixels: input, scratch: scratch).digit == sample.label { correct += 1 }
        }
        return 100 * Double(correct) / Double(count)
    }

    func testDarkOnLightEnlargedOffCentreRenderings() throws {
        let percent = try accuracy(.mnistDarkOnLight, count: 10_000, stride: 1)
        print("dark-on-light renderings of the 10,000 MNIST test digits: \(percent)%")
        XCTAssertGreaterThanOrEqual(percent, Self.darkOnLightMinimumPercent)
    }

    func testEachRealPhotoClassReachesItsFigure() throws {
        var report: [String] = []
        for photoClass in PhotoClass.realPhotoClasses {
            let count = photoClass == .phone12MP ? Self.photos12MP : Self.photosPerClass
            let percent = try accuracy(photoClass, count: count, stride: 10_000 / count)
            report.append("\(photoClass.rawValue) \(percent)% of \(count)")
            XCTAssertGreaterThanOrEqual(percent, Self.realPhotoMinimumPercent, "\(photoClass.rawValue) (\(count) images)")
        }
        print("real-photo classes: " + report.joined(separator: ", "))
    }
}
