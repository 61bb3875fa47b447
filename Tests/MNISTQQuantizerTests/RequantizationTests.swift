// Multiplier + shift derivation, hand-checked, and the rescale arithmetic against the runtime's kernels.
@testable import MNISTQQuantizer
import MNISTQRuntime
import XCTest

final class RequantizationTests: XCTestCase {
    func testHandCheckedMultiplierAndShift() throws {
        // 0.5 = 2^30 · 2^−31; 1.0 = 2^30 · 2^−30; 0.75 = 3·2^29 · 2^−31.
        XCTAssertEqual(Requantization.from(real: 0.5), Requantization(multiplier: 1 << 30, shift: 31))
        XCTAssertEqual(Requantization.from(real: 1.0), Requantization(multiplier: 1 << 30, shift: 30))
        XCTAssertEqual(Requantization.from(real: 0.75), Requantization(multiplier: 3 << 29, shift: 31))
        // 1 − 2^−40: the 31-bit mantissa rounds up to 2^31, which must renormalise to 2^30 with one less shift.
        XCTAssertEqual(Requantization.from(real: 1 - 0x1p-40), Requantization(multiplier: 1 << 30, shift: 30))
        // 1/3 ≈ 0.101010…b: mantissa = round(2^32/3) = 1431655765, shift 32.
        XCTAssertEqual(Requantization.from(real: 1.0 / 3), Requantization(multiplier: 1_431_655_765, shift: 32))
        // The ends of the representable range.
        XCTAssertEqual(Requantization.from(real: 0x1p-32), Requantization(multiplier: 1 << 30, shift: 62))
        XCTAssertEqual(Requantization.from(real: 0x1p29), Requantization(multiplier: 1 << 30, shift: 1))
        XCTAssertNil(Requantization.from(real: 0x1p-33), "below 2^−32 needs shift 63")
        XCTAssertNil(Requantization.from(real: 0x1p30), "2^30 needs shift 0")
        XCTAssertNil(Requantization.from(real: 0))
        XCTAssertNil(Requantization.from(real: -0.5))
        XCTAssertNil(Requantization.from(real: .nan))
        XCTAssertNil(Requantization.from(real: .infinity))
    }

    func testRelativeErrorWithin2ToMinus31AndRangesHold() throws {
        var state: UInt64 = 12345
        for _ in 0..<10_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let exponent = Int(state >> 58) - 31          // −31 ... 32, then clipped into the range
            let real = Double(sign: .plus, exponent: min(max(exponent, -32), 29), significand: 1 + Double(state & 0xFFFF) / 65536)
            guard let rq = Requantization.from(real: real) else { XCTFail("\(real) not representable"); continue }
            XCTAssert((1 << 30)...Int32.max ~= rq.multiplier, "multiplier \(rq.multiplier) for \(real)")
            XCTAssert((1...62).contains(rq.shift), "shift \(rq.shift) for \(real)")
            XCTAssertLessThanOrEqual(abs(rq.real - real) / real, 0x1p-31, "for \(real)")
        }
    }

    func testRescaleRoundsHalfUpAndMatchesRuntime() throws {
        let half = Requantization.from(real: 0.5)!
        XCTAssertEqual(half.apply(3), 2)     // 1.5 → 2
        XCTAssertEqual(half.apply(-3), -1)   // −1.5 → −1 (half up, not away from zero)
        XCTAssertEqual(half.apply(-5), -2)   // −2.5 → −2
        XCTAssertEqual(half.apply(4), 2)
        let third = Requantization.from(real: 1.0 / 3)!
        XCTAssertEqual(third.apply(1_000_000), 333_333)
        XCTAssertEqual(third.apply(Int32.max), 715_827_882)  // (2^31 − 1)/3 = 715827882.33
        var state: UInt64 = 99
        for _ in 0..<10_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let acc = Int32(truncatingIfNeeded: state >> 20)
            let rq = Requantization(multiplier: Int32(1 << 30) + Int32(truncatingIfNeeded: (state >> 3) & 0x3FFF_FFFF),
                                    shift: Int8(1 + (state >> 58) % 62))
            XCTAssertEqual(rq.apply(acc), requantize_s32(acc, multiplier: rq.multiplier, shift: rq.shift))
        }
    }
}
