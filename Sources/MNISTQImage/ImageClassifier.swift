// Decode → preprocess → classify in one place, so an app does in code what `mnistq classify` does.
import MNISTQRuntime

/// A digit and its softmax probability.
public struct DigitGuess: Sendable, Equatable {
    public var digit: Int
    public var probability: Float
    public init(digit: Int, probability: Float) { self.digit = digit; self.probability = probability }
}

/// Classifies images with an int8 ``Model`` after MNIST-style preprocessing.
///
/// ```swift
/// let classifier = ImageClassifier(model: try Model(bytes: modelBytes))
/// let scratch = InferenceScratch(for: classifier.model)       // one per thread
/// let decoded = try ImageDecoder.decodeFile(atPath: "seven.jpg")
/// let result = try classifier.classify(decoded.images[0], file: "seven.jpg", scratch: scratch)
/// print(result.digit, ImageClassifier.topGuesses(result, count: 3))
/// ```
/// Immutable and `Sendable`: share one across threads, each with its own scratch.
public struct ImageClassifier: Sendable {
    public let model: Model
    /// When false, images must already be 28×28 MNIST-style (0 background, 255 ink) and are used as is.
    public var preprocess: Bool
    public var options: PreprocessOptions

    /// The `jpegMinimumSide` to decode with for this classifier: 256 when preprocessing (a digit filling a tenth
    /// of the shorter side still spans ≥ 25 px, above the 20 px it is scaled to), 0 (full size) without it.
    public var jpegMinimumSide: Int { preprocess ? Self.preprocessingJPEGMinimumSide : 0 }
    /// `jpegMinimumSide` with preprocessing on.
    package static let preprocessingJPEGMinimumSide = 256

    public init(model: Model, preprocess: Bool = true, options: PreprocessOptions = PreprocessOptions()) {
        self.model = model
        self.preprocess = preprocess
        self.options = options
    }

    /// The 28×28 pixels the model will see: `Preprocess.mnistStyle`, or with preprocessing off the image itself
    /// (which must then be 28×28).
    public func modelInput(for image: GrayImage, file: String = "<image>") throws -> [UInt8] {
        if preprocess { return try Preprocess.mnistStyle(image, file: file, options: options) }
        guard image.width == mnistSide && image.height == mnistSide else {
            throw ImageError.notMNISTSize(file: file, width: image.width, height: image.height)
        }
        return image.pixels
    }

    /// Preprocesses and classifies one decoded image.
    public func classify(_ image: GrayImage, file: String = "<image>", scratch: InferenceScratch) throws -> Classification {
        model.classify(pixels: try modelInput(for: image, file: file), scratch: scratch)
    }

    /// The `count` most probable digits, most probable first. Ranked by the exact integer scores (ties: lower
    /// digit first), so the first guess is always `classification.digit`.
    public static func topGuesses(_ classification: Classification, count: Int) -> [DigitGuess] {
        let probabilities = classification.probabilities()
        let scores = classification.scores
        let order = (0..<probabilities.count).sorted { a, b in scores[a] != scores[b] ? scores[a] > scores[b] : a < b }
        return order.prefix(max(0, count)).map { DigitGuess(digit: $0, probability: probabilities[$0]) }
    }
}
