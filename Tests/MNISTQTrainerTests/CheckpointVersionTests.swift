// Checkpoint version 3 records the model path (so `train --resume` writes to the run's own files); version 2 files
// (without it) still resume; `epochs` extends a run.
import Foundation
import MNISTQData
import MNISTQRuntime
@testable import MNISTQTrainer
import XCTest

final class CheckpointVersionTests: XCTestCase {
    func testModelPathRoundTripsAndVersion2StillResumes() throws {
        let mnist = try MNIST.loadTrain(directory: ProcessInfo.processInfo.environment["MNIST_DIR"] ?? "../shared/mnist")
        let data = TrainingData(trainPixels: mnist.images.pixels, trainLabels: mnist.labels)
        var c = TrainingConfiguration()
        c.epochs = 2; c.trainLimit = 300; c.validationCount = 100; c.seed = 1; c.warmupSteps = 0
        let t = try Training(configuration: c, data: data, threads: 1)
        try t.run(maxEpochs: 1, threads: 1)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        let v3 = folder.appendingPathComponent("v4.ckpt").path   // the current version (named for the model path it added)
        try Checkpoint.save(t, to: v3, modelPath: "/runs/ünï/a.mnqf")
        let (header, resumed) = try Checkpoint.resumeWithHeader(path: v3, data: data, threads: 1)
        XCTAssertEqual(header.modelPath, "/runs/ünï/a.mnqf")
        XCTAssertEqual(resumed.epochsDone, 1)

        // Version 2: the version 3 bytes without the model path (an empty one is 4 zero bytes before the CRC).
        var bytes = Checkpoint.encode(t, version: 3)
        XCTAssertEqual(Array(bytes[bytes.count - 8 ..< bytes.count - 4]), [0, 0, 0, 0])
        bytes.removeLast(8)
        bytes.replaceSubrange(4..<8, with: [2, 0, 0, 0])
        let crc = CRC32.checksum(bytes)
        bytes += [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 24)]
        XCTAssertEqual(bytes, Checkpoint.encode(t, version: 2), "the encoder's version 2 layout is the one read here")
        let v2 = folder.appendingPathComponent("v2.ckpt").path
        try Data(bytes).write(to: URL(fileURLWithPath: v2))
        let (oldHeader, old) = try Checkpoint.resumeWithHeader(path: v2, data: data, threads: 1)
        XCTAssertNil(oldHeader.modelPath)
        XCTAssertTrue(old.sgd.parameters.bitwiseEqual(resumed.sgd.parameters))

        // Extending: 2 → 4 epochs; fewer than done is refused.
        let extended = try Checkpoint.resumeWithHeader(path: v3, data: data, threads: 1, epochs: 4).training
        XCTAssertEqual(extended.configuration.epochs, 4)
        try extended.run(threads: 1)
        XCTAssertEqual(extended.epochsDone, 4)
        XCTAssertThrowsError(try Checkpoint.resumeWithHeader(path: v3, data: data, threads: 1, epochs: 1)) { error in
            XCTAssertTrue("\(error)".contains("the run has done 1 epochs already; --epochs 1 must be more than that"), "\(error)")
        }
    }

    /// The schedule is stored by an explicit code, the values checkpoints have always held (the enum's case
    /// positions when this was written), at byte 32: after magic, version, epochs, batch size, lr, momentum, seed.
    func testScheduleIsStoredByItsExplicitCode() throws {
        XCTAssertEqual(LearningRateSchedule.allCases.map(\.checkpointCode), [0, 1, 2])
        XCTAssertEqual([LearningRateSchedule.none, .step, .cosine].map(\.checkpointCode), [0, 1, 2])
        XCTAssertNil(LearningRateSchedule(checkpointCode: 3))
        let images = 4
        let data = TrainingData(trainPixels: [UInt8](repeating: 0, count: images * CNNSize.inputPixels),
                                trainLabels: [UInt8](repeating: 0, count: images))
        for schedule in LearningRateSchedule.allCases {
            var c = TrainingConfiguration()
            c.schedule = schedule; c.validationCount = 0; c.restoreBest = false
            let bytes = Checkpoint.encode(try Training(configuration: c, data: data, threads: 1))
            XCTAssertEqual(Array(bytes[32..<36]), [UInt8(schedule.checkpointCode), 0, 0, 0], "\(schedule)")
            var r = ByteReader(bytes, end: bytes.count - 4)
            _ = try r.take(8)
            XCTAssertEqual(try TrainingConfiguration(reading: &r, file: "x.ckpt"), c)
        }
    }
}
