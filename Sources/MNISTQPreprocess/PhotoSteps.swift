// The steps that find a digit in a real photo: working size, noise, polarity, local paper level, ink levels,
// connected components, the digit's stroke group, stroke width. Integer arithmetic wherever it is natural, so the
// WebAssembly build gives the same bytes as the native one.

/// A connected group of ink pixels (8-connected, at or above `InkLevels.low`, reaching `InkLevels.high` somewhere).
package struct InkComponent: Sendable, Equatable {
    /// Bounding box.
    package var box: PixelBox
    /// Number of pixels.
    package var area: Int
    /// Sum of the ink values of its pixels.
    package var mass: Int
    /// Its strongest ink value.
    package var peak: Int
    /// Pixels on the image's outermost row or column, per side: top, bottom, left, right.
    package var borderContact: (top: Int, bottom: Int, left: Int, right: Int)
    /// Pixels within `rimBand` of the sides of its own box: all of them for a drawn frame, about half for a "0".
    package var rimArea: Int

    package init(box: PixelBox, area: Int, mass: Int, peak: Int, borderContact: (top: Int, bottom: Int, left: Int, right: Int),
                rimArea: Int = 0) {
        self.box = box; self.area = area; self.mass = mass; self.peak = peak; self.borderContact = borderContact
        self.rimArea = rimArea
    }

    /// Width of the band along the sides of a box that ``rimArea`` counts: an eighth of its shorter side, ≥ 2.
    package static func rimBand(_ box: PixelBox) -> Int { max(2, min(box.width, box.height) / 8) }

    /// True when some pixel lies on the image's outermost row or column.
    package var touchesBorder: Bool {
        borderContact.top > 0 || borderContact.bottom > 0 || borderContact.left > 0 || borderContact.right > 0
    }

    package static func == (a: InkComponent, b: InkComponent) -> Bool {
        a.box == b.box && a.area == b.area && a.mass == b.mass && a.peak == b.peak && a.rimArea == b.rimArea
            && a.borderContact.top == b.borderContact.top && a.borderContact.bottom == b.borderContact.bottom
            && a.borderContact.left == b.borderContact.left && a.borderContact.right == b.borderContact.right
    }

    /// Fraction of the bounding box covered, in thousandths.
    package var fillPermille: Int { area * 1000 / max(1, box.width * box.height) }
}

/// The ink levels of an ink image (0 = paper), from the statistics of the paper pixels.
package struct InkLevels: Sendable, Equatable {
    /// Standard deviation of the paper's ink values (what noise and texture leave after the paper level is removed).
    package var noise: Int
    /// Hysteresis thresholds: components are pixels ≥ `low` that reach `high` somewhere.
    package var low: Int, high: Int
    /// Typical stroke ink: the 90th percentile of the pixels clearly above the noise.
    package var stroke: Int
    package init(noise: Int, low: Int, high: Int, stroke: Int) {
        self.noise = noise; self.low = low; self.high = high; self.stroke = stroke
    }
}

extension Preprocess {
    // MARK: - Working size and noise

    /// `image` box-averaged down by the smallest whole factor that brings its longer side to at most `maxSide`
    /// (remainder rows and columns at the right and bottom are dropped); the image itself when it already fits.
    /// Example: 1300×900 with `maxSide` 640 → factor 3 → 433×300, each pixel the rounded mean of a 3×3 block.
    package static func reduced(_ image: GrayImage, maxSide: Int) -> GrayImage {
        let longest = max(image.width, image.height)
        guard maxSide > 0, longest > maxSide else { return image }
        let factor = (longest + maxSide - 1) / maxSide
        let outWidth = max(1, image.width / factor), outHeight = max(1, image.height / factor)
        let blockWidth = min(factor, image.width), blockHeight = min(factor, image.height)
        let count = blockWidth * blockHeight
        var out = [UInt8](repeating: 0, count: outWidth * outHeight)
        var sums = [Int](repeating: 0, count: outWidth)
        for oy in 0..<outHeight {
            for i in 0..<outWidth { sums[i] = 0 }
            for y in (oy * blockHeight)..<(oy * blockHeight + blockHeight) {
                let row = y * image.width
                for ox in 0..<outWidth {
                    var sum = 0
                    for x in (ox * blockWidth)..<(ox * blockWidth + blockWidth) { sum += Int(image.pixels[row + x]) }
                    sums[ox] += sum
                }
            }
            for ox in 0..<outWidth { out[oy * outWidth + ox] = UInt8((sums[ox] + count / 2) / count) }
        }
        return GrayImage(width: outWidth, height: outHeight, pixels: out)
    }

