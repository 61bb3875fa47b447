// Seeded photo-like renderings of MNIST *test* digits: what people's phone photos and scans of a digit look like
// (issue 9's failure classes), generated on the fly so no image data is ever stored. Dark ink on light paper.
// The same renderers, with their own seeds, make photo-style *training* digits (`trainingInput`) for the trainer.
import MNISTQData
import MNISTQImage
import MNISTQSupport

/// A kind of test image. Each is rendered from one MNIST test digit and a seed, deterministically. (Its shape, string
/// cases with a line each, looks like `ImageFormat`'s; the two have nothing else in common.)
package enum PhotoClass: String, CaseIterable, Sendable {
    /// Pen on grey paper under dim light: paper 95–150, ink only 20–45 levels darker, a lighting ramp.
    case lowContrast = "low-contrast"
    /// A drawn frame around the digit, or the dark table beyond a page edge along one or two sides, or both.
    case frameOrEdge = "frame-edge"
    /// 8–40 dark dust specks anywhere, some next to the digit.
    case specks
    /// A shadow over one corner (45–70% of the light), hard or soft-edged, sometimes over the digit.
    case shadow
    /// Gaussian sensor noise σ = 40 (JPEG quality 90).
    case noise40 = "noise-40"
    /// A 4000×3000 (12 MP) frame with the digit 250–600 px tall somewhere in it, vignetting, JPEG quality 85.
    case phone12MP = "phone-12mp"
    /// A phone photo cropped around the digit: the digit fills 70–95% of the shorter side, shading, noise.
    case croppedPhone = "cropped-phone"
    /// A pen 1–3 px wide on a digit 140–230 px tall (the MNIST digit thinned to its skeleton, then drawn).
    case thinStrokes = "thin-strokes"
    /// The figure: MNIST digits dark-on-light, enlarged 1.5–4.5×, anywhere on paper 170–250, ±6 noise, JPEG q90.
    case mnistDarkOnLight = "mnist-dark-on-light"
    /// The figure: the MNIST test image itself (white on black, 28×28) as JPEG quality 90.
    case mnistJPEG = "mnist-jpeg"

    /// The real-photo classes (each must reach 95%), without the two MNIST-derived sets.
    package static let realPhotoClasses: [PhotoClass] = [.lowContrast, .frameOrEdge, .specks, .shadow, .noise40, .phone12MP,
                                                        .croppedPhone, .thinStrokes]
}

/// The renderings' seeded generator: `SplitMix64` (MNISTQSupport), so the same seed gives the same images on every
/// machine.
package typealias PhotoRandom = SplitMix64

extension SplitMix64 {
    /// A value in `range`, uniform.
    package mutating func double(_ range: ClosedRange<Double>) -> Double { range.lowerBound + (range.upperBound - range.lowerBound) * unit() }
    /// Approximately standard normal (sum of four uniforms, scaled to variance 1; no libm needed).
    package mutating func gaussian() -> Double { (unit() + unit() + unit() + unit() - 2) * 1.7320508075688772 }
}

