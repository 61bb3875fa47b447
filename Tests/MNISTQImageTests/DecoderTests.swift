// Decoding tests: every format, colour layout and orientation, round trips against known pixels.
@testable import MNISTQImage
import XCTest

final class DecoderTests: XCTestCase {
    /// A 16×12 gradient with a bright square, so orientation and position errors show.
    static let sample: GrayImage = {
        var image = GrayImage(width: 16, height: 12)
        for y in 0..<12 { for x in 0..<16 { image[x, y] = UInt8(x * 12 + y * 4) } }
        for y in 2..<5 { for x in 3..<7 { image[x, y] = 250 } }
        return image
    }()

    /// Largest difference between two equally sized images.
    func maxDifference(_ a: GrayImage, _ b: GrayImage) -> Int {
        XCTAssertEqual(a.width, b.width); XCTAssertEqual(a.height, b.height)
        return zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
    }

    // Lossy JPEG at quality 100 stays within a few levels; the tolerance is for DCT rounding only.
    static let jpegTolerance = 6

    func testGrayJPEGBaselineAndProgressiveRoundTrip() throws {
        for progressive in [false, true] {
            let bytes = try JPEGEncoder.encode(Self.sample.pixels, width: 16, height: 12, quality: 100, progressive: progressive)
            XCTAssertEqual(ImageDecoder.sniff(bytes), .jpeg)
            let decoded = try ImageDecoder.decode(bytes, file: "g.jpg")
            XCTAssertEqual(decoded.format, .jpeg)
            XCTAssertLessThanOrEqual(maxDifference(decoded.images[0], Self.sample), Self.jpegTolerance, "progressive \(progressive)")
        }
    }

    func testReducedJPEGDecodeKeepsTheShorterSideAboveTheMinimum() throws {
        var big = GrayImage(width: 1024, height: 800, fill: 200)
        for y in 300..<500 { for x in 400..<600 { big[x, y] = 20 } }
        let bytes = try JPEGEncoder.encode(big.pixels, width: 1024, height: 800, quality: 90)
        // 800 / 4 = 200 ≥ 200, 800 / 8 = 100 < 200 → quarter size.
        let reduced = try JPEGDecoder.decode(bytes, file: "big.jpg", minimumSide: 200)
        XCTAssertEqual([reduced.width, reduced.height], [256, 200])
        XCTAssertEqual(Int(reduced[125, 100]), 20, accuracy: 6)   // inside the dark square
        XCTAssertEqual(Int(reduced[10, 10]), 200, accuracy: 6)
        XCTAssertEqual([try JPEGDecoder.decode(bytes, file: "big.jpg", minimumSide: 801)].map { [$0.width, $0.height] }, [[1024, 800]])
        XCTAssertEqual(try ImageDecoder.decode(bytes, file: "big.jpg", jpegMinimumSide: 100).images[0].width, 128)
        // Small images are never reduced below the minimum: a 28×28 digit stays 28×28.
        let small = try JPEGEncoder.encode([UInt8](repeating: 0, count: 784), width: 28, height: 28)
        XCTAssertEqual(try JPEGDecoder.decode(small, file: "s.jpg", minimumSide: 256).width, 28)
    }

    func testRGBJPEGBecomesLuma() throws {
        // R, G, B planes chosen so luma (0.299 R + 0.587 G + 0.114 B) equals the sample.
        let rgb = Self.sample.pixels.flatMap { [$0, $0, $0] }
        let bytes = try JPEGEncoder.encode(rgb, width: 16, height: 12, layout: .rgb, quality: 100)
        XCTAssertLessThanOrEqual(maxDifference(try JPEGDecoder.decode(bytes, file: "c.jpg"), Self.sample), Self.jpegTolerance)
        // Pure red, green, blue patches: luma 76, 150, 29.
        let patches: [[UInt8]] = [[255, 0, 0], [0, 255, 0], [0, 0, 255]]
        for (patch, luma) in zip(patches, [76, 150, 29]) {
            let solid = Array([[UInt8]](repeating: patch, count: 64).joined())
            let image = try JPEGDecoder.decode(try JPEGEncoder.encode(solid, width: 8, height: 8, layout: .rgb, quality: 100), file: "p.jpg")
            XCTAssertEqual(Double(image.pixels.map { Int($0) }.reduce(0, +)) / 64, Double(luma), accuracy: 3, "patch \(patch)")
        }
    }

