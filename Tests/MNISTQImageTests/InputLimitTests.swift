// Memory per input is bounded by the limits (InputLimits): reading stops at the file limit whatever the file is, and a
// gzip stream stops as soon as it passes what its IDX header declares, long before the decompressed-size limit.
import Foundation
import XCTest
import MNISTQSupport
import MNISTQTestSupport
@testable import MNISTQImage

final class InputLimitTests: XCTestCase {
    /// gzip (level 9) of `header` followed by `zeros` zero bytes.
    private func gzipBomb(header: [UInt8], zeros: Int) throws -> [UInt8] {
        try ReferenceCoding.zlibCompressed(header + [UInt8](repeating: 0, count: zeros), windowBits: 31)
    }

    private let limits = DecodeLimits(maxSide: 4096, maxPixels: 4 << 20, maxFileBytes: 4 << 20)

    func testAGzipBombWithoutAnIDXHeaderStopsAtItsFirstBlock() throws {
        let bomb = try gzipBomb(header: [], zeros: 32 << 20)
        XCTAssertLessThan(bomb.count, 64 << 10)
        XCTAssertThrowsError(try ImageDecoder.decode(bomb, file: "bomb.idx.gz", limits: limits)) { error in
            // The magic error, not "decompresses to more than 4194304 bytes": the header was checked after the first
            // block, before the rest was inflated.
            XCTAssertEqual("\(error)", "bomb.idx.gz: corrupt IDX: magic is 0x0; expected 0x00000803 (uint8, 3 dimensions)")
        }
    }

    func testAGzipBombBehindAValidHeaderStopsAtTheDeclaredSize() throws {
        let header: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28]  // one 28×28 image: 800 bytes in all
        let bomb = try gzipBomb(header: header, zeros: 32 << 20)
        XCTAssertThrowsError(try ImageDecoder.decode(bomb, file: "bomb.idx.gz", limits: limits)) { error in
            XCTAssertTrue("\(error)".contains("decompresses to more than the 800 bytes its header declares"), "\(error)")
        }
    }

    func testAGzipStreamOverTheLimitIsRefused() throws {
        // A header that declares 5 MiB of pixels is already over the 4 MiB pixel limit.
        let header: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 4, 0, 0, 0, 4, 0]
        let bomb = try gzipBomb(header: header, zeros: 8 << 20)
        XCTAssertThrowsError(try ImageDecoder.decode(bomb, file: "big.idx.gz", limits: limits)) { error in
            guard case .tooLarge? = error as? ImageError else { return XCTFail("\(error)") }
        }
    }

    func testReadingDevZeroStopsOneByteAfterTheLimit() throws {
        let descriptor = open("/dev/zero", O_RDONLY)
        XCTAssertGreaterThanOrEqual(descriptor, 0)
        defer { close(descriptor) }
        XCTAssertThrowsError(try FileReader.read(descriptor: descriptor, sizeHint: nil, limit: 1 << 20)) { error in
            guard case .tooLarge(let bytes, let limit)? = error as? FileReadError else { return XCTFail("\(error)") }
            XCTAssertEqual(limit, 1 << 20)
            XCTAssertEqual(bytes, (1 << 20) + 1)
        }
    }

    func testAPipeIsReadToItsEndWithinTheLimitAndRefusedPastIt() throws {
        // The reader gives up first in the second case: the writer then gets EPIPE, not a fatal SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        for (length, limit) in [(300_000, 1 << 20), (3 << 20, 1 << 20)] {
            let done = DispatchSemaphore(value: 0)
            var ends: [Int32] = [0, 0]
            XCTAssertEqual(pipe(&ends), 0)
            let writeEnd = ends[1]
            let writer = Thread {
                let data = [UInt8](repeating: 7, count: length)
                var offset = 0
                while offset < length {
                    let n = data.withUnsafeBytes { write(writeEnd, $0.baseAddress! + offset, length - offset) }
                    if n <= 0 { break }
                    offset += n
                }
                close(writeEnd)
                done.signal()
            }
            writer.start()
            defer { close(ends[0]); done.wait() }
            if length <= limit {
                let bytes = try FileReader.read(descriptor: ends[0], sizeHint: nil, limit: limit)
                XCTAssertEqual(bytes, [UInt8](repeating: 7, count: length))
            } else {
                XCTAssertThrowsError(try FileReader.read(descriptor: ends[0], sizeHint: nil, limit: limit))
            }
        }
    }

    func testAFileLongerThanItsSizeHintIsReadWhole() throws {
        let path = NSTemporaryDirectory() + "mnistq-limit-\(UUID().uuidString)"
        defer { unlink(path) }
        let content = (0..<5000).map { UInt8(truncatingIfNeeded: $0) }
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(content)))
        let descriptor = open(path, O_RDONLY)
        defer { close(descriptor) }
        // A file that grew after fstat: its hint is 10 bytes, it holds 5000.
        XCTAssertEqual(try FileReader.read(descriptor: descriptor, sizeHint: 10, limit: 1 << 20), content)
        XCTAssertEqual(lseek(descriptor, 0, SEEK_SET), 0)
        XCTAssertThrowsError(try FileReader.read(descriptor: descriptor, sizeHint: 10, limit: 4000))
    }

    func testUnboundedLimitsDoNotBecomeOneHugeAllocation() throws {
        let unbounded = DecodeLimits(maxSide: .max, maxPixels: .max, maxFileBytes: .max)
        let idx: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4]
        XCTAssertEqual(try ImageDecoder.decode(try gzipBomb(header: idx, zeros: 0), file: "small.idx.gz", limits: unbounded).images,
                       [GrayImage(width: 2, height: 2, pixels: [1, 2, 3, 4])])
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        XCTAssertEqual([UInt8](repeating: 5, count: 100).withUnsafeBytes { write(ends[1], $0.baseAddress!, 100) }, 100)
        close(ends[1])
        defer { close(ends[0]) }
        XCTAssertEqual(try FileReader.read(descriptor: ends[0], sizeHint: nil, limit: .max), [UInt8](repeating: 5, count: 100))
    }

    func testTheStandardLimitsFollowThePixelLimit() {
        XCTAssertEqual(DecodeLimits.standard.maxPixels, 64 << 20)
        XCTAssertEqual(DecodeLimits.standard.maxFileBytes, DecodeLimits.standard.maxPixels + (1 << 20))
    }
}