package enum PhotoSet {
    /// One rendered test image.
    package struct Sample: Sendable {
        package var photoClass: PhotoClass
        /// Index of the MNIST test digit.
        package var index: Int
        package var label: Int
        /// The image as stored (JPEG bytes), the way a user's file reaches `mnistq classify`.
        package var jpeg: [UInt8]
    }

    /// The seed of test image `index` of `photoClass`: fixed, so every run renders the same files.
    package static func seed(_ photoClass: PhotoClass, index: Int) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in photoClass.rawValue.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return hash ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
    }

    /// Renders MNIST test digit `index` of `test` as `photoClass` and stores it as JPEG.
    package static func sample(_ photoClass: PhotoClass, index: Int, test: MNISTSplit) throws -> Sample {
        var random = PhotoRandom(seed: seed(photoClass, index: index))
        let digit = Array(test.pixels(of: index))
        let (image, quality) = render(photoClass, digit: digit, random: &random)
        let jpeg = try JPEGEncoder.encode(image.pixels, width: image.width, height: image.height, quality: quality)
        return Sample(photoClass: photoClass, index: index, label: Int(test.labels[index]), jpeg: jpeg)
    }

    /// The rendering of `digit` (28×28 MNIST pixels) for `photoClass` and the JPEG quality to store it at.
    package static func render(_ photoClass: PhotoClass, digit: [UInt8], random: inout PhotoRandom) -> (GrayImage, Int) {
        switch photoClass {
        case .mnistJPEG:
            return (GrayImage(width: mnistSide, height: mnistSide, pixels: digit), 90)
        case .mnistDarkOnLight:
            let scale = 1.5 + 3 * random.unit()
            let side = Int((Double(mnistSide) * scale).rounded())
            let width = side + random.int(8...80), height = side + random.int(8...80)
            var canvas = Canvas(width: width, height: height, paper: Double(random.int(170...250)))
            canvas.drawDigit(digit, x: Double(random.int(0...(width - side))), y: Double(random.int(0...(height - side))),
                             scale: scale, ink: 25)
            canvas.addUniformNoise(6, random: &random)
            return (canvas.image(), 90)
        case .lowContrast:
            let (width, height) = (random.int(120...320), random.int(120...320))
            let paper = Double(random.int(95...150))
            var canvas = Canvas(width: width, height: height, paper: paper)
            canvas.placeDigit(digit, fill: random.double(0.4...0.8), ink: paper - Double(random.int(20...45)), random: &random)
            canvas.light(ramp: random.double(-0.15...0.15), angle: random.unit(), vignette: 0)
            canvas.addGaussianNoise(2.5, random: &random)
            return (canvas.image(), 85)
        case .frameOrEdge:
            var canvas = Canvas.randomSheet(sides: 150...350, paper: 170...235, random: &random)
            let kind = random.int(0...2)  // 0 frame, 1 page edge, 2 both
            let inset = kind == 1 ? 0 : random.int(3...16)
            let margin = inset + 8
            if kind != 1 { canvas.frame(inset: inset, thickness: random.int(2...6), level: Double(random.int(20...70))) }
            if kind != 0 { canvas.pageEdges(count: random.int(1...2), depth: random.double(0.05...0.22), level: Double(random.int(25...90)), random: &random) }
            canvas.placeDigit(digit, fill: random.double(0.4...0.6), ink: Double(random.int(20...60)), random: &random,
                              margin: margin + (kind != 0 ? min(canvas.width, canvas.height) / 4 : 0))
            canvas.addGaussianNoise(3, random: &random)
            return (canvas.image(), 88)
        case .specks:
            var canvas = Canvas.randomSheet(sides: 150...350, paper: 170...235, random: &random)
            let ink = Double(random.int(20...60))
            canvas.placeDigit(digit, fill: random.double(0.4...0.7), ink: ink, random: &random)
            for _ in 0..<random.int(8...40) {
                canvas.disc(x: random.double(0...Double(canvas.width)), y: random.double(0...Double(canvas.height)),
                            radius: random.double(0.7...2.5), level: ink + Double(random.int(0...40)))
            }
            canvas.addGaussianNoise(3, random: &random)
            return (canvas.image(), 88)
        case .shadow:
            var canvas = Canvas.randomSheet(sides: 150...350, paper: 175...240, random: &random)
            canvas.placeDigit(digit, fill: random.double(0.4...0.7), ink: Double(random.int(20...60)), random: &random)
            canvas.cornerShadow(corner: random.int(0...3), reachX: random.double(0.3...0.7), reachY: random.double(0.3...0.7),
                                factor: random.double(0.45...0.7), softness: random.double(0...10))
            canvas.addGaussianNoise(3, random: &random)
            return (canvas.image(), 88)
        case .noise40:
            var canvas = Canvas.randomSheet(sides: 120...280, paper: 180...230, random: &random)
            canvas.placeDigit(digit, fill: random.double(0.45...0.75), ink: Double(random.int(20...50)), random: &random)
            canvas.addGaussianNoise(40, random: &random)
            return (canvas.image(), 90)
        case .phone12MP:
            var canvas = Canvas(width: 4000, height: 3000, paper: Double(random.int(150...220)))
            let tall = Double(random.int(250...600))
            canvas.placeDigit(digit, fill: tall / 3000, ink: Double(random.int(25...70)), random: &random, margin: 100)
            canvas.light(ramp: random.double(-0.1...0.1), angle: random.unit(), vignette: random.double(0.1...0.25))
            canvas.addCheapNoise(3, random: &random)
            return (canvas.image(), 85)
        case .croppedPhone:
            let shorter = random.int(200...700)
            let longer = shorter + random.int(0...(shorter / 3))
            let portrait = random.int(0...1) == 1
            var canvas = Canvas(width: portrait ? shorter : longer, height: portrait ? longer : shorter,
                                paper: Double(random.int(150...230)))
            canvas.placeDigit(digit, fill: random.double(0.7...0.95), ink: Double(random.int(30...80)), random: &random, margin: 2)
            canvas.light(ramp: random.double(-0.15...0.15), angle: random.unit(), vignette: random.double(0...0.15))
            canvas.addGaussianNoise(5, random: &random)
            return (canvas.image(), 85)
        case .thinStrokes:
            let scale = random.double(5...8)
            let pen = random.int(0...1)  // dilation radius: 1 or 3 px wide
            let thin = Canvas.thinDigit(digit, scale: scale, penRadius: pen)
            let width = thin.width + random.int(20...120), height = thin.height + random.int(20...120)
            var canvas = Canvas(width: width, height: height, paper: Double(random.int(190...240)))
            canvas.drawMask(thin, x: random.int(0...(width - thin.width)), y: random.int(0...(height - thin.height)),
                            ink: Double(random.int(20...60)))
            canvas.addGaussianNoise(3, random: &random)
            return (canvas.image(), 90)
        }
    }
}