    /// Standard deviation of the pixel noise, in grey levels: the median absolute response of Immerkær's
    /// Laplacian-difference mask [1 −2 1; −2 4 −2; 1 −2 1] (which cancels smooth shading and sees noise with gain 6),
    /// divided by 0.6745 · 6. The median keeps strokes and edges, a minority of pixels, out of it. 0 for images
    /// under 3×3. Example: a flat image → 0; σ = 40 Gaussian noise → about 40 (less after JPEG).
    package static func noiseSigma(_ image: GrayImage) -> Double {
        let width = image.width, height = image.height
        guard width >= 3, height >= 3 else { return 0 }
        let cap = 4095
        var histogram = [Int](repeating: 0, count: cap + 1)
        image.pixels.withUnsafeBufferPointer { p in
            for y in 1..<(height - 1) {
                let up = (y - 1) * width, row = y * width, down = (y + 1) * width
                for x in 1..<(width - 1) {
                    let corners = Int(p[up + x - 1]) + Int(p[up + x + 1]) + Int(p[down + x - 1]) + Int(p[down + x + 1])
                    let sides = Int(p[up + x]) + Int(p[down + x]) + Int(p[row + x - 1]) + Int(p[row + x + 1])
                    let response = corners - 2 * sides + 4 * Int(p[row + x])
                    histogram[min(cap, abs(response))] += 1
                }
            }
        }
        let median = histogramQuantile(histogram, permille: 500)
        return Double(median) / (0.6745 * 6)
    }

    /// The value below which `permille`/1000 of the histogram's counts lie (the smallest v with cumulative count
    /// ≥ that share, at least one count); 0 for an empty histogram. Example: counts [5, 0, 5] → median 0, 0.9 → 2.
    package static func histogramQuantile(_ histogram: [Int], permille: Int) -> Int {
        histogramQuantile(histogram, perTenThousand: 10 * permille)
    }

    /// ``histogramQuantile(_:permille:)`` in parts per 10,000 (for the far tails of big images).
    package static func histogramQuantile(_ histogram: [Int], perTenThousand: Int) -> Int {
        var total = 0
        for count in histogram { total += count }
        guard total > 0 else { return 0 }
        let wanted = max(1, (total * perTenThousand + 9999) / 10000)
        var seen = 0
        for value in 0..<histogram.count {
            seen += histogram[value]
            if seen >= wanted { return value }
        }
        return histogram.count - 1
    }

    /// Mean over a (2·radius + 1)² square around each pixel, the square clipped at the image edges (rounded to the
    /// nearest level). Used against heavy sensor noise before anything looks for ink. Radius 0 returns the image.
    package static func boxBlur(_ image: GrayImage, radius: Int) -> GrayImage {
        guard radius > 0, image.width > 0, image.height > 0 else { return image }
        let width = image.width, height = image.height
        var horizontal = [Int](repeating: 0, count: width * height)
        var counts = [Int](repeating: 0, count: max(width, height))
        for x in 0..<width { counts[x] = min(width - 1, x + radius) - max(0, x - radius) + 1 }
        for y in 0..<height {
            let row = y * width
            var sum = 0
            for x in 0...min(width - 1, radius) { sum += Int(image.pixels[row + x]) }
            for x in 0..<width {
                horizontal[row + x] = sum
                let add = x + radius + 1, drop = x - radius
                if add < width { sum += Int(image.pixels[row + add]) }
                if drop >= 0 { sum -= Int(image.pixels[row + drop]) }
            }
        }
        var out = [UInt8](repeating: 0, count: width * height)
        for x in 0..<width {
            var sum = 0
            for y in 0...min(height - 1, radius) { sum += horizontal[y * width + x] }
            for y in 0..<height {
                let rows = min(height - 1, y + radius) - max(0, y - radius) + 1
                let count = rows * counts[x]
                out[y * width + x] = UInt8((sum + count / 2) / count)
                let add = y + radius + 1, drop = y - radius
                if add < height { sum += horizontal[add * width + x] }
                if drop >= 0 { sum -= horizontal[drop * width + x] }
            }
        }
        return GrayImage(width: width, height: height, pixels: out)
    }

