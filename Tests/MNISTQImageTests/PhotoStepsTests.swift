// Each step that finds a digit in a real photo (MNISTQPreprocess/PhotoSteps.swift), on small hand-made images.
@testable import MNISTQPreprocess
import XCTest

final class PhotoStepsTests: XCTestCase {
    /// A `width`×`height` image of `paper` with dark `ink` rectangles (x, y, w, h).
    func page(_ width: Int, _ height: Int, paper: UInt8, ink: UInt8, rects: [(Int, Int, Int, Int)]) -> GrayImage {
        var image = GrayImage(width: width, height: height, fill: paper)
        for (x0, y0, w, h) in rects { for y in y0..<(y0 + h) { for x in x0..<(x0 + w) { image[x, y] = ink } } }
        return image
    }

    func testReducedAveragesWholeBlocks() {
        var image = GrayImage(width: 7, height: 4, fill: 0)
        image[0, 0] = 90; image[1, 1] = 30  // first 3×3 block: 120 / 9 = 13.3 → 13
        let small = Preprocess.reduced(image, maxSide: 3)  // factor 3 → 2×1 (remainders dropped)
        XCTAssertEqual(small, GrayImage(width: 2, height: 1, pixels: [13, 0]))
        XCTAssertEqual(Preprocess.reduced(image, maxSide: 7), image)
    }

    func testNoiseSigmaIgnoresShadingAndSeesNoise() {
        var ramp = GrayImage(width: 40, height: 40)
        for y in 0..<40 { for x in 0..<40 { ramp[x, y] = UInt8(50 + 2 * x + y) } }
        XCTAssertEqual(Preprocess.noiseSigma(ramp), 0)
        var random: UInt64 = 7
        var noisy = GrayImage(width: 60, height: 60)
        for i in noisy.pixels.indices {
            // Sum of 4 uniforms in ±35: σ ≈ 40.
            var sum = 0
            for _ in 0..<4 { random = random &* 6364136223846793005 &+ 1442695040888963407; sum += Int(random >> 33) % 71 - 35 }
            noisy.pixels[i] = UInt8(max(0, min(255, 128 + sum)))
        }
        XCTAssertEqual(Preprocess.noiseSigma(noisy), 40, accuracy: 8)
        XCTAssertEqual(Preprocess.denoiseRadius(sigma: 40), 2)
        XCTAssertEqual(Preprocess.denoiseRadius(sigma: 3), 0)
    }

    func testBoxBlurMeansClippedSquares() {
        let image = GrayImage(width: 3, height: 1, pixels: [0, 90, 30])
        // Radius 1: [(0+90)/2, (0+90+30)/3, (90+30)/2].
        XCTAssertEqual(Preprocess.boxBlur(image, radius: 1).pixels, [45, 40, 60])
        XCTAssertEqual(Preprocess.boxBlur(image, radius: 0), image)
    }

    func testHistogramQuantile() {
        XCTAssertEqual(Preprocess.histogramQuantile([5, 0, 5], permille: 500), 0)
        XCTAssertEqual(Preprocess.histogramQuantile([5, 0, 5], permille: 900), 2)
        XCTAssertEqual(Preprocess.histogramQuantile([0, 0], permille: 500), 0)
    }

    func testInkIsDarkOnGreyPaperAndLightOnBlack() {
        // Pen on grey paper under dim light: paper 100, ink 70 (a fixed cut at 128 would call the paper dark).
        let grey = page(60, 60, paper: 100, ink: 70, rects: [(20, 10, 4, 40), (20, 10, 20, 4)])
        XCTAssertTrue(Preprocess.inkIsDark(grey))
        XCTAssertFalse(Preprocess.inkIsDark(Preprocess.inverted(grey)))
        XCTAssertEqual(Preprocess.inverted(GrayImage(width: 2, height: 1, pixels: [0, 200])).pixels, [255, 55])
    }

