// The report's parts on small hand-made inputs: the metrics CSV, the kept epoch, PNG bytes, axis zoom, page markup.
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import MNISTQData
@testable import MNISTQQuantizer
@testable import MNISTQReport
import MNISTQRuntime
import XCTest

final class ReportPartsTests: XCTestCase {
    static let header = "epoch,train_loss,train_accuracy,validation_loss,validation_accuracy,test_accuracy,learning_rate,seconds,train_seconds,train_images_per_second,note\n"

    func testMetricsCSVParsesQuotedNotesAndEmptyFields() throws {
        let text = Self.header
            + "1,0.5,0.83,0.11,0.9672,0.9637,0.0975,17.7,16.2,3380.3,\n"
            + "2,0.08,0.97,,,,0.09,17.8,16.4,3335.1,\"guard: loss exploded to 1e+03 at step 5; early stop\"\n"
        let epochs = try TrainingHistory.parse(text, file: "m.metrics.csv")
        XCTAssertEqual(epochs.count, 2)
        XCTAssertEqual(epochs[0].validationAccuracy, 0.9672)
        XCTAssertNil(epochs[1].validationAccuracy)
        XCTAssertEqual(epochs[1].note, "guard: loss exploded to 1e+03 at step 5; early stop")
        XCTAssertEqual(epochs[1].guardEvents, ["guard: loss exploded to 1e+03 at step 5"])
        XCTAssertTrue(epochs[1].stoppedEarly)
        XCTAssertEqual(TrainingHistory.splitCSVLine("a,\"b,\"\"c\"\"\",d"), ["a", "b,\"c\"", "d"])
    }

    func testMetricsCSVErrorsNameFileLineAndColumn() {
        XCTAssertThrowsError(try TrainingHistory.parse("epoch,train_loss\n1,0.5\n", file: "x.csv")) { error in
            XCTAssertTrue("\(error)".contains("x.csv") && "\(error)".contains("validation_accuracy"), "\(error)")
        }
        XCTAssertThrowsError(try TrainingHistory.parse(Self.header + "1,abc,0.8,,,,0.1,1,1,1,\n", file: "y.csv")) { error in
            XCTAssertTrue("\(error)".contains("line 2") && "\(error)".contains("train_loss"), "\(error)")
        }
        XCTAssertThrowsError(try TrainingHistory.parse(Self.header, file: "z.csv")) { error in
            XCTAssertTrue("\(error)".contains("no epochs"), "\(error)")
        }
        XCTAssertThrowsError(try TrainingHistory.load(path: "/nonexistent/m.metrics.csv")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/m.metrics.csv: no such file"), "\(error)")
        }
    }

    /// The trainer keeps the best validation epoch (ties to the later one), never one the guard rolled back, and the
    /// last epoch when there is no hold-out.
    func testKeptEpochFollowsTheTrainersRule() throws {
        func history(_ rows: [(Double?, String)]) throws -> TrainingHistory {
            let text = Self.header + rows.enumerated().map { n, r in
                "\(n + 1),0.1,0.9,\(r.0 == nil ? "" : "0.1"),\(r.0.map { String($0) } ?? ""),,0.1,1,1,1,\(r.1)"
            }.joined(separator: "\n") + "\n"
            return TrainingHistory(path: "h", epochs: try TrainingHistory.parse(text, file: "h"))
        }
        XCTAssertEqual(try history([(0.97, ""), (0.99, ""), (0.98, ""), (0.99, "")]).keptEpoch, 4)
        XCTAssertEqual(try history([(0.97, ""), (0.995, "guard: accuracy 99.50%, restored epoch 1"), (0.98, "")]).keptEpoch, 3)
        XCTAssertEqual(try history([(nil, ""), (nil, ""), (nil, "")]).keptEpoch, 3)
        XCTAssertFalse(try history([(nil, "")]).keptByValidation)
    }