    /// Blur radius that brings noise of `sigma` grey levels down to a few levels: 0 below σ 8 (clean photos and
    /// scans stay sharp), 1 up to σ 20, else 2 (σ 40 → about 8).
    package static func denoiseRadius(sigma: Double) -> Int { sigma < 8 ? 0 : sigma < 20 ? 1 : 2 }

    // MARK: - Polarity and paper level

    /// True when the ink is darker than the paper. The image minus its local mean (a box of the paper window,
    /// ``paperWindow(width:height:)``) removes uneven light; what is left is skewed towards the ink, the minority
    /// far from the paper: a negative third moment means dark ink. Unlike a fixed cut at 128 this holds for pen on
    /// grey paper under dim light (paper 100, ink 70), for a marker digit filling a cropped photo and for a digit
    /// covering 0.05% of a vignetted 12 MP frame; white-on-black scans give false. (Extremes alone are not enough:
    /// next to a thick dark digit the paper stands as far above the local mean as the ink below it.)
    package static func inkIsDark(_ image: GrayImage) -> Bool {
        guard !image.pixels.isEmpty else { return true }
        let mean = boxBlur(image, radius: paperWindow(width: image.width, height: image.height) / 2)
        var total = 0
        for i in 0..<image.pixels.count { total += Int(image.pixels[i]) - Int(mean.pixels[i]) }
        let average = Double(total) / Double(image.pixels.count)
        var third = 0.0
        for i in 0..<image.pixels.count {
            let centred = Double(Int(image.pixels[i]) - Int(mean.pixels[i])) - average
            third += centred * centred * centred
        }
        return third <= 0
    }

    /// 255 − each pixel.
    package static func inverted(_ image: GrayImage) -> GrayImage {
        GrayImage(width: image.width, height: image.height, pixels: image.pixels.map { 255 &- $0 })
    }

    /// Sliding maximum (or minimum) over windows of `window` samples centred on each sample, clipped at the ends:
    /// van Herk / Gil–Werman, three comparisons per sample whatever the window. `line` is read at `start + i·step`.
    static func slidingExtreme(_ line: inout [UInt8], _ scratch: inout [UInt8], _ scratch2: inout [UInt8], count: Int,
                               window: Int, maximum: Bool) {
        let radius = window / 2, span = 2 * radius + 1
        let padded = count + 2 * radius
        let neutral: UInt8 = maximum ? 0 : 255
        // scratch: padded line; scratch2: prefix extreme within each block of `span`, then suffix extreme into line.
        for i in 0..<padded { scratch[i] = (i >= radius && i < radius + count) ? line[i - radius] : neutral }
        var i = 0
        while i < padded {
            let end = min(padded, i + span)
            var running = scratch[i]
            scratch2[i] = running
            for j in (i + 1)..<max(i + 1, end) {
                running = maximum ? max(running, scratch[j]) : min(running, scratch[j])
                scratch2[j] = running
            }
            i = end
        }
        // Suffix extremes, written over the padded copy (each read before it is overwritten).
        i = 0
        while i < padded {
            let end = min(padded, i + span)
            var running = scratch[end - 1]
            var j = end - 1
            while j >= i {
                running = maximum ? max(running, scratch[j]) : min(running, scratch[j])
                scratch[j] = running
                j -= 1
            }
            i = end
        }
        // Window [x, x + span − 1] in padded coordinates = centred on original sample x.
        for x in 0..<count {
            let a = scratch[x], b = scratch2[x + span - 1]
            line[x] = maximum ? max(a, b) : min(a, b)
        }
    }

