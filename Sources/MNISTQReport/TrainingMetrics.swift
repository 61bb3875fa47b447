// The metrics CSV that `mnistq train` writes beside a float model, read back: rows, the kept epoch, guard events.
import Foundation
import MNISTQSupport
import MNISTQTrainer

/// One epoch of a training run as the metrics CSV records it: the trainer's own row type (`TrainingReport.csv`
/// writes it), read back.
package typealias TrainingEpoch = EpochMetrics

extension EpochMetrics {
    /// Guard events of this epoch ("guard: …" parts of the note).
    package var guardEvents: [String] { noteParts.filter { $0.hasPrefix("guard") } }
    /// Whether early stopping ended the run after this epoch.
    package var stoppedEarly: Bool { noteParts.contains("early stop") }
    var noteParts: [String] {
        note.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// Why a metrics file could not be read.
package struct MetricsFileError: Error, CustomStringConvertible, Equatable {
    package let file: String
    package let detail: String
    package var description: String { "\(file): \(detail). Hint: this file is written by `mnistq train` beside the float model (<name>.metrics.csv)." }
}

/// A training run's history from its metrics CSV.
package struct TrainingHistory: Sendable, Equatable {
    /// The file it was read from.
    package var path: String
    package var epochs: [TrainingEpoch]

    /// Files larger than this are not metrics files (one line per epoch is ~120 bytes).
    package static let maximumFileBytes = 4 << 20

    /// The epoch whose weights the run kept, by the trainer's rule: the best validation accuracy, ties to the later
    /// epoch, never an epoch the divergence guard rolled back; without a validation hold-out, the last epoch.
    package var keptEpoch: Int? {
        var best: TrainingEpoch? = nil
        for e in epochs where !e.guardEvents.contains(where: { $0.hasPrefix("guard: accuracy") }) {
            guard let accuracy = e.validationAccuracy else { continue }
            if best == nil || accuracy >= best!.validationAccuracy! { best = e }
        }
        return best?.epoch ?? epochs.last?.epoch
    }

    /// Whether the kept epoch was chosen by validation accuracy (otherwise it is simply the last one).
    package var keptByValidation: Bool { epochs.contains { $0.validationAccuracy != nil } }

    /// Reads and parses `path`.
    package static func load(path: String) throws -> TrainingHistory {
        let bytes: [UInt8]
        do { bytes = try FileReader.read(path: path, limit: maximumFileBytes) } catch {
            switch error {
            case .cannotOpen(let code) where code == ENOENT:
                throw MetricsFileError(file: path, detail: "no such file")
            case .tooLarge(let size, _):
                throw MetricsFileError(file: path, detail: "\(size) bytes, more than a metrics file can be (\(maximumFileBytes))")
            default:
                throw MetricsFileError(file: path, detail: "cannot read the file")
            }
        }
        guard let text = String(data: Data(bytes), encoding: .utf8) else {
            throw MetricsFileError(file: path, detail: "not UTF-8 text")
        }
        return TrainingHistory(path: path, epochs: try parse(text, file: path))
    }

    static let requiredColumns = ["epoch", "train_loss", "train_accuracy", "validation_loss", "validation_accuracy",
                                  "test_accuracy", "learning_rate", "seconds", "note"]

    /// Parses the CSV text (header line naming the columns; empty fields for values not measured).
    package static func parse(_ text: String, file: String) throws -> [TrainingEpoch] {
        let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init).filter { !$0.isEmpty }
        guard let headerLine = lines.first else { throw MetricsFileError(file: file, detail: "empty file") }
        let header = splitCSVLine(headerLine)
        var column: [String: Int] = [:]
        for (i, name) in header.enumerated() { column[name] = i }
        let absent = requiredColumns.filter { column[$0] == nil }
        guard absent.isEmpty else {
            throw MetricsFileError(file: file, detail: "header lacks the column(s) \(absent.joined(separator: ", ")) (found: \(header.joined(separator: ",")))")
        }
        var epochs: [TrainingEpoch] = []
        for (n, line) in lines.dropFirst().enumerated() {
            let fields = splitCSVLine(line)
            let lineNumber = n + 2
            func field(_ name: String) -> String { let i = column[name]!; return i < fields.count ? fields[i] : "" }
            func number(_ name: String) throws -> Double {
                let s = field(name)
                guard let v = Double(s) else {
                    throw MetricsFileError(file: file, detail: "line \(lineNumber): \(name) is \"\(s)\", expected a number")
                }
                return v
            }
            func optional(_ name: String) throws -> Double? { field(name).isEmpty ? nil : try number(name) }
            guard let epoch = Int(field("epoch")), epoch >= 1 else {
                throw MetricsFileError(file: file, detail: "line \(lineNumber): epoch is \"\(field("epoch"))\", expected a number ≥ 1")
            }
            // Columns an older metrics file may lack (optional here): the SGD steps' own time and rate.
            let trainSeconds = column["train_seconds"] == nil ? 0 : try optional("train_seconds") ?? 0
            let imagesPerSecond = column["train_images_per_second"] == nil ? nil : try optional("train_images_per_second")
            epochs.append(TrainingEpoch(epoch: epoch, trainLoss: try number("train_loss"), trainAccuracy: try number("train_accuracy"),
                                        validationLoss: try optional("validation_loss"),
                                        validationAccuracy: try optional("validation_accuracy"),
                                        testAccuracy: try optional("test_accuracy"), learningRate: try number("learning_rate"),
                                        seconds: try number("seconds"), trainSeconds: trainSeconds,
                                        trainImages: Int((trainSeconds * (imagesPerSecond ?? 0)).rounded()), note: field("note")))
        }
        guard !epochs.isEmpty else { throw MetricsFileError(file: file, detail: "no epochs after the header") }
        return epochs
    }

    /// Fields of one CSV line; double quotes enclose fields with commas, "" inside them is one quote.
    static func splitCSVLine(_ line: String) -> [String] {
        var fields: [String] = [], current = "", quoted = false
        var characters = Array(line)[...]
        while let ch = characters.popFirst() {
            if quoted {
                if ch == "\"" {
                    if characters.first == "\"" { current.append("\""); characters.removeFirst() } else { quoted = false }
                } else { current.append(ch) }
            } else if ch == "\"" {
                quoted = true
            } else if ch == "," {
                fields.append(current); current = ""
            } else {
                current.append(ch)
            }
        }
        fields.append(current)
        return fields
    }
}
