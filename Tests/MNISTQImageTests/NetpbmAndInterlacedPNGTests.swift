// The formats issue 9 added: ASCII PGM (P2), 16-bit PGM, PPM (P6, P3), and Adam7-interlaced PNG.
@testable import MNISTQImage
import XCTest

final class NetpbmAndInterlacedPNGTests: XCTestCase {
    func testASCIIAnd16BitPGMAndPPM() throws {
        // P2 with a comment, maxval 255 and maxval 15 (stretched to 0...255).
        let ascii = try ImageDecoder.decode(Array("P2\n# ascii\n3 2\n255\n0 100 255\n1 2 3\n".utf8), file: "a.pgm")
        XCTAssertEqual(ascii.format, .pgm)
        XCTAssertEqual(ascii.images[0], GrayImage(width: 3, height: 2, pixels: [0, 100, 255, 1, 2, 3]))
        XCTAssertEqual(try PGMDecoder.decode(Array("P2 2 1 15 15 5".utf8), file: "b.pgm").pixels, [255, 85])
        // 16-bit binary samples are big-endian: 0xFFFF → 255, 0x8000 → 128, 0x0101 → 1.
        let wide = try ImageDecoder.decode(Array("P5 3 1 65535 ".utf8) + [0xFF, 0xFF, 0x80, 0x00, 0x01, 0x01], file: "c.pgm")
        XCTAssertEqual(wide.images[0].pixels, [255, 128, 1])
        // P6 and P3: luma of red, green, blue, white.
        let rgb: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]
        let binary = try ImageDecoder.decode(Array("P6\n4 1\n255\n".utf8) + rgb, file: "d.ppm")
        XCTAssertEqual(binary.format, .ppm)
        XCTAssertEqual(binary.images[0].pixels, [76, 150, 29, 255])
        let text = try ImageDecoder.decode(Array(("P3 4 1 255 " + rgb.map(String.init).joined(separator: " ")).utf8), file: "e.ppm")
        XCTAssertEqual(text.images[0].pixels, [76, 150, 29, 255])
        // An ASCII sample above maxval is clipped to it, with maxval 255 too (the image fuzzer's first find: "947"
        // under maxval 255 trapped in the UInt8 conversion and ended the whole classify run).
        XCTAssertEqual(try PGMDecoder.decode(Array("P2 3 1 255 947 255 70000".utf8), file: "h.pgm").pixels, [255, 255, 255])
        XCTAssertEqual(try PGMDecoder.decode(Array("P3 1 1 255 947 0 0".utf8), file: "i.ppm").pixels, [76])
        XCTAssertEqual(try PGMDecoder.decode(Array("P2 2 1 15 16 300".utf8), file: "j.pgm").pixels, [255, 255])
        // Errors name the format and what is missing.
        XCTAssertThrowsError(try ImageDecoder.decode(Array("P2 3 1 255 1 2".utf8), file: "f.pgm")) { error in
            guard case ImageError.truncated(_, "PGM", let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("sample 3 of 3"), detail)
        }
        XCTAssertThrowsError(try ImageDecoder.decode(Array("P6 2 1 255 ".utf8) + [1, 2, 3], file: "g.ppm")) { error in
            guard case ImageError.truncated(_, "PPM", let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("needs 6 pixel bytes"), detail)
        }
    }

    /// Adam7 rows of a gray 8-bit image, each pass's rows filtered with `filter` (0 None or 1 Sub).
    static func adam7Rows(_ pixels: [UInt8], width: Int, height: Int, filter: UInt8) -> [UInt8] {
        let passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        var rows: [UInt8] = []
        for (x0, y0, dx, dy) in passes {
            for y in stride(from: y0, to: height, by: dy) {
                let row = stride(from: x0, to: width, by: dx).map { pixels[y * width + $0] }
                if row.isEmpty { continue }
                rows.append(filter)
                rows += filter == 1 ? row.indices.map { $0 == 0 ? row[0] : row[$0] &- row[$0 - 1] } : row
            }
        }
        return rows
    }

    func testInterlacedPNGEqualsThePlainOne() throws {
        var state: UInt64 = 3
        func next() -> UInt64 { state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return state >> 33 }
        // Sizes that leave some passes empty (1×1, 3×2) and ones that fill all seven partly (11×9, 28×28).
        for (width, height) in [(1, 1), (3, 2), (11, 9), (28, 28)] {
            let pixels = (0..<width * height).map { _ in UInt8(truncatingIfNeeded: next()) }
            let plainRows = (0..<height).flatMap { [0] + pixels[$0 * width ..< ($0 + 1) * width] }
            let plain = try PNGDecoder.decode(TestPNG.make(width: width, height: height, colorType: 0, rows: plainRows), file: "p.png")
            XCTAssertEqual(plain.pixels, pixels)
            for filter: UInt8 in [0, 1] {
                let png = TestPNG.make(width: width, height: height, colorType: 0, interlace: 1,
                                       rows: Self.adam7Rows(pixels, width: width, height: height, filter: filter))
                XCTAssertEqual(try PNGDecoder.decode(png, file: "i.png"), plain, "\(width)x\(height) filter \(filter)")
            }
        }
        // One byte short of the seven passes: truncated, with the length IHDR implies.
        let rows = Self.adam7Rows([UInt8](repeating: 9, count: 99), width: 11, height: 9, filter: 0)
        XCTAssertThrowsError(try PNGDecoder.decode(TestPNG.make(width: 11, height: 9, colorType: 0, interlace: 1,
                                                                rows: Array(rows.dropLast())), file: "s.png")) { error in
            guard case ImageError.truncated(_, _, let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("IHDR needs \(rows.count)"), detail)
        }
    }
}