    /// Sliding maximum or minimum over a `window`×`window` square (odd; clipped at the edges), rows then columns.
    package static func squareExtreme(_ image: GrayImage, window: Int, maximum: Bool) -> GrayImage {
        let width = image.width, height = image.height
        guard window > 1, width > 0, height > 0 else { return image }
        var out = image.pixels
        let longest = max(width, height)
        var line = [UInt8](repeating: 0, count: longest)
        var scratch = [UInt8](repeating: 0, count: longest + window)
        var scratch2 = [UInt8](repeating: 0, count: longest + window)
        for y in 0..<height {
            for x in 0..<width { line[x] = out[y * width + x] }
            slidingExtreme(&line, &scratch, &scratch2, count: width, window: window, maximum: maximum)
            for x in 0..<width { out[y * width + x] = line[x] }
        }
        for x in 0..<width {
            for y in 0..<height { line[y] = out[y * width + x] }
            slidingExtreme(&line, &scratch, &scratch2, count: height, window: window, maximum: maximum)
            for y in 0..<height { out[y * width + x] = line[y] }
        }
        return GrayImage(width: width, height: height, pixels: out)
    }

    /// The paper level under dark ink: a grey-level closing (maximum, then minimum, over a square of `window`).
    /// Dark features narrower than the window (pen strokes) vanish; larger ones (a shadow over a corner, the table
    /// beyond a page edge) and smooth shading stay, so subtracting the image from it leaves the strokes alone.
    /// Example: a 3-pixel dark line on paper 200 with window 9 → 200 everywhere.
    package static func paperLevel(_ image: GrayImage, window: Int) -> GrayImage {
        squareExtreme(squareExtreme(image, window: window, maximum: true), window: window, maximum: false)
    }

    /// The closing window for an image: a third of its longer side (odd, at least 9), several times any pen
    /// stroke of a digit that fits in the frame.
    package static func paperWindow(width: Int, height: Int) -> Int { max(9, max(width, height) / 3) | 1 }

    /// Ink in MNIST's sense from dark ink on `paper`: paper − image, at least 0.
    package static func darkInk(_ image: GrayImage, paper: GrayImage) -> GrayImage {
        var out = [UInt8](repeating: 0, count: image.pixels.count)
        for i in 0..<out.count { out[i] = paper.pixels[i] > image.pixels[i] ? paper.pixels[i] - image.pixels[i] : 0 }
        return GrayImage(width: image.width, height: image.height, pixels: out)
    }

    // MARK: - Ink levels

