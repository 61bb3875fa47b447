// Each kind of bad input gets its own specific error, without crashing or allocating what a header claims.
import Foundation
@testable import MNISTQImage
import MNISTQSupport
import XCTest

final class BadInputTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mnistq-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    func decodeError(_ path: String, file: StaticString = #filePath, line: UInt = #line) -> ImageError? {
        do {
            _ = try ImageDecoder.decodeFile(atPath: path)
            XCTFail("\(path) decoded without error", file: file, line: line)
            return nil
        } catch let error as ImageError {
            return error
        } catch {
            XCTFail("\(path): not an ImageError: \(error)", file: file, line: line)
            return nil
        }
    }

    static func tinyJPEG() throws -> [UInt8] {
        try JPEGEncoder.encode([UInt8](repeating: 128, count: 64), width: 8, height: 8, quality: 90)
    }

    func testEmptyFile() throws {
        let path = try write("empty.jpg", [])
        XCTAssertEqual(decodeError(path), .empty(file: path))
        XCTAssertEqual(decodeError(path)?.description, "\(path): empty file (0 bytes)")
    }

    func testTruncatedJPEG() throws {
        let jpeg = try Self.tinyJPEG()
        for cut in [jpeg.count / 2, jpeg.count - 2, 20] {
            let path = try write("cut-\(cut).jpg", Array(jpeg.prefix(cut)))
            guard case .truncated(path, "JPEG", _)? = decodeError(path) else {
                return XCTFail("cut at \(cut): \(String(describing: decodeError(path)))")
            }
        }
    }

    func testRandomBytes() throws {
        var random = SplitMix64(seed: 42)
        let bytes = (0..<1000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let path = try write("noise.bin.jpg", bytes)
        guard case .unrecognized(path, 1000, let first)? = decodeError(path) else { return XCTFail() }
        XCTAssertEqual(first, Array(bytes.prefix(8)))
    }

    func testCorruptJPEGBody() throws {
        var jpeg = try Self.tinyJPEG()
        // Destroy the quantisation table marker: libjpeg rejects the stream; the message comes from libjpeg.
        for index in 2..<(jpeg.count - 2) where jpeg[index] == 0xFF && jpeg[index + 1] == 0xDB { jpeg[index + 1] = 0x02; break }
        let path = try write("corrupt.jpg", jpeg)
        guard case .corrupt(path, "JPEG", let detail)? = decodeError(path) else { return XCTFail(String(describing: decodeError(path))) }
        XCTAssertFalse(detail.isEmpty)
    }

    func testTextNamedLikeJPEG() throws {
        let path = try write("notes.jpg", Array("These are my notes, not a picture.\nSecond line.\n".utf8))
        XCTAssertEqual(decodeError(path), .looksLikeText(file: path))
        XCTAssertEqual(decodeError(path)?.description, "\(path): not an image (looks like text)")
    }

    func testWrongLengthRawFile() throws {
        let path = try write("digit.raw", [UInt8](repeating: 0, count: 785))
        guard case .corrupt(path, "raw", let detail)? = decodeError(path) else { return XCTFail(String(describing: decodeError(path))) }
        XCTAssertTrue(detail.contains("785 bytes is not a multiple of 784"), detail)
    }

    func testHugeDeclaredDimensionsAreRejectedBeforeAllocation() throws {
        // A real 8×8 JPEG whose SOF0 header is patched to claim 60000×60000 (3.6 gigapixels).
        var jpeg = try Self.tinyJPEG()
        guard let sof = (2..<(jpeg.count - 9)).first(where: { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 }) else { return XCTFail("no SOF0") }
        for offset in [sof + 5, sof + 7] { jpeg[offset] = 0xEA; jpeg[offset + 1] = 0x60 }  // 60000 = 0xEA60
        let jpegPath = try write("huge.jpg", jpeg)
        XCTAssertEqual(decodeError(jpegPath), .tooLarge(file: jpegPath, format: "JPEG", width: 60000, height: 60000,
                                                         maxSide: 16384, maxPixels: 64 << 20))
        let png = TestPNG.make(width: 60000, height: 60000, colorType: 0, rows: [0, 0])
        let pngPath = try write("huge.png", png)
        XCTAssertEqual(decodeError(pngPath), .tooLarge(file: pngPath, format: "PNG", width: 60000, height: 60000,
                                                        maxSide: 16384, maxPixels: 64 << 20))
        // Within the side limit but over the pixel limit: 16000 × 16000 = 256 MP.
        let wide = TestPNG.make(width: 16000, height: 16000, colorType: 0, rows: [0, 0])
        let widePath = try write("wide.png", wide)
        guard case .tooLarge? = decodeError(widePath) else { return XCTFail() }
    }

    func testDirectoryNamedLikeAnImage() throws {
        let path = directory.appendingPathComponent("folder.jpg").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        XCTAssertEqual(decodeError(path), .isDirectory(file: path))
    }

    func testUnreadablePaths() throws {
        let missing = directory.appendingPathComponent("missing.png").path
        XCTAssertEqual(decodeError(missing), .unreadable(file: missing, reason: "No such file or directory"))
        let file = try write("plain", [1, 2, 3])
        let underFile = file + "/inside.png"
        XCTAssertEqual(decodeError(underFile), .unreadable(file: underFile, reason: "Not a directory"))
    }

    func testBlankImageHasNoInk() throws {
        let flat = GrayImage(width: 40, height: 30, fill: 200)
        XCTAssertThrowsError(try Preprocess.mnistStyle(flat, file: "flat.png")) { error in
            XCTAssertEqual(error as? ImageError, .blank(file: "flat.png"))
        }
    }
}
