// The report's inline SVG charts: learning curves (accuracy, loss, learning rate), per-layer SQNR and scales.
import Foundation
import MNISTQSupport

/// Colours of the Okabe–Ito palette, told apart by readers with any common colour-vision deficiency; every series
/// also has its own dash pattern and marker shape, so nothing depends on colour alone.
enum ReportPalette {
    static let blue = "#0072B2", orange = "#E69F00", green = "#009E73", vermillion = "#D55E00"
    static let sky = "#56B4E9", purple = "#CC79A7", yellow = "#F0E442", ink = "#1b1f24", muted = "#5b6470"
    static let grid = "#e3e7ec"
}

func fmt(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }

/// The y-range a chart zooms to: the values without far outliers (Tukey's fences at 3 × the interquartile range,
/// e.g. a first epoch far below the rest, or a collapse the guard rolled back), widened to whole ticks.
func zoomedRange(_ values: [Double], paddingFraction: Double = 0.08) -> (low: Double, high: Double) {
    let finite = values.filter(\.isFinite).sorted()
    guard let first = finite.first, let last = finite.last else { return (0, 1) }
    func quantile(_ q: Double) -> Double {
        let position = q * Double(finite.count - 1)
        let i = Int(position), f = position - Double(i)
        return i + 1 < finite.count ? finite[i] * (1 - f) + finite[i + 1] * f : finite[i]
    }
    let q1 = quantile(0.25), q3 = quantile(0.75), spread = q3 - q1
    let low = spread > 0 ? max(first, q1 - 3 * spread) : first
    let high = spread > 0 ? min(last, q3 + 3 * spread) : last
    let kept = finite.filter { $0 >= low && $0 <= high }
    let lo = kept.first ?? first, hi = kept.last ?? last
    let pad = max((hi - lo) * paddingFraction, abs(hi) * 1e-4, 1e-9)
    return (lo - pad, hi + pad)
}

/// A named line over epochs.
struct CurveSeries {
    var name: String
    var points: [(x: Double, y: Double)]
    var color: String
    var dash: String?
    var marker: Marker
    enum Marker { case circle, square, triangle, diamond }
}

/// One chart panel of the learning-curve figure, sharing the x axis (epochs) with the others.
struct CurvePanel {
    var title: String
    var unit: String
    var series: [CurveSeries]
    var height: Double
    var decimals: Int
    /// Zoom to the values (true) or start at 0 (false).
    var zoom: Bool
    /// Optional horizontal reference line (value, label).
    var reference: (value: Double, label: String)? = nil
    /// Values the quantity can take (accuracy 0...100, loss ≥ 0): the axis never extends past them.
    var bounds: ClosedRange<Double> = -Double.infinity...Double.infinity
}

/// Vertical marks across all panels: the kept epoch, guard events, early stopping.
struct EpochMark {
    var epoch: Double
    var label: String
    var detail: String
    var color: String
    var dash: String?
}

enum ReportCharts {
    static let width = 1000.0
    static let left = 64.0, right = 170.0, panelGap = 42.0

