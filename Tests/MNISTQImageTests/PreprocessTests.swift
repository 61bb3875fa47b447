// Each preprocessing step on tiny hand-made images, with hand-computed expectations.
@testable import MNISTQImage
import MNISTQSupport
import XCTest

final class PreprocessTests: XCTestCase {
    func testBorderMedianIgnoresADigitTouchingOneEdge() {
        var image = GrayImage(width: 5, height: 4, fill: 210)
        for y in 0..<4 { image[0, y] = 10 }  // ink along the whole left edge: 4 of 14 border pixels
        XCTAssertEqual(Preprocess.borderMedian(image), 210)
        XCTAssertEqual(Preprocess.borderMedian(GrayImage(width: 1, height: 1, pixels: [77])), 77)
    }

    func testInkImageInvertsLightBackgroundsAndStretches() throws {
        // The doc comment's example: background 200, pixels [200, 100, 0] → ink [0, 100, 200] → noise 16 → [0, 107, 255].
        let image = GrayImage(width: 3, height: 1, pixels: [200, 100, 0])
        let ink = try XCTUnwrap(Preprocess.inkImage(image, background: 200))
        XCTAssertEqual(ink.pixels, [0, 116, 255])
        // Dark background: ink is brighter than it; darker pixels are no ink.
        let dark = GrayImage(width: 3, height: 1, pixels: [20, 0, 220])
        XCTAssertEqual(try XCTUnwrap(Preprocess.inkImage(dark, background: 20)).pixels, [0, 0, 255])
        // Contrast below the minimum (10) is blank.
        XCTAssertNil(Preprocess.inkImage(GrayImage(width: 2, height: 1, pixels: [100, 108]), background: 100))
    }

    func testBackgroundPlaneFollowsShadingAndIgnoresInkAtTheEdge() {
        // Paper brightening left to right by 10 per pixel: 100, 110, ..., with a dark blot on the left edge.
        var image = GrayImage(width: 8, height: 6)
        for y in 0..<6 { for x in 0..<8 { image[x, y] = UInt8(100 + 10 * x) } }
        image[0, 2] = 0; image[0, 3] = 0
        let plane = Preprocess.backgroundPlane(image)
        XCTAssertEqual(plane.a, 100, accuracy: 1e-9)
        XCTAssertEqual(plane.b, 10, accuracy: 1e-9)
        XCTAssertEqual(plane.c, 0, accuracy: 1e-9)
        XCTAssertTrue(plane.isLight)
        // With the shading removed, only the blot is ink.
        let ink = try! XCTUnwrap(Preprocess.inkImage(image, background: plane))
        XCTAssertEqual(ink.pixels.enumerated().filter { $0.element > 0 }.map(\.offset), [16, 24])
        // A single row cannot determine a plane: the constant median is used.
        XCTAssertEqual(Preprocess.backgroundPlane(GrayImage(width: 3, height: 1, pixels: [10, 20, 30])),
                       Preprocess.BackgroundPlane(level: 20))
    }

    func testInkThresholdSeparatesStrokesFromFaintShading() {
        // 90 background pixels at 0, 6 faint at 20, 4 strokes at 250: Otsu splits between 20 and 250 → half is > 20.
        let ink = GrayImage(width: 100, height: 1, pixels: [UInt8](repeating: 0, count: 90) + [UInt8](repeating: 20, count: 6)
                            + [UInt8](repeating: 250, count: 4))
        let threshold = Preprocess.inkThreshold(ink)
        XCTAssertGreaterThan(threshold, 20)
        XCTAssertLessThanOrEqual(threshold, 125)
        XCTAssertEqual(Preprocess.inkThreshold(GrayImage(width: 4, height: 1)), 1)
    }