    /// Removes the paper's own ink level (its median, where the closing sits on noise peaks) and measures what is
    /// left: `noise` = 1.4826 × the median absolute deviation of the paper, `stroke` = the 90th percentile of the
    /// pixels above max(4·noise, 4). Thresholds: `high` = max(4·noise, 2/5 of `stroke`), `low` = max(5/2·noise,
    /// 1/5 of `stroke`). Returns the shifted ink and the levels, or nil (blank) when `stroke` is below
    /// `minimumContrast` or below 6·noise. Example: paper pixels 0…3, strokes 120 → noise 1 or 2, stroke 120,
    /// high 48, low 24.
    package static func inkLevels(_ ink: GrayImage, minimumContrast: Int) -> (ink: GrayImage, levels: InkLevels)? {
        var histogram = [Int](repeating: 0, count: 256)
        for value in ink.pixels { histogram[Int(value)] += 1 }
        let median = histogramQuantile(histogram, permille: 500)
        var deviations = [Int](repeating: 0, count: 256)
        for value in 0..<256 { deviations[abs(value - median)] += histogram[value] }
        let mad = histogramQuantile(deviations, permille: 500)
        let noise = (mad * 14826 + 5000) / 10000
        var shifted = ink
        if median > 0 {
            for i in 0..<shifted.pixels.count { shifted.pixels[i] = shifted.pixels[i] > median ? shifted.pixels[i] - UInt8(median) : 0 }
        }
        var strong = [Int](repeating: 0, count: 256)
        let floor = max(4 * noise, 4)
        var anyStrong = false
        for value in (median + floor)..<max(median + floor, 256) where histogram[value] > 0 {
            strong[value - median] += histogram[value]; anyStrong = true
        }
        guard anyStrong else { return nil }
        let stroke = histogramQuantile(strong, permille: 900)
        guard stroke >= minimumContrast, stroke >= 6 * noise else { return nil }
        let high = max(4 * noise, stroke * 2 / 5, 1)
        let low = min(high, max(5 * noise / 2, stroke / 5, 1))
        return (shifted, InkLevels(noise: noise, low: low, high: high, stroke: stroke))
    }

    // MARK: - Components

    /// Labels the 8-connected components of pixels ≥ `low` that reach `high` somewhere (hysteresis: faint stroke
    /// ends stay attached to their stroke, faint specks on their own are dropped). Returns one label per pixel
    /// (0 = none, k = `components[k − 1]`) and the components in scan order of their first pixel.
    package static func components(_ ink: GrayImage, low: Int, high: Int) -> (labels: [Int32], components: [InkComponent]) {
        let width = ink.width, height = ink.height
        var labels = [Int32](repeating: 0, count: width * height)
        var found: [InkComponent] = []
        var stack: [Int] = []
        var members: [Int] = []
        let lowLevel = UInt8(clamping: max(1, low))
        var next: Int32 = 1
        for start in 0..<(width * height) where labels[start] == 0 && ink.pixels[start] >= lowLevel {
            members.removeAll(keepingCapacity: true)
            labels[start] = next
            stack.append(start)
            var minX = width, minY = height, maxX = -1, maxY = -1
            var area = 0, mass = 0, peak = 0, top = 0, bottom = 0, left = 0, right = 0
            while let index = stack.popLast() {
                members.append(index)
                let x = index % width, y = index / width
                let value = Int(ink.pixels[index])
                area += 1; mass += value; peak = max(peak, value)
                minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
                if y == 0 { top += 1 }
                if y == height - 1 { bottom += 1 }
                if x == 0 { left += 1 }
                if x == width - 1 { right += 1 }
                for dy in -1...1 {
                    let ny = y + dy
                    guard ny >= 0, ny < height else { continue }
                    for dx in -1...1 {
                        let nx = x + dx
                        guard nx >= 0, nx < width else { continue }
                        let neighbour = ny * width + nx
                        if labels[neighbour] == 0 && ink.pixels[neighbour] >= lowLevel {
                            labels[neighbour] = next
                            stack.append(neighbour)
                        }
                    }
                }
            }
            if peak >= high {
                let box = PixelBox(x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1)
                let band = InkComponent.rimBand(box)
                var rim = 0
                for index in members {
                    let x = index % width, y = index / width
                    if x < minX + band || x > maxX - band || y < minY + band || y > maxY - band { rim += 1 }
                }
                found.append(InkComponent(box: box, area: area, mass: mass, peak: peak,
                                          borderContact: (top: top, bottom: bottom, left: left, right: right), rimArea: rim))
                next += 1
            } else {
                // Too faint to be a stroke: unlabelled with a marker that keeps it from being flooded again.
                for index in members { labels[index] = -1 }
            }
        }
        for i in 0..<labels.count where labels[i] < 0 { labels[i] = 0 }
        return (labels, found)
    }