    /// A PNG whose chunks carry correct CRCs and whose IDAT inflates back to the filtered scanlines.
    func testGrayPNGIsAValidPNG() throws {
        let pixels = (0..<784).map { UInt8($0 % 256) }
        let png = try XCTUnwrap(GrayPNG.encode(pixels: pixels[...], width: 28, height: 28))
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var offset = 8, types: [String] = [], idat: [UInt8] = []
        while offset < png.count {
            let length = png[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: png[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let body = Array(png[(offset + 4)..<(offset + 8 + length)])
            let stored = png[(offset + 8 + length)..<(offset + 12 + length)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            XCTAssertEqual(stored, CRC32.checksum(body), "CRC of \(type)")
            if type == "IHDR" { XCTAssertEqual(Array(body[4..<17]), [0, 0, 0, 28, 0, 0, 0, 28, 8, 0, 0, 0, 0]) }
            if type == "IDAT" { idat += body[4...] }
            types.append(type)
            offset += 12 + length
        }
        XCTAssertEqual(types, ["IHDR", "IDAT", "IEND"])
        // The runtime's own inflater reads the zlib stream back: 28 scanlines of filter byte 0 + 28 pixels.
        let raw = try Inflate.zlibDecompress(idat, expectedLength: 28 * 29)
        for row in 0..<28 {
            XCTAssertEqual(raw[row * 29], 0)
            XCTAssertEqual(Array(raw[(row * 29 + 1)..<(row * 29 + 29)]), Array(pixels[(row * 28)..<(row * 28 + 28)]))
        }
    }

    /// The accuracy axis zooms to the bulk of the values: a far-off first epoch or collapse does not stretch it.
    func testZoomedRangeIgnoresFarOutliers() {
        let values = [83.25, 96.7, 97.6, 98.3, 98.5, 98.9, 99.0, 99.1, 99.2, 99.3, 99.4, 99.7, 99.9, 99.96]
        let range = zoomedRange(values)
        XCTAssertGreaterThan(range.low, 90)
        XCTAssertLessThan(range.high, 100.5)
        let flat = zoomedRange([50, 50, 50])
        XCTAssertLessThan(flat.low, 50); XCTAssertGreaterThan(flat.high, 50)
        let wide = zoomedRange([60, 70, 77])  // a short, poor run: everything is shown
        XCTAssertLessThanOrEqual(wide.low, 60); XCTAssertGreaterThanOrEqual(wide.high, 77)
    }

    /// Confidences are printed as `mnistq classify` prints them (4 decimals, half away from zero), and as a percentage
    /// by moving the decimal point, never rounded twice.
    func testConfidenceFormattingMatchesClassify() {
        XCTAssertEqual(HTMLReport.fraction4(0.98767), "0.9877")
        XCTAssertEqual(HTMLReport.fraction4(0.00004), "0.0000")
        XCTAssertEqual(HTMLReport.fraction4(1), "1.0000")
        XCTAssertEqual(HTMLReport.fraction4(0.05), "0.0500")
        XCTAssertEqual(HTMLReport.percentOfFraction("0.9877"), "98.77%")
        XCTAssertEqual(HTMLReport.percentOfFraction("1.0000"), "100.00%")
        XCTAssertEqual(HTMLReport.percentOfFraction("0.0500"), "5.00%")
        XCTAssertEqual(HTMLReport.percentOfFraction("0.0001"), "0.01%")
    }

    /// The report measures SQNR on both cores; every figure must be the bits `mnistq quantize` (one thread) reports.
    func testFidelityOnSeveralThreadsIsTheSameBitsAsOnOne() throws {
        let environment = ProcessInfo.processInfo.environment
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let mnist = environment["MNIST_DIR"] ?? root.appendingPathComponent("../shared/mnist").standardized.path
        let golden = environment["MNISTQ_GOLDEN_DIR"] ?? root.appendingPathComponent("../shared/golden").standardized.path
        let test = try MNIST.loadTest(directory: mnist).slice(0..<1500)
        let parameters = try FloatModelSource.load(path: golden)
        let model = try Model(bytes: [UInt8](try Data(contentsOf: root.appendingPathComponent("samples/mnistq-int8.mnq8"))))
        let one = try Fidelity.measure(parameters: parameters, layers: model.layers, split: test, threads: 1)
        for threads in [2, 3] {
            let several = try Fidelity.measure(parameters: parameters, layers: model.layers, split: test, threads: threads)
            XCTAssertEqual(several, one, "\(threads) threads")
            XCTAssertEqual(several.layers.map(\.sqnrDB.bitPattern), one.layers.map(\.sqnrDB.bitPattern))
            XCTAssertEqual(several.floatPredictions, one.floatPredictions)
            XCTAssertEqual(several.int8Predictions, one.int8Predictions)
        }
        XCTAssertEqual(one.total, 1500)
    }

    /// A page with nothing but a missing model is still a well-formed page that says what is missing.
    func testPageForAnUnreadableModelIsWellFormedAndNamesTheProblem() throws {
        let content = ReportBuilder.build(ReportRequest(modelPath: "/nonexistent/model.mnq8", generator: "test <&>"))
        XCTAssertNil(content.int8)
        XCTAssertNil(content.test)
        XCTAssertTrue(content.missing.contains { $0.contains("/nonexistent/model.mnq8") }, "\(content.missing)")
        XCTAssertTrue(content.missing.contains { $0.hasPrefix("float model") })
        XCTAssertTrue(content.missing.contains { $0.hasPrefix("training metrics") })
        let html = HTMLReport.render(content)
        try assertWellFormed(html)
        XCTAssertTrue(html.contains("test &lt;&amp;&gt;"))
        XCTAssertTrue(html.contains("id=\"missing\""))
    }

    func assertWellFormed(_ html: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let parser = XMLParser(data: Data(html.utf8))
        let ok = parser.parse()
        XCTAssertTrue(ok, "not well-formed: \(parser.parserError.map { "\($0)" } ?? "?") at line \(parser.lineNumber), column \(parser.columnNumber)",
                      file: file, line: line)
    }
}