    func testInkBoundingBoxAndCrop() {
        var image = GrayImage(width: 6, height: 5)
        image[2, 1] = 9; image[4, 3] = 200; image[0, 4] = 3
        XCTAssertEqual(Preprocess.inkBoundingBox(image, threshold: 5), PixelBox(x: 2, y: 1, width: 3, height: 3))
        XCTAssertEqual(Preprocess.inkBoundingBox(image, threshold: 1), PixelBox(x: 0, y: 1, width: 5, height: 4))
        XCTAssertNil(Preprocess.inkBoundingBox(image, threshold: 201))
        let cropped = Preprocess.crop(image, to: PixelBox(x: 2, y: 1, width: 3, height: 3))
        XCTAssertEqual(cropped, GrayImage(width: 3, height: 3, pixels: [9, 0, 0, 0, 0, 0, 0, 0, 200]))
    }

    func testScaleToFitAveragesAreasWhenShrinking() {
        // 40×10 → 20×5: every output pixel is the mean of a 2×2 block.
        var image = GrayImage(width: 40, height: 10)
        for y in 0..<10 { for x in 0..<40 { image[x, y] = UInt8((x / 2 + y / 2 * 20) % 256) } }
        image[0, 0] = 100; image[1, 0] = 0; image[0, 1] = 0; image[1, 1] = 0  // first block mean 25
        let scaled = Preprocess.scaleToFit(image, side: 20)
        XCTAssertEqual(scaled.width, 20); XCTAssertEqual(scaled.height, 5)
        XCTAssertEqual(scaled[0, 0], 25)
        XCTAssertEqual(scaled[7, 3], UInt8(7 + 3 * 20))
        // 3 → 2 samples: output 0 covers source [0, 1.5): (a + b/2) / 1.5.
        let row = GrayImage(width: 3, height: 1, pixels: [90, 30, 60])
        XCTAssertEqual(Preprocess.scaleToFit(row, side: 2).pixels, [70, 50])
        // A one-pixel-wide stroke keeps its full intensity (mean over a column of ink).
        let line = GrayImage(width: 1, height: 40, fill: 255)
        XCTAssertEqual(Preprocess.scaleToFit(line, side: 20), GrayImage(width: 1, height: 20, fill: 255))
    }

    func testScaleToFitInterpolatesWhenEnlarging() {
        // 2×1 → 20×10 is an aspect-preserving ×10; bilinear between the two centres, clamped outside them.
        let image = GrayImage(width: 2, height: 1, pixels: [0, 200])
        let scaled = Preprocess.scaleToFit(image, side: 20)
        XCTAssertEqual(scaled.width, 20); XCTAssertEqual(scaled.height, 10)
        let firstRow = Array(scaled.pixels[0..<20])
        XCTAssertEqual(firstRow[0], 0); XCTAssertEqual(firstRow[4], 0)  // left of the first centre (x ≤ 0.5 source)
        XCTAssertEqual(firstRow[19], 200)
        // Output 9 sits at source 0.95: 0.45 of the way from centre 0.5 to centre 1.5 → 90.
        XCTAssertEqual(firstRow[9], 90)
        XCTAssertEqual(Array(scaled.pixels[180..<200]), firstRow)  // every row the same
        XCTAssertEqual(firstRow, firstRow.sorted())
    }

    func testPlaceByCentreOfMass() {
        // One pixel lands exactly on MNIST's centre of mass (14, 14).
        let dot = Preprocess.placeByCentreOfMass(GrayImage(width: 1, height: 1, pixels: [255]))
        XCTAssertEqual(dot.firstIndex(of: 255), 14 * 28 + 14)
        XCTAssertEqual(dot.filter { $0 != 0 }.count, 1)
        // A 20×20 block with all its mass in the right column is shifted so that column is at x = 14.
        var block = GrayImage(width: 20, height: 20)
        for y in 0..<20 { block[19, y] = 200 }
        let placed = Preprocess.placeByCentreOfMass(block)
        for y in 0..<28 {
            for x in 0..<28 {
                let expected: UInt8 = (x == 14 && (5..<25).contains(y)) ? 200 : 0
                XCTAssertEqual(placed[y * 28 + x], expected, "(\(x), \(y))")
            }
        }
    }

