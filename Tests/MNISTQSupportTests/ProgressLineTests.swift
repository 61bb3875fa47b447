// ProgressLine: exact formatting of rate/ETA/elapsed, throttling on a terminal and in logs, quiet mode.
import Foundation
import XCTest
@testable import MNISTQSupport

final class ProgressLineTests: XCTestCase {
    func testFormatRunningLine() {
        XCTAssertEqual(ProgressLine.format(label: "epoch 1", done: 6400, total: 60000, unit: "images", elapsed: 2, extra: "loss 0.312"),
                       "epoch 1  6400/60000 images  3200 images/s  ETA 0:17  loss 0.312")
        // No rate before any work or time has passed.
        XCTAssertEqual(ProgressLine.format(label: "epoch 1", done: 0, total: 60000, unit: "images", elapsed: 0, extra: nil),
                       "epoch 1  0/60000 images")
        // Unknown total: no ETA.
        XCTAssertEqual(ProgressLine.format(label: "dl", done: 512, total: 0, unit: "KiB", elapsed: 4, extra: ""),
                       "dl  512 KiB  128 KiB/s")
        // Hours in the ETA.
        XCTAssertEqual(ProgressLine.format(label: "slow", done: 1, total: 7201, unit: "steps", elapsed: 1, extra: nil),
                       "slow  1/7201 steps  1.00 steps/s  ETA 2:00:00")
    }

    func testFormatFinalLine() {
        XCTAssertEqual(ProgressLine.formatFinal(label: "epoch 1", done: 60000, unit: "images", elapsed: 15.5, extra: "loss 0.101"),
                       "epoch 1  60000 images  3871 images/s  done in 15.5 s  loss 0.101")
        XCTAssertEqual(ProgressLine.formatFinal(label: "x", done: 0, unit: "images", elapsed: 0.123, extra: nil),
                       "x  0 images  done in 0.12 s")
    }

    func testNumberFormats() {
        XCTAssertEqual(ProgressLine.formatRate(3861.4), "3861")
        XCTAssertEqual(ProgressLine.formatRate(42.46), "42.5")
        XCTAssertEqual(ProgressLine.formatRate(0.8449), "0.84")
        XCTAssertEqual(ProgressLine.formatRate(99.97), "100")
        XCTAssertEqual(ProgressLine.formatRate(9.996), "10.0")
        XCTAssertEqual(ProgressLine.formatRate(.infinity), "?")
        XCTAssertEqual(ProgressLine.formatDuration(0), "0:00")
        XCTAssertEqual(ProgressLine.formatDuration(0.2), "0:01")
        XCTAssertEqual(ProgressLine.formatDuration(59.5), "1:00")
        XCTAssertEqual(ProgressLine.formatDuration(3599), "59:59")
        XCTAssertEqual(ProgressLine.formatDuration(3661), "1:01:01")
        XCTAssertEqual(ProgressLine.formatDuration(.nan), "?")
        XCTAssertEqual(ProgressLine.formatDuration(1e9), "?")
        XCTAssertEqual(ProgressLine.formatElapsed(0.5), "0.50 s")
        XCTAssertEqual(ProgressLine.formatElapsed(12.34), "12.3 s")
        XCTAssertEqual(ProgressLine.formatElapsed(75), "1:15")
        XCTAssertEqual(ProgressLine.formatElapsed(3725), "1:02:05")
    }

    /// A fake clock and sink: throttling is tested on simulated time, not real time.
    /// `@unchecked Sendable` is safe: the tests drive the progress line from one thread, so the clock and the sink it
    /// calls never run concurrently.
    private final class Recorder: @unchecked Sendable {
        var now = 100.0
        var written: [String] = []
    }

