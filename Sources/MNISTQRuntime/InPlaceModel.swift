// A model that borrows an in-place image (flash, a memory map, an array) and classifies without any allocation.
import _MNISTQInt8Kernels

/// An int8 model read where it lies: ``init(borrowing:)`` checks an in-place image (<doc:ModelFormat#In-place-image>)
/// completely, then `classify` runs the kernels straight on its bytes. Nothing is copied or allocated from load
/// through classify, so it runs on a microcontroller with the image in flash and an arena of
/// ``arenaByteCount`` bytes in RAM.
///
/// ```swift
/// let model = try InPlaceModel(borrowing: imageBytes)     // all checks happen here; imageBytes must outlive model
/// model.classify(pixels: pixels, arena: arena, scores: scores)
/// ```
///
/// **Lifetime.** The model keeps a pointer to the image: the bytes must stay valid and unchanged while it is used.
/// **Threads.** Immutable: share it freely; give each thread its own arena.
/// **Results** are bit-identical to ``Model``'s on every kernel path.
public struct InPlaceModel: @unchecked Sendable {
    // @unchecked Sendable: every stored property is a `let` of pointers into an image that was checked in `init` and is
    // only read afterwards (the Lifetime rule above forbids changing it), so concurrent readers cannot race.

    /// Which kernels `classify` runs. Every choice gives bit-identical scores.
    package enum Kernels: Sendable {
        /// AVX-512 VNNI or NEON (with the dot-product instructions when the CPU has them) where the CPU runs them,
        /// else the generic-vector kernels where the build has them (64-bit hosts, WebAssembly with simd128), else
        /// the portable C kernels.
        case fastest
        /// The generic-vector kernels (SSE2, simd128, …) where the build has them, else the portable C kernels: what
        /// a CPU without a dedicated family runs (for tests and comparisons on machines that have one).
        case vector
        /// The portable C kernels: dual 16-bit multiply-accumulates, native SMLAD on Armv7E-M (Cortex-M4/M7).
        case portable
    }

    /// The borrowed image.
    package let image: UnsafeRawBufferPointer
    /// Its header (version, flags, lengths, CRC-32).
    package var header: ModelHeader { ModelHeader(trusting: image) }
    let operands: KernelOperands
    let path: ImageKernelPath

    /// Checks `image` completely (header, CRC-32, padding, every weight and constant, metadata; see
    /// ``InPlaceImage/validate(_:)``) and borrows it. Allocation-free unless it throws.
    ///
    /// - Throws: ``ModelError``: the header's errors, ``ModelError/notInPlace`` for a packed `.mnq8`,
    ///   ``ModelError/misaligned(address:alignment:)`` when the image does not start at a multiple of
    ///   ``ModelFormat/inPlaceAlignment``, then the body's errors.
    public init(borrowing image: UnsafeRawBufferPointer) throws(ModelError) {
        try self.init(borrowing: image, kernels: .fastest)
    }

    /// ``init(borrowing:)`` running the given kernels where the CPU and build have them: for tests and benchmarks
    /// that compare the kernel families on one machine.
    package init(borrowing image: UnsafeRawBufferPointer, kernels: Kernels) throws(ModelError) {
        let header = try ModelHeader(image.uint8Buffer())
        if !header.isInPlace { throw .notInPlace }
        let address = UInt(bitPattern: image.baseAddress)
        if address % UInt(ModelFormat.inPlaceAlignment) != 0 { throw .misaligned(address: address, alignment: ModelFormat.inPlaceAlignment) }
        try InPlaceImage.validateBody(image, header: header)
        self.image = image
        operands = InPlaceModel.operands(of: image.baseAddress!)
        path = InPlaceModel.path(for: kernels)
    }

    /// The path `kernels` asks for, as far as this CPU and build have it (``KernelFamilyChoice``; a borrowed image
    /// cannot add AVX2's paired weights).
    static func path(for kernels: Kernels) -> ImageKernelPath {
        let request: ModelKernels
        switch kernels {
        case .fastest: request = .fastest
        case .vector: request = .vector
        case .portable: request = .portable
        }
        switch KernelFamilyChoice.choose(request, canPairConvWeights: false) {
        case let .u8(family): return .u8(family)
        case .avx2, .portable: return .portable
        }
    }

