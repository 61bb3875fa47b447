// Small SVG writers for reports: a line chart (learning curves) and a confusion-matrix heat map.
import Foundation

/// A problem with the data given to an SVG writer.
package enum SVGError: Error, Equatable, CustomStringConvertible {
    /// A confusion matrix must be square (n rows of n counts) with n ≥ 1.
    case notSquare(rows: Int, badRow: Int, columns: Int)
    /// Counts must be ≥ 0.
    case negativeCount(row: Int, column: Int, value: Int)
    /// The number of class labels must equal the matrix size.
    case labelCount(found: Int, expected: Int)

    package var description: String {
        switch self {
        case let .notSquare(rows, badRow, columns):
            return "confusion matrix: row \(badRow) has \(columns) counts, expected \(rows) (one per row). Hint: counts[true][predicted] must be n×n."
        case let .negativeCount(row, column, value):
            return "confusion matrix: cell [\(row)][\(column)] is \(value), expected a count ≥ 0"
        case let .labelCount(found, expected):
            return "confusion matrix: \(found) class labels, expected \(expected) (one per row)"
        }
    }
}

/// How every chart starts: the XML declaration, the `<svg>` element, a white background and the bold title centred
/// at (`titleX`, `titleY`).
func svgDocumentStart(width: Int, height: Int, title: String, titleX: Double, titleY: Int) -> String {
    var s = """
    <?xml version="1.0" encoding="UTF-8"?>
    <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="sans-serif" font-size="12">

    """
    s += "<rect width=\"\(width)\" height=\"\(height)\" fill=\"white\"/>\n"
    s += "<text x=\"\(svgNumber(titleX))\" y=\"\(titleY)\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">\(svgEscape(title))</text>\n"
    return s
}

/// Escapes text for use in SVG/XML text and attribute values (XML's five entities; JSON strings, escaped by the
/// CLI's writer, follow other rules: the two look alike by design).
package func svgEscape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.count)
    for ch in text {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default: out.append(ch)
        }
    }
    return out
}

/// Formats a coordinate with two decimals (enough for pixels, keeps files small).
@inline(__always)
func svgNumber(_ v: Double) -> String { String(format: "%.2f", v) }

/// Evenly spaced "nice" axis ticks (steps of 1, 2 or 5 × 10^k) covering `low...high`.
package struct AxisTicks: Equatable, Sendable {
    /// Lower axis bound (bounds are the data range widened to whole steps).
    package let low: Double
    /// Upper axis bound.
    package let high: Double
    /// Distance between ticks.
    package let step: Double
    /// Tick positions from `low` to `high`.
    package let values: [Double]
    /// Decimals needed to print the ticks exactly.
    package let decimals: Int

    /// About `target` ticks over the data range; a zero-width range is widened so the axis stays usable.
    package init(low dataLow: Double, high dataHigh: Double, target: Int = 5) {
        var lo = dataLow, hi = dataHigh
        if !lo.isFinite || !hi.isFinite { lo = 0; hi = 1 }
        if lo > hi { swap(&lo, &hi) }
        if hi - lo < 1e-12 {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad; hi += pad
        }
        let raw = (hi - lo) / Double(max(1, target))
        let magnitude = pow(10, floor(log10(raw)))
        let fraction = raw / magnitude
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        let step = nice * magnitude
        // Small tolerance so a bound that is already on a tick (0.99999999 of a step) is not widened.
        let first = floor(lo / step + 1e-9), last = ceil(hi / step - 1e-9)
        self.step = step
        self.low = first * step
        self.high = last * step
        self.values = (0...Int(last - first)).map { (first + Double($0)) * step }
        self.decimals = max(0, Int(-floor(log10(step) + 1e-9)))
    }

    /// A tick value printed with just enough decimals ("0.25", "100").
    package func label(_ value: Double) -> String {
        let v = abs(value) < step * 1e-9 ? 0 : value  // avoid "-0.0"
        return String(format: "%.\(decimals)f", v)
    }
}