// MARK: - Photo-style renderings of *training* digits (extra digits for `mnistq train --extra-digits`)

extension PhotoSet {
    /// The classes training renderings are drawn from, with their weights: the MNIST dark-on-light style (the hardest
    /// figure) three times as often as each other class. `phone-12mp` is left out: its 4000×3000 canvas costs about a
    /// hundred renderings of another class, and after preprocessing its digit looks like `cropped-phone`'s.
    package static let trainingMix: [(photoClass: PhotoClass, weight: Int)] = [
        (.mnistDarkOnLight, 3), (.mnistJPEG, 1), (.lowContrast, 1), (.frameOrEdge, 1), (.specks, 1), (.shadow, 1),
        (.noise40, 1), (.croppedPhone, 1), (.thinStrokes, 1),
    ]

    /// The generator of the training rendering of training image `index` under `seed`: its own stream, distinct
    /// from every test rendering's (`seed(_:index:)`).
    static func trainingRandom(index: Int, seed: UInt64) -> PhotoRandom {
        var mix = PhotoRandom(seed: seed ^ 0x7EA1_2D16_1750_0000)
        return PhotoRandom(seed: mix.next() ^ (UInt64(index) &* 0xD1B5_4A32_D192_ED03))
    }

    /// A photo-style rendering of training digit `digit` (28×28 MNIST pixels), turned into the 28×28 input
    /// `mnistq classify` gives the model for it: a class drawn from `trainingMix`, rendered, stored as JPEG, decoded
    /// reduced like classify decodes and preprocessed with the default options. The input is nil when the
    /// preprocessing refuses the image as blank. Deterministic in (`index`, `seed`).
    package static func trainingInput(digit: [UInt8], index: Int, seed: UInt64) throws -> (photoClass: PhotoClass, input: [UInt8]?) {
        var random = trainingRandom(index: index, seed: seed)
        var pick = random.int(0...(trainingMix.reduce(0) { $0 + $1.weight } - 1))
        var photoClass = trainingMix[0].photoClass
        for entry in trainingMix {
            if pick < entry.weight { photoClass = entry.photoClass; break }
            pick -= entry.weight
        }
        let (image, quality) = render(photoClass, digit: digit, random: &random)
        let jpeg = try JPEGEncoder.encode(image.pixels, width: image.width, height: image.height, quality: quality)
        let decoded = try ImageDecoder.decode(jpeg, file: "training-\(index).jpg",
                                              jpegMinimumSide: ImageClassifier.preprocessingJPEGMinimumSide)
        return (photoClass, try? Preprocess.mnistStyle(decoded.images[0]))
    }
}