    func testTerminalRedrawsInPlaceAtMostFiveTimesPerSecond() {
        let r = Recorder()
        let p = ProgressLine(label: "t", total: 100, unit: "images", quiet: false, isTerminal: true,
                             output: { r.written.append($0) }, clock: { r.now })
        for i in 1...100 {        // 100 updates over 1 simulated second
            r.now += 0.01
            p.update(done: i, extra: i == 100 ? "loss 0.5" : nil)
        }
        XCTAssertEqual(r.written.count, 5)  // at t=0.01, 0.21, 0.41, 0.61, 0.81
        XCTAssertEqual(r.written[0], "\rt  1/100 images  100 images/s  ETA 0:01")
        XCTAssertTrue(r.written.allSatisfy { $0.hasPrefix("\r") && !$0.contains("\n") })
        p.finish()
        XCTAssertEqual(r.written.last, "\rt  100 images  100 images/s  done in 1.00 s  loss 0.5\n")
        p.update(done: 1)   // after finish: ignored
        p.finish()
        XCTAssertEqual(r.written.count, 6)
    }

    func testTerminalPadsOverALongerPreviousLine() {
        let r = Recorder()
        let p = ProgressLine(label: "t", total: 10, unit: "u", quiet: false, isTerminal: true,
                             output: { r.written.append($0) }, clock: { r.now })
        r.now += 1; p.update(done: 1, extra: "a long extra text")
        r.now += 1; p.update(done: 2)
        XCTAssertEqual(r.written[1], "\rt  2/10 u  1.00 u/s  ETA 0:08" + String(repeating: " ", count: 19))
    }

    func testLogModePrintsPlainLinesEveryFewSeconds() {
        let r = Recorder()
        let p = ProgressLine(label: "epoch 2", total: 800, unit: "images", quiet: false, isTerminal: false,
                             output: { r.written.append($0) }, clock: { r.now })
        for i in 1...80 {         // 80 updates over 10 simulated seconds (1/8 s is exact in binary)
            r.now += 0.125
            p.update(done: i * 10)
        }
        XCTAssertEqual(r.written, ["epoch 2  240/800 images  80.0 images/s  ETA 0:07\n",
                                   "epoch 2  480/800 images  80.0 images/s  ETA 0:04\n",
                                   "epoch 2  720/800 images  80.0 images/s  ETA 0:01\n"])
        p.finish(done: 800, extra: "acc 98.1%")
        XCTAssertEqual(r.written.last, "epoch 2  800 images  80.0 images/s  done in 10.0 s  acc 98.1%\n")
    }

    func testFailEndsTheLine() {
        let r = Recorder()
        let p = ProgressLine(label: "dl", total: 10, unit: "KiB", quiet: false, isTerminal: true,
                             output: { r.written.append($0) }, clock: { r.now })
        r.now += 1; p.update(done: 4)
        p.fail("connection reset")
        XCTAssertEqual(r.written, ["\rdl  4/10 KiB  4.00 KiB/s  ETA 0:02", "\rdl  failed: connection reset      \n"])
        // Nothing shown yet: a quick failure stays silent when asked to.
        let q = ProgressLine(label: "dl", total: 10, unit: "KiB", quiet: false, isTerminal: false,
                             output: { r.written.append($0) }, clock: { r.now })
        q.fail("refused", onlyIfShown: true)
        q.finish()
        XCTAssertEqual(r.written.count, 2)
    }

    func testQuietPrintsNothing() {
        let r = Recorder()
        let p = ProgressLine(label: "q", total: 10, unit: "u", quiet: true, isTerminal: true,
                             output: { r.written.append($0) }, clock: { r.now })
        r.now += 5; p.update(done: 5); p.finish()
        XCTAssertEqual(r.written, [])
    }

    func testConcurrentUpdatesAreSafe() {
        let r = Recorder()
        let lock = NSLock()
        let p = ProgressLine(label: "c", total: 80_000, unit: "u", quiet: false, isTerminal: false,
                             output: { r.written.append($0) },
                             clock: { lock.lock(); defer { lock.unlock() }; r.now += 0.001; return r.now })
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for i in 0..<10_000 { p.update(done: worker * 10_000 + i) }
        }
        p.finish(done: 80_000)
        // 80,000 clock ticks of 1 ms = 80 s simulated → at most one line per 3 s plus the final one.
        XCTAssertLessThanOrEqual(r.written.count, 28)
        XCTAssertGreaterThanOrEqual(r.written.count, 20)
        XCTAssertTrue(r.written.last!.hasPrefix("c  80000 u  "))
    }
}
