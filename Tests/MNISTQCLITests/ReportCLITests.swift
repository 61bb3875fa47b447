// `mnistq report` through the real binary: a well-formed self-contained page whose every number equals the JSON
// reports of `quantize --json`, `eval --json`, `inspect --json` and `classify --format json`; partial pages on bad input.
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import MNISTQRuntime
import XCTest

/// The page parsed strictly (as XML: it is written to be well-formed), with what the tests look at.
final class ReportPage: NSObject, XMLParserDelegate {
    struct Element { var name: String; var attributes: [String: String]; var text: String; var path: [String] }
    private(set) var elements: [Element] = []
    private var open: [(index: Int, name: String)] = []
    private(set) var error: String?

    init(html: String) {
        super.init()
        let parser = XMLParser(data: Data(html.utf8))
        parser.delegate = self
        if !parser.parse() {
            error = "\(parser.parserError.map { "\($0)" } ?? "parse failed") at line \(parser.lineNumber), column \(parser.columnNumber)"
        }
        if error == nil && !open.isEmpty { error = "unclosed elements: \(open.map(\.name))" }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append(Element(name: name, attributes: attributes, text: "", path: open.map(\.name)))
        open.append((elements.count - 1, name))
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        for entry in open { elements[entry.index].text += string }
    }

    /// Text of the element with `id`, whitespace trimmed.
    func text(_ id: String) -> String? {
        elements.first { $0.attributes["id"] == id }.map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// Elements inside the element with `id` (by document order and nesting).
    func elements(inside id: String) -> [Element] {
        guard let start = elements.firstIndex(where: { $0.attributes["id"] == id }) else { return [] }
        let depth = elements[start].path.count
        var result: [Element] = []
        for element in elements[(start + 1)...] {
            if element.path.count <= depth { break }
            result.append(element)
        }
        return result
    }
}

final class ReportCLITests: CLITestCase {
    /// The sample model's metrics (the training run that made it, reproduced byte for byte).
    static var sampleMetrics: String { packageRoot.appendingPathComponent("samples/mnistq-float.metrics.csv").path }

