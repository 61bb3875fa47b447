// SVG writers: output parses as XML and carries the titles, series, tick labels and cell counts.
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import MNISTQSupport

/// Parses an SVG document and collects element names, attributes and text, failing on malformed XML.
private final class SVGCollector: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []
    var texts: [String] = []
    private var current = ""

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        elements.append((elementName, attributeDict)); current = ""
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }
    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        if elementName == "text" { texts.append(current) }
        current = ""
    }

    static func parse(_ svg: String, file: StaticString = #filePath, line: UInt = #line) -> SVGCollector? {
        let collector = SVGCollector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        guard parser.parse() else {
            XCTFail("SVG is not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "unknown error")", file: file, line: line)
            return nil
        }
        return collector
    }
}

final class SVGTests: XCTestCase {
    func testLineChartIsWellFormedAndCarriesSeriesLabelsAndTicks() throws {
        var chart = SVGLineChart(title: "Loss & accuracy <seed 0>", xLabel: "epoch", yLabel: "value")
        chart.addSeries("train loss", points: [(1, 0.30), (2, 0.12), (3, 0.08), (4, .nan)])
        chart.addSeries("val \"acc\"", points: [(1, 0.97), (2, 0.98), (3, 0.985)])
        let svg = chart.render()
        let doc = try XCTUnwrap(SVGCollector.parse(svg))
        XCTAssertEqual(doc.elements.first?.name, "svg")
        XCTAssertTrue(doc.texts.contains("Loss & accuracy <seed 0>"))
        XCTAssertTrue(doc.texts.contains("train loss"))
        XCTAssertTrue(doc.texts.contains("val \"acc\""))
        XCTAssertTrue(doc.texts.contains("epoch"))
        XCTAssertTrue(doc.texts.contains("value"))
        // x from 1 to 3 in steps of 0.5; y from 0.08 to 0.985 → 0 to 1 in steps of 0.2.
        for tick in ["1.0", "1.5", "2.0", "2.5", "3.0", "0.0", "0.2", "0.4", "0.6", "0.8", "1.0"] {
            XCTAssertTrue(doc.texts.contains(tick), "missing tick label \(tick)")
        }
        let series = doc.elements.filter { $0.name == "g" && $0.attributes["class"] == "series" }
        XCTAssertEqual(series.map { $0.attributes["data-name"] }, ["train loss", "val \"acc\""])
        let polylines = doc.elements.filter { $0.name == "polyline" }
        XCTAssertEqual(polylines.count, 2)
        // The NaN point is dropped: 3 + 3 points drawn.
        XCTAssertEqual(polylines.map { $0.attributes["points"]!.split(separator: " ").count }, [3, 3])
        XCTAssertEqual(doc.elements.filter { $0.name == "circle" }.count, 6)
        XCTAssertFalse(svg.contains("nan"))
    }

    func testLineChartMapsPointsToPlotCorners() throws {
        var chart = SVGLineChart(title: "t", xLabel: "x", yLabel: "y")
        chart.yRange = 0...1
        chart.addSeries("s", points: [(0, 0), (10, 1)])
        let doc = try XCTUnwrap(SVGCollector.parse(chart.render()))
        // Plot area: left 72, top 44, width 760-72-170 = 518, height 440-44-58 = 338.
        let points = try XCTUnwrap(doc.elements.first { $0.name == "polyline" }?.attributes["points"])
        XCTAssertEqual(points, "72.00,382.00 590.00,44.00")
    }

    func testEmptyChartStillRenders() throws {
        let chart = SVGLineChart(title: "empty", xLabel: "x", yLabel: "y")
        let doc = try XCTUnwrap(SVGCollector.parse(chart.render()))
        XCTAssertTrue(doc.texts.contains("empty"))
    }

    func testAxisTicks() {
        let t = AxisTicks(low: 0.08, high: 0.985)
        XCTAssertEqual(t.step, 0.2, accuracy: 1e-12)
        XCTAssertEqual(t.values.map(t.label), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        let e = AxisTicks(low: 1, high: 10)
        XCTAssertEqual(e.values.map(e.label), ["0", "2", "4", "6", "8", "10"])
        let flat = AxisTicks(low: 5, high: 5)
        XCTAssertLessThan(flat.low, 5); XCTAssertGreaterThan(flat.high, 5)
        let neg = AxisTicks(low: -0.3, high: 0.3)
        XCTAssertEqual(neg.values.map(neg.label), ["-0.4", "-0.2", "0.0", "0.2", "0.4"])
    }

    func testConfusionMatrixCellsCarryCounts() throws {
        var counts = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10)
        for i in 0..<10 { counts[i][i] = 970 + i }
        counts[4][9] = 17
        counts[9][4] = 3
        let svg = try SVGConfusionMatrix(title: "int8 model, 10,000 test images", counts: counts).render()
        let doc = try XCTUnwrap(SVGCollector.parse(svg))
        XCTAssertTrue(doc.texts.contains("int8 model, 10,000 test images"))
        XCTAssertTrue(doc.texts.contains("predicted"))
        XCTAssertTrue(doc.texts.contains("true"))
        let cells = doc.elements.filter { $0.name == "rect" && $0.attributes["class"] == "cell" }
        XCTAssertEqual(cells.count, 100)
        XCTAssertEqual(cells[4 * 10 + 9].attributes["data-true"], "4")
        XCTAssertEqual(cells[4 * 10 + 9].attributes["data-predicted"], "9")
        // Cell texts come in row-major order after the 3 axis titles and 20 class labels.
        let cellTexts = Array(doc.texts.dropFirst(4 + 20))
        let flattened = counts.enumerated().flatMap { r, row in row.map(String.init) + [String(format: "%.1f%%", 100 * Double(row[r]) / Double(row.reduce(0, +)))] }
        XCTAssertEqual(cellTexts, flattened)
        XCTAssertTrue(doc.texts.contains("98.3%"))   // row 4: 974 / 991
        // The diagonal is the darkest shade, an empty cell is white.
        XCTAssertEqual(cells[0].attributes["fill"], "#08306b")
        XCTAssertEqual(cells[1].attributes["fill"], "#ffffff")
    }

    func testConfusionMatrixRejectsBadShapes() {
        XCTAssertThrowsError(try SVGConfusionMatrix(title: "x", counts: [[1, 2], [3]])) {
            XCTAssertEqual($0 as? SVGError, .notSquare(rows: 2, badRow: 1, columns: 1))
        }
        XCTAssertThrowsError(try SVGConfusionMatrix(title: "x", counts: [])) {
            XCTAssertEqual($0 as? SVGError, .notSquare(rows: 0, badRow: 0, columns: 0))
        }
        XCTAssertThrowsError(try SVGConfusionMatrix(title: "x", counts: [[1, -1], [0, 1]])) {
            XCTAssertEqual($0 as? SVGError, .negativeCount(row: 0, column: 1, value: -1))
        }
        XCTAssertThrowsError(try SVGConfusionMatrix(title: "x", counts: [[1]], classLabels: ["a", "b"])) {
            XCTAssertEqual($0 as? SVGError, .labelCount(found: 2, expected: 1))
        }
    }
}
