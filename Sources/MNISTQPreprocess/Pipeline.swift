// The whole preprocessing pipeline: any gray image → the 28×28 pixels the model sees.

extension Preprocess {
    /// The 28×28 MNIST-style pixels (0 background, 255 ink) for a decoded image of one digit.
    ///
    /// A 28×28 image with a dark background (``isMNISTStyle(_:)``) is returned unchanged, so MNIST images stored as
    /// JPEG or PNG classify as the originals do (and cost nothing here). Anything else goes through
    /// ``digitInk(_:options:)`` (find the digit), then ``scaleToFit(_:side:)`` (longer side 20, as MNIST) and
    /// ``placeByCentreOfMass(_:)`` (centre of mass at (14, 14), as MNIST). Throws `.blank` when no ink stands out.
    public static func modelInput(_ image: GrayImage, options: PreprocessOptions = PreprocessOptions()) throws(PreprocessError) -> [UInt8] {
        if isMNISTStyle(image) { return image.pixels }
        guard let digit = digitInk(image, options: options) else { throw PreprocessError.blank }
        return placeByCentreOfMass(scaleToFit(digit, side: options.fitSide))
    }

    /// The digit's ink (0 paper, 255 stroke), cropped to its strokes, or nil when there is none.
    ///
    /// 1. ``reduced(_:maxSide:)`` to `options.workingSide` (a 12 MP photo becomes ≤ 640 px);
    /// 2. ``boxBlur(_:radius:)`` by ``denoiseRadius(sigma:)`` of ``noiseSigma(_:)`` (only noisy images);
    /// 3. ``inkIsDark(_:)`` decides the polarity; light ink on dark ground is ``inverted(_:)``;
    /// 4. ``paperLevel(_:window:)`` — the local paper brightness (uneven light, shadows, page edges) — and
    ///    ``darkInk(_:paper:)``: the ink relative to it (a local, adaptive threshold in effect); in two passes, the
    ///    first with ``paperWindow(width:height:)``, the second with three times the stroke width it found;
    /// 5. ``inkLevels(_:minimumContrast:)``: noise and stroke level, blank test, hysteresis thresholds;
    /// 6. ``components(_:low:high:)`` and ``digitGroup(_:width:height:)``: the digit's stroke group without specks,
    ///    frames, page edges or shadow rims;
    /// 7. the group's box plus one pixel, with pixels of other components set to 0, the noise floor
    ///    (`noiseFraction` of the stroke level, at least 3·noise) subtracted and half the stroke level stretched to 255;
    /// 8. ``thickened(_:radius:)`` by ``thickeningRadius(width16:longerSide:)`` of ``strokeWidth16(labels:width:box:keep:)``:
    ///    thin pen strokes get MNIST's relative stroke width.
    package static func digitInk(_ image: GrayImage, options: PreprocessOptions = PreprocessOptions()) -> GrayImage? {
        guard image.width > 0, image.height > 0, image.pixels.count == image.width * image.height else { return nil }
        var work = reduced(image, maxSide: options.workingSide)
        work = boxBlur(work, radius: denoiseRadius(sigma: noiseSigma(work)))
        if !inkIsDark(work) { work = inverted(work) }
        // Pass 1 with a window safe for any stroke the frame can hold; pass 2 with one fitted to the strokes found
        // (three stroke widths), which follows vignetting and the tips of shadows far more closely. When pass 1
        // finds nothing, or strokes under 5% of their box (a small digit under strong vignetting, a thin pen),
        // pass 2 uses a twelfth of the frame.
        let longest = max(work.width, work.height)
        let wide = paperWindow(width: work.width, height: work.height)
        let first = strokeGroup(work, window: wide, options: options)
        // A stroke under 5% of its group's box is either a thin pen or a wrong find (the rim of strong vignetting):
        // both are served by the narrow window.
        let narrow = max(9, longest / 12) | 1
        let fitted = first.map { group in
            group.strokeWidth16 * 20 < 16 * max(group.box.width, group.box.height) ? narrow : max(9, 3 * group.strokeWidth16 / 16) | 1
        } ?? narrow
        var found = first
        if fitted * 10 <= wide * 7, let second = strokeGroup(work, window: fitted, options: options) { found = second }
        guard let group = found else { return nil }
        let ink = group.ink, levels = group.levels, box = group.box
        let crop = box.expanded(by: 1, width: ink.width, height: ink.height)
        let floor = max(3 * levels.noise, Int(Float(levels.stroke) * options.noiseFraction))
        // Half the stroke level becomes 255: MNIST's strokes are saturated across most of their width, and a photo's
        // (softened by the lens, by JPEG and by scaling) otherwise come out thinner and greyer than the model knows
        // (measured: 99.09% → 99.19% on the dark-on-light MNIST renderings).
        let range = max(1, levels.stroke / 2 - floor)
        var digit = GrayImage(width: crop.width, height: crop.height)
        for y in 0..<crop.height {
            for x in 0..<crop.width {
                let index = (crop.y + y) * ink.width + crop.x + x
                let label = Int(group.labels[index])
                guard label == 0 || group.keep[label - 1] else { continue }
                let value = Int(ink.pixels[index]) - floor
                guard value > 0 else { continue }
                digit.pixels[y * crop.width + x] = UInt8(min(255, (value * 255 + range / 2) / range))
            }
        }
        let longer = max(box.width, box.height)
        let radius = min(thickeningRadius(width16: group.strokeWidth16, longerSide: longer), max(1, longer / 10))
        return thickened(digit, radius: radius)
    }

    /// What ``strokeGroup(_:window:options:)`` found: the ink image, its levels, the component labels, which
    /// components are the digit, their box and stroke width.
    package struct StrokeGroup {
        package var ink: GrayImage
        package var levels: InkLevels
        package var labels: [Int32]
        package var keep: [Bool]
        package var box: PixelBox
        package var strokeWidth16: Int
    }

    /// Steps 4–6 of ``digitInk(_:options:)`` on a dark-ink image with one closing `window`: paper level, ink,
    /// levels, components, the digit's group and its stroke width; nil when blank.
    package static func strokeGroup(_ work: GrayImage, window: Int, options: PreprocessOptions) -> StrokeGroup? {
        let paper = paperLevel(work, window: window)
        guard let (ink, levels) = inkLevels(darkInk(work, paper: paper), minimumContrast: Int(options.minimumContrast)) else {
            return nil
        }
        let (labels, found) = components(ink, low: levels.low, high: levels.high)
        let group = digitGroup(found, width: ink.width, height: ink.height)
        guard let first = group.first else { return nil }
        var keep = [Bool](repeating: false, count: found.count)
        var box = found[first].box
        for index in group {
            keep[index] = true
            box = box.union(found[index].box)
        }
        let width16 = strokeWidth16(labels: labels, width: ink.width, box: box, keep: keep)
        return StrokeGroup(ink: ink, levels: levels, labels: labels, keep: keep, box: box, strokeWidth16: width16)
    }
}
