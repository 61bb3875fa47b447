// `mnistq inspect` run as a subprocess: text and JSON reports on a real model, errors on broken files.
import Foundation
import MNISTQImage
import MNISTQRuntime
import XCTest

final class InspectCLITests: CLITestCase {
    func testInspectReportsAModelAndRejectsBrokenFiles() throws {
        let modelBytes: [UInt8]
        do { modelBytes = try ImageDecoder.readFile(atPath: Self.modelPath) } catch {
            return XCTFail("no int8 model at \(Self.modelPath) (set MNISTQ_MODEL): \(error)")
        }
        let model = try Model(bytes: modelBytes)
        try write("model.mnq8", modelBytes)
        try write("cut.mnq8", Array(modelBytes.prefix(100)))

        let text = try run(["inspect", "model.mnq8"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("magic MNQ8, version 1"), text.stdout)
        XCTAssertTrue(text.stdout.contains("arena     \(model.arenaByteCount) B"), text.stdout)
        if let calibration = model.outOfDistributionCalibration {
            XCTAssertTrue(text.stdout.contains("ood       out-of-distribution score: threshold \(calibration.threshold), "), text.stdout)
        } else {
            XCTAssertTrue(text.stdout.contains("ood       none"), text.stdout)
        }

        let json = try run(["inspect", "--json", "model.mnq8"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((report["header"] as? [String: Any])?["version"] as? Int, 1)
        XCTAssertEqual((report["layers"] as? [Any])?.count, 5)
        XCTAssertEqual((report["sizes"] as? [String: Any])?["file_bytes"] as? Int, modelBytes.count)

        let cut = try run(["inspect", "cut.mnq8"])
        XCTAssertEqual(cut.status, 2)
        XCTAssertTrue(cut.stderr.contains("truncated"), cut.stderr)
        XCTAssertEqual(try run(["inspect", "missing.mnq8"]).status, 2)
    }
}
