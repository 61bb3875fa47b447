// MNIST-style preprocessing: the steps LeCun et al. used to make MNIST, each a separate function. Pure Swift standard
// library (no Foundation, no imports), so it also builds in Embedded mode (tools/check-embedded) for WebAssembly.

/// Pixel rectangle `x ..< x + width`, `y ..< y + height`.
package struct PixelBox: Sendable, Equatable {
    package var x: Int, y: Int, width: Int, height: Int
    package init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
}

/// Tunables of `Preprocess.modelInput`; the defaults suit scans, photos and digital drawings of one digit.
public struct PreprocessOptions: Sendable, Equatable {
    /// Side of the box the digit is scaled to fit (MNIST: 20).
    public var fitSide: Int = 20
    /// Ink below this fraction of the stroke level is treated as noise: subtracted everywhere (JPEG ringing,
    /// paper texture, sensor noise).
    public var noiseFraction: Float = 0.08
    /// Images whose stroke ink (difference from the local paper level) is below this are blank. Low on purpose:
    /// pen on grey paper under dim light differs from the paper by 15–30 levels; the noise test
    /// (`InkLevels`) is what keeps noise from passing as ink.
    public var minimumContrast: UInt8 = 10
    /// Images larger than this (longer side, pixels) are box-averaged down by a whole factor before the search for
    /// the digit: enough for a digit down to a tenth of the frame, and bounded work for a 12 MP photo.
    public var workingSide: Int = 640
    public init() {}
}

/// Why preprocessing found no digit.
public enum PreprocessError: Error, Equatable, Sendable {
    /// No ink stands out from the paper (a flat image, or only noise).
    case blank
}

/// The preprocessing pipeline and its steps. Every step works in MNIST's sense except `inkImage`, which
/// establishes it: 0 is background, 255 is full ink.
public enum Preprocess {
    /// Where MNIST puts the centre of mass, in pixel-index coordinates (x and y): the mean over the 10,000 test
    /// images is (14.01, 13.99), so (14, 14) — not the geometric middle 13.5 of the 28×28 field.
    package static let centre: Float = 14

    /// True for a 28×28 image with a dark background: it is used as is.
    package static func isMNISTStyle(_ image: GrayImage) -> Bool {
        image.width == mnistSide && image.height == mnistSide && borderMedian(image) < 128
    }

    /// Median of the outermost ring of pixels: the background level, robust to a digit touching one edge.
    /// For a 1-pixel-wide or -high image the ring is the whole image.
    package static func borderMedian(_ image: GrayImage) -> UInt8 {
        var histogram = [Int](repeating: 0, count: 256)
        var count = 0
        let width = image.width, height = image.height
        image.pixels.withUnsafeBufferPointer { pixels in
            for x in 0..<width {
                histogram[Int(pixels[x])] += 1
                if height > 1 { histogram[Int(pixels[(height - 1) * width + x])] += 1 }
            }
            if height > 2 {
                for y in 1..<(height - 1) {
                    histogram[Int(pixels[y * width])] += 1
                    if width > 1 { histogram[Int(pixels[y * width + width - 1])] += 1 }
                }
            }
        }
        count = histogram.reduce(0, +)
        var seen = 0
        for value in 0..<256 {
            seen += histogram[value]
            if seen * 2 >= count { return UInt8(value) }
        }
        return 255
    }

    /// Background brightness modelled as a plane, `level(x, y) = a + b·x + c·y`: photos of paper are shaded
    /// unevenly, and a single level leaves the darker side looking like faint ink.
    package struct BackgroundPlane: Sendable, Equatable {
        package var a: Double, b: Double, c: Double
        /// Light paper with dark ink (decided from the border median: ≥ 128).
        package var isLight: Bool
        package init(a: Double, b: Double = 0, c: Double = 0, isLight: Bool) {
            self.a = a; self.b = b; self.c = c; self.isLight = isLight
        }
        /// A uniform background.
        package init(level: UInt8) { self.init(a: Double(level), isLight: level >= 128) }
        @inline(__always) package func level(x: Int, y: Int) -> Double { a + b * Double(x) + c * Double(y) }
    }