    func testSquareExtremeAndPaperLevel() {
        let line = GrayImage(width: 7, height: 1, pixels: [5, 1, 9, 3, 3, 0, 4])
        XCTAssertEqual(Preprocess.squareExtreme(line, window: 3, maximum: true).pixels, [5, 9, 9, 9, 3, 4, 4])
        XCTAssertEqual(Preprocess.squareExtreme(line, window: 3, maximum: false).pixels, [1, 1, 1, 3, 0, 0, 0])
        // A 3-pixel dark stroke vanishes under a 9-pixel closing; a shadow half wider than the window stays.
        var image = page(40, 30, paper: 200, ink: 40, rects: [(10, 5, 3, 20)])
        for y in 0..<30 { for x in 25..<40 { image[x, y] = 100 } }
        let paper = Preprocess.paperLevel(image, window: 9)
        XCTAssertEqual(paper[11, 10], 200)
        XCTAssertEqual(paper[30, 10], 100)
        let ink = Preprocess.darkInk(image, paper: paper)
        XCTAssertEqual(ink[11, 10], 160)
        XCTAssertEqual(ink[30, 10], 0)
        XCTAssertEqual(Preprocess.paperWindow(width: 20, height: 10), 9)
        XCTAssertEqual(Preprocess.paperWindow(width: 300, height: 120), 101)
    }

    func testInkLevelsSeparateNoiseFromStrokesAndRefuseBlank() throws {
        var ink = GrayImage(width: 100, height: 10)
        for i in ink.pixels.indices { ink.pixels[i] = UInt8(i % 4) }   // paper residue 0…3
        for i in 0..<60 { ink.pixels[i * 11] = 120 }                  // strokes
        let (shifted, levels) = try XCTUnwrap(Preprocess.inkLevels(ink, minimumContrast: 10))
        // The paper's median is 2 (the strokes replaced 0…3 values): stroke 118.
        XCTAssertEqual(levels.stroke, 118)
        XCTAssertLessThanOrEqual(levels.noise, 2)
        XCTAssertEqual(levels.high, 118 * 2 / 5)
        XCTAssertEqual(levels.low, 118 / 5)
        XCTAssertEqual(shifted.pixels[0], 118)
        // Low contrast is accepted (stroke 20 over clean paper), noise alone is not.
        var faint = GrayImage(width: 50, height: 10)
        for i in 0..<40 { faint.pixels[i * 7] = 20 }
        XCTAssertNotNil(Preprocess.inkLevels(faint, minimumContrast: 10))
        XCTAssertNil(Preprocess.inkLevels(GrayImage(width: 50, height: 10), minimumContrast: 10))
    }

    func testComponentsUseHysteresis() {
        var ink = GrayImage(width: 10, height: 5)
        ink[1, 1] = 200; ink[2, 2] = 40; ink[3, 3] = 40   // one component (diagonal): reaches 200
        ink[7, 1] = 40; ink[8, 1] = 40                    // faint on its own: dropped
        ink[9, 4] = 100                                   // at the corner: touches the border twice
        let (labels, found) = Preprocess.components(ink, low: 30, high: 90)
        XCTAssertEqual(found.count, 2)
        XCTAssertEqual(found[0].box, PixelBox(x: 1, y: 1, width: 3, height: 3))
        XCTAssertEqual(found[0].area, 3); XCTAssertEqual(found[0].mass, 280); XCTAssertEqual(found[0].peak, 200)
        XCTAssertFalse(found[0].touchesBorder)
        XCTAssertEqual(found[1].borderContact.bottom, 1); XCTAssertEqual(found[1].borderContact.right, 1)
        XCTAssertEqual(labels[2 * 10 + 2], 1)
        XCTAssertEqual(labels[1 * 10 + 7], 0)
        XCTAssertEqual(labels[4 * 10 + 9], 2)
    }

    /// Components of a dark-ink page as `digitGroup` sees them.
    func groups(_ image: GrayImage) -> (found: [InkComponent], group: [Int]) {
        let ink = Preprocess.darkInk(image, paper: GrayImage(width: image.width, height: image.height, fill: 200))
        let (_, found) = Preprocess.components(ink, low: 40, high: 80)
        return (found, Preprocess.digitGroup(found, width: image.width, height: image.height))
    }

    func testFrameAndPageEdgeAreNotTheDigit() {
        // A drawn frame around a "1" with a broken-off foot, and a page edge along the right side.
        var rects = [(5, 5, 70, 2), (5, 53, 70, 2), (5, 5, 2, 50), (73, 5, 2, 50)]   // frame
        rects += [(30, 15, 4, 24), (28, 41, 8, 3)]                                   // "1" and its foot
        rects += [(92, 0, 8, 60)]                                                    // page edge
        let (found, group) = groups(page(100, 60, paper: 200, ink: 20, rects: rects))
        XCTAssertEqual(found.count, 4)
        let boxes = group.map { found[$0].box }
        XCTAssertEqual(boxes, [PixelBox(x: 30, y: 15, width: 4, height: 24), PixelBox(x: 28, y: 41, width: 8, height: 3)])
        let frame = found.first { $0.box.width == 70 }!
        XCTAssertTrue(Preprocess.isFrameOrEdge(frame, width: 100, height: 60))
        let edge = found.first { $0.box.x == 92 }!
        XCTAssertTrue(Preprocess.isFrameOrEdge(edge, width: 100, height: 60))
    }

