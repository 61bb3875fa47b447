// `mnistq train --outlier-exposure FILE...`: the options of outlier exposure and the loading of its images.
import ArgumentParser
import MNISTQData
import MNISTQRuntime
import MNISTQQuantizer
import MNISTQTrainer

/// Outlier exposure's options (an option group of `train`).
struct OutlierExposureOptions: ParsableArguments {
    @Option(name: .customLong("outlier-exposure"), parsing: .singleValue,
            help: ArgumentHelp("IDX image file (28×28, white on black, .gz or not) of images that are NOT digits; repeat for several. Each step also trains them towards a uniform softmax, which the \"not a digit\" score needs (samples/README.md). Never the test images the figures are measured on.",
                               valueName: "file"))
    var files: [String] = []

    @Option(name: .customLong("outlier-weight"), help: "Weight λ of the outliers' uniform-target loss (default 0.5).")
    var weight: Float?

    @Option(name: .customLong("outliers-per-batch"), help: "Outlier images added to each step (default: the batch size).")
    var perBatch: Int?

    /// The options given, by name (with --resume they conflict: the checkpoint does not record them).
    var explicitSettings: [String] {
        (files.isEmpty ? [] : ["--outlier-exposure"]) + (weight == nil ? [] : ["--outlier-weight"])
            + (perBatch == nil ? [] : ["--outliers-per-batch"])
    }

    /// The option naming files this run trains on that a checkpoint does not record (so the run cannot be resumed).
    var unrecordedFileOption: String? { files.isEmpty ? nil : "--outlier-exposure" }

    func validate() throws {
        if files.isEmpty && (weight != nil || perBatch != nil) {
            throw ValidationError("--outlier-weight and --outliers-per-batch need --outlier-exposure FILE")
        }
    }

    /// The images of all files, or nil without --outlier-exposure.
    func load(batchSize: Int, seed: UInt64) throws -> OutlierExposure? {
        guard !files.isEmpty else { return nil }
        var pixels: [UInt8] = []
        for file in files {
            let images = try IDX.readImages(path: file)
            guard images.rows == ModelFormat.inputSide && images.columns == ModelFormat.inputSide else {
                throw TrainingError.data("--outlier-exposure \(file): \(images.rows)×\(images.columns) images, expected 28×28")
            }
            pixels += images.pixels
        }
        return try OutlierExposure(pixels: pixels, perBatch: perBatch ?? batchSize, weight: weight ?? 0.5,
                                   seed: seed ^ 0x0071_1E55_0E5E_ED01)
    }
}

extension OutOfDistributionCalibrator.ScoreForm: ExpressibleByArgument {}
