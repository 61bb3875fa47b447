// The batch side of `mnistq classify`: inputs, labels, ordered streaming output (table/CSV/JSON) and the summary.
import Foundation
import MNISTQImage
import MNISTQRuntime
import MNISTQSupport
import Synchronization

/// When a classified image is reported "unsure" rather than "ok": low confidence, or out of distribution.
struct ClassifyVerdict {
    /// Softmax confidence of the best guess below which the image is unsure.
    let minimumConfidence: Float
    /// Out-of-distribution score above which the image is unsure (nil: the model has no such score).
    let outOfDistributionThreshold: Int32?

    func isUnsure(confidence: Float, outOfDistributionScore: Int32?) -> Bool {
        if confidence < minimumConfidence { return true }
        if let threshold = outOfDistributionThreshold, let score = outOfDistributionScore, score > threshold { return true }
        return false
    }
}

struct ClassifyResultRow {
    enum Outcome {
        /// The top guesses and the ten int32 scores they come from (the scores are what other runtimes compare), the
        /// out-of-distribution score (nil when the model has none) and whether the image is reported unsure.
        case success([DigitGuess], scores: DigitScores, outOfDistributionScore: Int32?, unsure: Bool)
        case failure(String)
    }
    let path: String
    let label: Int?
    let outcome: Outcome
}

/// Seconds each worker spent per stage, summed over workers.
struct ClassifyStageTiming {
    var decode = 0.0, preprocess = 0.0, inference = 0.0
    var images = 0
}

/// Labels from `--labels`: a CSV (path,label; an optional header line) or an IDX label file.
struct ClassifyLabelSource {
    private var byPath: [String: Int] = [:]
    private var byIndex: [UInt8] = []
    private var csvNames: [String: Int] = [:]

    var mayLabel: Bool { !byPath.isEmpty || !byIndex.isEmpty }

    init(path raw: RawPath?) throws {
        guard let raw else { return }
        let path = raw.display
        let bytes = try readNamedFile(raw, what: "--labels takes a CSV or IDX label file", limit: DecodeLimits.standard.maxFileBytes)
        if bytes.count >= 4 && ((bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 8 && bytes[3] == 1) || (bytes[0] == 0x1F && bytes[1] == 0x8B)) {
            byIndex = try IDXImageDecoder.decodeLabels(bytes, file: path)
            return
        }
        let text = String(decoding: bytes, as: UTF8.self)
        for (number, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let comma = trimmed.lastIndex(of: ",") else {
                throw ClassifyLabelError(text: "line \(number + 1) has no comma; expected path,label")
            }
            let file = String(trimmed[..<comma]).trimmingCharacters(in: .whitespaces)
            let value = trimmed[trimmed.index(after: comma)...].trimmingCharacters(in: .whitespaces)
            guard let label = Int(value), (0...9).contains(label) else {
                if number == 0 { continue }  // header line such as "path,label"
                throw ClassifyLabelError(text: "line \(number + 1): label '\(value)' is not a digit 0-9")
            }
            byPath[file] = label
            csvNames[(file as NSString).lastPathComponent] = label
        }
    }

    func label(for path: String, index: Int?) -> Int? {
        if let index, !byIndex.isEmpty { return index < byIndex.count ? Int(byIndex[index]) : nil }
        if let label = byPath[path] { return label }
        return csvNames[(path as NSString).lastPathComponent]
    }
}

struct ClassifyLabelError: Error, CustomStringConvertible {
    let text: String
    var description: String { text }
}

