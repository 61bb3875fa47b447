// The run-time choice of float kernel path.
import XCTest
import Foundation
@testable import MNISTQTrainer

final class FloatKernelPathTests: XCTestCase {
    /// On Linux x86-64 the paths offered are exactly those /proc/cpuinfo's flags allow, and without
    /// MNISTQ_FLOAT_KERNELS the fastest one is in force.
    func testAvailablePathsFollowTheCPUFlags() throws {
        XCTAssertTrue(FloatKernelPath.portable.isAvailable)
        #if os(Linux) && arch(x86_64)
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        guard let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else {
            return XCTFail("no flags line in /proc/cpuinfo")
        }
        let flags = Set(line.split(separator: " ").map(String.init))
        XCTAssertEqual(FloatKernelPath.avx512.isAvailable, flags.contains("avx512f"))
        XCTAssertEqual(FloatKernelPath.avx2.isAvailable, flags.contains("avx2") && flags.contains("fma"))
        if ProcessInfo.processInfo.environment["MNISTQ_FLOAT_KERNELS"] == nil {
            XCTAssertEqual(FloatKernelPath.active, FloatKernelPath.available.last, "the fastest available path is the default")
        }
        #elseif arch(arm64)
        XCTAssertEqual(FloatKernelPath.available, [.portable])
        #endif
        for path in FloatKernelPath.allCases where !path.isAvailable {
            let before = FloatKernelPath.active
            XCTAssertFalse(FloatKernelPath.use(path), "\(path) is not available and must not be selectable")
            XCTAssertEqual(FloatKernelPath.active, before)
        }
    }
}