/// A line chart of named series, e.g. train loss and validation accuracy per epoch.
///
/// ```
/// var chart = SVGLineChart(title: "Learning curve", xLabel: "epoch", yLabel: "accuracy")
/// chart.addSeries("validation", points: [(1, 0.97), (2, 0.98)])
/// try AtomicFile.write(chart.render(), to: "curve.svg")
/// ```
/// Non-finite points are skipped (a diverged loss does not wreck the axes).
package struct SVGLineChart: Sendable {
    /// One named line.
    package struct Series: Sendable {
        /// Legend text.
        package var name: String
        /// Points in drawing order; non-finite ones are skipped.
        package var points: [(x: Double, y: Double)]
        /// A series named `name` through `points`.
        package init(name: String, points: [(x: Double, y: Double)]) { self.name = name; self.points = points }
    }

    /// Heading above the plot.
    package var title: String
    /// Caption under the x axis.
    package var xLabel: String
    /// Caption beside the y axis.
    package var yLabel: String
    /// The lines, drawn and listed in the legend in this order.
    package var series: [Series] = []
    /// Image width in pixels.
    package var width = 760
    /// Image height in pixels.
    package var height = 440
    /// Fixed y bounds (e.g. `0...1` for accuracy); nil fits the data.
    package var yRange: ClosedRange<Double>? = nil

    /// An empty chart; add lines with `addSeries`.
    package init(title: String, xLabel: String, yLabel: String) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
    }

    /// Appends a series drawn in the next palette colour.
    package mutating func addSeries(_ name: String, points: [(x: Double, y: Double)]) {
        series.append(Series(name: name, points: points))
    }

    /// Colours for successive series (colour-blind-friendly Tableau 10 order).
    package static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// The chart as a complete SVG document.
    package func render() -> String {
        let finite = series.flatMap { $0.points.filter { $0.x.isFinite && $0.y.isFinite } }
        let xs = finite.map(\.x), ys = finite.map(\.y)
        let xTicks = AxisTicks(low: xs.min() ?? 0, high: xs.max() ?? 1)
        let yTicks = yRange.map { AxisTicks(low: $0.lowerBound, high: $0.upperBound) }
            ?? AxisTicks(low: ys.min() ?? 0, high: ys.max() ?? 1)

        let left = 72.0, right = 170.0, top = 44.0, bottom = 58.0
        let plotW = Double(width) - left - right, plotH = Double(height) - top - bottom
        func px(_ x: Double) -> Double { left + (x - xTicks.low) / (xTicks.high - xTicks.low) * plotW }
        func py(_ y: Double) -> Double { top + plotH - (y - yTicks.low) / (yTicks.high - yTicks.low) * plotH }

        var s = svgDocumentStart(width: width, height: height, title: title, titleX: left + plotW / 2, titleY: 26)

        // Grid, ticks and tick labels.
        s += "<g class=\"x-axis\" stroke=\"#dddddd\">\n"
        for v in xTicks.values {
            let x = svgNumber(px(v))
            s += "<line x1=\"\(x)\" y1=\"\(svgNumber(top))\" x2=\"\(x)\" y2=\"\(svgNumber(top + plotH))\"/>\n"
            s += "<text x=\"\(x)\" y=\"\(svgNumber(top + plotH + 18))\" text-anchor=\"middle\" stroke=\"none\" fill=\"black\">\(xTicks.label(v))</text>\n"
        }
        s += "</g>\n<g class=\"y-axis\" stroke=\"#dddddd\">\n"
        for v in yTicks.values {
            let y = svgNumber(py(v))
            s += "<line x1=\"\(svgNumber(left))\" y1=\"\(y)\" x2=\"\(svgNumber(left + plotW))\" y2=\"\(y)\"/>\n"
            s += "<text x=\"\(svgNumber(left - 8))\" y=\"\(y)\" dy=\"4\" text-anchor=\"end\" stroke=\"none\" fill=\"black\">\(yTicks.label(v))</text>\n"
        }
        s += "</g>\n"
        s += "<rect x=\"\(svgNumber(left))\" y=\"\(svgNumber(top))\" width=\"\(svgNumber(plotW))\" height=\"\(svgNumber(plotH))\" fill=\"none\" stroke=\"black\"/>\n"
        s += "<text x=\"\(svgNumber(left + plotW / 2))\" y=\"\(svgNumber(Double(height) - 14))\" text-anchor=\"middle\">\(svgEscape(xLabel))</text>\n"
        let yMid = svgNumber(top + plotH / 2)
        s += "<text x=\"18\" y=\"\(yMid)\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(yMid))\">\(svgEscape(yLabel))</text>\n"

        // Lines (clipped to the plot so a fixed y range cannot spill over the labels) and legend.
        s += "<clipPath id=\"plot\"><rect x=\"\(svgNumber(left))\" y=\"\(svgNumber(top))\" width=\"\(svgNumber(plotW))\" height=\"\(svgNumber(plotH))\"/></clipPath>\n"
        for (i, line) in series.enumerated() {
            let colour = SVGLineChart.palette[i % SVGLineChart.palette.count]
            let pts = line.points.filter { $0.x.isFinite && $0.y.isFinite }
            let coords = pts.map { "\(svgNumber(px($0.x))),\(svgNumber(py($0.y)))" }.joined(separator: " ")
            s += "<g class=\"series\" data-name=\"\(svgEscape(line.name))\" clip-path=\"url(#plot)\">\n"
            if pts.count > 1 {
                s += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(coords)\"/>\n"
            }
            for p in pts {
                s += "<circle cx=\"\(svgNumber(px(p.x)))\" cy=\"\(svgNumber(py(p.y)))\" r=\"2.5\" fill=\"\(colour)\"/>\n"
            }
            s += "</g>\n"
            let ly = top + 10 + Double(i) * 20
            s += "<line x1=\"\(svgNumber(left + plotW + 14))\" y1=\"\(svgNumber(ly))\" x2=\"\(svgNumber(left + plotW + 38))\" y2=\"\(svgNumber(ly))\" stroke=\"\(colour)\" stroke-width=\"2\"/>\n"
            s += "<text x=\"\(svgNumber(left + plotW + 44))\" y=\"\(svgNumber(ly))\" dy=\"4\">\(svgEscape(line.name))</text>\n"
        }
        s += "</svg>\n"
        return s
    }
}

