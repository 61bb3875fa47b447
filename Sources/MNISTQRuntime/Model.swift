// The public runtime: a validated, immutable int8 model that classifies 28×28 digit images without allocating.
import _MNISTQInt8Kernels

/// A loaded int8 model: validated once at load, then immutable.
///
/// ```swift
/// let model = try Model(bytes: fileBytes)          // all checks happen here
/// let scratch = InferenceScratch(for: model)       // one allocation, reused for every call on this thread
/// let result = model.classify(pixels: image, scratch: scratch)
/// print(result.digit, result.probabilities())
/// ```
///
/// **Thread safety.** A `Model` never changes after `init`, so one instance may be shared by any number of
/// threads. An ``InferenceScratch`` is mutable working memory: give each thread its own.
///
/// **Allocation.** `classify` and `classifyBatch` perform no heap allocation; only `init`,
/// ``InferenceScratch/init(for:)`` and conveniences documented as allocating do.
public struct Model: @unchecked Sendable {
    // @unchecked Sendable: the stored properties are immutable after `init`, and the memory the raw pointers inside
    // `storage`/`executor` reach (the image, the paired weights) is written only in `init` and freed only with the
    // last copy (`ModelStorage.deinit`), so concurrent readers cannot race.

    /// The file's header (version, flags, lengths, CRC-32).
    package let header: ModelHeader
    /// Key/value metadata in file order (e.g. "source-model", "calibration", "float-accuracy", "created-by").
    public let metadata: [(key: String, value: String)]
    /// Bytes of the file this model was loaded from.
    package let fileByteCount: Int
    /// The model as an in-place image in memory this model owns (the kernels' layouts; one allocation), plus the
    /// AVX2 kernels' paired conv weights when that path runs.
    let storage: ModelStorage
    /// The executor over `storage`.
    let executor: InPlaceModel

    /// Loads and fully validates a model file (<doc:ModelFormat>), packed or in-place; inference then trusts the model.
    ///
    /// Checks, stopping at the first failure: magic, version, flags, header length, payload limit, file length,
    /// CRC-32, zlib stream (inflated by this module's own decoder, into at most
    /// ``ModelFormat/maximumPayloadLength`` bytes), then the layers: the fixed network's kinds and shapes,
    /// multipliers in [2^30, 2^31 − 1], shifts in 1...62, weights in −127...127, |bias| ≤ 2^30 (so no Int32
    /// accumulator can overflow), finite scales, and well-formed metadata.
    ///
    /// Memory: the model keeps its in-place image (about 217 KB) and, on a CPU whose fastest kernels are AVX2, 53 KB
    /// of paired conv weights; the inflated payload is freed before `init` returns.
    ///
    /// - Throws: ``ModelError``, one case per failure, never a crash.
    public init(bytes: [UInt8]) throws(ModelError) {
        let decoded = try bytes.withUnsafeBufferPointer { (file) throws(ModelError) in try ModelFile.decode(file) }
        try self.init(header: decoded.0, layers: decoded.1, metadata: decoded.2, outOfDistribution: decoded.3, fileByteCount: bytes.count)
    }

    /// Same as ``init(bytes:)`` for bytes the caller already holds in memory (e.g. a memory-mapped file). Nothing is
    /// borrowed: for running in place without a copy, see ``InPlaceModel``.
    public init(bytes: UnsafeBufferPointer<UInt8>) throws(ModelError) {
        let decoded = try ModelFile.decode(bytes)
        try self.init(header: decoded.0, layers: decoded.1, metadata: decoded.2, outOfDistribution: decoded.3, fileByteCount: bytes.count)
    }

    /// ``init(bytes:)`` running the given kernels where the CPU has them (`.fastest` is what `init(bytes:)` does):
    /// for tests that prove every path on one machine.
    init(bytes: [UInt8], kernels: ModelKernels) throws(ModelError) {
        let decoded = try bytes.withUnsafeBufferPointer { (file) throws(ModelError) in try ModelFile.decode(file) }
        try self.init(header: decoded.0, layers: decoded.1, metadata: decoded.2, outOfDistribution: decoded.3, fileByteCount: bytes.count,
                      kernels: kernels)
    }

    /// A model from an inflated payload (no header, zlib stream or CRC-32): the payload fuzzer's entry point, so that
    /// mutated layers go on through the same checks, image encoding and kernels as a loaded file's.
    /// `hasOutOfDistributionSection`: the payload holds that section (flag bit 1 of a file's header).
    init(payload: [UInt8], hasOutOfDistributionSection: Bool = false) throws(ModelError) {
        let (layers, metadata, outOfDistribution) = try ModelFile.decodePayload(payload,
                                                                                hasOutOfDistributionSection: hasOutOfDistributionSection)
        let header = ModelHeader(describingPayloadOfLength: payload.count, hasOutOfDistributionSection: hasOutOfDistributionSection)
        try self.init(header: header, layers: layers, metadata: metadata, outOfDistribution: outOfDistribution,
                      fileByteCount: payload.count)
    }

