// Requantization (multiply, round half up, arithmetic shift, clamp) on hand-checked integers, and tiny reference kernels.
import XCTest
@testable import MNISTQRuntime

final class KernelRequantizeTests: XCTestCase {
    static let half: Int32 = 1 << 30 // with shift 31: multiply by exactly 1/2

    func testRoundsHalfUpIncludingNegatives() {
        // x/2 for x = 5, 3, 1, −1, −3, −5: ties go toward +∞ (2.5 → 3, −2.5 → −2), not away from zero.
        let cases: [(Int32, Int64)] = [(5, 3), (4, 2), (3, 2), (1, 1), (0, 0), (-1, 0), (-2, -1), (-3, -1), (-5, -2), (-6, -3)]
        for (acc, expected) in cases {
            XCTAssertEqual(requantize_s32(acc, multiplier: Self.half, shift: 31), expected, "acc \(acc)")
        }
    }

    func testExtremeAccumulatorsMultipliersAndShifts() {
        // (2^31 − 1)^2 = 2^62 − 2^32 + 1; + 1, >> 1 → 2^61 − 2^31 + 1.
        XCTAssertEqual(requantize_s32(.max, multiplier: .max, shift: 1), (1 << 61) - (1 << 31) + 1)
        // −2^31 · (2^31 − 1) + 1 = −2^62 + 2^31 + 1; >> 1 floors → −2^61 + 2^30.
        XCTAssertEqual(requantize_s32(.min, multiplier: .max, shift: 1), -(1 << 61) + (1 << 30))
        // shift 62: (2^62 − 2^32 + 1 + 2^61) >> 62 = 1; (2^61 − 2^30 + 2^61) >> 62 = 0; (−2^62 + 2^31 + 2^61) >> 62 = −1.
        XCTAssertEqual(requantize_s32(.max, multiplier: .max, shift: 62), 1)
        XCTAssertEqual(requantize_s32(1 << 30, multiplier: .max, shift: 62), 0)
        XCTAssertEqual(requantize_s32(.min, multiplier: .max, shift: 62), -1)
        // multiplier 2^30 (the format's lower bound), shift 1: acc · 2^29 exactly.
        XCTAssertEqual(requantize_s32(-7, multiplier: 1 << 30, shift: 1), -7 << 29)
    }

    func testUInt8ClampIsReluAndSaturation() {
        let cases: [(Int32, UInt8)] = [(508, 254), (509, 255), (511, 255), (1000, 255), (.max, 255),
                                       (-1, 0), (-2, 0), (.min, 0), (0, 0), (1, 1)]
        for (acc, expected) in cases {
            XCTAssertEqual(requantizeReluToUInt8_s32(acc, multiplier: Self.half, shift: 31), expected, "acc \(acc)")
        }
    }

    func testInt32Saturation() {
        XCTAssertEqual(requantizeToInt32_s32(.max, multiplier: .max, shift: 1), .max)
        XCTAssertEqual(requantizeToInt32_s32(.min, multiplier: .max, shift: 1), .min)
        // 2^31 − 1 times 2^30/2^30 = exactly Int32.max: no saturation needed.
        XCTAssertEqual(requantizeToInt32_s32(.max, multiplier: 1 << 30, shift: 30), .max)
        XCTAssertEqual(requantizeToInt32_s32(-5, multiplier: Self.half, shift: 31), -2)
    }

    /// 2×2 image: with padding 2 every output position sees all four pixels, so acc(y,x) = bias + Σ w·pixels with the
    /// centre weight landing on pixel (y,x). Channel 0: all weights 1, centre 3 → acc = bias + 315 + 2·pixel(y,x).
    /// Channel 1: all −1, centre −128 → acc = bias − 315 − 127·pixel(y,x).
    func testConvReferenceByHand() {
        let image: [UInt8] = [10, 20, 30, 255]
        var weights = [Int8](repeating: 1, count: 25) + [Int8](repeating: -1, count: 25)
        weights[12] = 3; weights[25 + 12] = -128
        var output = [UInt8](repeating: 0, count: 2)
        conv5x5ReluMaxPool_u8s8_reference(input: image, inputChannels: 1, height: 2, width: 2, weights: weights,
                                         bias: [-100, 40000], multiplier: [1 << 30, 1 << 30], shift: [33, 38],
                                         outputChannels: 2, output: &output)
        // Channel 0: max acc = −100 + 315 + 510 = 725; 725/8 = 90.625 → 91.
        // Channel 1: max acc at pixel 10: 40000 − 315 − 1270 = 38415; 38415/256 = 150.06 → 150.
        XCTAssertEqual(output, [91, 150])
    }

    func testLinearReferenceByHand() {
        let input: [UInt8] = [1, 2, 255]
        let weights: [Int8] = [3, -4, -128, 127, 127, 127, 1, 1, 0]
        let bias: [Int32] = [1000, 50000, 0]
        let multiplier = [Int32](repeating: Self.half, count: 3), shift = [Int8](repeating: 31, count: 3)
        var scores = [Int32](repeating: 0, count: 3), relu = [UInt8](repeating: 0, count: 3)
        linearScores_u8s8_reference(input: input, inputCount: 3, weights: weights, bias: bias, multiplier: multiplier,
                                   shift: shift, outputCount: 3, output: &scores)
        linearRelu_u8s8_reference(input: input, inputCount: 3, weights: weights, bias: bias, multiplier: multiplier,
                                 shift: shift, outputCount: 3, output: &relu)
        // 1000 + 3 − 8 − 32640 = −31645 → −15822.5 → −15822; 50000 + 127·258 = 82766 → 41383; 3 → 1.5 → 2.
        XCTAssertEqual(scores, [-15822, 41383, 2])
        XCTAssertEqual(relu, [0, 255, 2])
    }
}