    func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text.prefix(300))")
    }

    func page(_ name: String) throws -> (page: ReportPage, html: String) {
        let html = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        let page = ReportPage(html: html)
        XCTAssertNil(page.error, "\(name) is not well-formed")
        return (page, html)
    }

    func pct(_ x: Double) -> String { String(format: "%.2f%%", x * 100) }
    func grouped(_ n: Int) -> String {
        let f = NumberFormatter(); f.numberStyle = .decimal; f.groupingSeparator = ","; f.usesGroupingSeparator = true
        return f.string(from: NSNumber(value: n))!
    }

    /// Self-contained: no script, style, image or link from elsewhere; images are PNG data URIs.
    func assertSelfContained(_ page: ReportPage, _ html: String, file: StaticString = #filePath, line: UInt = #line) {
        for element in page.elements {
            if let src = element.attributes["src"] {
                XCTAssertTrue(src.hasPrefix("data:image/png;base64,") && src.count > 100, "<\(element.name) src=\(src.prefix(40))>", file: file, line: line)
            }
            if let href = element.attributes["href"] { XCTAssertTrue(href.hasPrefix("#"), "href \(href)", file: file, line: line) }
            XCTAssertNotEqual(element.name, "link", file: file, line: line)
            XCTAssertNotEqual(element.name, "iframe", file: file, line: line)
        }
        XCTAssertFalse(html.contains("url(http"), file: file, line: line)
        XCTAssertFalse(html.contains("@import"), file: file, line: line)
        XCTAssertEqual(page.elements.filter { $0.name == "script" }.count, 1, file: file, line: line)
        XCTAssertTrue(page.elements.filter { $0.name == "script" }.allSatisfy { $0.attributes["src"] == nil }, file: file, line: line)
        // Element ids are unique (the numbers are looked up by id).
        let ids = page.elements.compactMap { $0.attributes["id"] }
        XCTAssertEqual(ids.count, Set(ids).count, "duplicate ids", file: file, line: line)
    }

    /// Train a small model, quantize it, and check every number of its page against the JSON reports.
    func testEveryNumberOnThePageEqualsTheJSONReports() throws {
        let data = ["--data", Self.mnistDirectory]
        let train = try run(["train"] + data + ["--epochs", "2", "--limit-train", "6144", "--validation-split", "512",
                                                "--warmup-steps", "0", "--threads", "2", "--seed", "5", "--out", "small.mnqf", "--quiet"])
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertTrue(train.stdout.contains("mnistq report --model"), "train does not mention the report: \(train.stdout)")
        let quantize = try run(["quantize", "--model", "small.mnqf", "--calibration-images", "256", "--out", "small.mnq8", "--quiet"] + data)
        XCTAssertEqual(quantize.status, 0, quantize.stderr)
        XCTAssertTrue(quantize.stdout.contains("mnistq report --model small.mnq8 --float small.mnqf"), quantize.stdout)
        let quantizeJSON = try json(try run(["quantize", "--model", "small.mnqf", "--calibration-images", "256", "--out", "again.mnq8",
                                             "--json", "--quiet"] + data).stdout)
        let int8Eval = try json(try run(["eval", "--model", "small.mnq8", "--json"] + data).stdout)
        let floatEval = try json(try run(["eval", "--model", "small.mnqf", "--json"] + data).stdout)
        let inspect = try json(try run(["inspect", "small.mnq8", "--json"]).stdout)

        let report = try run(["report", "--model", "small.mnq8", "--float", "small.mnqf", "--out", "small.html", "--quiet"] + data)
        XCTAssertEqual(report.status, 0, report.stderr)
        XCTAssertEqual(report.stderr, "", "nothing should be missing")
        let (page, html) = try page("small.html")
        assertSelfContained(page, html)
        XCTAssertNil(page.text("missing"), "the page lists something as missing")

        // Accuracy, agreement, drop: quantize --json and eval --json.
        let total = try XCTUnwrap(quantizeJSON["total"] as? Int)
        let int8Correct = try XCTUnwrap(quantizeJSON["int8_correct"] as? Int), floatCorrect = try XCTUnwrap(quantizeJSON["float_correct"] as? Int)
        let agreeing = try XCTUnwrap(quantizeJSON["agreeing"] as? Int)
        XCTAssertEqual(int8Eval["correct"] as? Int, int8Correct)
        XCTAssertEqual(floatEval["correct"] as? Int, floatCorrect)
        XCTAssertEqual(page.text("int8-accuracy"), pct(try XCTUnwrap(quantizeJSON["int8_accuracy"] as? Double)))
        XCTAssertEqual(page.text("int8-accuracy"), pct(try XCTUnwrap(int8Eval["accuracy"] as? Double)))
        XCTAssertEqual(page.text("float-accuracy"), pct(try XCTUnwrap(quantizeJSON["float_accuracy"] as? Double)))
        XCTAssertEqual(page.text("float-accuracy"), pct(try XCTUnwrap(floatEval["accuracy"] as? Double)))
        XCTAssertEqual(page.text("int8-correct"), grouped(int8Correct))
        XCTAssertEqual(page.text("float-correct"), grouped(floatCorrect))
        XCTAssertEqual(page.text("test-total"), grouped(total))
        XCTAssertEqual(page.text("agreement"), pct(try XCTUnwrap(quantizeJSON["agreement"] as? Double)))
        XCTAssertEqual(page.text("differing"), grouped(total - agreeing))
        XCTAssertEqual(page.text("drop-pp"), String(format: "%+.2f pp", try XCTUnwrap(quantizeJSON["drop_pp"] as? Double)))
        XCTAssertEqual(page.text("misclassified"), grouped(total - int8Correct))

        // Confusion matrix and per-digit accuracy.
        let confusion = try XCTUnwrap(quantizeJSON["confusion"] as? [[Int]])
        for r in 0..<10 {
            for c in 0..<10 { XCTAssertEqual(page.text("cm-\(r)-\(c)"), "\(confusion[r][c])", "cell \(r),\(c)") }
            XCTAssertEqual(page.text("cm-errors-\(r)"), "\(confusion[r].reduce(0, +) - confusion[r][r])")
        }
        let int8PerClass = try XCTUnwrap(int8Eval["per_class_accuracy"] as? [Double])
        let floatPerClass = try XCTUnwrap(floatEval["per_class_accuracy"] as? [Double])
        for d in 0..<10 {
            XCTAssertEqual(page.text("class-int8-\(d)"), pct(int8PerClass[d]), "int8 digit \(d)")
            XCTAssertEqual(page.text("class-float-\(d)"), pct(floatPerClass[d]), "float digit \(d)")
        }

        // Per-layer SQNR and scales.
        let layers = try XCTUnwrap(quantizeJSON["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.count, 5)
        for layer in layers {
            let name = try XCTUnwrap(layer["name"] as? String)
            XCTAssertEqual(page.text("sqnr-\(name)"), String(format: "%.2f", try XCTUnwrap(layer["sqnr_db"] as? Double)), name)
            XCTAssertEqual(page.text("input-scale-\(name)"), String(format: "%.4g", try XCTUnwrap(layer["input_scale"] as? Double)), name)
            XCTAssertEqual(page.text("output-scale-\(name)"), String(format: "%.4g", try XCTUnwrap(layer["output_scale"] as? Double)), name)
            XCTAssertEqual(page.text("weight-scales-\(name)"), String(format: "%.4g … %.4g", try XCTUnwrap(layer["min_weight_scale"] as? Double),
                                                                      try XCTUnwrap(layer["max_weight_scale"] as? Double)), name)
        }

        // The gallery: every int8 mistake once, grouped by true digit as the confusion matrix counts them.
        let cases = page.elements(inside: "gallery-groups").filter { $0.name == "figure" }
        XCTAssertEqual(cases.count, total - int8Correct)
        XCTAssertEqual(page.text("gallery-count"), "\(total - int8Correct)")
        for d in 0..<10 {
            let errors = confusion[d].reduce(0, +) - confusion[d][d]
            XCTAssertEqual(cases.filter { $0.attributes["data-true"] == "\(d)" }.count, errors, "digit \(d)")
            if errors > 0 { XCTAssertEqual(page.text("gallery-count-\(d)"), "\(errors)") }
            for r in 0..<10 where r != d {
                XCTAssertEqual(cases.filter { $0.attributes["data-true"] == "\(d)" && $0.attributes["data-int8"] == "\(r)" }.count, confusion[d][r])
            }
        }
        XCTAssertEqual(Set(cases.compactMap { $0.attributes["data-index"] }).count, cases.count, "an image appears twice")

        // Disagreements: the indices quantize lists (its first 100).
        let disagreements = try XCTUnwrap(quantizeJSON["disagreements"] as? [Int])
        XCTAssertEqual(page.text("disagreement-count"), "\(total - agreeing)")
        let shown = page.elements(inside: "disagreements").filter { $0.name == "figure" }.compactMap { $0.attributes["data-index"].flatMap(Int.init) }
        XCTAssertEqual(shown.count, total - agreeing)
        XCTAssertEqual(Array(shown.prefix(100)), disagreements)
        for figure in page.elements(inside: "disagreements").filter({ $0.name == "figure" }) {
            XCTAssertNotEqual(figure.attributes["data-int8"], figure.attributes["data-float"])
        }

        // Header and metadata: inspect --json.
        let header = try XCTUnwrap(inspect["header"] as? [String: Any])
        XCTAssertEqual(page.text("header-version"), "\(try XCTUnwrap(header["version"] as? Int))")
        XCTAssertEqual(page.text("crc32"), try XCTUnwrap(header["crc32"] as? String))
        XCTAssertEqual(page.text("payload-length"), grouped(try XCTUnwrap(header["payload_length"] as? Int)) + " B")
        XCTAssertEqual(page.text("compressed-length"), grouped(try XCTUnwrap(header["compressed_length"] as? Int)) + " B")
        XCTAssertEqual(page.text("arena"), grouped(try XCTUnwrap(inspect["arena_bytes"] as? Int)) + " B")
        let sizes = try XCTUnwrap(inspect["sizes"] as? [String: Any])
        XCTAssertEqual(page.text("file-size"), grouped(try XCTUnwrap(sizes["file_bytes"] as? Int)) + " B")
        XCTAssertEqual(page.text("parameters"), grouped(try XCTUnwrap(sizes["parameters"] as? Int)))
        let metadata = try XCTUnwrap(inspect["metadata"] as? [[String: String]])
        for (n, entry) in metadata.enumerated() { XCTAssertEqual(page.text("meta-\(n)"), entry["value"], entry["key"] ?? "") }

        // Training: one table row per metrics line, the kept epoch marked.
        let csv = try String(contentsOf: directory.appendingPathComponent("small.metrics.csv"), encoding: .utf8)
        let rows = csv.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        XCTAssertEqual(rows.count, 2)
        for row in rows {
            let epoch = String(row[0])
            XCTAssertNotNil(page.text("epoch-\(epoch)"), "no table row for epoch \(epoch)")
            let text = try XCTUnwrap(page.text("epoch-\(epoch)"))
            XCTAssertTrue(text.contains(String(format: "%.4f", Double(row[1])!)), "train loss of epoch \(epoch) in \(text)")
            XCTAssertTrue(text.contains(String(format: "%.2f%%", Double(row[4])! * 100)), "validation accuracy of epoch \(epoch) in \(text)")
        }
        // The trainer keeps the best validation epoch, ties going to the later one (no guard events in so short a run).
        var kept = "", best = -1.0
        for row in rows where Double(row[4])! >= best { best = Double(row[4])!; kept = String(row[0]) }
        XCTAssertEqual(page.text("kept-epoch"), kept)
    }

    /// The shipped sample: all 58 misclassified images with their labels, predictions and confidences as
    /// `mnistq classify` reports them; the learning curves from its metrics; the page well under 2 MB.
    func testSampleModelGalleryShowsEveryMisclassifiedImage() throws {
        let report = try run(["report", "--model", Self.modelPath, "--metrics", Self.sampleMetrics, "--data", Self.mnistDirectory,
                              "--out", "sample.html", "--quiet"])
        XCTAssertEqual(report.status, 0, report.stderr)
        XCTAssertTrue(report.stdout.contains("58 misclassified images shown"), report.stdout)
        let bytes = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("sample.html").path)[.size] as? Int)
        XCTAssertLessThanOrEqual(bytes, 2_000_000)
        let (page, html) = try page("sample.html")
        assertSelfContained(page, html)
        XCTAssertTrue(try XCTUnwrap(page.text("missing")).contains("float model: not given"))
        XCTAssertEqual(page.text("kept-epoch"), "10")
        XCTAssertEqual(page.text("int8-accuracy"), "99.42%")

        let classify = try run(["classify", "--model", Self.modelPath, "--format", "json",
                                Self.mnistDirectory + "/t10k-images-idx3-ubyte.gz"])
        XCTAssertEqual(classify.status, 0, classify.stderr)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(classify.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.count, 10000)
        let labels = try mnistTest().labels
        let expectedMistakes = (0..<10000).filter { rows[$0]["digit"] as? Int != Int(labels[$0]) }
        XCTAssertEqual(expectedMistakes.count, 58)

        let cases = page.elements(inside: "gallery-groups").filter { $0.name == "figure" }
        XCTAssertEqual(cases.compactMap { $0.attributes["data-index"].flatMap(Int.init) }.sorted(), expectedMistakes)
        for figure in cases {
            let i = try XCTUnwrap(figure.attributes["data-index"].flatMap(Int.init))
            XCTAssertEqual(figure.attributes["data-true"], "\(labels[i])")
            XCTAssertEqual(figure.attributes["data-int8"], "\(rows[i]["digit"] as! Int)")
            // The confidence as classify prints it (4 decimals), read from the JSON text rather than a Double.
            let path = "t10k-images-idx3-ubyte.gz#\(i)\""
            let start = try XCTUnwrap(classify.stdout.range(of: path))
            let after = classify.stdout[start.upperBound...]
            let value = try XCTUnwrap(after.range(of: "\"confidence\":"))
            let printed = String(after[value.upperBound...].prefix(6))
            XCTAssertEqual(figure.attributes["data-confidence"], printed, "image \(i)")
            XCTAssertTrue(figure.text.contains("true \(labels[i])"), figure.text)
            XCTAssertTrue(figure.text.contains("int8 \(rows[i]["digit"] as! Int)"), figure.text)
            XCTAssertTrue(figure.text.contains("#\(i)"), figure.text)
        }
    }

    /// A float model with no metrics beside it, a model of another format version, no MNIST: still a page (exit 0)
    /// that shows what it can and says what is missing.
    func testBadInputStillGivesAPageThatSaysWhatIsMissing() throws {
        // The golden float directory has no metrics file; the sample's metadata names float.mnqf, not beside it either.
        let noMetrics = try run(["report", "--model", Self.modelPath, "--float", MainJobCLITests.goldenDirectory,
                                 "--data", Self.mnistDirectory, "--out", "no-metrics.html", "--quiet"])
        XCTAssertEqual(noMetrics.status, 0, noMetrics.stderr)
        XCTAssertTrue(noMetrics.stderr.contains("not shown: training metrics"), noMetrics.stderr)
        let (metricsPage, metricsHTML) = try page("no-metrics.html")
        assertSelfContained(metricsPage, metricsHTML)
        XCTAssertTrue(try XCTUnwrap(metricsPage.text("missing")).contains("training metrics"))
        XCTAssertNil(metricsPage.text("training"), "no training section without metrics")
        XCTAssertEqual(metricsPage.text("float-accuracy"), "98.97%", "PyTorch measured 98.97% for the golden model")
        XCTAssertNotNil(metricsPage.text("sqnr-fc3"))

        // Format version 2 (the CRC is not reached: the version is checked first).
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.modelPath)))
        bytes[4] = 2; bytes[5] = 0
        try write("future.mnq8", bytes)
        let future = try run(["report", "--model", "future.mnq8", "--float", MainJobCLITests.goldenDirectory, "--metrics", Self.sampleMetrics,
                              "--data", Self.mnistDirectory, "--out", "future.html", "--quiet"])
        XCTAssertEqual(future.status, 0, future.stderr)
        let (futurePage, futureHTML) = try page("future.html")
        assertSelfContained(futurePage, futureHTML)
        let missing = try XCTUnwrap(futurePage.text("missing"))
        XCTAssertTrue(missing.contains("future.mnq8") && missing.contains("version"), missing)
        XCTAssertEqual(futurePage.text("file-head")?.prefix(17), "4d 4e 51 38 02 00")
        XCTAssertEqual(futurePage.text("kept-epoch"), "10", "the curves are still shown")
        // The float model's results instead: its accuracy and a gallery of its 103 mistakes.
        XCTAssertNil(futurePage.text("int8-accuracy"))
        XCTAssertEqual(futurePage.text("float-accuracy"), "98.97%")
        XCTAssertEqual(futurePage.text("gallery-count"), "103")
        XCTAssertEqual(futurePage.elements(inside: "gallery-groups").filter { $0.name == "figure" }.count, 103)

        // No MNIST: the model file and the curves, no accuracy.
        let empty = directory.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let noData = try run(["report", "--model", Self.modelPath, "--metrics", Self.sampleMetrics, "--data", empty.path,
                              "--out", "no-data.html", "--quiet"])
        XCTAssertEqual(noData.status, 0, noData.stderr)
        let (dataPage, dataHTML) = try page("no-data.html")
        assertSelfContained(dataPage, dataHTML)
        XCTAssertTrue(try XCTUnwrap(dataPage.text("missing")).contains("MNIST test images"))
        XCTAssertEqual(dataPage.text("header-version"), "1")
        XCTAssertNil(dataPage.text("int8-accuracy"))

        // An output path that cannot be written (its folder is a file) is exit 1, with the path in the message.
        let unwritable = try run(["report", "--model", Self.modelPath, "--data", empty.path, "--out", "no-data.html/x.html", "--quiet"])
        XCTAssertEqual(unwritable.status, 1)
        XCTAssertTrue(unwritable.stderr.contains("no-data.html/x.html"), unwritable.stderr)
    }
}
