// The per-epoch table, the metrics CSV and the SVG learning curves of a training run.
import Foundation
import MNISTQSupport

/// Formats and writes a run's metrics history.
package enum TrainingReport {
    /// Header of the per-epoch table.
    package static let tableHeader = "epoch  train loss  train acc   val loss   val acc  test acc        lr  seconds  note"

    /// One table row, aligned under `tableHeader`.
    package static func tableRow(_ m: EpochMetrics) -> String {
        func pct(_ x: Double?) -> String { x.map { String(format: "%.2f%%", 100 * $0) } ?? "-" }
        func num(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "-" }
        return String(format: "%5d", m.epoch) + "  " + pad(num(m.trainLoss), 10) + "  " + pad(pct(m.trainAccuracy), 9)
            + "  " + pad(num(m.validationLoss), 9) + "  " + pad(pct(m.validationAccuracy), 8) + "  " + pad(pct(m.testAccuracy), 8)
            + "  " + pad(String(format: "%.5f", m.learningRate), 8) + "  " + pad(String(format: "%.1f", m.seconds), 7)
            + (m.note.isEmpty ? "" : "  " + m.note)
    }

    static func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }

    /// The metrics CSV's columns, in file order (the one definition; `mnistq report` reads the file by these names):
    /// epoch (1-based), train_loss, train_accuracy, validation_loss, validation_accuracy, test_accuracy (fractions;
    /// empty when not measured), learning_rate (of the epoch's last step), seconds (whole epoch), train_seconds (SGD
    /// steps alone), train_images_per_second, note (what the safeguards did; quoted when it holds `,` or `"`).
    static let csvColumns = ["epoch", "train_loss", "train_accuracy", "validation_loss", "validation_accuracy",
                                     "test_accuracy", "learning_rate", "seconds", "train_seconds",
                                     "train_images_per_second", "note"]

    /// The history as CSV (header + one line per epoch; empty fields for values not measured).
    package static func csv(_ history: [EpochMetrics]) -> String {
        var out = csvColumns.joined(separator: ",") + "\n"
        func f(_ x: Double?) -> String { x.map { String($0) } ?? "" }
        for m in history {
            let note = m.note.contains(",") || m.note.contains("\"") ? "\"" + m.note.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : m.note
            out += "\(m.epoch),\(f(m.trainLoss)),\(f(m.trainAccuracy)),\(f(m.validationLoss)),\(f(m.validationAccuracy)),"
                + "\(f(m.testAccuracy)),\(f(m.learningRate)),\(String(format: "%.3f", m.seconds)),\(String(format: "%.3f", m.trainSeconds)),"
                + "\(m.trainImages > 0 && m.trainSeconds > 0 ? String(format: "%.1f", Double(m.trainImages) / m.trainSeconds) : ""),\(note)\n"
        }
        return out
    }

    /// Learning curves in one SVG: accuracy (%) per epoch (train, validation, test) above, cross-entropy loss
    /// (train, validation) below — two charts, since the two quantities have unrelated scales.
    package static func svg(_ history: [EpochMetrics], title: String) -> String {
        var accuracy = SVGLineChart(title: "\(title): accuracy", xLabel: "epoch", yLabel: "accuracy (%)")
        func series(_ key: (EpochMetrics) -> Double?) -> [(x: Double, y: Double)] {
            history.compactMap { m in key(m).map { (x: Double(m.epoch), y: 100 * $0) } }
        }
        accuracy.addSeries("train", points: series { $0.trainAccuracy })
        if history.contains(where: { $0.validationAccuracy != nil }) { accuracy.addSeries("validation", points: series { $0.validationAccuracy }) }
        if history.contains(where: { $0.testAccuracy != nil }) { accuracy.addSeries("test", points: series { $0.testAccuracy }) }
        var loss = SVGLineChart(title: "\(title): loss", xLabel: "epoch", yLabel: "cross-entropy")
        loss.addSeries("train", points: history.map { (x: Double($0.epoch), y: $0.trainLoss) })
        if history.contains(where: { $0.validationLoss != nil }) {
            loss.addSeries("validation", points: history.compactMap { m in m.validationLoss.map { (x: Double(m.epoch), y: $0) } })
        }
        // Two charts stacked in one SVG document: nest each rendered chart as an <svg> element.
        let a = accuracy.render(), l = loss.render()
        let h = accuracy.height + loss.height, w = max(accuracy.width, loss.width)
        func body(_ s: String, y: Int) -> String {
            guard let start = s.range(of: "<svg") else { return "" }
            return "<svg y=\"\(y)\"" + s[start.upperBound...]
        }
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\">\n"
            + body(a, y: 0) + "\n" + body(l, y: accuracy.height) + "\n</svg>\n"
    }

    /// Writes `<base>.metrics.csv` and `<base>.curve.svg` atomically; returns their paths.
    @discardableResult
    package static func write(_ history: [EpochMetrics], base: String, title: String) throws -> (csv: String, svg: String) {
        let csvPath = base + ".metrics.csv", svgPath = base + ".curve.svg"
        try AtomicFile.write(csv(history), to: csvPath)
        try AtomicFile.write(svg(history, title: title), to: svgPath)
        return (csvPath, svgPath)
    }
}
