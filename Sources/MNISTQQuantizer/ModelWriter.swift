// Writing int8 model files: system zlib for the payload, atomic write, and loading the written file back.
import Foundation
import MNISTQData
import MNISTQRuntime
import MNISTQSupport
import MNISTQTrainer

package enum Int8ModelWriter {
    /// zlib stream (RFC 1950, windowBits 15) of `bytes` at level 9, as `ModelFile.encode` requires.
    /// Deterministic: same bytes in, same bytes out (for one zlib build).
    package static func deflate(_ bytes: [UInt8]) throws -> [UInt8] {
        do { return try Zlib.deflate(bytes, level: 9, windowBits: 15) } catch { throw QuantizationError(error.detail) }
    }

    /// The complete model file for `layers` (the runtime's format: header, deflated payload, CRC-32), with the
    /// out-of-distribution section when `outOfDistribution` is given.
    package static func encode(layers: [QuantizedLayer], metadata: [(key: String, value: String)],
                              outOfDistribution: OutOfDistributionCalibration? = nil) throws -> [UInt8] {
        try ModelFile.encode(layers: layers, metadata: metadata, outOfDistribution: outOfDistribution, deflate: deflate)
    }
}

/// Everything `QuantizationJob.run` produced.
package struct QuantizationOutcome: Sendable {
    package var network: QuantizedNetwork
    package var layers: [QuantizedLayer] { network.layers }
    package var report: FidelityReport
    /// The out-of-distribution score's calibration stored in the file.
    package var outOfDistribution: OutOfDistributionCalibration
    /// The bytes written to the output path.
    package var fileBytes: [UInt8]
}

/// Why a quantization job refused to write its output.
package enum QuantizationJobError: Error, CustomStringConvertible, Equatable {
    /// Accuracy dropped more than `--max-drop` allows; nothing was written.
    case dropTooLarge(dropPP: Double, maxDropPP: Double, floatAccuracy: Double, int8Accuracy: Double)
    /// The written file, loaded back by the runtime, did not predict like the in-memory int8 network.
    case loadBackMismatch(path: String, differing: Int, firstImage: Int)
    /// The written file could not be loaded back.
    case loadBackFailed(path: String, detail: String)

    package var description: String {
        switch self {
        case let .dropTooLarge(drop, limit, f, q):
            return String(format: "accuracy drop %.2f pp exceeds --max-drop %.2f pp (float %.2f%%, int8 %.2f%%); no file written",
                          drop, limit, f * 100, q * 100)
        case let .loadBackMismatch(path, n, first):
            return "\(path): the written model, loaded back, predicts differently from the in-memory int8 network on \(n) test images (first: image \(first)); the file was removed. This is a bug in the runtime or the quantizer."
        case let .loadBackFailed(path, detail):
            return "\(path): the written model could not be loaded back (\(detail)); the file was removed. This is a bug in the writer or the loader."
        }
    }
}