    func testMNISTStyleImagesPassThroughUnchanged() throws {
        let split = try TestData.mnistTest()
        for index in stride(from: 0, to: 10_000, by: 97) {
            let pixels = Array(split.pixels(of: index))
            let image = GrayImage(width: 28, height: 28, pixels: pixels)
            XCTAssertTrue(Preprocess.isMNISTStyle(image))
            XCTAssertEqual(try Preprocess.mnistStyle(image), pixels)
        }
        // A 28×28 light-background image is not passed through.
        XCTAssertFalse(Preprocess.isMNISTStyle(GrayImage(width: 28, height: 28, fill: 250)))
    }

    func testPipelineReproducesAnMNISTDigitFromAnEnlargedInvertedCopy() throws {
        // Preprocessing an enlarged, inverted, shifted MNIST digit gives back pixels close to the original.
        let split = try TestData.mnistTest()
        let original = Array(split.pixels(of: 0))
        let rendering = Renderings.darkOnLight(original, scale: 3, canvasWidth: 130, canvasHeight: 110, offsetX: 40, offsetY: 7,
                                               paper: 235, noise: 0, random: nil)
        let restored = try Preprocess.mnistStyle(rendering)
        // Enlarging and shrinking again blurs edges, so compare shapes: Pearson correlation of the pixels.
        func centred(_ values: [UInt8]) -> [Double] {
            let mean = Double(values.map(Int.init).reduce(0, +)) / Double(values.count)
            return values.map { Double($0) - mean }
        }
        let a = centred(original), b = centred(restored)
        var cross = 0.0, squaresA = 0.0, squaresB = 0.0
        for (x, y) in zip(a, b) { cross += x * y; squaresA += x * x; squaresB += y * y }
        let correlation = cross / (squaresA * squaresB).squareRoot()
        print("restored MNIST test digit 0: correlation \(correlation) with the original")
        XCTAssertGreaterThan(correlation, 0.75, "measured 0.81 when written: blurred edges and a one-pixel centring difference")
    }
}

/// Test renderings of MNIST digits as a person might photograph or scan them.
enum Renderings {
    /// The digit enlarged `scale`× (bilinear), as dark ink (about 25) on `paper`, at (offsetX, offsetY) in a
    /// canvas, with ±`noise` uniform noise.
    static func darkOnLight(_ pixels: [UInt8], scale: Double, canvasWidth: Int, canvasHeight: Int, offsetX: Int, offsetY: Int,
                            paper: Int, noise: Int, random: UnsafeMutablePointer<SplitMix64>?) -> GrayImage {
        let side = Int((28 * scale).rounded())
        var canvas = GrayImage(width: canvasWidth, height: canvasHeight, fill: UInt8(paper))
        for y in 0..<side {
            for x in 0..<side {
                let sx = max(0, min(27, (Double(x) + 0.5) / scale - 0.5)), sy = max(0, min(27, (Double(y) + 0.5) / scale - 0.5))
                let x0 = Int(sx), y0 = Int(sy), x1 = min(27, x0 + 1), y1 = min(27, y0 + 1)
                let fx = sx - Double(x0), fy = sy - Double(y0)
                func p(_ x: Int, _ y: Int) -> Double { Double(pixels[y * 28 + x]) }
                let ink = (p(x0, y0) * (1 - fx) + p(x1, y0) * fx) * (1 - fy) + (p(x0, y1) * (1 - fx) + p(x1, y1) * fx) * fy
                let cx = offsetX + x, cy = offsetY + y
                guard cx < canvasWidth, cy < canvasHeight else { continue }
                canvas[cx, cy] = UInt8(Double(paper) - ink / 255 * Double(paper - 25))
            }
        }
        if noise > 0, let random {
            for index in canvas.pixels.indices {
                canvas.pixels[index] = UInt8(max(0, min(255, Int(canvas.pixels[index]) + random.pointee.int(-noise...noise))))
            }
        }
        return canvas
    }
}