/// A paper canvas in Double levels, drawn on by the renderers.
struct Canvas {
    var width: Int, height: Int
    var values: [Double]

    init(width: Int, height: Int, paper: Double) {
        self.width = width; self.height = height
        values = [Double](repeating: paper, count: width * height)
    }

    /// A sheet of random size and paper level: width, height (both from `sides`) and paper drawn in that order, the
    /// order every class that starts this way has always drawn them in (a class's renderings depend on it).
    static func randomSheet(sides: ClosedRange<Int>, paper: ClosedRange<Int>, random: inout PhotoRandom) -> Canvas {
        let (width, height) = (random.int(sides), random.int(sides))
        return Canvas(width: width, height: height, paper: Double(random.int(paper)))
    }

    func image() -> GrayImage {
        GrayImage(width: width, height: height, pixels: values.map { UInt8(max(0, min(255, $0.rounded()))) })
    }

    /// The MNIST digit enlarged `scale`× (bilinear) with its top-left at (x, y), blended from the paper towards `ink`.
    mutating func drawDigit(_ pixels: [UInt8], x: Double, y: Double, scale: Double, ink: Double) {
        let side = Int((Double(mnistSide) * scale).rounded())
        let originX = Int(x), originY = Int(y)
        for dy in 0..<side {
            let cy = originY + dy
            guard cy >= 0, cy < height else { continue }
            let sy = max(0, min(27, (Double(dy) + 0.5) / scale - 0.5))
            let y0 = Int(sy), y1 = min(27, y0 + 1), fy = sy - Double(y0)
            for dx in 0..<side {
                let cx = originX + dx
                guard cx >= 0, cx < width else { continue }
                let sx = max(0, min(27, (Double(dx) + 0.5) / scale - 0.5))
                let x0 = Int(sx), x1 = min(27, x0 + 1), fx = sx - Double(x0)
                func p(_ x: Int, _ y: Int) -> Double { Double(pixels[y * mnistSide + x]) }
                let alpha = ((p(x0, y0) * (1 - fx) + p(x1, y0) * fx) * (1 - fy) + (p(x0, y1) * (1 - fx) + p(x1, y1) * fx) * fy) / 255
                guard alpha > 0 else { continue }
                let index = cy * width + cx
                values[index] = values[index] * (1 - alpha) + ink * alpha
            }
        }
    }

    /// The ink box of an MNIST digit (pixels > 0) in its 28×28 field.
    static func inkBox(_ pixels: [UInt8]) -> (x: Int, y: Int, width: Int, height: Int) {
        var minX = mnistSide, minY = mnistSide, maxX = 0, maxY = 0
        for y in 0..<mnistSide { for x in 0..<mnistSide where pixels[y * mnistSide + x] > 0 {
            minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
        } }
        return maxX < minX ? (0, 0, mnistSide, mnistSide) : (minX, minY, maxX - minX + 1, maxY - minY + 1)
    }

    /// Draws the digit so its ink is `fill` × the shorter side tall (or wide), at a random place at least `margin`
    /// pixels from the edges (less when it does not fit).
    mutating func placeDigit(_ pixels: [UInt8], fill: Double, ink: Double, random: inout PhotoRandom, margin: Int = 4) {
        let box = Self.inkBox(pixels)
        let scale = fill * Double(min(width, height)) / Double(max(box.width, box.height))
        let inkWidth = Int(Double(box.width) * scale), inkHeight = Int(Double(box.height) * scale)
        let slackX = max(0, width - inkWidth - 2 * margin), slackY = max(0, height - inkHeight - 2 * margin)
        let left = min(margin, max(0, (width - inkWidth) / 2)) + random.int(0...slackX)
        let top = min(margin, max(0, (height - inkHeight) / 2)) + random.int(0...slackY)
        drawDigit(pixels, x: Double(left) - Double(box.x) * scale, y: Double(top) - Double(box.y) * scale, scale: scale, ink: ink)
    }