    func testCMYKAndYCCKJPEGs() throws {
        // Adobe-style inverted CMYK: 255 means no ink. K ink = 255 - gray, no C/M/Y ink → the gray image.
        let cmyk = Self.sample.pixels.flatMap { [255, 255, 255, $0] as [UInt8] }
        for layout in [JPEGEncoder.Layout.cmyk, .ycck] {
            let bytes = try JPEGEncoder.encode(cmyk, width: 16, height: 12, layout: layout, quality: 100)
            XCTAssertLessThanOrEqual(maxDifference(try JPEGDecoder.decode(bytes, file: "k.jpg"), Self.sample), Self.jpegTolerance, "\(layout)")
        }
    }

    func testEXIFOrientationTransforms() {
        // 3×2 image with distinct pixels:  1 2 3 / 4 5 6.
        let image = GrayImage(width: 3, height: 2, pixels: [1, 2, 3, 4, 5, 6])
        let expected: [Int: (Int, Int, [UInt8])] = [
            1: (3, 2, [1, 2, 3, 4, 5, 6]),
            2: (3, 2, [3, 2, 1, 6, 5, 4]),
            3: (3, 2, [6, 5, 4, 3, 2, 1]),
            4: (3, 2, [4, 5, 6, 1, 2, 3]),
            5: (2, 3, [1, 4, 2, 5, 3, 6]),
            6: (2, 3, [4, 1, 5, 2, 6, 3]),
            7: (2, 3, [6, 3, 5, 2, 4, 1]),
            8: (2, 3, [3, 6, 2, 5, 1, 4]),
        ]
        for (orientation, (width, height, pixels)) in expected {
            let turned = EXIF.apply(orientation: orientation, to: image)
            XCTAssertEqual(turned, GrayImage(width: width, height: height, pixels: pixels), "orientation \(orientation)")
        }
    }