    /// The kernels' view of an image's sections.
    static func operands(of base: UnsafeRawPointer) -> KernelOperands {
        KernelOperands(base: base) { kind, layer in
            switch kind {
            case 0: return InPlaceImage.weightOffset(of: layer)
            case 1: return InPlaceImage.biasOffset(of: layer)
            case 2: return InPlaceImage.multiplierOffset(of: layer)
            default: return InPlaceImage.shiftOffset(of: layer)
            }
        }
    }

    /// Bytes of arena one `classify` call needs, for every kernel path, including 63 bytes of slack so that any
    /// arena address works (the kernels align it to 64 bytes).
    public static var arenaByteCount: Int { max(U8BatchArena.byteCount, PortableArena.byteCount, FastArena.byteCount) + 63 }

    /// Bytes of arena this model's `classify` needs on the kernels it runs here (at most ``arenaByteCount``): 13 KB
    /// with VNNI or the vector kernels (4 images' conv2 outputs for the batch path), 7 KB with NEON, 14 KB with AVX2,
    /// 21 KB with the portable kernels (their widened-weight scratch).
    package var pathArenaByteCount: Int {
        switch path {
        case let .u8(family) where family.batchKernels != nil: return U8BatchArena.byteCount + 63
        case .u8: return VNNIArena.byteCount + 63
        case .avx2: return FastArena.byteCount + 63
        case .portable: return PortableArena.byteCount + 63
        }
    }

    /// The kernels `classify` runs here: "avx512-vnni", "neon-dotprod", "neon", "avx2" (``Model`` only), "vector"
    /// (generic vectors: SSE2, simd128), "armv7em-dsp" (the portable kernels on a CPU with the Armv7E-M DSP
    /// instructions) or "portable-c".
    package var kernelName: StaticString {
        switch path {
        case let .u8(family): return family.name
        case .avx2: return "avx2"
        case .portable: return mnistq_portable_uses_dsp() != 0 ? "armv7em-dsp" : "portable-c"
        }
    }

    /// Real value of one score step (fc3's output scale): logit ≈ score × `scoreScale`.
    package var scoreScale: Float {
        Float(bitPattern: image.loadLittleEndian(UInt32.self, at: InPlaceImage.outputScaleOffset(of: 4)))
    }

    /// Classifies one image: ``ModelFormat/inputPixelCount`` pixels (28×28 row-major, 0 = background) into 10 int32 scores. Allocation-free,
    /// non-throwing, no checks (the model was checked at load).
    ///
    /// - Parameters:
    ///   - arena: ``arenaByteCount`` writable bytes, any alignment, not used by a concurrent call.
    ///   - scores: room for 10 Int32.
    public func classify(pixels: UnsafePointer<UInt8>, arena: UnsafeMutableRawPointer, scores: UnsafeMutablePointer<Int32>) {
        let base = alignedArena(arena)
        switch path {
        case let .u8(family):
            for stage in 0..<5 { runU8Stage(stage, family, operands, pixels: pixels, base: base, scores: scores) }
        case let .avx2(conv1Paired, conv2Paired):
            for stage in 0..<5 {
                runAVX2Stage(stage, operands, conv1Paired: conv1Paired, conv2Paired: conv2Paired, pixels: pixels, base: base, scores: scores)
            }
        case .portable:
            for stage in 0..<5 { runPortableStage(stage, operands, pixels: pixels, base: base, scores: scores) }
        }
    }

    /// Classifies `count` images stored back to back (``ModelFormat/inputPixelCount`` bytes each) into `count` × 10 scores; each image's scores
    /// equal ``classify(pixels:arena:scores:)``'s. Allocation-free. With AVX-512 VNNI and the vector kernels the linear
    /// layers run for 4 images at a time, reading their weights once per group.
    public func classify(batch pixels: UnsafePointer<UInt8>, count: Int, arena: UnsafeMutableRawPointer,
                         scores: UnsafeMutablePointer<Int32>) {
        classify(batch: pixels, count: count, arena: arena, scores: scores, outOfDistributionScores: nil)
    }