    /// True for a frame around the picture or a page edge, not a digit: a component spanning ≥ 50% of both sides
    /// with ≥ 92% of its pixels in the rim band of its box (a drawn or printed frame; a "0" has about half), or one
    /// lying along the image edge for ≥ 30% of that side (a page edge, a table, the rim of a shadow), or one
    /// reaching two opposite sides (a line across the picture).
    package static func isFrameOrEdge(_ c: InkComponent, width: Int, height: Int) -> Bool {
        let band = InkComponent.rimBand(c.box)
        if c.box.width * 2 >= width && c.box.height * 2 >= height && c.box.width > 4 * band && c.box.height > 4 * band
            && c.rimArea * 100 >= 92 * c.area { return true }
        let contact = c.borderContact
        if max(contact.top, contact.bottom) * 10 >= 3 * width && width >= 8 { return true }
        if max(contact.left, contact.right) * 10 >= 3 * height && height >= 8 { return true }
        if (contact.top > 0 && contact.bottom > 0) || (contact.left > 0 && contact.right > 0) { return true }
        return false
    }

    /// True when a component's shape can be a handwritten digit: at least 6 pixels tall, no wider than twice its
    /// height (a lone dash or a horizontal rule is not a digit; a "1" may be twelve times taller than wide), and
    /// not a solid blob (over 85% of its box inked while less than twice as tall as wide: a blot, a thumb).
    package static func isPlausibleDigit(_ c: InkComponent) -> Bool {
        guard c.box.height >= 6, c.box.width <= 2 * c.box.height else { return false }
        if c.fillPermille > 850 && c.box.height < 2 * c.box.width { return false }
        return true
    }

    /// The components that make up the digit, as indices into `components`.
    ///
    /// The seed is the largest plausible digit: among components that are not frames or edges
    /// (``isFrameOrEdge(_:width:height:)``) and have a digit's shape (``isPlausibleDigit(_:)``), the one with the
    /// most ink (so a small digit on a big page wins over dust, and a page edge never does); one that touches the
    /// image border (the tip of a shadow, a corner of the table) only when there is none inside (a tightly cropped
    /// digit). Falling back, in order: the most ink among non-frames, then among
    /// all. Other pieces join the group when they hold at least 2% of the seed's pixels (broken strokes, the bar of
    /// a 5), do not touch the image border, and touch the group's box widened by a quarter of the seed's longer
    /// side, while the group stays within twice the seed's height and width (plus its height); dust specks, page
    /// edges, shadow rims and anything further away stay out. Empty only when `components` is.
    package static func digitGroup(_ components: [InkComponent], width: Int, height: Int) -> [Int] {
        guard !components.isEmpty else { return [] }
        let frameOrEdge = components.map { isFrameOrEdge($0, width: width, height: height) }
        func heaviest(_ include: (Int) -> Bool) -> Int? {
            var best: Int? = nil
            for i in components.indices where include(i) {
                if best == nil || components[i].mass > components[best!].mass { best = i }
            }
            return best
        }
        let plausible = heaviest({ !frameOrEdge[$0] && isPlausibleDigit(components[$0]) && !components[$0].touchesBorder })
        let plausibleAtBorder = heaviest({ !frameOrEdge[$0] && isPlausibleDigit(components[$0]) && components[$0].touchesBorder })
        guard let seed = plausible ?? plausibleAtBorder ?? heaviest({ !frameOrEdge[$0] }) ?? heaviest({ _ in true }) else { return [] }
        let seedBox = components[seed].box
        let margin = max(2, max(seedBox.width, seedBox.height) / 4)
        let maxHeight = 2 * seedBox.height, maxWidth = 2 * seedBox.width + seedBox.height
        var group = [seed]
        var inGroup = [Bool](repeating: false, count: components.count)
        inGroup[seed] = true
        var box = seedBox
        var changed = true
        while changed {
            changed = false
            for i in components.indices where !inGroup[i] && !frameOrEdge[i] && !components[i].touchesBorder {
                let c = components[i]
                guard c.area * 50 >= components[seed].area else { continue }
                let near = c.box.x < box.x + box.width + margin && c.box.x + c.box.width > box.x - margin
                    && c.box.y < box.y + box.height + margin && c.box.y + c.box.height > box.y - margin
                guard near else { continue }
                let union = box.union(c.box)
                guard union.height <= maxHeight, union.width <= maxWidth else { continue }
                box = union; group.append(i); inGroup[i] = true; changed = true
            }
        }
        return group.sorted()
    }

