// Accuracy through the whole pipeline on the 10,000 MNIST test images: as JPEGs, and as photo-like renderings.
import MNISTQImage
import MNISTQRuntime
import XCTest

final class AccuracyTests: XCTestCase {
    /// JPEG (quality 90) may cost at most this much accuracy compared with the raw pixels, in percentage points.
    static let jpegTolerancePoints = 0.1
    /// Minimum accuracy on dark-on-light, enlarged, off-centre renderings, in percent.
    static let renderingMinimumPercent = 97.0

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
        XCTAssertGreaterThan(rawPercent, 95, "the model itself should be a trained one")
    }

    func testDarkOnLightEnlargedOffCentreRenderings() throws {
        let split = try TestData.mnistTest()
        let classifier = ImageClassifier(model: try TestData.model())
        let scratch = InferenceScratch(for: classifier.model)
        var random = TestRandom(state: 2026)
        var correct = 0
        for index in 0..<split.count {
            let scale = 1.5 + 3 * random.unit()  // 42...126 px digits
            let side = Int((28 * scale).rounded())
            let width = side + random.int(8...80), height = side + random.int(8...80)
            let rendering = withUnsafeMutablePointer(to: &random) { pointer in
                Renderings.darkOnLight(Array(split.pixels(of: index)), scale: scale, canvasWidth: width, canvasHeight: height,
                                       offsetX: pointer.pointee.int(0...(width - side)), offsetY: pointer.pointee.int(0...(height - side)),
                                       paper: pointer.pointee.int(170...250), noise: 6, random: pointer)
            }
            // Through JPEG as a phone would store it, then the whole decode + preprocess + classify path.
            let jpeg = try JPEGEncoder.encode(rendering.pixels, width: width, height: height, quality: 90)
            let decoded = try ImageDecoder.decode(jpeg, file: "render-\(index).jpg").images[0]
            if try classifier.classify(decoded, scratch: scratch).digit == Int(split.labels[index]) { correct += 1 }
        }
        let percent = 100 * Double(correct) / Double(split.count)
        print("dark-on-light renderings: \(percent)%")
        XCTAssertGreaterThanOrEqual(percent, Self.renderingMinimumPercent)
    }
}