    /// Border pixels further than this from the border median are taken to be ink touching the edge, and are
    /// left out of the background fit.
    package static let backgroundFitTolerance = 32

    /// Least-squares plane through the border pixels within `backgroundFitTolerance` of the border median
    /// (so ink reaching an edge does not tilt it). Falls back to the constant median when the points cannot
    /// determine a plane (a single row or column). Example: a left-to-right ramp 100, 110, 120, … of paper
    /// gives b = 10, c = 0.
    package static func backgroundPlane(_ image: GrayImage) -> BackgroundPlane {
        let median = borderMedian(image)
        let width = image.width, height = image.height
        // Normal equations of [1 x y]·(a b c) = v over the kept border points.
        var n = 0.0, sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0, syy = 0.0, sv = 0.0, sxv = 0.0, syv = 0.0
        func add(_ x: Int, _ y: Int) {
            let value = Int(image.pixels[y * width + x])
            guard abs(value - Int(median)) <= backgroundFitTolerance else { return }
            let fx = Double(x), fy = Double(y), fv = Double(value)
            n += 1; sx += fx; sy += fy; sxx += fx * fx; sxy += fx * fy; syy += fy * fy
            sv += fv; sxv += fx * fv; syv += fy * fv
        }
        for x in 0..<width {
            add(x, 0)
            if height > 1 { add(x, height - 1) }
        }
        if height > 2 {
            for y in 1..<(height - 1) {
                add(0, y)
                if width > 1 { add(width - 1, y) }
            }
        }
        let constant = BackgroundPlane(level: median)
        // Cramer's rule on the symmetric 3×3 system.
        let det = n * (sxx * syy - sxy * sxy) - sx * (sx * syy - sxy * sy) + sy * (sx * sxy - sxx * sy)
        guard width > 1, height > 1, abs(det) > 1e-6 * max(1, n * sxx * syy) else { return constant }
        let a = (sv * (sxx * syy - sxy * sxy) - sx * (sxv * syy - sxy * syv) + sy * (sxv * sxy - sxx * syv)) / det
        let b = (n * (sxv * syy - syv * sxy) - sv * (sx * syy - sxy * sy) + sy * (sx * syv - sxv * sy)) / det
        let c = (n * (sxx * syv - sxy * sxv) - sx * (sx * syv - sxv * sy) + sv * (sx * sxy - sxx * sy)) / det
        guard a.isFinite, b.isFinite, c.isFinite else { return constant }
        return BackgroundPlane(a: a, b: b, c: c, isLight: median >= 128)
    }

    /// Ink relative to a uniform `background` level; see ``inkImage(_:background:options:)-(_,BackgroundPlane,_)``.
    package static func inkImage(_ image: GrayImage, background: UInt8, options: PreprocessOptions = PreprocessOptions()) -> GrayImage? {
        inkImage(image, background: BackgroundPlane(level: background), options: options)
    }

    /// Ink relative to `background`, in MNIST's sense (0 background, 255 strongest ink).
    ///
    /// A light background (≥ 128) means dark ink: ink = background − pixel; a dark one means ink = pixel −
    /// background (negative differences are 0). The noise level `noiseFraction × strongest ink` is then
    /// subtracted and the rest stretched so the strongest ink becomes 255. Returns the ink image, or nil when the
    /// strongest ink is below `minimumContrast` (``inkThreshold(_:)`` then picks the bounding-box level). Example: background 200, pixels [200, 100, 0] → ink [0, 100, 200] → noise
    /// 16 → [0, 116, 255].
    package static func inkImage(_ image: GrayImage, background: BackgroundPlane, options: PreprocessOptions = PreprocessOptions()) -> GrayImage? {
        let light = background.isLight
        let width = image.width
        var ink = [UInt8](repeating: 0, count: image.pixels.count)
        var strongest = 0
        image.pixels.withUnsafeBufferPointer { pixels in
            ink.withUnsafeMutableBufferPointer { out in
                for y in 0..<image.height {
                    var level = background.level(x: 0, y: y)
                    for x in 0..<width {
                        let pixel = Double(pixels[y &* width &+ x])
                        let difference = Int((light ? level - pixel : pixel - level).rounded())
                        let value = min(255, max(0, difference))
                        out[y &* width &+ x] = UInt8(value)
                        strongest = max(strongest, value)
                        level += background.b
                    }
                }
            }
        }
        guard strongest >= Int(options.minimumContrast) else { return nil }
        let noise = Int(Float(strongest) * options.noiseFraction)
        let range = strongest - noise
        ink.withUnsafeMutableBufferPointer { out in
            for index in 0..<out.count {
                let value = max(0, Int(out[index]) - noise)
                out[index] = UInt8((value * 255 + range / 2) / range)
            }
        }
        return GrayImage(width: image.width, height: image.height, pixels: ink)
    }

