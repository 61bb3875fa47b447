// Photo-style renderings of training digits (`PhotoSet.trainingInput`, written by `mnistq-bench photos --split train`):
// seeded, deterministic, drawn from the documented class mix, and what classify's preprocessing makes of the photo.
@testable import MNISTQImage
@testable import MNISTQPhotoSet
import XCTest

final class PhotoTrainingInputTests: XCTestCase {
    func testRenderingsAreSeededDeterministicAndPreprocessedLikeClassify() throws {
        let digits = try TestData.mnistTest()  // any digits will do for the mechanics; training data is not needed here
        var classes: [PhotoClass: Int] = [:]
        for index in 0..<60 {
            let digit = Array(digits.pixels(of: index))
            let first = try PhotoSet.trainingInput(digit: digit, index: index, seed: 0)
            let again = try PhotoSet.trainingInput(digit: digit, index: index, seed: 0)
            XCTAssertEqual(first.photoClass, again.photoClass)
            XCTAssertEqual(first.input, again.input, "image \(index): the same seed gives the same bytes")
            let input = try XCTUnwrap(first.input, "image \(index) (\(first.photoClass.rawValue)) was refused as blank")
            XCTAssertEqual(input.count, 28 * 28)
            XCTAssertTrue(Preprocess.isMNISTStyle(GrayImage(width: 28, height: 28, pixels: input)), "image \(index): light ink on black")
            classes[first.photoClass, default: 0] += 1
            // Another seed draws another class or rendering (only the 28×28 JPEG class has nothing random in it).
            let other = try PhotoSet.trainingInput(digit: digit, index: index, seed: 1)
            if first.photoClass != .mnistJPEG || other.photoClass != .mnistJPEG {
                XCTAssertTrue(other.photoClass != first.photoClass || other.input != first.input, "image \(index): the seed matters")
            }
        }
        XCTAssertFalse(classes.keys.contains(.phone12MP), "the 12 MP class is not in the training mix")
        XCTAssertGreaterThanOrEqual(classes.count, 6, "60 renderings spread over the mix: \(classes)")
        XCTAssertGreaterThan(classes[.mnistDarkOnLight] ?? 0, 60 / 11, "dark-on-light is drawn three times as often as each other class")
    }
}