    private init(header: ModelHeader, layers: [QuantizedLayer], metadata: [(key: String, value: String)],
                 outOfDistribution: OutOfDistributionCalibration?, fileByteCount: Int,
                 kernels: ModelKernels = .fastest) throws(ModelError) {
        self.header = header
        self.metadata = metadata
        self.fileByteCount = fileByteCount
        storage = try ModelStorage(layers: layers, metadata: metadata, outOfDistribution: outOfDistribution, kernels: kernels)
        executor = InPlaceModel(trusting: storage.image, path: storage.path)
    }

    /// The five layers, in network order (conv1, conv2, fc1, fc2, fc3), in PyTorch weight order as the packed file
    /// stores them. Read back from the model's image: allocates about 215 KB per access (for tools and tests).
    package var layers: [QuantizedLayer] { executor.decoded().layers }

    /// Whether the model holds the out-of-distribution section (flag bit 1), i.e. whether `classify` results carry
    /// ``Classification/outOfDistributionScore``.
    package var hasOutOfDistributionScore: Bool { executor.hasOutOfDistributionScore }
    /// The out-of-distribution calibration (threshold, default minimum confidence, per-class constants), or nil.
    /// Allocates its arrays.
    public var outOfDistributionCalibration: OutOfDistributionCalibration? { executor.outOfDistributionCalibration }

    /// The format version of the file (see ``ModelFormat/supportedVersions``).
    package var formatVersion: Int { Int(header.version) }
    /// Bytes of the uncompressed payload.
    package var payloadByteCount: Int { Int(header.payloadLength) }
    /// Bytes of the compressed payload.
    package var compressedPayloadByteCount: Int { Int(header.compressedLength) }
    /// Number of stored parameters: weights, biases, multipliers and shifts (the float scales are not counted).
    package var parameterCount: Int { ModelFormat.network.reduce(0) { $0 + $1.weightCount + 3 * $1.outputCount } }
    /// The first metadata value stored under `key`, or nil.
    package func metadataValue(forKey key: String) -> String? { metadata.first { $0.key == key }?.value }

    /// Bytes of working memory per thread (what ``InferenceScratch`` allocates): the int8 executor's arena
    /// (activations), then room for the scores of ``batchChunk`` images that `classifyBatch` stages there.
    package var arenaByteCount: Int { outOfDistributionStagingOffset + Model.batchChunk * MemoryLayout<Int32>.size }
    /// Where batch out-of-distribution scores are staged: after the batch scores.
    var outOfDistributionStagingOffset: Int { scoreStagingOffset + Model.batchChunk * Model.classCount * MemoryLayout<Int32>.size }
    /// Where batch scores are staged in the scratch: after the executor's arena, rounded up to 64 bytes.
    var scoreStagingOffset: Int { (executor.pathArenaByteCount + 63) & ~63 }
    /// Images per call into the executor's batch entry point inside `classifyBatch`.
    package static let batchChunk = 32
    /// Real value of one score step: logit ≈ score × `scoreScale` (fc3's informational output scale).
    package var scoreScale: Float { executor.scoreScale }
    /// The kernels `classify` runs on this CPU: "avx512-vnni", "avx2", "neon-dotprod", "neon", "vector",
    /// "armv7em-dsp" or "portable-c".
    public var kernelName: StaticString { executor.kernelName }

    /// Pixels per image (``ModelFormat/inputPixelCount``: 28 × 28, row-major, uint8, 0 = background, white digit on
    /// black as in MNIST).
    package static let pixelCount = ModelFormat.inputPixelCount
    /// Classes: the digits 0...9 (``ModelFormat/classCount``).
    package static let classCount = ModelFormat.classCount

