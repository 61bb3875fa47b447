// `mnistq train --extra-digits IMAGES --extra-labels LABELS`: more labelled digits beside MNIST's training split.
import ArgumentParser
import MNISTQData
import MNISTQRuntime
import MNISTQTrainer

/// Extra labelled digit images (an option group of `train`), e.g. the photo-style renderings of the training split
/// that `mnistq-bench photos --split train --write-idx DIR` writes (samples/README.md).
struct ExtraDigitsOptions: ParsableArguments {
    @Option(name: .customLong("extra-digits"), parsing: .singleValue,
            help: ArgumentHelp("IDX image file (28×28, white on black, .gz or not) of more labelled digits to train on beside MNIST's training split; repeat for several, each with its --extra-labels in the same order. They are never held out for validation. Never test images.",
                               valueName: "file"))
    var imageFiles: [String] = []

    @Option(name: .customLong("extra-labels"), parsing: .singleValue,
            help: ArgumentHelp("IDX label file (0...9) of the --extra-digits file in the same position.", valueName: "file"))
    var labelFiles: [String] = []

    /// The options given, by name (with --resume they conflict: the checkpoint does not record them).
    var explicitSettings: [String] {
        (imageFiles.isEmpty ? [] : ["--extra-digits"]) + (labelFiles.isEmpty ? [] : ["--extra-labels"])
    }

    /// The option naming files this run trains on that a checkpoint does not record (so the run cannot be resumed).
    var unrecordedFileOption: String? { imageFiles.isEmpty ? nil : "--extra-digits" }

    func validate() throws {
        guard imageFiles.count == labelFiles.count else {
            throw ValidationError("each --extra-digits file needs its --extra-labels file (got \(imageFiles.count) image and \(labelFiles.count) label files)")
        }
    }

    /// Appends the images of every file pair to `data`'s training images.
    func append(to data: inout TrainingData) throws {
        for (images, labels) in zip(imageFiles, labelFiles) {
            let pixels = try IDX.readImages(path: images)
            guard pixels.rows == ModelFormat.inputSide && pixels.columns == ModelFormat.inputSide else {
                throw TrainingError.data("--extra-digits \(images): \(pixels.rows)×\(pixels.columns) images, expected 28×28")
            }
            let digits = try IDX.readLabels(path: labels)
            guard digits.count == pixels.count else {
                throw TrainingError.data("--extra-labels \(labels) has \(digits.count) labels for the \(pixels.count) images of \(images)")
            }
            try data.appendExtraDigits(pixels: pixels.pixels, labels: digits)
        }
    }
}
