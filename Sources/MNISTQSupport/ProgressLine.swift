// A progress line on stderr for long work: done/total, rate, ETA and free text such as the current loss.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reports the progress of a long job on one line of stderr.
///
/// On a terminal the line is redrawn in place (`\r`) at most `terminalInterval` apart (5 per second);
/// when stderr is a file or pipe (CI logs) a plain line is printed at most every `logInterval` seconds,
/// so logs stay short. `finish()` prints the final line with the elapsed time.
///
/// `update` may be called from any thread (one lock guards the state); the work itself is not slowed down
/// because formatting only happens when a line is actually due.
///
/// ```
/// let progress = ProgressLine(label: "epoch 1", total: 60000, unit: "images")
/// progress.update(done: 6400, extra: "loss 0.312")
/// // epoch 1  6400/60000 images  3861 images/s  ETA 0:14  loss 0.312
/// progress.finish()
/// ```
// `@unchecked Sendable` is safe: the mutable state is read and written under `lock` only; the sink and the clock are
// called under it too.
package final class ProgressLine: @unchecked Sendable {
    /// Minimum seconds between redraws on a terminal.
    package static let terminalInterval = 0.2
    /// Minimum seconds between plain lines when stderr is not a terminal.
    package static let logInterval = 3.0

    /// What is progressing, printed first.
    package let label: String
    /// Total amount of work; 0 or less when unknown.
    package let total: Int
    /// Unit of `done` and `total`, also used for the rate ("images" → "images/s").
    package let unit: String
    /// When true nothing is printed at all.
    package let quiet: Bool
    /// Whether the line is redrawn in place (`\r`) or printed as separate lines.
    package let isTerminal: Bool

    private let lock = NSLock()
    private let output: (String) -> Void
    private let clock: () -> Double
    private let start: Double
    private var lastPrint: Double
    private var lastDone = 0
    private var lastExtra: String?
    private var finished = false
    private var printedWidth = 0

    /// Creates a progress line writing to stderr.
    /// - Parameters:
    ///   - label: what is progressing ("epoch 3", "train-images-idx3-ubyte.gz").
    ///   - total: the amount of work; 0 or less when unknown (then no ETA is shown).
    ///   - unit: the unit of `done`/`total` ("images", "KiB").
    ///   - quiet: print nothing.
    package convenience init(label: String, total: Int, unit: String, quiet: Bool = false) {
        self.init(label: label, total: total, unit: unit, quiet: quiet,
                  isTerminal: isatty(STDERR_FILENO) != 0,
                  output: { text in FileHandle.standardError.write(text.data(using: .utf8)!) },
                  clock: { ProcessInfo.processInfo.systemUptime })
    }

    /// Creates a progress line with an explicit sink and clock (seconds, monotonic) — for tests and for
    /// callers that route progress elsewhere.
    package init(label: String, total: Int, unit: String, quiet: Bool, isTerminal: Bool,
                output: @escaping (String) -> Void, clock: @escaping () -> Double) {
        self.label = label; self.total = total; self.unit = unit; self.quiet = quiet
        self.isTerminal = isTerminal; self.output = output; self.clock = clock
        self.start = clock()
        // The first update prints at once on a terminal; in logs only after one interval, so short jobs
        // produce just the final line.
        self.lastPrint = -Double.infinity
    }

    /// Records that `done` units are complete; prints a line when one is due. `extra` is appended as is
    /// ("loss 0.123").
    package func update(done: Int, extra: String? = nil) {
        if quiet { return }
        lock.lock(); defer { lock.unlock() }
        if finished { return }
        lastDone = done
        lastExtra = extra
        let now = clock()
        let interval = isTerminal ? ProgressLine.terminalInterval : ProgressLine.logInterval
        let due = isTerminal ? now - lastPrint >= interval : now - max(lastPrint, start) >= interval
        guard due else { return }
        lastPrint = now
        let text = ProgressLine.format(label: label, done: done, total: total, unit: unit,
                                       elapsed: now - start, extra: extra)
        emit(text, final: false)
    }

    /// Prints the final line (with the elapsed time) and ends the line. Later calls do nothing.
    /// - Parameters:
    ///   - done: the final amount; defaults to the last `update` value.
    ///   - extra: replaces the last `extra` text when given.
    package func finish(done: Int? = nil, extra: String? = nil) {
        if quiet { return }
        lock.lock(); defer { lock.unlock() }
        if finished { return }
        finished = true
        let text = ProgressLine.formatFinal(label: label, done: done ?? lastDone, unit: unit,
                                            elapsed: clock() - start, extra: extra ?? lastExtra)
        emit(text, final: true)
    }

    /// Ends the line for work that stopped early: prints `label  failed: reason` (or nothing when no line
    /// was shown yet and `onlyIfShown` is true, so a quick failure leaves only its error message).
    package func fail(_ reason: String, onlyIfShown: Bool = false) {
        if quiet { return }
        lock.lock(); defer { lock.unlock() }
        if finished { return }
        finished = true
        if onlyIfShown && lastPrint == -Double.infinity { return }
        emit("\(label)  failed: \(reason)", final: true)
    }

    private func emit(_ text: String, final: Bool) {
        if isTerminal {
            // Pad with spaces over a longer previous line instead of relying on terminal escape codes.
            let pad = max(0, printedWidth - text.count)
            printedWidth = text.count
            output("\r" + text + String(repeating: " ", count: pad) + (final ? "\n" : ""))
        } else {
            output(text + "\n")
        }
    }

    // MARK: - Formatting (pure, tested as exact strings)

    /// The running line: `label  done/total unit  rate unit/s  ETA m:ss  extra`.
    ///
    /// Rate and ETA appear once there is a measurable rate (`elapsed > 0`, `done > 0`); the ETA needs a
    /// known total. Example: `format(label: "epoch 1", done: 6400, total: 60000, unit: "images",
    /// elapsed: 2, extra: "loss 0.312")` is `"epoch 1  6400/60000 images  3200 images/s  ETA 0:17  loss 0.312"`.
    package static func format(label: String, done: Int, total: Int, unit: String, elapsed: Double,
                              extra: String?) -> String {
        var parts = [label]
        parts.append(total > 0 ? "\(done)/\(total) \(unit)" : "\(done) \(unit)")
        if elapsed > 0, done > 0 {
            let rate = Double(done) / elapsed
            parts.append("\(formatRate(rate)) \(unit)/s")
            if total > 0 {
                parts.append("ETA \(formatDuration(Double(max(0, total - done)) / rate))")
            }
        }
        if let extra, !extra.isEmpty { parts.append(extra) }
        return parts.joined(separator: "  ")
    }

    /// The final line: `label  done unit  rate unit/s  done in 12.3 s  extra`.
    package static func formatFinal(label: String, done: Int, unit: String, elapsed: Double, extra: String?) -> String {
        var parts = [label, "\(done) \(unit)"]
        if elapsed > 0, done > 0 {
            parts.append("\(formatRate(Double(done) / elapsed)) \(unit)/s")
        }
        parts.append("done in \(formatElapsed(elapsed))")
        if let extra, !extra.isEmpty { parts.append(extra) }
        return parts.joined(separator: "  ")
    }

    /// A rate with about three significant digits: `3861`, `42.5`, `0.84`.
    package static func formatRate(_ rate: Double) -> String {
        guard rate.isFinite else { return "?" }
        // Thresholds on the rounded value, so 99.99 prints as "100", not "100.0".
        if rate.rounded() >= 100 { return String(Int(rate.rounded())) }
        if (rate * 10).rounded() >= 100 { return String(format: "%.1f", rate) }
        return String(format: "%.2f", rate)
    }

    /// A remaining time as `m:ss` or `h:mm:ss` (rounded up to whole seconds so it never shows 0:00 early);
    /// `?` when not finite or beyond 100 hours.
    package static func formatDuration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 360_000 else { return "?" }
        let s = Int(seconds.rounded(.up))
        let h = s / 3600, m = (s % 3600) / 60, sec = s % 60
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, sec) : String(format: "%d:%02d", m, sec)
    }

    /// An elapsed time: `0.42 s`, `12.3 s`, then `m:ss` from one minute on.
    package static func formatElapsed(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        if seconds < 10 { return String(format: "%.2f s", seconds) }
        if seconds < 60 { return String(format: "%.1f s", seconds) }
        let s = Int(seconds.rounded())
        let h = s / 3600, m = (s % 3600) / 60, sec = s % 60
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, sec) : String(format: "%d:%02d", m, sec)
    }
}