    /// Multiplies by a linear lighting ramp (±`ramp` across the picture in direction `angle` × 2π, approximated
    /// without libm) and a radial vignette darkening the corners by `vignette`.
    mutating func light(ramp: Double, angle: Double, vignette: Double) {
        // Direction from the angle: a point on the unit square's rim, normalised (close enough to a circle here).
        let t = angle * 4, side = Int(t) % 4, f = t - Double(Int(t))
        var (dx, dy): (Double, Double) = [(1, 2 * f - 1), (1 - 2 * f, 1), (-1, 1 - 2 * f), (2 * f - 1, -1)][side]
        let length = (dx * dx + dy * dy).squareRoot()
        dx /= length; dy /= length
        let cx = Double(width) / 2, cy = Double(height) / 2
        let reach = (cx * cx + cy * cy).squareRoot()
        for y in 0..<height {
            for x in 0..<width {
                let u = (Double(x) - cx) / reach, v = (Double(y) - cy) / reach
                let factor = (1 + ramp * (u * dx + v * dy)) * (1 - vignette * (u * u + v * v))
                values[y * width + x] *= factor
            }
        }
    }

    mutating func addGaussianNoise(_ sigma: Double, random: inout PhotoRandom) {
        for i in values.indices { values[i] += sigma * random.gaussian() }
    }

    mutating func addUniformNoise(_ amplitude: Int, random: inout PhotoRandom) {
        for i in values.indices { values[i] += Double(random.int(-amplitude...amplitude)) }
    }

    /// Noise of about σ for big canvases: one 64-bit draw gives eight pixels a sum of two uniform bytes each.
    mutating func addCheapNoise(_ sigma: Double, random: inout PhotoRandom) {
        let scale = sigma / 73.6  // σ of a sum of two uniform 0…255 bytes ≈ 104; of (a − b)… ≈ 104 too; keep it simple
        var i = 0
        while i < values.count {
            var bits = random.next()
            for _ in 0..<4 where i < values.count {
                let a = Double(bits & 0xFF), b = Double((bits >> 8) & 0xFF)
                values[i] += (a - b) * scale / 1.414
                bits >>= 16
                i += 1
            }
        }
    }

    /// A dark rectangle outline `inset` pixels from the edges.
    mutating func frame(inset: Int, thickness: Int, level: Double) {
        for y in 0..<height {
            for x in 0..<width {
                let edge = min(x - inset, y - inset, width - 1 - inset - x, height - 1 - inset - y)
                if edge >= 0 && edge < thickness { values[y * width + x] = level }
            }
        }
    }

    /// Dark table beyond the page along `count` sides: `depth` of the side, the edge slightly slanted.
    mutating func pageEdges(count: Int, depth: Double, level: Double, random: inout PhotoRandom) {
        var sides = [0, 1, 2, 3]
        for _ in 0..<count {
            let side = sides.remove(at: random.int(0...(sides.count - 1)))
            let slant = random.double(-0.08...0.08)
            for y in 0..<height {
                for x in 0..<width {
                    let beyond: Bool
                    switch side {
                    case 0: beyond = Double(x) < depth * Double(width) + slant * Double(y)
                    case 1: beyond = Double(width - 1 - x) < depth * Double(width) + slant * Double(y)
                    case 2: beyond = Double(y) < depth * Double(height) + slant * Double(x)
                    default: beyond = Double(height - 1 - y) < depth * Double(height) + slant * Double(x)
                    }
                    if beyond { values[y * width + x] = level }
                }
            }
        }
    }

    /// A filled disc (dust speck).
    mutating func disc(x: Double, y: Double, radius: Double, level: Double) {
        let r = Int(radius) + 1
        for py in max(0, Int(y) - r)...min(height - 1, Int(y) + r) {
            for px in max(0, Int(x) - r)...min(width - 1, Int(x) + r) {
                let dx = Double(px) + 0.5 - x, dy = Double(py) + 0.5 - y
                if dx * dx + dy * dy <= radius * radius { values[py * width + px] = level }
            }
        }
    }