    /// Stacked panels over one epoch axis, with vertical marks through all of them.
    static func learningCurves(panels: [CurvePanel], epochs: ClosedRange<Double>, marks: [EpochMark]) -> String {
        // Mark labels stack above the first panel's title, one line each.
        let top = 30.0 + 15.0 * Double(marks.count)
        let height = top + panels.reduce(0) { $0 + $1.height + panelGap } + 14
        let plotWidth = width - left - right
        let span = max(epochs.upperBound - epochs.lowerBound, 1)
        func x(_ epoch: Double) -> Double { left + (epoch - epochs.lowerBound) / span * plotWidth }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" aria-labelledby=\"curves-title\" width=\"\(fmt(width, 0))\" height=\"\(fmt(height, 0))\" viewBox=\"0 0 \(fmt(width, 0)) \(fmt(height, 0))\">\n"
        s += "<title id=\"curves-title\">Learning curves per epoch: accuracy, loss and learning rate</title>\n"
        var y0 = top
        var panelBounds: [(top: Double, bottom: Double)] = []
        for (p, panel) in panels.enumerated() {
            let ph = panel.height
            let all = panel.series.flatMap { $0.points.map(\.y) } + (panel.reference.map { [$0.value] } ?? [])
            let range = panel.zoom ? zoomedRange(all) : (low: 0, high: (all.filter(\.isFinite).max() ?? 1) * 1.08)
            let ticks = AxisTicks(low: max(range.low, panel.bounds.lowerBound), high: min(range.high, panel.bounds.upperBound),
                                  target: max(3, Int(ph / 45)))
            let lo = max(ticks.low, panel.bounds.lowerBound), hi = min(ticks.high, panel.bounds.upperBound)
            func y(_ v: Double) -> Double { y0 + ph - (v - lo) / max(hi - lo, 1e-12) * ph }
            panelBounds.append((y0, y0 + ph))
            s += "<g class=\"panel\" data-panel=\"\(p)\">\n"
            s += "<text x=\"\(fmt(left, 1))\" y=\"\(fmt(y0 - 9, 1))\" class=\"panel-title\">\(svgEscape(panel.title))</text>\n"
            s += "<rect x=\"\(fmt(left, 1))\" y=\"\(fmt(y0, 1))\" width=\"\(fmt(plotWidth, 1))\" height=\"\(fmt(ph, 1))\" fill=\"#ffffff\" stroke=\"#c9d0d8\"/>\n"
            for t in ticks.values where t >= lo - 1e-12 && t <= hi + 1e-12 {
                let ty = y(t)
                s += "<line x1=\"\(fmt(left, 1))\" x2=\"\(fmt(left + plotWidth, 1))\" y1=\"\(fmt(ty, 1))\" y2=\"\(fmt(ty, 1))\" stroke=\"\(ReportPalette.grid)\"/>"
                s += "<text x=\"\(fmt(left - 6, 1))\" y=\"\(fmt(ty + 4, 1))\" class=\"tick\" text-anchor=\"end\">\(svgEscape(axisLabel(t, decimals: max(ticks.decimals, 0))))\(svgEscape(panel.unit))</text>\n"
            }
            if let reference = panel.reference, reference.value >= lo, reference.value <= hi {
                let ry = y(reference.value)
                s += "<line x1=\"\(fmt(left, 1))\" x2=\"\(fmt(left + plotWidth, 1))\" y1=\"\(fmt(ry, 1))\" y2=\"\(fmt(ry, 1))\" stroke=\"\(ReportPalette.ink)\" stroke-width=\"1\" stroke-dasharray=\"2 3\"/>"
                // Inside the plot at the left, on a white halo, so it never collides with the legend on the right.
                let below = ry - y0 < 16
                s += "<text x=\"\(fmt(left + 6, 1))\" y=\"\(fmt(below ? ry + 14 : ry - 5, 1))\" class=\"ref-label\" stroke=\"#ffffff\" stroke-width=\"4\" paint-order=\"stroke\">\(svgEscape(reference.label))</text>\n"
            }
            s += "<clipPath id=\"clip-\(p)\"><rect x=\"\(fmt(left, 1))\" y=\"\(fmt(y0 - 1, 1))\" width=\"\(fmt(plotWidth, 1))\" height=\"\(fmt(ph + 2, 1))\"/></clipPath>\n"
            for (seriesIndex, series) in panel.series.enumerated() where !series.points.isEmpty {
                // Values outside the zoomed range are drawn on the edge as hollow markers with their value beside them.
                let inside = series.points.filter { $0.y.isFinite }
                let path = inside.map { "\(fmt(x($0.x), 1)),\(fmt(min(max(y($0.y), y0), y0 + ph), 1))" }.joined(separator: " ")
                s += "<polyline clip-path=\"url(#clip-\(p))\" points=\"\(path)\" fill=\"none\" stroke=\"\(series.color)\" stroke-width=\"2.2\""
                    + (series.dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>\n"
                for point in inside {
                    let below = point.y < lo, above = point.y > hi
                    let py = min(max(y(point.y), y0), y0 + ph)
                    s += marker(series.marker, x: x(point.x), y: py, color: series.color, hollow: below || above,
                                title: "\(series.name), epoch \(Int(point.x)): \(axisLabel(point.y, decimals: panel.decimals))\(panel.unit)")
                    if below || above {
                        // Each series' label on its own line, so labels of series clipped at one epoch stay apart.
                        let offset = 13 * Double(seriesIndex)
                        s += "<text x=\"\(fmt(x(point.x) + 7, 1))\" y=\"\(fmt(below ? py - 5 - offset : py + 12 + offset, 1))\" class=\"clipped\" fill=\"\(series.color)\">\(below ? "↓" : "↑") \(svgEscape(axisLabel(point.y, decimals: panel.decimals) + panel.unit))</text>\n"
                    }
                }
            }
            // Legend to the right of the panel.
            var ly = y0 + 14
            for series in panel.series where !series.points.isEmpty {
                let lx = left + plotWidth + 12
                s += "<line x1=\"\(fmt(lx, 1))\" x2=\"\(fmt(lx + 26, 1))\" y1=\"\(fmt(ly - 4, 1))\" y2=\"\(fmt(ly - 4, 1))\" stroke=\"\(series.color)\" stroke-width=\"2.2\""
                    + (series.dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>"
                s += marker(series.marker, x: lx + 13, y: ly - 4, color: series.color, hollow: false, title: nil)
                s += "<text x=\"\(fmt(lx + 32, 1))\" y=\"\(fmt(ly, 1))\" class=\"legend\">\(svgEscape(series.name))</text>\n"
                ly += 18
            }
            s += "</g>\n"
            y0 += ph + panelGap
        }
        // Epoch axis under the last panel, tick per epoch (or every k-th when there are many).
        let bottom = panelBounds.last?.bottom ?? top
        let count = Int(span) + 1
        let every = max(1, Int((Double(count) / 20).rounded(.up)))
        for (n, epoch) in stride(from: epochs.lowerBound, through: epochs.upperBound, by: 1).enumerated() where n % every == 0 {
            s += "<text x=\"\(fmt(x(epoch), 1))\" y=\"\(fmt(bottom + 16, 1))\" class=\"tick\" text-anchor=\"middle\">\(Int(epoch))</text>"
        }
        s += "<text x=\"\(fmt(left + plotWidth / 2, 1))\" y=\"\(fmt(bottom + 32, 1))\" class=\"axis-label\" text-anchor=\"middle\">epoch</text>\n"
        // Marks through every panel, labelled above the first.
        for (n, mark) in marks.enumerated() {
            let mx = x(mark.epoch)
            s += "<g class=\"mark\"><title>\(svgEscape(mark.detail))</title>"
            for b in panelBounds {
                s += "<line x1=\"\(fmt(mx, 1))\" x2=\"\(fmt(mx, 1))\" y1=\"\(fmt(b.top, 1))\" y2=\"\(fmt(b.bottom, 1))\" stroke=\"\(mark.color)\" stroke-width=\"2\""
                    + (mark.dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + " opacity=\"0.85\"/>"
            }
            let ly = 14 + 15 * Double(n)
            let anchor = mx > left + plotWidth * 0.75 ? "end" : (mx < left + plotWidth * 0.25 ? "start" : "middle")
            s += "<line x1=\"\(fmt(mx, 1))\" x2=\"\(fmt(mx, 1))\" y1=\"\(fmt(ly + 3, 1))\" y2=\"\(fmt(top, 1))\" stroke=\"\(mark.color)\" stroke-width=\"1\" opacity=\"0.5\"/>"
            s += "<text x=\"\(fmt(mx, 1))\" y=\"\(fmt(ly, 1))\" class=\"mark-label\" text-anchor=\"\(anchor)\" fill=\"\(mark.color)\">\(svgEscape(mark.label))</text></g>\n"
        }
        return s + "</svg>"
    }

    static func marker(_ kind: CurveSeries.Marker, x: Double, y: Double, color: String, hollow: Bool, title: String?) -> String {
        let fill = hollow ? "#ffffff" : color
        let t = title.map { "<title>\(svgEscape($0))</title>" } ?? ""
        let open = t.isEmpty ? "/>" : ">\(t)"
        func close(_ tag: String) -> String { t.isEmpty ? "" : "</\(tag)>" }
        switch kind {
        case .circle:
            return "<circle cx=\"\(fmt(x, 1))\" cy=\"\(fmt(y, 1))\" r=\"3.6\" fill=\"\(fill)\" stroke=\"\(color)\" stroke-width=\"1.5\"\(open)\(close("circle"))"
        case .square:
            return "<rect x=\"\(fmt(x - 3.4, 1))\" y=\"\(fmt(y - 3.4, 1))\" width=\"6.8\" height=\"6.8\" fill=\"\(fill)\" stroke=\"\(color)\" stroke-width=\"1.5\"\(open)\(close("rect"))"
        case .triangle:
            let p = "\(fmt(x, 1)),\(fmt(y - 4.4, 1)) \(fmt(x - 4.2, 1)),\(fmt(y + 3.2, 1)) \(fmt(x + 4.2, 1)),\(fmt(y + 3.2, 1))"
            return "<polygon points=\"\(p)\" fill=\"\(fill)\" stroke=\"\(color)\" stroke-width=\"1.5\"\(open)\(close("polygon"))"
        case .diamond:
            let p = "\(fmt(x, 1)),\(fmt(y - 4.6, 1)) \(fmt(x - 4.6, 1)),\(fmt(y, 1)) \(fmt(x, 1)),\(fmt(y + 4.6, 1)) \(fmt(x + 4.6, 1)),\(fmt(y, 1))"
            return "<polygon points=\"\(p)\" fill=\"\(fill)\" stroke=\"\(color)\" stroke-width=\"1.5\"\(open)\(close("polygon"))"
        }
    }

    /// A tick or value label with `decimals` decimals, small numbers in scientific notation.
    static func axisLabel(_ v: Double, decimals: Int) -> String {
        if v != 0 && abs(v) < 1e-3 { return String(format: "%.1e", v) }
        return fmt(v, min(decimals, 6))
    }

    /// Horizontal bars, one per layer, with the value printed at the end of each bar.
    static func sqnrBars(names: [String], values: [Double]) -> String {
        let rowHeight = 30.0, labelWidth = 60.0, plotWidth = 330.0, valueWidth = 70.0
        let height = Double(names.count) * rowHeight + 46
        let w = labelWidth + plotWidth + valueWidth
        let maxValue = max(values.filter(\.isFinite).max() ?? 1, 1)
        let ticks = AxisTicks(low: 0, high: maxValue, target: 4)
        func x(_ v: Double) -> Double { labelWidth + v / ticks.high * plotWidth }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" aria-labelledby=\"sqnr-title\" width=\"\(fmt(w, 0))\" height=\"\(fmt(height, 0))\" viewBox=\"0 0 \(fmt(w, 0)) \(fmt(height, 0))\">\n"
        s += "<title id=\"sqnr-title\">Per-layer SQNR in dB (higher is better)</title>\n"
        let plotBottom = Double(names.count) * rowHeight + 8
        for t in ticks.values {
            s += "<line x1=\"\(fmt(x(t), 1))\" x2=\"\(fmt(x(t), 1))\" y1=\"4\" y2=\"\(fmt(plotBottom, 1))\" stroke=\"\(ReportPalette.grid)\"/>"
            s += "<text x=\"\(fmt(x(t), 1))\" y=\"\(fmt(plotBottom + 16, 1))\" class=\"tick\" text-anchor=\"middle\">\(svgEscape(fmt(t, ticks.decimals)))</text>\n"
        }
        s += "<text x=\"\(fmt(labelWidth + plotWidth / 2, 1))\" y=\"\(fmt(plotBottom + 34, 1))\" class=\"axis-label\" text-anchor=\"middle\">SQNR (dB) of each layer's output over the test images</text>\n"
        for (i, name) in names.enumerated() {
            let y = 8 + Double(i) * rowHeight
            let v = values[i]
            let bar = v.isFinite ? max(0, x(v) - labelWidth) : plotWidth
            s += "<text x=\"\(fmt(labelWidth - 8, 1))\" y=\"\(fmt(y + 18, 1))\" class=\"legend\" text-anchor=\"end\">\(svgEscape(name))</text>"
            s += "<rect x=\"\(fmt(labelWidth, 1))\" y=\"\(fmt(y + 5, 1))\" width=\"\(fmt(bar, 1))\" height=\"\(fmt(rowHeight - 10, 1))\" fill=\"\(ReportPalette.blue)\"><title>\(svgEscape(name)): \(v.isFinite ? fmt(v, 2) : "∞") dB</title></rect>"
            s += "<text x=\"\(fmt(labelWidth + bar + 6, 1))\" y=\"\(fmt(y + 18, 1))\" class=\"value\">\(v.isFinite ? fmt(v, 1) : "∞") dB</text>\n"
        }
        return s + "</svg>"
    }

    /// Scales per layer on a log axis: every output channel's weight scale as a tick, the input and output scales as
    /// markers.
    static func scaleStrip(names: [String], weightScales: [[Double]], inputScales: [Double], outputScales: [Double]) -> String {
        let rowHeight = 30.0, labelWidth = 60.0, plotWidth = 380.0, legendHeight = 26.0
        let all = (weightScales.flatMap { $0 } + inputScales + outputScales).filter { $0 > 0 && $0.isFinite }
        let lo = floor(log10(all.min() ?? 1e-4)), hi = ceil(log10(all.max() ?? 1))
        let decades = max(hi - lo, 1)
        let height = Double(names.count) * rowHeight + 46 + legendHeight
        let w = labelWidth + plotWidth + 24
        func x(_ v: Double) -> Double { labelWidth + (log10(v) - lo) / decades * plotWidth }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" aria-labelledby=\"scales-title\" width=\"\(fmt(w, 0))\" height=\"\(fmt(height, 0))\" viewBox=\"0 0 \(fmt(w, 0)) \(fmt(height, 0))\">\n"
        s += "<title id=\"scales-title\">Quantization scales per layer on a logarithmic axis</title>\n"
        // Legend first, above the rows.
        let lx = labelWidth
        s += "<line x1=\"\(fmt(lx, 1))\" x2=\"\(fmt(lx, 1))\" y1=\"6\" y2=\"18\" stroke=\"\(ReportPalette.blue)\" stroke-width=\"1.5\"/>"
        s += "<text x=\"\(fmt(lx + 7, 1))\" y=\"16\" class=\"legend\">weight scale (one per channel)</text>"
        s += marker(.triangle, x: lx + 214, y: 12, color: ReportPalette.vermillion, hollow: false, title: nil)
        s += "<text x=\"\(fmt(lx + 223, 1))\" y=\"16\" class=\"legend\">input</text>"
        s += marker(.square, x: lx + 276, y: 12, color: ReportPalette.ink, hollow: true, title: nil)
        s += "<text x=\"\(fmt(lx + 285, 1))\" y=\"16\" class=\"legend\">output</text>\n"
        let plotTop = legendHeight, plotBottom = plotTop + Double(names.count) * rowHeight
        var decade = lo
        while decade <= hi {
            let tx = x(pow(10, decade))
            s += "<line x1=\"\(fmt(tx, 1))\" x2=\"\(fmt(tx, 1))\" y1=\"\(fmt(plotTop, 1))\" y2=\"\(fmt(plotBottom, 1))\" stroke=\"\(ReportPalette.grid)\"/>"
            s += "<text x=\"\(fmt(tx, 1))\" y=\"\(fmt(plotBottom + 16, 1))\" class=\"tick\" text-anchor=\"middle\">1e\(Int(decade))</text>\n"
            decade += 1
        }
        s += "<text x=\"\(fmt(labelWidth + plotWidth / 2, 1))\" y=\"\(fmt(plotBottom + 34, 1))\" class=\"axis-label\" text-anchor=\"middle\">real value of one int8 / uint8 step</text>\n"
        for (i, name) in names.enumerated() {
            let y = plotTop + Double(i) * rowHeight + rowHeight / 2
            s += "<text x=\"\(fmt(labelWidth - 8, 1))\" y=\"\(fmt(y + 5, 1))\" class=\"legend\" text-anchor=\"end\">\(svgEscape(name))</text>"
            let scales = weightScales[i].filter { $0 > 0 && $0.isFinite }
            if let mn = scales.min(), let mx = scales.max() {
                s += "<g><title>\(svgEscape(name)) weight scales: \(scales.count) channels, \(String(format: "%.4g", mn)) … \(String(format: "%.4g", mx))</title>"
                s += "<rect x=\"\(fmt(x(mn), 1))\" y=\"\(fmt(y - 8, 1))\" width=\"\(fmt(max(x(mx) - x(mn), 1), 1))\" height=\"16\" fill=\"\(ReportPalette.sky)\" opacity=\"0.35\"/>"
                for v in scales {
                    s += "<line x1=\"\(fmt(x(v), 1))\" x2=\"\(fmt(x(v), 1))\" y1=\"\(fmt(y - 8, 1))\" y2=\"\(fmt(y + 8, 1))\" stroke=\"\(ReportPalette.blue)\" stroke-width=\"1\" opacity=\"0.7\"/>"
                }
                s += "</g>"
            }
            if inputScales[i] > 0 && inputScales[i].isFinite {
                s += marker(.triangle, x: x(inputScales[i]), y: y, color: ReportPalette.vermillion, hollow: false,
                            title: "\(name) input scale \(String(format: "%.4g", inputScales[i]))")
            }
            if outputScales[i] > 0 && outputScales[i].isFinite {
                s += marker(.square, x: x(outputScales[i]), y: y, color: ReportPalette.ink, hollow: true,
                            title: "\(name) output scale \(String(format: "%.4g", outputScales[i]))")
            }
            s += "\n"
        }
        return s + "</svg>"
    }
}