    /// ``classify(batch:count:arena:scores:)`` that also writes each image's out-of-distribution score (see
    /// ``classify(pixels:arena:scores:outOfDistributionScore:)``) into `outOfDistributionScores` (room for `count`
    /// Int32; nothing is written there when the model has no out-of-distribution section). Allocation-free.
    package func classify(batch pixels: UnsafePointer<UInt8>, count: Int, arena: UnsafeMutableRawPointer,
                         scores: UnsafeMutablePointer<Int32>, outOfDistributionScores: UnsafeMutablePointer<Int32>?) {
        let section = outOfDistributionScores == nil ? nil : outOfDistributionSection
        if case let .u8(family) = path, let kernels = family.batchKernels {
            runU8Batch(operands, kernels: kernels, pixels: pixels, count: count, arena: arena, scores: scores,
                         outOfDistribution: section, outOfDistributionScores: outOfDistributionScores)
            return
        }
        for image in 0..<count {
            classify(pixels: pixels + image * Model.pixelCount, arena: arena, scores: scores + image * Model.classCount,
                     outOfDistributionScore: section == nil ? nil : outOfDistributionScores! + image)
        }
    }

    /// ``classify(pixels:arena:scores:)``, then the image's out-of-distribution score into `outOfDistributionScore`
    /// when the model has the section (``hasOutOfDistributionScore``; else nothing is written there). The score is
    /// <doc:ModelFormat#Out-of-distribution-section>'s: integers only, from fc2's features that `classify` left in
    /// the arena and the top score, so it is the same on every kernel path. Allocation-free; it adds 84
    /// multiply-adds to the 3 million of a classification.
    public func classify(pixels: UnsafePointer<UInt8>, arena: UnsafeMutableRawPointer, scores: UnsafeMutablePointer<Int32>,
                         outOfDistributionScore: UnsafeMutablePointer<Int32>?) {
        classify(pixels: pixels, arena: arena, scores: scores)
        guard let outOfDistributionScore, let section = outOfDistributionSection else { return }
        outOfDistributionScore.pointee = scoreOutOfDistribution(section, base: alignedArena(arena), scores: scores)
    }

    /// ``classify(pixels:arena:scores:)``, then copies the image's penultimate features (fc2's 84 uint8 outputs, in
    /// PyTorch order) into `features`: what the out-of-distribution score reads, for its calibration (`mnistq
    /// quantize`) and for tools. Allocation-free.
    package func classify(pixels: UnsafePointer<UInt8>, arena: UnsafeMutableRawPointer, scores: UnsafeMutablePointer<Int32>,
                         penultimateFeatures features: UnsafeMutablePointer<UInt8>) {
        classify(pixels: pixels, arena: arena, scores: scores)
        let base = alignedArena(arena)
        for j in 0..<OutOfDistributionLayout.featureCount { features[j] = UInt8(truncatingIfNeeded: feature(j, base: base)) }
    }

    /// Feature `j` (0..<84) of fc2's output that `classify` left in the arena at `base`, in this path's layout.
    @inline(__always)
    func feature(_ j: Int, base: UnsafeMutableRawPointer) -> Int32 {
        switch path {
        case .u8: return Int32(UnsafeRawPointer(base + VNNIArena.fc2Output).load(fromByteOffset: j, as: UInt8.self))
        case .avx2: return Int32(UnsafeRawPointer(base + FastArena.fc2Output).assumingMemoryBound(to: Int16.self)[j])
        case .portable:
            // Pair order: within each group of 4, values v0 v2 v1 v3.
            let lane = j & 3
            return Int32(UnsafeRawPointer(base + PortableArena.fc2Output).assumingMemoryBound(to: Int16.self)[(j & ~3) | (lane == 1 ? 2 : lane == 2 ? 1 : lane)])
        }
    }

    /// The out-of-distribution score from the fc2 features `classify` left in the arena at `base` (this path's layout).
    func scoreOutOfDistribution(_ section: UnsafeRawPointer, base: UnsafeMutableRawPointer, scores: UnsafePointer<Int32>) -> Int32 {
        let (digit, top) = topOfScores(scores)
        switch path {
        case .u8:
            let features = UnsafeRawPointer(base + VNNIArena.fc2Output)
            return outOfDistributionScore(section: section, digit: digit, top: top) { Int32(features.load(fromByteOffset: $0, as: UInt8.self)) }
        case .avx2:
            let features = UnsafeRawPointer(base + FastArena.fc2Output).assumingMemoryBound(to: Int16.self)
            return outOfDistributionScore(section: section, digit: digit, top: top) { Int32(features[$0]) }
        case .portable:
            // Pair order: within each group of 4, values v0 v2 v1 v3.
            let features = UnsafeRawPointer(base + PortableArena.fc2Output).assumingMemoryBound(to: Int16.self)
            return outOfDistributionScore(section: section, digit: digit, top: top) {
                let lane = $0 & 3
                return Int32(features[($0 & ~3) | (lane == 1 ? 2 : lane == 2 ? 1 : lane)])
            }
        }
    }