    // MARK: - Stroke width

    /// Mean stroke width of the pixels labelled with one of `labels` inside `box`, in pixels × 16: twice the
    /// area over the boundary length (boundary = pixels with a 4-neighbour outside the set), which is the width for
    /// any long stroke. Example: a 3×40 bar → area 120, boundary 82 (two sides and each end's middle pixel) → 46/16 = 2.9.
    package static func strokeWidth16(labels: [Int32], width: Int, box: PixelBox, keep: [Bool]) -> Int {
        func inSet(_ x: Int, _ y: Int) -> Bool {
            guard x >= box.x, x < box.x + box.width, y >= box.y, y < box.y + box.height else { return false }
            let label = Int(labels[y * width + x])
            return label > 0 && keep[label - 1]
        }
        var area = 0, boundary = 0
        for y in box.y..<(box.y + box.height) {
            for x in box.x..<(box.x + box.width) where inSet(x, y) {
                area += 1
                if !inSet(x - 1, y) || !inSet(x + 1, y) || !inSet(x, y - 1) || !inSet(x, y + 1) { boundary += 1 }
            }
        }
        return boundary == 0 ? 0 : 32 * area / boundary
    }

    /// MNIST's stroke width relative to the digit's longer side, in thousandths: measured with
    /// ``strokeWidth16(labels:width:box:keep:)`` on the 10,000 test digits (pixels ≥ 64): median 0.165 (re-measured by
    /// PhotoStepsTests).
    package static let mnistStrokePermille = 165

    /// Grey-level dilation (maximum over a (2·radius + 1)² square) after padding by `radius` on every side: thin
    /// pen strokes grow to MNIST's stroke width before scaling. Radius 0 returns the image.
    package static func thickened(_ image: GrayImage, radius: Int) -> GrayImage {
        guard radius > 0 else { return image }
        var padded = GrayImage(width: image.width + 2 * radius, height: image.height + 2 * radius)
        for y in 0..<image.height {
            for x in 0..<image.width { padded[x + radius, y + radius] = image[x, y] }
        }
        return squareExtreme(padded, window: 2 * radius + 1, maximum: true)
    }

    /// The dilation radius that brings strokes of `width16`/16 pixels in a digit of `longerSide` pixels to about
    /// MNIST's relative width: 0 when they are at least 40% of it already (MNIST's own thin digits stay as they are),
    /// else half the shortfall, rounded.
    package static func thickeningRadius(width16: Int, longerSide: Int) -> Int {
        let target16 = longerSide * 16 * mnistStrokePermille / 1000
        guard width16 * 10 < target16 * 4 else { return 0 }
        return (target16 - width16 + 16) / 32
    }
}

extension PixelBox {
    /// The smallest box holding both.
    package func union(_ other: PixelBox) -> PixelBox {
        let minX = Swift.min(x, other.x), minY = Swift.min(y, other.y)
        let maxX = Swift.max(x + width, other.x + other.width), maxY = Swift.max(y + height, other.y + other.height)
        return PixelBox(x: minX, y: minY, width: maxX - minX, height: maxY - minY)
    }

    /// This box grown by `margin` on every side and clipped to a `width`×`height` image.
    package func expanded(by margin: Int, width: Int, height: Int) -> PixelBox {
        let minX = Swift.max(0, x - margin), minY = Swift.max(0, y - margin)
        let maxX = Swift.min(width, x + self.width + margin), maxY = Swift.min(height, y + self.height + margin)
        return PixelBox(x: minX, y: minY, width: maxX - minX, height: maxY - minY)
    }
}