/// A confusion matrix as a heat map: row = true label, column = predicted label, each cell shows its count
/// and is shaded by its share of the row (so rare classes are as readable as common ones). The right-hand
/// column gives each row's recall (diagonal / row total).
package struct SVGConfusionMatrix: Sendable {
    /// Heading above the matrix.
    package let title: String
    /// `counts[trueLabel][predictedLabel]`.
    package let counts: [[Int]]
    /// Row and column names.
    package let classLabels: [String]

    /// - Parameters:
    ///   - counts: an n×n matrix, `counts[trueLabel][predictedLabel]`, all ≥ 0.
    ///   - classLabels: names of the n classes; default "0", "1", ….
    package init(title: String, counts: [[Int]], classLabels: [String]? = nil) throws {
        let n = counts.count
        guard n >= 1 else { throw SVGError.notSquare(rows: 0, badRow: 0, columns: 0) }
        for (r, row) in counts.enumerated() {
            guard row.count == n else { throw SVGError.notSquare(rows: n, badRow: r, columns: row.count) }
            for (c, v) in row.enumerated() where v < 0 {
                throw SVGError.negativeCount(row: r, column: c, value: v)
            }
        }
        let labels = classLabels ?? (0..<n).map(String.init)
        guard labels.count == n else { throw SVGError.labelCount(found: labels.count, expected: n) }
        self.title = title; self.counts = counts; self.classLabels = labels
    }

    /// The heat map as a complete SVG document.
    package func render() -> String {
        let n = counts.count
        let cell = 44.0, left = 70.0, top = 78.0
        let width = Int(left + cell * Double(n) + 90), height = Int(top + cell * Double(n) + 30)
        var s = svgDocumentStart(width: width, height: height, title: title, titleX: left + cell * Double(n) / 2, titleY: 24)
        s += "<text x=\"\(svgNumber(left + cell * Double(n) / 2))\" y=\"\(svgNumber(top - 26))\" text-anchor=\"middle\">predicted</text>\n"
        let midY = svgNumber(top + cell * Double(n) / 2)
        s += "<text x=\"20\" y=\"\(midY)\" text-anchor=\"middle\" transform=\"rotate(-90 20 \(midY))\">true</text>\n"
        s += "<text x=\"\(svgNumber(left + cell * Double(n) + 45))\" y=\"\(svgNumber(top - 8))\" text-anchor=\"middle\">recall</text>\n"
        for (i, name) in classLabels.enumerated() {
            s += "<text x=\"\(svgNumber(left + cell * (Double(i) + 0.5)))\" y=\"\(svgNumber(top - 8))\" text-anchor=\"middle\">\(svgEscape(name))</text>\n"
            s += "<text x=\"\(svgNumber(left - 8))\" y=\"\(svgNumber(top + cell * (Double(i) + 0.5)))\" dy=\"4\" text-anchor=\"end\">\(svgEscape(name))</text>\n"
        }
        for (r, row) in counts.enumerated() {
            let total = row.reduce(0, +)
            for (c, count) in row.enumerated() {
                let share = total > 0 ? Double(count) / Double(total) : 0
                // White → dark blue; the lightest non-zero cells get a floor so they stay visible.
                let t = count == 0 ? 0 : 0.08 + 0.92 * share
                let red = Int((255 - t * (255 - 8)).rounded()), green = Int((255 - t * (255 - 48)).rounded()),
                    blue = Int((255 - t * (255 - 107)).rounded())
                let fill = String(format: "#%02x%02x%02x", red, green, blue)
                let x = left + cell * Double(c), y = top + cell * Double(r)
                s += "<rect class=\"cell\" data-true=\"\(r)\" data-predicted=\"\(c)\" x=\"\(svgNumber(x))\" y=\"\(svgNumber(y))\" width=\"\(svgNumber(cell))\" height=\"\(svgNumber(cell))\" fill=\"\(fill)\" stroke=\"#cccccc\"/>\n"
                s += "<text x=\"\(svgNumber(x + cell / 2))\" y=\"\(svgNumber(y + cell / 2))\" dy=\"4\" text-anchor=\"middle\" fill=\"\(t > 0.5 ? "white" : "black")\">\(count)</text>\n"
            }
            let recall = total > 0 ? String(format: "%.1f%%", 100 * Double(row[r]) / Double(total)) : "–"
            s += "<text x=\"\(svgNumber(left + cell * Double(n) + 45))\" y=\"\(svgNumber(top + cell * (Double(r) + 0.5)))\" dy=\"4\" text-anchor=\"middle\">\(recall)</text>\n"
        }
        s += "</svg>\n"
        return s
    }
}