    /// Classifies one image with the fast kernels. Allocation-free and non-throwing.
    ///
    /// - Parameters:
    ///   - pixels: at least ``ModelFormat/inputPixelCount`` bytes (only those are read): 28×28 row-major, 0 = background.
    ///     Fewer bytes is a programming error (checked by a precondition, as for an array subscript).
    ///   - scratch: this thread's scratch (any ``InferenceScratch`` made for a model with the same arena size).
    /// - Returns: the digit with the highest score (the lowest digit on a tie) and all ten scores.
    public func classify(pixels: UnsafeBufferPointer<UInt8>, scratch: InferenceScratch) -> Classification {
        precondition(pixels.count >= Model.pixelCount, "classify needs \(Model.pixelCount) pixels, got \(pixels.count)")
        precondition(scratch.byteCount >= arenaByteCount, "scratch was made for a different model")
        var scores = DigitScores()
        var outOfDistribution: Int32 = 0
        scores.withUnsafeMutablePointer {
            executor.classify(pixels: pixels.baseAddress!, arena: scratch.arena, scores: $0, outOfDistributionScore: &outOfDistribution)
        }
        return Classification(scores: scores, scoreScale: scoreScale,
                              outOfDistributionScore: hasOutOfDistributionScore ? outOfDistribution : nil)
    }

    /// Convenience overload of ``classify(pixels:scratch:)-(UnsafeBufferPointer<UInt8>,_)``; allocation-free too.
    public func classify(pixels: [UInt8], scratch: InferenceScratch) -> Classification {
        pixels.withUnsafeBufferPointer { classify(pixels: $0, scratch: scratch) }
    }

    /// Classifies one image with the reference kernels (plain loops over the PyTorch-order layers, the definition of
    /// the results). Slow, and allocates (it reads the layers back from the image): for tests and debugging. Equal to
    /// ``classify(pixels:scratch:)-(UnsafeBufferPointer<UInt8>,_)`` bit for bit.
    package func classifyReference(pixels: UnsafeBufferPointer<UInt8>, scratch: InferenceScratch) -> Classification {
        precondition(pixels.count >= Model.pixelCount, "classify needs \(Model.pixelCount) pixels, got \(pixels.count)")
        precondition(scratch.byteCount >= arenaByteCount, "scratch was made for a different model")
        var scores = DigitScores()
        let layers = self.layers
        var outOfDistribution: Int32?
        scores.withUnsafeMutablePointer {
            Int8Network.runReference(layers: layers, pixels: pixels.baseAddress!, arena: scratch.arena, scores: $0)
            if let section = executor.outOfDistributionSection {
                let (digit, top) = topOfScores($0)
                let features = UnsafeRawPointer(alignedArena(scratch.arena) + ReferenceArena.fc2Output)
                outOfDistribution = outOfDistributionScore(section: section, digit: digit, top: top) {
                    Int32(features.load(fromByteOffset: $0, as: UInt8.self))
                }
            }
        }
        return Classification(scores: scores, scoreScale: scoreScale, outOfDistributionScore: outOfDistribution)
    }

    /// Classifies `pixels.count / ModelFormat.inputPixelCount` images stored back to back, writing one result per image into `results`.
    /// Each result equals what ``classify(pixels:scratch:)-(UnsafeBufferPointer<UInt8>,_)`` returns for that
    /// image. Allocation-free.
    ///
    /// - Parameters:
    ///   - pixels: n × ``ModelFormat/inputPixelCount`` bytes (n ≥ 0); any other count is a programming error.
    ///   - results: room for at least n results.
    public func classifyBatch(pixels: UnsafeBufferPointer<UInt8>, scratch: InferenceScratch,
                              into results: UnsafeMutableBufferPointer<Classification>) {
        precondition(pixels.count % Model.pixelCount == 0, "batch size \(pixels.count) is not a multiple of \(Model.pixelCount)")
        let imageCount = pixels.count / Model.pixelCount
        precondition(results.count >= imageCount, "results has room for \(results.count), batch has \(imageCount)")
        precondition(scratch.byteCount >= arenaByteCount, "scratch was made for a different model")
        guard imageCount > 0 else { return }
        // The executor's batch entry point, in chunks whose scores are staged in the scratch (no heap allocation).
        let scores = (scratch.arena + scoreStagingOffset).bindMemory(to: Int32.self, capacity: Model.batchChunk * Model.classCount)
        let hasOutOfDistribution = hasOutOfDistributionScore
        let outOfDistribution = (scratch.arena + outOfDistributionStagingOffset).bindMemory(to: Int32.self, capacity: Model.batchChunk)
        var start = 0
        while start < imageCount {
            let count = min(Model.batchChunk, imageCount - start)
            executor.classify(batch: pixels.baseAddress! + start * Model.pixelCount, count: count, arena: scratch.arena,
                              scores: scores, outOfDistributionScores: hasOutOfDistribution ? outOfDistribution : nil)
            for image in 0..<count {
                let row = UnsafeBufferPointer(start: scores + image * Model.classCount, count: Model.classCount)
                results[start + image] = Classification(scores: DigitScores(row), scoreScale: scoreScale,
                                                        outOfDistributionScore: hasOutOfDistribution ? outOfDistribution[image] : nil)
            }
            start += count
        }
    }

