// MNIST-style preprocessing: the steps LeCun et al. used to make MNIST, each a separate function.

/// Pixel rectangle `x ..< x + width`, `y ..< y + height`.
public struct PixelBox: Sendable, Equatable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
}

/// Tunables of `Preprocess.mnistStyle`; the defaults suit scans, photos and digital drawings of one digit.
public struct PreprocessOptions: Sendable, Equatable {
    /// Side of the box the digit is scaled to fit (MNIST: 20).
    public var fitSide: Int = 20
    /// Ink below this fraction of the strongest ink is treated as noise: subtracted everywhere and ignored when
    /// finding the bounding box (JPEG ringing, paper texture, sensor noise).
    public var noiseFraction: Float = 0.08
    /// Images whose strongest ink (difference from the background) is below this are blank.
    public var minimumContrast: UInt8 = 24
    public init() {}
}

/// The preprocessing pipeline and its steps. Every step works in MNIST's sense except `inkImage`, which
/// establishes it: 0 is background, 255 is full ink.
public enum Preprocess {
    /// Where MNIST puts the centre of mass, in pixel-index coordinates (x and y): the mean over the 10,000 test
    /// images is (14.01, 13.99), so (14, 14) — not the geometric middle 13.5 of the 28×28 field.
    public static let centre: Float = 14

    /// The whole pipeline: a decoded image (any size, light or dark background) → 28×28 MNIST-style pixels.
    ///
    /// A 28×28 image that already has a dark background (border median < 128) is taken to be MNIST-style and
    /// returned unchanged, so MNIST images stored as JPEG or PNG classify as the originals do. Otherwise:
    /// `borderMedian` → `inkImage` → `inkBoundingBox` → `crop` → `scaleToFit` → `placeByCentreOfMass`.
    /// Throws `.blank` when no ink stands out from the background.
    public static func mnistStyle(_ image: GrayImage, file: String = "<image>", options: PreprocessOptions = PreprocessOptions()) throws -> [UInt8] {
        if isMNISTStyle(image) { return image.pixels }
        let background = borderMedian(image)
        guard let (ink, noiseLevel) = inkImage(image, background: background, options: options),
              let box = inkBoundingBox(ink, threshold: noiseLevel) else {
            throw ImageError.blank(file: file)
        }
        let scaled = scaleToFit(crop(ink, to: box), side: options.fitSide)
        return placeByCentreOfMass(scaled)
    }

    /// True for a 28×28 image with a dark background: it is used as is.
    public static func isMNISTStyle(_ image: GrayImage) -> Bool {
        image.width == mnistSide && image.height == mnistSide && borderMedian(image) < 128
    }

    /// Median of the outermost ring of pixels: the background level, robust to a digit touching one edge.
    /// For a 1-pixel-wide or -high image the ring is the whole image.
    public static func borderMedian(_ image: GrayImage) -> UInt8 {
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

    /// Ink relative to `background`, in MNIST's sense (0 background, 255 strongest ink).
    ///
    /// A light background (≥ 128) means dark ink: ink = background − pixel; a dark one means ink = pixel −
    /// background (negative differences are 0). The noise level `noiseFraction × strongest ink` is then
    /// subtracted and the rest stretched so the strongest ink becomes 255. Returns the ink image and the
    /// post-stretch threshold to use for the bounding box (1: any remaining ink), or nil when the strongest ink
    /// is below `minimumContrast`. Example: background 200, pixels [200, 100, 0] → ink [0, 100, 200] → noise
    /// 16 → [0, 116, 255].
    public static func inkImage(_ image: GrayImage, background: UInt8, options: PreprocessOptions = PreprocessOptions())
        -> (ink: GrayImage, boxThreshold: UInt8)? {
        let light = background >= 128
        let level = Int(background)
        var ink = [UInt8](repeating: 0, count: image.pixels.count)
        var strongest = 0
        image.pixels.withUnsafeBufferPointer { pixels in
            ink.withUnsafeMutableBufferPointer { out in
                for index in 0..<pixels.count {
                    let difference = light ? level &- Int(pixels[index]) : Int(pixels[index]) &- level
                    let value = max(0, difference)
                    out[index] = UInt8(value)
                    strongest = max(strongest, value)
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
        return (GrayImage(width: image.width, height: image.height, pixels: ink), 1)
    }

    /// Smallest box holding every pixel ≥ `threshold`, or nil when there is none.
    public static func inkBoundingBox(_ ink: GrayImage, threshold: UInt8) -> PixelBox? {
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
    public static func crop(_ image: GrayImage, to box: PixelBox) -> GrayImage {
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
    public static func scaleToFit(_ image: GrayImage, side: Int = 20) -> GrayImage {
        let longest = max(image.width, image.height)
        let scale = Double(side) / Double(longest)
        let outWidth = image.width == longest ? side : max(1, Int((Double(image.width) * scale).rounded()))
        let outHeight = image.height == longest ? side : max(1, Int((Double(image.height) * scale).rounded()))
        if outWidth == image.width && outHeight == image.height { return image }
        let source = image.pixels.map { Float($0) }
        // Horizontal pass: height rows of outWidth; then vertical pass over its columns.
        let horizontal = resample(source, count: image.width, lines: image.height, lineStride: image.width, step: 1,
                                  to: outWidth, outLineStride: outWidth, outStep: 1)
        let both = resample(horizontal, count: image.height, lines: outWidth, lineStride: 1, step: outWidth,
                            to: outHeight, outLineStride: 1, outStep: outWidth)
        return GrayImage(width: outWidth, height: outHeight, pixels: both.map { UInt8(min(255, max(0, $0.rounded()))) })
    }

    /// Resamples `lines` 1-D signals of `count` samples (sample i of line l at `l * lineStride + i * step`) to
    /// `outCount` samples each, written at `line * outLineStride + o * outStep`.
    static func resample(_ input: [Float], count: Int, lines: Int, lineStride: Int, step: Int, to outCount: Int,
                         outLineStride: Int, outStep: Int) -> [Float] {
        var output = [Float](repeating: 0, count: outCount * lines)
        if outCount == count {
            for line in 0..<lines { for i in 0..<count { output[line * outLineStride + i * outStep] = input[line * lineStride + i * step] } }
            return output
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
                output[line * outLineStride + o * outStep] = Float(value)
            }
        }
        return output
    }

    /// Places `image` (at most 28×28) in a black 28×28 field so its centre of mass lands nearest `centre`
    /// (whole-pixel shifts, so values are not blurred again); ink shifted past an edge is dropped.
    /// An image without ink is centred geometrically.
    public static func placeByCentreOfMass(_ image: GrayImage) -> [UInt8] {
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