    /// Darkens the triangle cut off `corner` (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right) by a line
    /// reaching `reachX` of the width and `reachY` of the height, to `factor` of the light, over a soft rim.
    mutating func cornerShadow(corner: Int, reachX: Double, reachY: Double, factor: Double, softness: Double) {
        let a = reachX * Double(width), b = reachY * Double(height)
        let norm = (1 / (a * a) + 1 / (b * b)).squareRoot()
        for y in 0..<height {
            for x in 0..<width {
                let u = corner == 1 || corner == 3 ? Double(width - 1 - x) : Double(x)
                let v = corner >= 2 ? Double(height - 1 - y) : Double(y)
                // Signed distance to the line u/a + v/b = 1 (negative inside the shadow).
                let distance = (u / a + v / b - 1) / norm
                let t = softness > 0 ? max(0, min(1, 0.5 - distance / softness)) : (distance < 0 ? 1 : 0)
                values[y * width + x] *= 1 - (1 - factor) * t
            }
        }
    }

    /// The digit's skeleton (enlarged `scale`×, thresholded at half ink, thinned by Zhang–Suen) drawn with a pen of
    /// radius `penRadius`: a thin-stroke version of the same handwriting. True = ink.
    static func thinDigit(_ pixels: [UInt8], scale: Double, penRadius: Int) -> (width: Int, height: Int, mask: [Bool]) {
        var big = Canvas(width: Int((Double(mnistSide) * scale).rounded()), height: Int((Double(mnistSide) * scale).rounded()), paper: 0)
        big.drawDigit(pixels, x: 0, y: 0, scale: scale, ink: 255)
        let width = big.width, height = big.height
        var mask = big.values.map { $0 >= 128 }
        // Zhang–Suen thinning.
        func at(_ x: Int, _ y: Int) -> Bool { x >= 0 && y >= 0 && x < width && y < height && mask[y * width + x] }
        var changed = true
        while changed {
            changed = false
            for pass in 0..<2 {
                var remove: [Int] = []
                for y in 0..<height {
                    for x in 0..<width where mask[y * width + x] {
                        let n = [at(x, y - 1), at(x + 1, y - 1), at(x + 1, y), at(x + 1, y + 1), at(x, y + 1), at(x - 1, y + 1),
                                 at(x - 1, y), at(x - 1, y - 1)]
                        let count = n.filter { $0 }.count
                        guard count >= 2, count <= 6 else { continue }
                        var transitions = 0
                        for i in 0..<8 where !n[i] && n[(i + 1) % 8] { transitions += 1 }
                        guard transitions == 1 else { continue }
                        if pass == 0 {
                            guard !(n[0] && n[2] && n[4]), !(n[2] && n[4] && n[6]) else { continue }
                        } else {
                            guard !(n[0] && n[2] && n[6]), !(n[0] && n[4] && n[6]) else { continue }
                        }
                        remove.append(y * width + x)
                    }
                }
                for index in remove { mask[index] = false }
                if !remove.isEmpty { changed = true }
            }
        }
        guard penRadius > 0 else { return (width, height, mask) }
        var pen = mask
        for y in 0..<height {
            for x in 0..<width where mask[y * width + x] {
                for dy in -penRadius...penRadius {
                    for dx in -penRadius...penRadius where x + dx >= 0 && y + dy >= 0 && x + dx < width && y + dy < height {
                        pen[(y + dy) * width + x + dx] = true
                    }
                }
            }
        }
        return (width, height, pen)
    }

    /// Draws a mask in `ink` with its top-left at (x, y).
    mutating func drawMask(_ thin: (width: Int, height: Int, mask: [Bool]), x: Int, y: Int, ink: Double) {
        for dy in 0..<thin.height {
            for dx in 0..<thin.width where thin.mask[dy * thin.width + dx] {
                values[(y + dy) * width + x + dx] = ink
            }
        }
    }
}