    /// APP1 Exif segment with IFD0 holding only the orientation tag.
    func exifSegment(orientation: UInt16, littleEndian: Bool) -> [UInt8] {
        func u16(_ v: UInt16) -> [UInt8] { littleEndian ? [UInt8(v & 0xFF), UInt8(v >> 8)] : [UInt8(v >> 8), UInt8(v & 0xFF)] }
        func u32(_ v: UInt32) -> [UInt8] { littleEndian ? [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)]
                                                     : [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        let tiff = (littleEndian ? [0x49, 0x49] : [0x4D, 0x4D]) + u16(42) + u32(8) + u16(1)
            + u16(0x0112) + u16(3) + u32(1) + u16(orientation) + u16(0) + u32(0)
        let payload: [UInt8] = Array("Exif".utf8) + [0, 0] + tiff
        let length = payload.count + 2
        return [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
    }

    func testJPEGWithEXIFOrientationIsTurnedUpright() throws {
        let stored = try JPEGEncoder.encode(Self.sample.pixels, width: 16, height: 12, quality: 100)
        for orientation in 1...8 {
            for littleEndian in [true, false] {
                let bytes = Array(stored[0..<2]) + exifSegment(orientation: UInt16(orientation), littleEndian: littleEndian) + stored[2...]
                XCTAssertEqual(EXIF.orientation(ofJPEG: bytes), orientation)
                let decoded = try JPEGDecoder.decode(bytes, file: "o.jpg")
                let expected = EXIF.apply(orientation: orientation, to: try JPEGDecoder.decode(stored, file: "s.jpg"))
                XCTAssertEqual(decoded, expected, "orientation \(orientation)")
            }
        }
        XCTAssertEqual(EXIF.orientation(ofJPEG: stored), 1)
    }

    func testPNGColourTypesAndFilters() throws {
        let gray = Self.sample.pixels
        // 8-bit gray, filter 0.
        let plain = TestPNG.make(width: 16, height: 12, colorType: 0, rows: TestPNG.unfiltered(gray, bytesPerRow: 16))
        XCTAssertEqual(try PNGDecoder.decode(plain, file: "a.png"), Self.sample)
        // RGB with equal channels → same gray; RGBA fully opaque → same gray.
        let rgb = TestPNG.make(width: 16, height: 12, colorType: 2,
                               rows: TestPNG.unfiltered(gray.flatMap { [$0, $0, $0] }, bytesPerRow: 48))
        XCTAssertEqual(try PNGDecoder.decode(rgb, file: "b.png"), Self.sample)
        let rgba = TestPNG.make(width: 16, height: 12, colorType: 6,
                                rows: TestPNG.unfiltered(gray.flatMap { [$0, $0, $0, 255] }, bytesPerRow: 64))
        XCTAssertEqual(try PNGDecoder.decode(rgba, file: "c.png"), Self.sample)
        // Gray + alpha: transparent is white paper, half-transparent black is mid gray.
        let grayAlpha = TestPNG.make(width: 2, height: 1, colorType: 4, rows: [0, 0, 0, 0, 128])
        XCTAssertEqual(try PNGDecoder.decode(grayAlpha, file: "d.png").pixels, [255, 127])
        // 16-bit gray keeps the high byte.
        let wide = TestPNG.make(width: 2, height: 1, depth: 16, colorType: 0, rows: [0, 0x12, 0x34, 0xAB, 0xCD])
        XCTAssertEqual(try PNGDecoder.decode(wide, file: "e.png").pixels, [0x12, 0xAB])
        // 1-bit gray: 0b1010_0000 for 3 pixels → 255, 0, 255.
        let bits = TestPNG.make(width: 3, height: 1, depth: 1, colorType: 0, rows: [0, 0b1010_0000])
        XCTAssertEqual(try PNGDecoder.decode(bits, file: "f.png").pixels, [255, 0, 255])
        // Palette: index 1 = pure green (luma 150).
        let palette = TestPNG.make(width: 2, height: 1, colorType: 3, rows: [0, 0, 1],
                                   extraChunks: [TestPNG.chunk("PLTE", [0, 0, 0, 0, 255, 0])])
        XCTAssertEqual(try PNGDecoder.decode(palette, file: "g.png").pixels, [0, 150])
        // Filters 1-4 on a 3×2 image: Sub, Up, Average, Paeth against hand-computed raw rows.
        // Target pixels: row0 = 10 20 30, row1 = 15 25 40.
        let filtered: [(UInt8, [UInt8])] = [(1, [10, 10, 10, 15, 10, 15]), (2, [10, 20, 30, 5, 5, 10]),
                                           (3, [10, 15, 20, 10, 8, 13]), (4, [10, 10, 10, 5, 5, 10])]
        for (filter, data) in filtered {
            let rows = [filter] + data[0..<3] + [filter] + data[3..<6]
            let png = TestPNG.make(width: 3, height: 2, colorType: 0, rows: rows)
            XCTAssertEqual(try PNGDecoder.decode(png, file: "h.png").pixels, [10, 20, 30, 15, 25, 40], "filter \(filter)")
        }
    }

    func testPNGErrors() throws {
        let good = TestPNG.make(width: 2, height: 1, colorType: 0, rows: [0, 1, 2])
        var badCRC = good
        badCRC[20] ^= 0xFF  // inside IHDR data
        XCTAssertThrowsError(try PNGDecoder.decode(badCRC, file: "crc.png")) { error in
            guard case ImageError.corrupt(_, _, let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("CRC of chunk IHDR"), detail)
        }
        let badInterlace = TestPNG.make(width: 2, height: 1, colorType: 0, interlace: 2, rows: [0, 1, 2])
        XCTAssertThrowsError(try PNGDecoder.decode(badInterlace, file: "i.png")) { error in
            guard case ImageError.corrupt(_, _, let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("interlace method 2"), detail)
        }
        let short = TestPNG.make(width: 2, height: 2, colorType: 0, rows: [0, 1, 2])  // one row missing
        XCTAssertThrowsError(try PNGDecoder.decode(short, file: "s.png")) { error in
            guard case ImageError.truncated = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try ImageDecoder.decode(Array(good.prefix(30)), file: "t.png")) { error in
            guard case ImageError.truncated = error else { return XCTFail("\(error)") }
        }
    }

    func testPGM() throws {
        let header = Array("P5\n# made by a test\n3 2\n255\n".utf8)
        let pgm = try ImageDecoder.decode(header + [0, 100, 255, 1, 2, 3], file: "a.pgm")
        XCTAssertEqual(pgm.format, .pgm)
        XCTAssertEqual(pgm.images[0], GrayImage(width: 3, height: 2, pixels: [0, 100, 255, 1, 2, 3]))
        // maxval 15 is stretched to 0...255.
        let small = try PGMDecoder.decode(Array("P5 2 1 15 ".utf8) + [15, 5], file: "b.pgm")
        XCTAssertEqual(small.pixels, [255, 85])
        XCTAssertThrowsError(try PGMDecoder.decode(Array("P5 2 1 65536 ".utf8) + [0, 0, 0, 0], file: "c.pgm")) { error in
            guard case ImageError.corrupt(_, _, let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("maxval is 65536"), detail)
        }
        XCTAssertThrowsError(try PGMDecoder.decode(Array("P5 4 4 255 ".utf8) + [1, 2], file: "d.pgm")) { error in
            guard case ImageError.truncated = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try PGMDecoder.decode(Array("P5 60000 60000 255 ".utf8) + [1, 2], file: "e.pgm")) { error in
            guard case ImageError.tooLarge(_, _, 60000, 60000, _, _) = error else { return XCTFail("\(error)") }
        }
    }

    func testRawAndIDX() throws {
        let one = (0..<784).map { UInt8($0 % 251) }
        let raw = try ImageDecoder.decode(one + one.reversed() + one, file: "x.raw")
        XCTAssertEqual(raw.format, .raw)
        XCTAssertEqual(raw.images.count, 3)
        XCTAssertEqual(raw.images[1].pixels, one.reversed())
        XCTAssertEqual(raw.images[0].width, 28)

        let idxHeader: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28]
        let idx = try ImageDecoder.decode(idxHeader + one + one, file: "t10k")
        XCTAssertEqual(idx.format, .idx)
        XCTAssertEqual(idx.images, [GrayImage(width: 28, height: 28, pixels: one), GrayImage(width: 28, height: 28, pixels: one)])
        XCTAssertThrowsError(try ImageDecoder.decode(idxHeader + one, file: "short-idx")) { error in
            guard case ImageError.truncated(_, "IDX", _) = error else { return XCTFail("\(error)") }
        }
        let labels: [UInt8] = [0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]
        XCTAssertEqual(try IDXImageDecoder.decodeLabels(labels, file: "l"), [7, 2, 1])
        XCTAssertThrowsError(try ImageDecoder.decode(labels, file: "labels-as-images")) { error in
            guard case ImageError.unsupported(_, _, let feature) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(feature.contains("--labels"))
        }
    }

    func testRealMNISTIDXFileDecodes() throws {
        let path = TestData.mnistDirectory + "/t10k-images-idx3-ubyte.gz"
        let decoded = try ImageDecoder.decodeFile(atPath: path)
        let split = try TestData.mnistTest()
        XCTAssertEqual(decoded.format, .idx)
        XCTAssertEqual(decoded.images.count, 10_000)
        XCTAssertEqual(decoded.images[9_999].pixels, Array(split.pixels(of: 9_999)))
    }
}