    /// The level separating strokes from leftover background in an ink image: half of Otsu's threshold (the
    /// split maximising the between-class variance of the histogram; the middle of the range when several
    /// splits tie, as they do across empty stretches of the histogram), at least 1. Half, so that the soft edges
    /// of strokes stay inside the bounding box while faint shading and specks far from the digit do not widen it.
    package static func inkThreshold(_ ink: GrayImage) -> UInt8 {
        var histogram = [Double](repeating: 0, count: 256)
        for value in ink.pixels { histogram[Int(value)] += 1 }
        let total = Double(ink.pixels.count)
        let sumAll = (0..<256).reduce(0.0) { $0 + Double($1) * histogram[$1] }
        var weightBelow = 0.0, sumBelow = 0.0, best = 0.0, first = 0, last = 0
        for t in 0..<255 {
            weightBelow += histogram[t]
            sumBelow += Double(t) * histogram[t]
            let weightAbove = total - weightBelow
            guard weightBelow > 0, weightAbove > 0 else { continue }
            let meanBelow = sumBelow / weightBelow, meanAbove = (sumAll - sumBelow) / weightAbove
            let between = weightBelow * weightAbove * (meanBelow - meanAbove) * (meanBelow - meanAbove)
            // Empty histogram ranges give a plateau of equal splits: take its middle, not its lowest end.
            if between > best * (1 + 1e-12) { best = between; first = t + 1; last = t + 1 } else if between >= best * (1 - 1e-12) { last = t + 1 }
        }
        return UInt8(max(1, (first + last) / 4))
    }

    /// Smallest box holding every pixel ≥ `threshold`, or nil when there is none.
    package static func inkBoundingBox(_ ink: GrayImage, threshold: UInt8) -> PixelBox? {
        var minX = ink.width, minY = ink.height, maxX = -1, maxY = -1
        for y in 0..<ink.height {
            let row = y * ink.width
            for x in 0..<ink.width where ink.pixels[row + x] >= threshold {
                minX = min(minX, x); maxX = max(maxX, x)
                minY = min(minY, y); maxY = max(maxY, y)
            }
        }
        guard maxX >= 0 else { return nil }
        return PixelBox(x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1)
    }

    /// The pixels inside `box` (which must lie within the image).
    package static func crop(_ image: GrayImage, to box: PixelBox) -> GrayImage {
        var out = GrayImage(width: box.width, height: box.height)
        for y in 0..<box.height {
            let source = (box.y + y) * image.width + box.x
            for x in 0..<box.width { out.pixels[y * box.width + x] = image.pixels[source + x] }
        }
        return out
    }