    /// Convenience overload of ``classifyBatch(pixels:scratch:into:)``; allocates only the returned array.
    package func classifyBatch(pixels: [UInt8], scratch: InferenceScratch) -> [Classification] {
        let imageCount = pixels.count / Model.pixelCount
        return [Classification](unsafeUninitializedCapacity: imageCount) { buffer, initialized in
            pixels.withUnsafeBufferPointer { classifyBatch(pixels: $0, scratch: scratch, into: buffer) }
            initialized = imageCount
        }
    }
}

/// Which kernels a ``Model`` runs: `.fastest` (what `init(bytes:)` does), or one path forced where the CPU and build
/// have it, else the portable kernels; for tests that prove every path on one machine.
enum ModelKernels {
    case fastest, avx2, vector, portable
}

/// A ``Model``'s memory: its in-place image in one aligned allocation, and the AVX2 kernels' paired conv weights when
/// this CPU's fastest kernels are AVX2. Immutable after `init`; freed with the last model that holds it.
final class ModelStorage {
    let image: UnsafeRawBufferPointer
    let path: ImageKernelPath
    private let allocation: UnsafeMutableRawBufferPointer

    init(layers: [QuantizedLayer], metadata: [(key: String, value: String)], outOfDistribution: OutOfDistributionCalibration?,
         kernels: ModelKernels) throws(ModelError) {
        let bytes = try InPlaceImage.encodeChecked(layers: layers, metadata: metadata, outOfDistribution: outOfDistribution)
        // The fastest path the request allows; this model owns its image, so AVX2's paired weights can be added.
        let choice = KernelFamilyChoice.choose(kernels, canPairConvWeights: true)
        var family: U8KernelFamily?
        if case let .u8(chosen) = choice { family = chosen }
        var hasAVX2 = false
        if case .avx2 = choice { hasAVX2 = true }
        let paired = hasAVX2 ? PackedInt8Weights.pairedConv1ByteCount + PackedInt8Weights.pairedConv2ByteCount : 0
        let imageBytes = (bytes.count + 63) & ~63
        let allocation = UnsafeMutableRawBufferPointer.allocate(byteCount: imageBytes + paired, alignment: 64)
        allocation.initializeMemory(as: UInt8.self, repeating: 0)
        bytes.withUnsafeBytes { allocation.copyMemory(from: $0) }
        self.allocation = allocation
        image = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(allocation)[0..<bytes.count])
        if let family {
            path = .u8(family)
        } else if hasAVX2 {
            let conv1 = (allocation.baseAddress! + imageBytes).assumingMemoryBound(to: Int16.self)
            let conv2 = (allocation.baseAddress! + imageBytes + PackedInt8Weights.pairedConv1ByteCount).assumingMemoryBound(to: Int16.self)
            PackedInt8Weights.packPairedConvWeights(layers, conv1: conv1, conv2: conv2)
            path = .avx2(conv1Paired: UnsafePointer(conv1), conv2Paired: UnsafePointer(conv2))
        } else {
            path = .portable
        }
    }

    deinit { allocation.deallocate() }
}

/// Working memory for inference: one allocation of ``Model/arenaByteCount`` bytes, made once and reused.
///
/// Not thread-safe: use one scratch per thread (a model itself may be shared). Freed when the last reference goes.
public final class InferenceScratch: @unchecked Sendable {
    // @unchecked Sendable: the class itself never changes after `init` (its `let`s); what `classify` writes is the arena
    // the pointer reaches, and the documented rule (one scratch per thread at a time) is what keeps that race-free, as
    // for any buffer handed between threads.

    /// Start of the arena, 64-byte aligned (the batch score staging area relies on it).
    let arena: UnsafeMutableRawPointer
    /// Bytes in the arena.
    package let byteCount: Int

    /// Allocates scratch for `model`.
    public convenience init(for model: Model) { self.init(byteCount: model.arenaByteCount) }

    /// Allocates `byteCount` bytes of scratch (at least ``Model/arenaByteCount`` of the model it is used with;
    /// a smaller scratch is a programming error that `classify` stops on).
    package init(byteCount: Int) {
        self.byteCount = max(0, byteCount)
        arena = UnsafeMutableRawPointer.allocate(byteCount: max(1, byteCount), alignment: 64)
        arena.initializeMemory(as: UInt8.self, repeating: 0, count: max(1, byteCount))
    }

    deinit { arena.deallocate() }
}