    /// Whether the image holds the out-of-distribution section (flag bit 1), i.e. whether the score is available.
    package var hasOutOfDistributionScore: Bool {
        image.loadLittleEndian(UInt16.self, at: ModelFormat.Offset.flags) & ModelFormat.outOfDistributionFlag != 0
    }

    /// The section's start in the image, or nil.
    var outOfDistributionSection: UnsafeRawPointer? {
        hasOutOfDistributionScore ? image.baseAddress! + InPlaceImage.outOfDistributionOffset : nil
    }

    /// The calibration the image stores (threshold, default minimum confidence, per-class constants), or nil.
    /// Allocates its arrays; for tools and tests.
    package var outOfDistributionCalibration: OutOfDistributionCalibration? {
        outOfDistributionSection.map { OutOfDistributionCalibration.read($0) }
    }

    /// ``classify(pixels:arena:scores:)`` with an ``InferenceScratch`` of at least ``arenaByteCount`` bytes, returning
    /// the digit, scores and out-of-distribution score (as ``Model/classify(pixels:scratch:)-(UnsafeBufferPointer<UInt8>,_)`` does). Allocation-free.
    package func classify(pixels: UnsafeBufferPointer<UInt8>, scratch: InferenceScratch) -> Classification {
        precondition(pixels.count >= Model.pixelCount, "classify needs \(Model.pixelCount) pixels, got \(pixels.count)")
        precondition(scratch.byteCount >= InPlaceModel.arenaByteCount, "scratch is smaller than InPlaceModel.arenaByteCount")
        var scores = DigitScores()
        var outOfDistribution: Int32 = 0
        scores.withUnsafeMutablePointer {
            classify(pixels: pixels.baseAddress!, arena: scratch.arena, scores: $0, outOfDistributionScore: &outOfDistribution)
        }
        return Classification(scores: scores, scoreScale: scoreScale,
                              outOfDistributionScore: hasOutOfDistributionScore ? outOfDistribution : nil)
    }

    /// The layers and metadata in the packed format's terms (PyTorch weight order). Allocates; for tools and tests.
    package func decoded() -> (layers: [QuantizedLayer], metadata: [(key: String, value: String)]) {
        // init checked these bytes (and they may not change: see Lifetime), so they are read without checking again.
        let (layers, metadata, _) = InPlaceImage.read(image)
        return (layers, metadata)
    }
}

/// The one place a kernel family is chosen, for ``Model`` and ``InPlaceModel`` alike: a dedicated u8 family (AVX-512
/// VNNI, NEON with or without dot product) when the request is `.fastest` and the CPU has one, then AVX2 (only for a
/// caller that owns its image and can add the paired conv weights AVX2 reads), then the generic-vector kernels where
/// the build has them, then the portable C kernels. Every choice gives bit-identical scores.
enum KernelFamilyChoice {
    case u8(U8KernelFamily), avx2, portable

    static func choose(_ request: ModelKernels, canPairConvWeights: Bool) -> KernelFamilyChoice {
        if request == .fastest, let dedicated = U8KernelFamily.fastestAvailable { return .u8(dedicated) }
        if canPairConvWeights && (request == .fastest || request == .avx2) && mnistq_int8_avx2_available() != 0 { return .avx2 }
        if (request == .fastest || request == .vector) && U8KernelFamily.vectorAvailable { return .u8(.vector) }
        return .portable
    }
}

/// The kernel families an in-place image runs on. AVX2's conv kernels read weights paired as int16, which an image
/// does not store: only a ``Model``, which owns its image, adds them (a borrowed image runs a u8 family or portable).
enum ImageKernelPath {
    case u8(U8KernelFamily)
    case avx2(conv1Paired: UnsafePointer<Int16>, conv2Paired: UnsafePointer<Int16>)
    case portable
}