    /// Scales so the longer side becomes `side`, preserving the aspect ratio (the shorter side is rounded, ≥ 1).
    ///
    /// Shrinking averages the exact source area under each output pixel (a box filter with fractional edge
    /// weights, which is what anti-aliasing needs); enlarging interpolates bilinearly between pixel centres.
    /// Each axis is resampled separately. Example: a 40×10 image → 20×5, each output pixel the mean of a 2×2 block.
    package static func scaleToFit(_ image: GrayImage, side: Int = 20) -> GrayImage {
        let longest = max(image.width, image.height)
        let scale = Double(side) / Double(longest)
        let outWidth = image.width == longest ? side : max(1, Int((Double(image.width) * scale).rounded()))
        let outHeight = image.height == longest ? side : max(1, Int((Double(image.height) * scale).rounded()))
        if outWidth == image.width && outHeight == image.height { return image }
        // Horizontal pass row by row (only one row is held as Float, so a large crop costs no 4-byte copy), giving
        // height rows of outWidth; then the vertical pass over its columns.
        var horizontal = [Float](repeating: 0, count: outWidth * image.height)
        var row = [Float](repeating: 0, count: image.width)
        for y in 0..<image.height {
            for x in 0..<image.width { row[x] = Float(image.pixels[y * image.width + x]) }
            resample(row, count: image.width, lines: 1, lineStride: image.width, step: 1,
                     to: outWidth, into: &horizontal, outOffset: y * outWidth, outLineStride: outWidth, outStep: 1)
        }
        var both = [Float](repeating: 0, count: outWidth * outHeight)
        resample(horizontal, count: image.height, lines: outWidth, lineStride: 1, step: outWidth,
                 to: outHeight, into: &both, outOffset: 0, outLineStride: 1, outStep: outWidth)
        return GrayImage(width: outWidth, height: outHeight, pixels: both.map { UInt8(min(255, max(0, $0.rounded()))) })
    }

    /// Resamples `lines` 1-D signals of `count` samples (sample i of line l at `l * lineStride + i * step`) to
    /// `outCount` samples each, written into the caller's `output` at `outOffset + line * outLineStride + o * outStep`
    /// (so the row-by-row pass allocates nothing per row).
    static func resample(_ input: [Float], count: Int, lines: Int, lineStride: Int, step: Int, to outCount: Int,
                         into output: inout [Float], outOffset: Int, outLineStride: Int, outStep: Int) {
        if outCount == count {
            for line in 0..<lines {
                for i in 0..<count { output[outOffset + line * outLineStride + i * outStep] = input[line * lineStride + i * step] }
            }
            return
        }
        let ratio = Double(count) / Double(outCount)  // source samples per output sample
        for line in 0..<lines {
            for o in 0..<outCount {
                var value: Double = 0
                if ratio > 1 {
                    // Area average over [o·ratio, (o+1)·ratio).
                    let start = Double(o) * ratio, end = min(Double(count), start + ratio)
                    var i = Int(start)
                    while Double(i) < end && i < count {
                        let overlap = min(end, Double(i + 1)) - max(start, Double(i))
                        value += overlap * Double(input[line * lineStride + i * step])
                        i += 1
                    }
                    value /= (end - start)
                } else {
                    // Bilinear between source pixel centres; edges clamp.
                    let position = max(0, min(Double(count - 1), (Double(o) + 0.5) * ratio - 0.5))
                    let left = Int(position), right = min(count - 1, left + 1)
                    let fraction = position - Double(left)
                    value = Double(input[line * lineStride + left * step]) * (1 - fraction)
                        + Double(input[line * lineStride + right * step]) * fraction
                }
                output[outOffset + line * outLineStride + o * outStep] = Float(value)
            }
        }
    }

    /// Places `image` (at most 28×28) in a black 28×28 field so its centre of mass lands nearest `centre`
    /// (whole-pixel shifts, so values are not blurred again); ink shifted past an edge is dropped.
    /// An image without ink is centred geometrically.
    package static func placeByCentreOfMass(_ image: GrayImage) -> [UInt8] {
        var total: Double = 0, sumX: Double = 0, sumY: Double = 0
        for y in 0..<image.height {
            for x in 0..<image.width {
                let value = Double(image.pixels[y * image.width + x])
                total += value; sumX += value * Double(x); sumY += value * Double(y)
            }
        }
        let massX = total > 0 ? sumX / total : Double(image.width - 1) / 2
        let massY = total > 0 ? sumY / total : Double(image.height - 1) / 2
        let shiftX = Int((Double(centre) - massX).rounded()), shiftY = Int((Double(centre) - massY).rounded())
        var out = [UInt8](repeating: 0, count: mnistPixelCount)
        for y in 0..<image.height {
            let targetY = y + shiftY
            guard targetY >= 0 && targetY < mnistSide else { continue }
            for x in 0..<image.width {
                let targetX = x + shiftX
                guard targetX >= 0 && targetX < mnistSide else { continue }
                out[targetY * mnistSide + targetX] = image.pixels[y * image.width + x]
            }
        }
        return out
    }
}