    func testLargestPlausibleDigitWinsOverSpecksAndDashes() {
        // Dust specks (2×2), a long horizontal dash (not a digit's shape) with more ink, and a small "1".
        let rects = [(3, 3, 2, 2), (60, 50, 2, 2), (45, 20, 2, 2), (10, 40, 40, 5), (70, 10, 3, 14)]
        let (found, group) = groups(page(100, 60, paper: 200, ink: 20, rects: rects))
        XCTAssertEqual(group.map { found[$0].box }, [PixelBox(x: 70, y: 10, width: 3, height: 14)])
        XCTAssertFalse(Preprocess.isPlausibleDigit(found.first { $0.box.width == 40 }!))
        XCTAssertTrue(Preprocess.isPlausibleDigit(found.first { $0.box.x == 70 }!))
        XCTAssertEqual(Preprocess.digitGroup([], width: 1, height: 1), [])
    }

    func testStrokeWidthAndThickening() {
        // A 3×40 bar: area 120, boundary 82 (both long sides, and the middle pixel of each end) → 2.93 px = 46/16.
        var labels = [Int32](repeating: 0, count: 10 * 50)
        for y in 5..<45 { for x in 2..<5 { labels[y * 10 + x] = 1 } }
        let width16 = Preprocess.strokeWidth16(labels: labels, width: 10, box: PixelBox(x: 2, y: 5, width: 3, height: 40), keep: [true])
        XCTAssertEqual(width16, 46)
        // MNIST-like (16.5% of 20 px = 3.3 px; 2.9 is over 40% of it) needs nothing; a 1-px pen on a 200-px digit needs radius 16.
        XCTAssertEqual(Preprocess.thickeningRadius(width16: 48, longerSide: 20), 0)
        XCTAssertEqual(Preprocess.thickeningRadius(width16: 16, longerSide: 200), 16)
        let dot = GrayImage(width: 1, height: 1, pixels: [200])
        XCTAssertEqual(Preprocess.thickened(dot, radius: 1), GrayImage(width: 3, height: 3, fill: 200))
        XCTAssertEqual(Preprocess.thickened(dot, radius: 0), dot)
    }

    func testBoxUnionAndExpansion() {
        let a = PixelBox(x: 2, y: 3, width: 4, height: 5), b = PixelBox(x: 10, y: 1, width: 2, height: 2)
        XCTAssertEqual(a.union(b), PixelBox(x: 2, y: 1, width: 10, height: 7))
        XCTAssertEqual(a.expanded(by: 3, width: 8, height: 20), PixelBox(x: 0, y: 0, width: 8, height: 11))
    }

    func testLowContrastDigitOnGreyPaperIsNotBlank() throws {
        // The first failure: pen on grey paper in dim light, contrast 25, was refused as "no ink".
        let image = page(80, 80, paper: 105, ink: 80, rects: [(38, 15, 5, 50), (30, 15, 10, 5)])
        let input = try Preprocess.modelInput(image)
        XCTAssertEqual(input.count, 784)
        XCTAssertGreaterThan(input.max() ?? 0, 200)
        XCTAssertThrowsError(try Preprocess.modelInput(GrayImage(width: 80, height: 80, fill: 105)))
    }

    func testMNISTStrokeWidthConstantMatchesTheTestDigits() throws {
        // The thickening target is MNIST's own relative stroke width: re-measure it on the 10,000 test digits.
        let split = try TestData.mnistTest()
        var permilles: [Int] = []
        for index in 0..<split.count {
            let digit = GrayImage(width: 28, height: 28, pixels: Array(split.pixels(of: index)))
            let (labels, found) = Preprocess.components(digit, low: 64, high: 64)
            guard var box = found.first?.box else { continue }
            for c in found { box = box.union(c.box) }
            let width16 = Preprocess.strokeWidth16(labels: labels, width: 28, box: box, keep: found.map { _ in true })
            permilles.append(width16 * 1000 / (16 * max(box.width, box.height)))
        }
        let median = permilles.sorted()[permilles.count / 2]
        print("MNIST test digits: median stroke width \(median)‰ of the longer side")
        XCTAssertEqual(Double(median), Double(Preprocess.mnistStrokePermille), accuracy: 5)
    }
}