/// A thread-safe counter handing out work indices.
final class ClassifyWorkCounter: Sendable {
    private let value = Atomic<Int>(0)
    func next() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// Collects rows from the workers and writes them in input order as soon as every earlier input is done,
/// so memory holds only the rows waiting for a slow earlier file.
/// `@unchecked Sendable`: the workers share one writer; every `var` is read and written only with `lock` held (the
/// public methods take it; the formatting helpers below are called from them), and the `let`s are Sendable values.
final class ClassifyResultWriter: @unchecked Sendable {
    private let lock = NSLock()
    private let format: ClassifyCommand.OutputFormat
    private let topK: Int
    private let showLabels: Bool
    private let progress: ProgressLine
    private var pending: [Int: [ClassifyResultRow]] = [:]
    private var nextToWrite = 0
    private var buffer: [UInt8] = []
    private var wroteRow = false
    private var timing = ClassifyStageTiming()
    private(set) var errorCount = 0
    private(set) var imageCount = 0
    private var unsureCount = 0
    private var labelled = 0
    private var correct = 0

    init(inputCount: Int, format: ClassifyCommand.OutputFormat, topK: Int, showLabels: Bool, progress: ProgressLine) {
        self.format = format
        self.topK = topK
        self.showLabels = showLabels
        self.progress = progress
        buffer.reserveCapacity(1 << 16)
        switch format {
        case .table:
            var header = "DIGIT  CONF    STATUS  "
            if showLabels { header += "LABEL  " }
            header += pad("TOP-\(topK)", to: 8 * topK - 1) + "  PATH\n"
            append(header)
        case .csv: append("path,status,digit,confidence,label,top,error,ood_score\n")
        case .json: append("[")
        case .jsonl: break
        }
    }

    func deliver(_ rows: [ClassifyResultRow], at index: Int) {
        lock.lock(); defer { lock.unlock() }
        pending[index] = rows
        while let ready = pending.removeValue(forKey: nextToWrite) {
            for row in ready { write(row) }
            nextToWrite += 1
        }
        // jsonl streams: each line leaves as soon as it is in order; the other formats write in 64 KB blocks.
        if buffer.count >= 1 << 16 || format == .jsonl { flush() }
        progress.update(done: nextToWrite)
    }

    func add(_ stage: ClassifyStageTiming) {
        lock.lock(); defer { lock.unlock() }
        timing.decode += stage.decode
        timing.preprocess += stage.preprocess
        timing.inference += stage.inference
    }

    func finish() {
        lock.lock(); defer { lock.unlock() }
        if format == .json { append(wroteRow ? "\n]\n" : "]\n") }
        flush()
    }

    func summary(elapsed: Double) -> String {
        lock.lock(); defer { lock.unlock() }
        let classified = imageCount - errorCount
        let rate = elapsed > 0 ? Double(imageCount) / elapsed : 0
        var text = "classified \(classified) of \(imageCount) images, \(errorCount) error\(errorCount == 1 ? "" : "s"), \(unsureCount) unsure, "
            + String(format: "%.2f s, %.0f images/s", elapsed, rate)
        if labelled > 0 {
            text += String(format: "; accuracy %d/%d = %.2f%%", correct, labelled, 100 * Double(correct) / Double(labelled))
        }
        let busy = timing.decode + timing.preprocess + timing.inference
        if busy > 0 {
            text += String(format: "\nworker time: decode %.0f%%, preprocess %.0f%%, inference %.0f%% (%.1f µs/image in total)",
                           100 * timing.decode / busy, 100 * timing.preprocess / busy, 100 * timing.inference / busy,
                           1e6 * busy / Double(max(1, imageCount)))
        }
        return text + "\n"
    }

    // MARK: Formatting (called with the lock held)

