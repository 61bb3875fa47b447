// CNNLayout's offsets and fan-ins (derived from ModelFormat's sizes) agree with the tensor shapes in CNNShape.
import XCTest
@testable import MNISTQTrainer

final class LayoutTests: XCTestCase {
    func testOffsetsAreThePrefixSumsOfTheShapeCounts() {
        var expected = [Int](), offset = 0
        for count in CNNShape.counts { expected.append(offset); offset += count }
        XCTAssertEqual(CNNLayout.offsets, expected)
        XCTAssertEqual(CNNLayout.count, offset)
        XCTAssertEqual(CNNShape.totalCount, offset)
        XCTAssertEqual(offset, 212_542)
    }

    func testFanInsFollowFromTheWeightShapes() {
        // A weight [out, in...] has fan_in = product of the dimensions after the first; its bias shares it.
        for (i, shape) in CNNShape.shapes.enumerated() {
            let weightShape = CNNShape.shapes[i - i % 2]
            XCTAssertEqual(CNNLayout.fanIns[i], weightShape.dropFirst().reduce(1, *), "\(CNNShape.names[i]) \(shape)")
        }
    }
}