/// Quantize → measure on the test images → (refuse if the drop is too large) → write atomically → load back.
package enum QuantizationJob {
    /// Runs the whole job. With `maxDropPP` set and exceeded, throws `.dropTooLarge` and writes nothing.
    /// After writing, loads the file from disk with `Model(bytes:)` and checks that its predictions on every
    /// test image equal the in-memory int8 network's; otherwise removes the file and throws.
    package static func run(parameters: CNNParameters, training: MNISTSplit, test: MNISTSplit, options: QuantizationOptions,
                           maxDropPP: Double?, outputPath: String, sourceDescription: String,
                           progress: QuantizationProgress? = nil) throws -> QuantizationOutcome {
        let (network, report) = try measure(parameters: parameters, training: training, test: test, options: options,
                                            progress: progress)
        if let failure = check(report, maxDropPP: maxDropPP) { throw failure }
        return try write(network: network, report: report, training: training, test: test, options: options, outputPath: outputPath,
                         sourceDescription: sourceDescription, progress: progress)
    }

    /// The first half of `run`: quantize and measure on the test images, writing nothing (so a caller can show
    /// the report even when `check` then refuses it).
    package static func measure(parameters: CNNParameters, training: MNISTSplit, test: MNISTSplit, options: QuantizationOptions,
                               progress: QuantizationProgress? = nil) throws -> (network: QuantizedNetwork, report: FidelityReport) {
        let network = try Quantizer.quantize(parameters: parameters, training: training, options: options, progress: progress)
        let report = try Fidelity.measure(parameters: parameters, reference: network.floatReference, layers: network.layers,
                                          split: test, progress: progress)
        return (network, report)
    }

    /// `.dropTooLarge` when `maxDropPP` is set and the report's drop exceeds it; nil otherwise.
    package static func check(_ report: FidelityReport, maxDropPP: Double?) -> QuantizationJobError? {
        guard let maxDropPP, report.dropPP > maxDropPP + 1e-9 else { return nil }
        return .dropTooLarge(dropPP: report.dropPP, maxDropPP: maxDropPP, floatAccuracy: report.floatAccuracy,
                             int8Accuracy: report.int8Accuracy)
    }

    /// The second half of `run`: writes the model file atomically and loads it back to verify it.
    package static func write(network: QuantizedNetwork, report: FidelityReport, training: MNISTSplit, test: MNISTSplit,
                             options: QuantizationOptions,
                             outputPath: String, sourceDescription: String,
                             outOfDistributionScore form: OutOfDistributionCalibrator.ScoreForm = .classConditional,
                             progress: QuantizationProgress? = nil) throws -> QuantizationOutcome {
        // conv1's channels in the order the vector kernels compute fastest (`ChannelPairing`): the same results.
        let pairingImages = min(ChannelPairing.imageCount, training.count)
        let order = try ChannelPairing.order(layers: network.layers,
                                             images: Array(training.images.pixels.prefix(pairingImages * ModelFormat.inputPixelCount)),
                                             count: pairingImages)
        var network = network
        network.layers = ChannelPairing.apply(order, to: network.layers)
        network.floatReference = ChannelPairing.apply(order, to: network.floatReference)
        let layers = network.layers
        let outOfDistribution = try OutOfDistributionCalibrator.calibrate(layers: layers, images: training.images.pixels,
                                                                          form: form, progress: progress)
        var metadata = self.metadata(options: options, report: report, source: sourceDescription)
        metadata.append((ChannelPairing.metadataKey, order.map(String.init).joined(separator: " ")))
        metadata.append(("ood-calibration", "\(training.count) training images, \((form.trainingUnsureFraction * 1000).rounded() / 10)% unsure"
            + (form == .classConditional ? "" : ", \(form.rawValue)")))
        let bytes = try Int8ModelWriter.encode(layers: layers, metadata: metadata, outOfDistribution: outOfDistribution)
        try AtomicFile.write(bytes, to: outputPath)
        do {
            try verifyWrittenFile(path: outputPath, expected: report.int8Predictions, outOfDistribution: outOfDistribution,
                                  test: test, progress: progress)
        } catch {
            try? FileManager.default.removeItem(atPath: outputPath)
            throw error
        }
        return QuantizationOutcome(network: network, report: report, outOfDistribution: outOfDistribution, fileBytes: bytes)
    }

    /// Metadata stored in the file: how it was made and how well it did (deterministic: no dates, no hosts).
    static func metadata(options: QuantizationOptions, report: FidelityReport, source: String) -> [(key: String, value: String)] {
        [("created-by", "mnistq quantize"),
         ("source-model", source),
         ("calibration-method", options.method == .percentile ? "percentile \(options.percentile)" : options.method.rawValue),
         ("calibration-images", "\(options.calibrationImages)"),
         ("calibration-seed", "\(options.seed)"),
         ("granularity", options.granularity.rawValue),
         ("weight-scale", options.weightScale.rawValue),
         ("bias-correction", options.biasCorrection ? "yes" : "no"),
         ("equalization", "\(options.equalization)"),
         ("weight-rounding", options.rounding.rawValue),
         ("float-accuracy", String(format: "%.4f", report.floatAccuracy)),
         ("int8-accuracy", String(format: "%.4f", report.int8Accuracy)),
         ("agreement", String(format: "%.4f", report.agreement))]
    }

    /// Loads `path` with the runtime and compares its predictions with `expected` on every test image, and its
    /// out-of-distribution calibration with `outOfDistribution`.
    static func verifyWrittenFile(path: String, expected: [UInt8], outOfDistribution: OutOfDistributionCalibration,
                                  test: MNISTSplit, progress: QuantizationProgress?) throws {
        let model: Model
        do { model = try ModelLoader.load(path: path) } catch {
            switch error {
            case .unreadable: throw QuantizationJobError.loadBackFailed(path: path, detail: "cannot read it")
            case .invalid(_, let invalid): throw QuantizationJobError.loadBackFailed(path: path, detail: "\(invalid)")
            }
        }
        if model.outOfDistributionCalibration != outOfDistribution {
            throw QuantizationJobError.loadBackFailed(path: path, detail: "its out-of-distribution section differs from the one written")
        }
        let scratch = InferenceScratch(for: model)
        var differing = 0, first = -1
        test.images.pixels.withUnsafeBufferPointer { all in
            for i in 0..<test.count {
                let pixels = ModelFormat.inputPixelCount
                let digit = model.classify(pixels: UnsafeBufferPointer(rebasing: all[(i * pixels)..<((i + 1) * pixels)]),
                                           scratch: scratch).digit
                if digit != Int(expected[i]) { differing += 1; if first < 0 { first = i } }
                if i % 1000 == 999 || i == test.count - 1 { progress?("verifying written file", i + 1, test.count) }
            }
        }
        if differing > 0 { throw QuantizationJobError.loadBackMismatch(path: path, differing: differing, firstImage: first) }
    }
}