/// The ten scores of one image, stored inline (no heap), indexable as a collection of `Int32`.
///
/// Scores are fc3's int32 fixed-point logits (``QuantizedLayerKind/linearScores``): the real logit of digit `d`
/// is about `scores[d] × scoreScale`. They compare exactly, so the argmax is the same on every CPU.
public struct DigitScores: RandomAccessCollection, Equatable, Sendable {
    // SIMD16 gives fixed inline storage; lanes 10...15 stay 0 and are not part of the collection.
    private var lanes = SIMD16<Int32>()

    /// All-zero scores.
    package init() {}
    /// Scores from exactly ten values (a shorter or longer sequence is a programming error).
    package init<S: Sequence>(_ values: S) where S.Element == Int32 {
        var index = 0
        for value in values { precondition(index < 10, "DigitScores holds 10 scores"); lanes[index] = value; index += 1 }
        precondition(index == 10, "DigitScores holds 10 scores, got \(index)")
    }

    /// Always 0: index d holds the score of digit d.
    public var startIndex: Int { 0 }
    /// Always 10.
    public var endIndex: Int { 10 }
    /// The score of digit `position` (0...9; other indices are a programming error).
    public subscript(position: Int) -> Int32 {
        get { precondition((0..<10).contains(position), "digit index out of range"); return lanes[position] }
        set { precondition((0..<10).contains(position), "digit index out of range"); lanes[position] = newValue }
    }

    mutating func withUnsafeMutablePointer<R>(_ body: (UnsafeMutablePointer<Int32>) -> R) -> R {
        Swift.withUnsafeMutablePointer(to: &lanes) { body(UnsafeMutableRawPointer($0).assumingMemoryBound(to: Int32.self)) }
    }
}

/// The result of classifying one image.
public struct Classification: Equatable, Sendable {
    /// The predicted digit, 0...9: the index of the highest score (the lowest such index on a tie).
    public let digit: Int
    /// The ten int32 fixed-point logits (see ``DigitScores``).
    public let scores: DigitScores
    /// Real value of one score step (fc3's output scale).
    package let scoreScale: Float
    /// The "not a digit" score (<doc:ModelFormat#Out-of-distribution-section>): higher is less like the training
    /// digits; above ``OutOfDistributionCalibration/threshold`` the image is out of distribution. Integer, the same on
    /// every CPU. Nil when the model has no out-of-distribution section.
    public let outOfDistributionScore: Int32?

    /// Builds a result from scores; the digit is their argmax, ties going to the lower digit.
    package init(scores: DigitScores, scoreScale: Float, outOfDistributionScore: Int32? = nil) {
        self.digit = Classification.indexOfHighest(scores)
        self.scores = scores
        self.scoreScale = scoreScale
        self.outOfDistributionScore = outOfDistributionScore
    }

    /// Position of the highest of `values` (0 for the first), the lowest such position on a tie: the rule `digit`
    /// follows, for anyone who ranks scores or logits the same way. 0 for an empty collection.
    @inlinable
    package static func indexOfHighest<C: RandomAccessCollection>(_ values: C) -> Int where C.Element: Comparable {
        var best = values.startIndex, position = 0, bestPosition = 0
        for index in values.indices {
            if values[index] > values[best] { best = index; bestPosition = position }
            position += 1
        }
        return bestPosition
    }

    /// Softmax of the dequantized logits (`score × scoreScale`), computed in Float as post-processing, outside the
    /// integer inference: it may differ in the last bits between CPUs, the `digit` never does. Allocates the
    /// returned array. The maximum logit is subtracted first, so large scores cannot overflow `exp`.
    public func probabilities() -> [Float] {
        let top = scores[digit]
        var result = scores.map { expApproximation(Float(Int64($0) - Int64(top)) * scoreScale) }
        let sum = result.reduce(0, +)
        for index in result.indices { result[index] /= sum }
        return result
    }
}

/// e^x for x ≤ 0 without Foundation or libm: range reduction x = k·ln2 + r with |r| ≤ ln2/2, then a degree-7 Taylor
/// polynomial (relative error < 2e-7, below Float precision), then scaling by 2^k.
@inline(__always)
func expApproximation(_ x: Float) -> Float {
    if x < -87 { return 0 }  // e^-87 is below Float's normal range; the softmax term is negligible
    let ln2: Float = 0.693_147_18
    // Round to nearest by hand: `rounded()` can become a call to libm's roundf, and this module links nothing.
    let k = -Float(Int(-x / ln2 + 0.5))
    let r = x - k * ln2
    var term: Float = 1, sum: Float = 1
    for n in 1...7 { term *= r / Float(n); sum += term }
    return sum * Float(sign: .plus, exponent: Int(k), significand: 1)
}
