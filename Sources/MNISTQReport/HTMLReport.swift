// The report as one self-contained HTML page: inline CSS, inline SVG, PNG data URIs and a small inline script.
//
// The markup is also well-formed XML (every element closed, attributes quoted, no `&` or `<` in the script), so a
// strict XML parser can check it; browsers read it as ordinary HTML5.
import Foundation
import MNISTQRuntime
import MNISTQSupport

package enum HTMLReport {
    /// The whole page.
    package static func render(_ c: ReportContent) -> String {
        let fileName = (c.modelPath as NSString).lastPathComponent
        var h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
        h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
        h += "<meta name=\"generator\" content=\"\(esc(c.generator))\"/>\n"
        h += "<title>mnistq report: \(esc(fileName))</title>\n<style>\n\(css)</style>\n</head>\n<body>\n<main>\n"
        h += "<header>\n<h1>mnistq report <span class=\"file\">\(esc(fileName))</span></h1>\n"
        h += "<p class=\"sub\">int8 model <code>\(esc(c.modelPath))</code>"
        if let f = c.floatPath { h += " · float model <code>\(esc(f))</code>" }
        if let d = c.dataDirectory { h += " · MNIST <code>\(esc(d))</code>" }
        h += "</p>\n</header>\n"
        h += nav(c)
        if !c.missing.isEmpty {
            h += "<section class=\"missing\" id=\"missing\">\n<h2>Not shown</h2>\n<ul>\n"
            for m in c.missing { h += "<li>\(esc(m))</li>\n" }
            h += "</ul>\n</section>\n"
        }
        if !c.remarks.isEmpty {
            h += "<section class=\"remarks\" id=\"remarks\">\n<ul>\n"
            for r in c.remarks { h += "<li>\(esc(r))</li>\n" }
            h += "</ul>\n</section>\n"
        }
        h += summary(c)
        h += training(c)
        h += accuracy(c)
        h += gallery(c)
        h += disagreements(c)
        h += quantization(c)
        h += modelFile(c)
        h += "<footer>Written by <code>\(esc(c.generator))</code>. Self-contained: no network access, no external files.</footer>\n"
        h += "</main>\n<script>\n\(script)</script>\n</body>\n</html>\n"
        return h
    }

    static func esc(_ s: String) -> String { svgEscape(s) }
    static func pct(_ x: Double) -> String { String(format: "%.2f%%", x * 100) }
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(ch)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func nav(_ c: ReportContent) -> String {
        var links: [(String, String)] = [("summary", "Summary")]
        if c.history != nil { links.append(("training", "Training")) }
        if c.test != nil { links.append(("accuracy", "Accuracy")) }
        if c.test?.int8Predictions != nil || c.test?.floatPredictions != nil { links.append(("gallery", "Misclassified")) }
        if c.test?.agreeing != nil { links.append(("disagreements", "Float vs int8")) }
        if c.int8 != nil { links.append(("quantization", "Quantization")) }
        links.append(("model", "Model file"))
        return "<nav>" + links.map { "<a href=\"#\($0.0)\">\($0.1)</a>" }.joined(separator: " ") + "</nav>\n"
    }

    // MARK: Summary

    static func summary(_ c: ReportContent) -> String {
        var cards: [(id: String, label: String, value: String, detail: String)] = []
        if let t = c.test {
            if let q = t.int8Correct {
                cards.append(("int8-accuracy", "int8 test accuracy", pct(Double(q) / Double(max(t.total, 1))),
                              "<span id=\"int8-correct\">\(grouped(q))</span> of <span id=\"test-total\">\(grouped(t.total))</span> images"))
            }
            if let f = t.floatCorrect {
                cards.append(("float-accuracy", "float test accuracy", pct(Double(f) / Double(max(t.total, 1))),
                              "<span id=\"float-correct\">\(grouped(f))</span> of \(grouped(t.total)) images"))
            }
            if let q = t.int8Correct, let f = t.floatCorrect {
                let drop = Double(f - q) / Double(max(t.total, 1)) * 100
                cards.append(("drop-pp", "accuracy drop float → int8", String(format: "%+.2f pp", drop),
                              drop <= 0 ? "int8 is not worse" : "int8 is worse"))
            }
            if let a = t.agreeing {
                cards.append(("agreement", "float / int8 agreement", pct(Double(a) / Double(max(t.total, 1))),
                              "<span id=\"differing\">\(grouped(t.total - a))</span> images differ"))
            }
            if t.int8Predictions != nil {
                cards.append(("misclassified", "misclassified by int8", grouped(t.int8Mistakes.count), "shown below, all of them"))
            }
        }
        if let m = c.int8 {
            cards.append(("file-bytes", "model file", grouped(m.fileByteCount) + " B",
                          "arena <span id=\"arena-bytes\">\(grouped(m.arenaByteCount))</span> B per thread"))
        }
        if let kept = c.history?.keptEpoch {
            cards.append(("kept-epoch", "kept epoch", "\(kept)", "of \(c.history!.epochs.count) trained"))
        }
        var h = "<section id=\"summary\">\n<h2>Summary</h2>\n"
        if cards.isEmpty {
            h += "<p>Nothing could be measured; see “Not shown” above.</p>\n"
        } else {
            h += "<div class=\"cards\">\n"
            for card in cards {
                h += "<div class=\"card\"><div class=\"label\">\(esc(card.label))</div><div class=\"value\" id=\"\(card.id)\">\(esc(card.value))</div><div class=\"detail\">\(card.detail)</div></div>\n"
            }
            h += "</div>\n"
        }
        return h + "</section>\n"
    }

    // MARK: Training

    static func training(_ c: ReportContent) -> String {
        guard let history = c.history else { return "" }
        let e = history.epochs
        var h = "<section id=\"training\">\n<h2>Training</h2>\n"
        h += "<p class=\"note\">From <code>\(esc(history.path))</code>. The accuracy axis zooms to where the values are; a value far outside (a first epoch, a collapse) is drawn on the edge as a hollow marker with its value.</p>\n"
        let x = { (m: TrainingEpoch) in Double(m.epoch) }
        var accuracy: [CurveSeries] = [CurveSeries(name: "train", points: e.map { (x($0), $0.trainAccuracy * 100) },
                                                   color: ReportPalette.blue, dash: nil, marker: .circle)]
        let validation = e.compactMap { m in m.validationAccuracy.map { (x: x(m), y: $0 * 100) } }
        if !validation.isEmpty {
            accuracy.append(CurveSeries(name: "validation", points: validation, color: ReportPalette.orange, dash: "7 4", marker: .square))
        }
        let testAccuracy = e.compactMap { m in m.testAccuracy.map { (x: x(m), y: $0 * 100) } }
        if !testAccuracy.isEmpty {
            accuracy.append(CurveSeries(name: "test", points: testAccuracy, color: ReportPalette.green, dash: "2 3", marker: .triangle))
        }
        var loss = [CurveSeries(name: "train", points: e.map { (x($0), $0.trainLoss) }, color: ReportPalette.blue, dash: nil, marker: .circle)]
        let validationLoss = e.compactMap { m in m.validationLoss.map { (x: x(m), y: $0) } }
        if !validationLoss.isEmpty {
            loss.append(CurveSeries(name: "validation", points: validationLoss, color: ReportPalette.orange, dash: "7 4", marker: .square))
        }
        let lr = [CurveSeries(name: "learning rate", points: e.map { (x($0), $0.learningRate) }, color: ReportPalette.purple,
                              dash: nil, marker: .diamond)]
        var reference: (Double, String)? = nil
        if let t = c.test, let q = t.int8Correct {
            let a = Double(q) / Double(max(t.total, 1)) * 100
            reference = (a, "int8 model " + String(format: "%.2f%%", a))
        }
        let panels = [
            CurvePanel(title: "accuracy (%)", unit: "", series: accuracy, height: 280, decimals: 2, zoom: true, reference: reference,
                       bounds: 0...100),
            CurvePanel(title: "cross-entropy loss", unit: "", series: loss, height: 150, decimals: 4, zoom: true, bounds: 0...Double.infinity),
            CurvePanel(title: "learning rate (at each epoch's last step)", unit: "", series: lr, height: 110, decimals: 5, zoom: false),
        ]
        var marks: [EpochMark] = []
        if let kept = history.keptEpoch {
            let why = history.keptByValidation ? "best validation accuracy" : "last epoch"
            marks.append(EpochMark(epoch: Double(kept), label: "kept: epoch \(kept) (\(why))",
                                   detail: "the weights of epoch \(kept) were kept (\(why))", color: ReportPalette.ink, dash: nil))
        }
        for m in e {
            for event in m.guardEvents {
                marks.append(EpochMark(epoch: Double(m.epoch), label: "⚠ epoch \(m.epoch): \(event)", detail: "divergence \(event)",
                                       color: ReportPalette.vermillion, dash: "5 3"))
            }
            if m.stoppedEarly {
                marks.append(EpochMark(epoch: Double(m.epoch), label: "early stop after epoch \(m.epoch)",
                                       detail: "early stopping ended the run after epoch \(m.epoch)", color: ReportPalette.muted, dash: "1 3"))
            }
        }
        let first = Double(e.first!.epoch), last = Double(e.last!.epoch)
        h += "<figure class=\"wide\">" + ReportCharts.learningCurves(panels: panels, epochs: first...max(last, first + 1), marks: marks) + "</figure>\n"
        // The numbers behind the curves.
        h += "<details><summary>Per-epoch table</summary>\n<table class=\"epochs\">\n<thead><tr><th>epoch</th><th>train loss</th><th>train acc</th><th>val loss</th><th>val acc</th><th>test acc</th><th>learning rate</th><th>seconds</th><th class=\"text\">note</th></tr></thead>\n<tbody>\n"
        func p(_ v: Double?) -> String { v.map { String(format: "%.2f%%", $0 * 100) } ?? "–" }
        func l(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "–" }
        for m in e {
            let kept = m.epoch == history.keptEpoch
            h += "<tr\(kept ? " class=\"kept\"" : "") id=\"epoch-\(m.epoch)\"><td>\(m.epoch)\(kept ? " (kept)" : "")</td><td>\(l(m.trainLoss))</td><td>\(p(m.trainAccuracy))</td><td>\(l(m.validationLoss))</td><td>\(p(m.validationAccuracy))</td><td>\(p(m.testAccuracy))</td><td>\(String(format: "%.5f", m.learningRate))</td><td>\(String(format: "%.1f", m.seconds))</td><td class=\"text\">\(esc(m.note))</td></tr>\n"
        }
        h += "</tbody>\n</table>\n</details>\n"
        return h + "</section>\n"
    }

    // MARK: Accuracy and confusion

    static func accuracy(_ c: ReportContent) -> String {
        guard let t = c.test else { return "" }
        var h = "<section id=\"accuracy\">\n<h2>Accuracy on the \(grouped(t.total)) test images</h2>\n<div class=\"row\">\n"
        if let q = t.int8Predictions {
            let m = t.confusion(q)
            let offDiagonalMax = max(1, (0..<10).flatMap { r in (0..<10).filter { $0 != r }.map { m[r][$0] } }.max() ?? 1)
            h += "<div>\n<h3>int8 confusion matrix</h3>\n<table class=\"confusion\" id=\"confusion\">\n"
            h += "<thead><tr><th class=\"corner\">true ↓ predicted →</th>" + (0..<10).map { "<th>\($0)</th>" }.joined() + "<th class=\"sum\">errors</th></tr></thead>\n<tbody>\n"
            for r in 0..<10 {
                let errors = m[r].reduce(0, +) - m[r][r]
                h += "<tr><th>\(r)</th>"
                for col in 0..<10 {
                    let v = m[r][col]
                    let style: String
                    if r == col {
                        style = " class=\"diag\""
                    } else if v > 0 {
                        // Orange intensity by count (at least a visible tint); numbers are printed in every cell anyway.
                        let a = 0.18 + 0.82 * Double(v) / Double(offDiagonalMax)
                        style = " class=\"err\" style=\"background: rgba(213, 94, 0, \(fmt(a, 2)))\(a > 0.6 ? "; color: #ffffff" : "")\""
                    } else {
                        style = " class=\"zero\""
                    }
                    h += "<td id=\"cm-\(r)-\(col)\"\(style)>\(v)</td>"
                }
                h += "<td class=\"sum\" id=\"cm-errors-\(r)\">\(errors)</td></tr>\n"
            }
            h += "</tbody>\n</table>\n<p class=\"note\">Rows: true digit; columns: the int8 model's digit. Off-diagonal cells are shaded by count.</p>\n</div>\n"
        }
        // Per-digit accuracy, float beside int8.
        h += "<div>\n<h3>Accuracy per digit</h3>\n<table class=\"per-class\">\n<thead><tr><th>digit</th><th>images</th>"
        if t.floatPredictions != nil { h += "<th>float</th>" }
        if t.int8Predictions != nil { h += "<th>int8</th>" }
        h += "</tr></thead>\n<tbody>\n"
        let floatPerClass = t.floatPredictions.map { t.perClassAccuracy($0) }
        let int8PerClass = t.int8Predictions.map { t.perClassAccuracy($0) }
        let counts = (0..<10).map { d in t.labels.filter { $0 == d }.count }
        for d in 0..<10 {
            h += "<tr><th>\(d)</th><td>\(grouped(counts[d]))</td>"
            if let f = floatPerClass { h += "<td id=\"class-float-\(d)\">\(pct(f[d]))</td>" }
            if let q = int8PerClass { h += "<td id=\"class-int8-\(d)\">\(pct(q[d]))</td>" }
            h += "</tr>\n"
        }
        h += "</tbody>\n</table>\n</div>\n</div>\n"
        return h + "</section>\n"
    }

    // MARK: Gallery

    static func caseFigure(_ t: TestResults, _ i: Int, highlightFloat: Bool = false) -> String {
        let label = Int(t.labels[i])
        let q = t.int8Predictions.map { Int($0[i]) }
        let f = t.floatPredictions.map { Int($0[i]) }
        let confidence = t.int8Confidences.map { Double($0[i]) }
        var attributes = "data-index=\"\(i)\" data-true=\"\(label)\""
        if let q { attributes += " data-int8=\"\(q)\"" }
        if let confidence { attributes += " data-confidence=\"\(fraction4(confidence))\"" }
        if let f { attributes += " data-float=\"\(f)\"" }
        var alt = "test image \(i), a \(label)"
        if let q { alt += ", read as \(q) by int8" }
        if let f { alt += ", as \(f) by float" }
        var h = "<figure class=\"case\" \(attributes)>"
        h += "<img src=\"\(t.imageURIs[i] ?? "")\" width=\"84\" height=\"84\" alt=\"\(esc(alt))\"/>"
        h += "<figcaption>"
        h += "<span class=\"truth\">true <b>\(label)</b></span>"
        if let q {
            h += "<span class=\"int8\">int8 <b class=\"\(q == label ? "right" : "wrong")\">\(q)</b>"
            if let confidence { h += " <span class=\"conf\">\(percentOfFraction(fraction4(confidence)))</span>" }
            h += "</span>"
        }
        if let f {
            h += "<span class=\"float\(highlightFloat ? " hl" : "")\">float <b class=\"\(f == label ? "right" : "wrong")\">\(f)</b></span>"
        } else {
            h += "<span class=\"float na\">float –</span>"
        }
        h += "<span class=\"idx\">#\(i)</span></figcaption></figure>\n"
        return h
    }

    /// Every misclassified test image: the int8 model's mistakes, or the float model's when there is no int8 model.
    static func gallery(_ c: ReportContent) -> String {
        guard let t = c.test else { return "" }
        let which: String, predictions: [UInt8]
        if let q = t.int8Predictions { which = "int8"; predictions = q } else if let f = t.floatPredictions { which = "float"; predictions = f } else { return "" }
        let confidences = which == "int8" ? t.int8Confidences : nil
        let mistakes = t.labels.indices.filter { predictions[$0] != t.labels[$0] }
        var h = "<section id=\"gallery\">\n<h2>Misclassified by the \(which) model: <span id=\"gallery-count\">\(mistakes.count)</span> images</h2>\n"
        h += "<p class=\"note\">Every test image the \(which) model gets wrong, enlarged 3× (white ink on black, as the model sees it). Each shows the true digit"
        if which == "int8" {
            h += ", the int8 digit with its softmax confidence" + (t.floatPredictions != nil ? " and the float model's digit" : "")
                + ". Within a group, the most confident mistakes come first.</p>\n"
        } else {
            h += " and the float model's digit, in test-set order.</p>\n"
        }
        h += "<div class=\"controls\" role=\"group\" aria-label=\"order\">Order: "
        h += "<button type=\"button\" data-order=\"group\" aria-pressed=\"true\">by true digit</button>"
        if confidences != nil { h += "<button type=\"button\" data-order=\"confidence\" aria-pressed=\"false\">by confidence</button>" }
        h += "<button type=\"button\" data-order=\"index\" aria-pressed=\"false\">by test index</button></div>\n"
        h += "<div id=\"gallery-groups\">\n"
        for d in 0..<10 {
            var group = mistakes.filter { Int(t.labels[$0]) == d }
            if let confidences {
                group.sort { confidences[$0] != confidences[$1] ? confidences[$0] > confidences[$1] : $0 < $1 }
            }
            guard !group.isEmpty else { continue }
            let predicted = Dictionary(grouping: group, by: { Int(predictions[$0]) })
                .sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key < $1.key }
            let summary = predicted.map { "\($0.value.count)× as \($0.key)" }.joined(separator: ", ")
            h += "<div class=\"group\" data-digit=\"\(d)\"><h3>true \(d) <span class=\"count\" id=\"gallery-count-\(d)\">\(group.count)</span> <span class=\"muted\">(\(esc(summary)))</span></h3>\n<div class=\"cases\">\n"
            for i in group { h += caseFigure(t, i) }
            h += "</div>\n</div>\n"
        }
        h += "</div>\n<div id=\"gallery-flat\" class=\"cases\" hidden=\"hidden\"></div>\n"
        return h + "</section>\n"
    }

    static func disagreements(_ c: ReportContent) -> String {
        guard let t = c.test, t.agreeing != nil else { return "" }
        let list = t.disagreements
        var h = "<section id=\"disagreements\">\n<h2>Where float and int8 disagree: <span id=\"disagreement-count\">\(list.count)</span> images</h2>\n"
        if list.isEmpty {
            h += "<p>The float and int8 models predict the same digit on every test image.</p>\n"
        } else {
            let int8Right = list.filter { t.int8Predictions![$0] == t.labels[$0] }.count
            let floatRight = list.filter { t.floatPredictions![$0] == t.labels[$0] }.count
            h += "<p class=\"note\">Of these, int8 is right on \(int8Right), float on \(floatRight).</p>\n<div class=\"cases\">\n"
            for i in list { h += caseFigure(t, i, highlightFloat: true) }
            h += "</div>\n"
        }
        return h + "</section>\n"
    }

    // MARK: Quantization

    static func quantization(_ c: ReportContent) -> String {
        guard let m = c.int8 else { return "" }
        let names = m.layers.map(\.name)
        var h = "<section id=\"quantization\">\n<h2>Quantization per layer</h2>\n<div class=\"row\">\n"
        if let fidelity = c.test?.layerFidelity {
            h += "<figure>" + ReportCharts.sqnrBars(names: fidelity.map(\.name), values: fidelity.map(\.sqnrDB))
                + "<figcaption>Signal-to-quantization-noise ratio of each layer's output (float activations against int8 ones), over all test images.</figcaption></figure>\n"
        }
        h += "<figure>" + ReportCharts.scaleStrip(names: names, weightScales: m.layers.map(\.weightScales),
                                                  inputScales: m.layers.map(\.inputScale), outputScales: m.layers.map(\.outputScale))
            + "<figcaption>Real value of one step: per-channel weight scales (ticks, shaded from min to max), input and output activation scales.</figcaption></figure>\n</div>\n"
        h += "<table class=\"layers\">\n<thead><tr><th class=\"text\">layer</th><th class=\"text\">kind</th><th>outputs × inputs</th>"
        if c.test?.layerFidelity != nil { h += "<th>SQNR dB</th>" }
        h += "<th>input scale</th><th>output scale</th><th>weight scales (min … max)</th></tr></thead>\n<tbody>\n"
        for (i, layer) in m.layers.enumerated() {
            let kind: String
            switch layer.kind {
            case .conv5x5ReluMaxPool: kind = "conv 5×5 + ReLU + max-pool 2"
            case .linearRelu: kind = "linear + ReLU"
            case .linearScores: kind = "linear (scores)"
            }
            h += "<tr><td class=\"text\">\(esc(layer.name))</td><td class=\"text\">\(kind)</td><td>\(layer.outputCount) × \(layer.inputCount)</td>"
            if let fidelity = c.test?.layerFidelity, i < fidelity.count {
                h += "<td id=\"sqnr-\(esc(layer.name))\">\(fidelity[i].sqnrDB.isFinite ? fmt(fidelity[i].sqnrDB, 2) : "∞")</td>"
            }
            let mn = layer.weightScales.min() ?? 0, mx = layer.weightScales.max() ?? 0
            h += "<td id=\"input-scale-\(esc(layer.name))\">\(g4(layer.inputScale))</td><td id=\"output-scale-\(esc(layer.name))\">\(g4(layer.outputScale))</td>"
            h += "<td id=\"weight-scales-\(esc(layer.name))\">\(g4(mn)) … \(g4(mx))</td></tr>\n"
        }
        h += "</tbody>\n</table>\n"
        return h + "</section>\n"
    }

    static func g4(_ v: Double) -> String { String(format: "%.4g", v) }

    /// A probability with 4 decimals, rounded as `mnistq classify` rounds its confidence (half away from zero).
    static func fraction4(_ p: Double) -> String {
        let scaled = Int((min(max(p, 0), 1) * 10000).rounded())
        let fraction = String(scaled % 10000)
        return "\(scaled / 10000)." + String(repeating: "0", count: 4 - fraction.count) + fraction
    }

    /// "0.9876" → "98.76%", by moving the decimal point in the text: the percentage shows exactly the 4-decimal
    /// fraction that `mnistq classify` prints as the confidence, with no second rounding.
    static func percentOfFraction(_ fraction: String) -> String {
        let parts = fraction.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, parts[1].count == 4, let whole = Int(parts[0]) else { return fraction }
        let digits = parts[1]
        let percent = whole * 100 + Int(digits.prefix(2))!
        return "\(percent).\(digits.suffix(2))%"
    }

    // MARK: Model file

    static func modelFile(_ c: ReportContent) -> String {
        var h = "<section id=\"model\">\n<h2>Model file</h2>\n"
        guard let m = c.int8 else {
            h += "<p>The int8 model could not be loaded (see “Not shown”).</p>\n"
            if !c.int8FileHead.isEmpty {
                let hex = c.int8FileHead.map { String(format: "%02x", $0) }.joined(separator: " ")
                let ascii = String(c.int8FileHead.prefix(4).map { (32...126).contains($0) ? Character(UnicodeScalar($0)) : "." })
                h += "<table class=\"kv\"><tbody><tr><th>file size</th><td id=\"file-size\">\(grouped(c.int8FileByteCount)) B</td></tr>"
                h += "<tr><th>first bytes</th><td><code id=\"file-head\">\(hex)</code> (“\(esc(ascii))”)</td></tr></tbody></table>\n"
            }
            return h + "</section>\n"
        }
        let header = m.header
        let rows: [(String, String, String)] = [
            ("header-version", "format version", "\(header.version)"),
            ("header-flags", "flags", String(format: "0x%04X", header.flags) + (header.isInPlace ? " (in-place image)" : " (packed)")),
            ("header-length", "header length", "\(header.headerLength) B"),
            ("payload-length", "payload", "\(grouped(Int(header.payloadLength))) B"),
            ("compressed-length", "compressed payload", "\(grouped(Int(header.compressedLength))) B"),
            ("crc32", "CRC-32", String(format: "0x%08X", header.crc32)),
            ("file-size", "file size", "\(grouped(m.fileByteCount)) B"),
            ("parameters", "parameters", grouped(m.parameterCount)),
            ("arena", "arena per inference thread", "\(grouped(m.arenaByteCount)) B"),
            ("kernels", "kernels on this machine", m.kernelName),
        ]
        h += "<div class=\"row\">\n<div>\n<h3>Header</h3>\n<table class=\"kv\"><tbody>\n"
        for (id, name, value) in rows { h += "<tr><th>\(name)</th><td id=\"\(id)\">\(esc(value))</td></tr>\n" }
        h += "</tbody></table>\n</div>\n<div>\n<h3>Metadata</h3>\n"
        if m.metadata.isEmpty {
            h += "<p>(none)</p>\n"
        } else {
            h += "<table class=\"kv\"><tbody>\n"
            for (n, entry) in m.metadata.enumerated() {
                h += "<tr><th>\(esc(entry.key))</th><td id=\"meta-\(n)\">\(esc(entry.value))</td></tr>\n"
            }
            h += "</tbody></table>\n"
        }
        h += "</div>\n</div>\n"
        return h + "</section>\n"
    }

    // MARK: Style and script

    static let css = """
    :root { --ink: #1b1f24; --muted: #5b6470; --line: #d8dde3; --panel: #f5f7f9; --blue: #0072B2; --orange: #E69F00; --verm: #D55E00; --green: #009E73; }
    * { box-sizing: border-box; }
    body { margin: 0; background: #ffffff; color: var(--ink); font: 15px/1.5 "DejaVu Sans", "Segoe UI", system-ui, -apple-system, sans-serif; }
    main { max-width: 1120px; margin: 0 auto; padding: 20px 32px 40px; }
    h1 { font-size: 26px; margin: 8px 0 2px; } h1 .file { color: var(--blue); font-weight: 600; }
    h2 { font-size: 20px; margin: 34px 0 12px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
    h3 { font-size: 16px; margin: 16px 0 8px; }
    code { font: 13px "DejaVu Sans Mono", ui-monospace, monospace; background: var(--panel); padding: 1px 4px; border-radius: 3px; }
    .sub, .note, .muted, footer { color: var(--muted); } .note { font-size: 14px; max-width: 860px; }
    nav { margin: 10px 0 4px; display: flex; flex-wrap: wrap; gap: 6px; }
    nav a { color: var(--blue); text-decoration: none; border: 1px solid var(--line); border-radius: 14px; padding: 2px 10px; font-size: 14px; }
    .missing { border-left: 5px solid var(--orange); background: #fff6e0; padding: 4px 16px; margin-top: 18px; }
    .missing h2 { border: none; margin: 8px 0 4px; font-size: 17px; } .missing li { margin: 4px 0; }
    .remarks { border-left: 5px solid var(--blue); background: #eef6fb; padding: 4px 16px; margin-top: 12px; font-size: 14px; }
    .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 12px; }
    .card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
    .card .label { color: var(--muted); font-size: 13px; }
    .card .value { font-size: 26px; font-weight: 700; font-variant-numeric: tabular-nums; }
    .card .detail { color: var(--muted); font-size: 13px; }
    .row { display: flex; flex-wrap: wrap; gap: 28px 40px; align-items: flex-start; }
    figure { margin: 0; } figure.wide { overflow-x: auto; } figure figcaption { font-size: 13px; color: var(--muted); max-width: 470px; }
    svg.chart { font-family: "DejaVu Sans", sans-serif; display: block; }
    svg .tick { font-size: 11px; fill: #4a525c; } svg .legend { font-size: 12.5px; fill: var(--ink); }
    svg .panel-title { font-size: 13px; font-weight: 700; fill: var(--ink); } svg .axis-label { font-size: 12px; fill: var(--muted); }
    svg .mark-label { font-size: 12px; font-weight: 700; } svg .ref-label { font-size: 11.5px; fill: var(--ink); }
    svg .clipped { font-size: 11px; font-weight: 700; } svg .value { font-size: 12px; fill: var(--ink); }
    table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 14px; }
    th, td { padding: 3px 9px; border-bottom: 1px solid var(--line); text-align: right; }
    th { font-weight: 600; } .text, table.kv td { text-align: left; } table.kv th { text-align: left; color: var(--muted); font-weight: 500; }
    thead th { border-bottom: 2px solid #b8c0ca; }
    table.epochs tr.kept td { background: #e8f1f8; font-weight: 700; }
    table.confusion td, table.confusion th { text-align: center; min-width: 42px; padding: 5px 4px; border: 1px solid #ffffff; }
    table.confusion thead th, table.confusion tbody th { background: var(--panel); }
    table.confusion th.corner { font-size: 11px; font-weight: 500; color: var(--muted); min-width: 70px; }
    table.confusion td.diag { background: #0072B2; color: #ffffff; font-weight: 700; }
    table.confusion td.zero { color: #b3bac3; }
    table.confusion td.err { font-weight: 700; }
    table.confusion .sum { background: var(--panel); font-weight: 700; }
    details summary { cursor: pointer; color: var(--blue); margin: 8px 0; }
    .controls { margin: 6px 0 10px; font-size: 14px; }
    .controls button { font: inherit; font-size: 13px; margin-left: 4px; padding: 3px 10px; border: 1px solid #9aa4af; background: #ffffff; border-radius: 14px; cursor: pointer; }
    .controls button[aria-pressed="true"] { background: var(--ink); color: #ffffff; border-color: var(--ink); }
    #gallery-groups { display: flex; flex-wrap: wrap; gap: 4px 30px; align-items: flex-start; }
    .group h3 { margin: 14px 0 6px; } .group h3 .count { background: var(--ink); color: #ffffff; border-radius: 10px; padding: 0 8px; font-size: 13px; }
    .group h3 .muted { font-weight: 400; font-size: 13px; }
    .cases { display: flex; flex-wrap: wrap; gap: 8px; }
    figure.case { width: 108px; padding: 6px; border: 1px solid var(--line); border-radius: 6px; background: #ffffff; text-align: center; }
    figure.case img { display: block; margin: 0 auto; width: 84px; height: 84px; image-rendering: pixelated; background: #000000; }
    figure.case figcaption { display: flex; flex-direction: column; font-size: 12.5px; line-height: 1.35; color: var(--ink); margin-top: 4px; max-width: none; }
    figure.case b { font-size: 14px; } figure.case b.wrong { color: var(--verm); } figure.case b.right { color: var(--blue); }
    figure.case .wrong::after { content: " ✗"; font-size: 11px; } figure.case .right::after { content: " ✓"; font-size: 11px; }
    figure.case .conf { color: var(--muted); } figure.case .idx { color: var(--muted); font-size: 11.5px; }
    figure.case .float.hl { background: #fff0c2; border-radius: 3px; }
    footer { margin-top: 40px; font-size: 13px; border-top: 1px solid var(--line); padding-top: 8px; }

    """

    /// Reorders the gallery (grouped by true digit, or one list by confidence or index; `#order-confidence` or
    /// `#order-index` in the address picks one on load). Written without `<` and `&` so the page stays well-formed XML.
    static let script = """
    (function () {
      var groups = document.getElementById("gallery-groups");
      var flat = document.getElementById("gallery-flat");
      // Marks that the script ran to the end (the render test looks for it); a page without a gallery has no more to do.
      if (!groups || !flat) { document.body.setAttribute("data-script", "ready"); return; }
      var cases = Array.prototype.slice.call(groups.querySelectorAll("figure.case"));
      var home = cases.map(function (figure) { return figure.parentNode; });
      var buttons = Array.prototype.slice.call(document.querySelectorAll(".controls button"));
      function order(kind) {
        buttons.forEach(function (b) { b.setAttribute("aria-pressed", String(b.getAttribute("data-order") === kind)); });
        if (kind === "group") {
          cases.forEach(function (figure, n) { home[n].appendChild(figure); });
          flat.hidden = true; groups.hidden = false;
          return;
        }
        var sorted = cases.slice().sort(function (a, b) {
          if (kind === "confidence") {
            var d = Number(b.getAttribute("data-confidence")) - Number(a.getAttribute("data-confidence"));
            if (d !== 0) { return d; }
          }
          return Number(a.getAttribute("data-index")) - Number(b.getAttribute("data-index"));
        });
        sorted.forEach(function (figure) { flat.appendChild(figure); });
        groups.hidden = true; flat.hidden = false;
      }
      buttons.forEach(function (b) { b.addEventListener("click", function () { order(b.getAttribute("data-order")); }); });
      // A link may ask for an order: report.html#order-confidence or #order-index.
      var asked = location.hash.replace("#order-", "");
      if (asked === "confidence" || asked === "index") { order(asked); }
      document.body.setAttribute("data-script", "ready");
    })();

    """
}