    private func write(_ row: ClassifyResultRow) {
        imageCount += 1
        switch row.outcome {
        case .failure(let message):
            errorCount += 1
            ClassifyCommand.diagnose(message)
            switch format {
            case .table:
                var line = "-      -       -       "
                if showLabels { line += pad(row.label.map(String.init) ?? "-", to: 5) + "  " }
                line += pad("error", to: 8 * topK - 1) + "  " + row.path + "\n"
                append(line)
            case .csv:
                append(csvField(row.path) + ",error,,," + (row.label.map(String.init) ?? "") + ",," + csvField(message) + ",\n")
            case .json, .jsonl:
                var object = separator + "{\"path\":" + jsonString(row.path) + ",\"status\":\"error\""
                if let label = row.label { object += ",\"label\":\(label)" }
                object += ",\"error\":" + jsonString(message) + "}"
                append(format == .jsonl ? object + "\n" : object)
            }
        case .success(let guesses, let scores, let outOfDistributionScore, let unsure):
            let best = guesses[0]
            let status = unsure ? "unsure" : "ok"
            if unsure { unsureCount += 1 }
            if let label = row.label {
                labelled += 1
                if label == best.digit { correct += 1 }
            }
            switch format {
            case .table:
                var line = pad(String(best.digit), to: 5) + "  " + fixed(best.probability, 4) + "  " + pad(status, to: 6) + "  "
                if showLabels { line += pad(row.label.map(String.init) ?? "-", to: 5) + "  " }
                line += pad(guesses.map { "\($0.digit):" + fixed($0.probability, 3) }.joined(separator: " "), to: 8 * topK - 1)
                line += "  " + row.path + "\n"
                append(line)
            case .csv:
                let top = guesses.map { "\($0.digit):" + fixed($0.probability, 4) }.joined(separator: ";")
                append(csvField(row.path) + ",\(status),\(best.digit)," + fixed(best.probability, 4) + ","
                       + (row.label.map(String.init) ?? "") + "," + top + ",," + (outOfDistributionScore.map(String.init) ?? "") + "\n")
            case .json, .jsonl:
                var object = separator + "{\"path\":" + jsonString(row.path) + ",\"status\":\"\(status)\""
                object += ",\"digit\":\(best.digit),\"confidence\":" + fixed(best.probability, 4)
                object += ",\"ood_score\":" + (outOfDistributionScore.map(String.init) ?? "null")
                if let label = row.label { object += ",\"label\":\(label)" }
                object += ",\"top\":[" + guesses.map { "{\"digit\":\($0.digit),\"probability\":" + fixed($0.probability, 4) + "}" }
                    .joined(separator: ",") + "]"
                // The raw int32 scores: exact, so the C library and firmware runs can be compared with this runtime.
                object += ",\"scores\":[" + scores.map { String($0) }.joined(separator: ",") + "]}"
                append(format == .jsonl ? object + "\n" : object)
            }
        }
        wroteRow = true
    }

    /// What goes before a JSON row: the array's comma and newline (json), nothing (jsonl: one object per line).
    private var separator: String { format == .jsonl ? "" : (wroteRow ? ",\n" : "\n") }

    private func append(_ text: String) { buffer.append(contentsOf: text.utf8) }

    private func flush() {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Foundation.write(STDOUT_FILENO, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 { if errno == EINTR { continue }; break }
                offset += written
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// `value` in [0, 1] with exactly `digits` decimals, without locale or printf ("0.9981").
fileprivate func fixed(_ value: Float, _ digits: Int) -> String {
    var scale = 1
    for _ in 0..<digits { scale *= 10 }
    let scaled = Int((Double(min(max(value, 0), 1)) * Double(scale)).rounded())
    let fraction = String(scaled % scale)
    return "\(scaled / scale)." + String(repeating: "0", count: digits - fraction.count) + fraction
}

fileprivate func pad(_ text: String, to width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

fileprivate func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// `text` as a JSON string literal: `"` and `\` behind a backslash, control characters as `\n`, `\r`, `\t` or `\u00XX`.
fileprivate func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        if scalar == "\"" || scalar == "\\" {
            out += "\\"
            out.unicodeScalars.append(scalar)
        } else if scalar.value >= 0x20 {
            out.unicodeScalars.append(scalar)
        } else if let letter = jsonLetterEscapes[scalar.value] {
            out += letter
        } else {
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
    }
    return out + "\""
}

/// The control characters a JSON row writes as a letter escape; the others become `\u00XX`.
private let jsonLetterEscapes: [UInt32: String] = [0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"]
