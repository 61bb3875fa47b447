// The whole int8 network (conv1, conv2, fc1, fc2, fc3) over one caller-owned arena: reference and fast paths.

/// Executes the fixed MNIST CNN on integer-only kernels.
///
/// Shapes (PyTorch): conv1 `[16, 1, 5, 5]` on 1×28×28 → pooled 16×14×14; conv2 `[32, 16, 5, 5]` → pooled 32×7×7;
/// fc1 `[120, 1568]` (input is the channels-first flatten of 32×7×7); fc2 `[84, 120]`; fc3 `[10, 84]` → 10 scores.
///
/// Setup/execution split: `init` trusts its layers (the model loader validates them; `shapeMismatch(in:)`
/// states the exact requirement) and re-packs weights once; `run` neither allocates, throws nor checks.
/// Thread safety: an `Int8Network` is immutable and may be shared by any number of threads, each with its own
/// arena.
public struct Int8Network: @unchecked Sendable {
    /// The shapes this executor runs, `(kind, outputCount, inputCount)` per layer, in order.
    public static let layerShapes: [(kind: QuantizedLayerKind, outputCount: Int, inputCount: Int)] = [
        (.conv5x5ReluMaxPool, 16, 1), (.conv5x5ReluMaxPool, 32, 16),
        (.linearRelu, 120, 1568), (.linearRelu, 84, 120), (.linearScores, 10, 84),
    ]
    /// Pixels per image (28×28, row-major, uint8).
    public static let pixelCount = 784
    /// Scores per image.
    public static let scoreCount = 10

    /// Why `layers` cannot run here (first problem found, as text), or nil when they can: five layers of
    /// `layerShapes`, every array of the length its shape implies, multipliers ≥ 0, shifts in 1...62,
    /// |bias| ≤ 2^30.
    public static func shapeMismatch(in layers: [QuantizedLayer]) -> String? {
        guard layers.count == layerShapes.count else { return "expected \(layerShapes.count) layers, found \(layers.count)" }
        for (index, (layer, shape)) in zip(layers, layerShapes).enumerated() {
            let name = "layer \(index)"
            if layer.kind != shape.kind { return "\(name): kind \(layer.kind), expected \(shape.kind)" }
            if layer.outputCount != shape.outputCount || layer.inputCount != shape.inputCount {
                return "\(name): shape \(layer.outputCount)×\(layer.inputCount), expected \(shape.outputCount)×\(shape.inputCount)"
            }
            let weightCount = shape.outputCount * shape.inputCount * (shape.kind == .conv5x5ReluMaxPool ? 25 : 1)
            if layer.weights.count != weightCount { return "\(name): \(layer.weights.count) weights, expected \(weightCount)" }
            for (field, count) in [("bias", layer.bias.count), ("multiplier", layer.multiplier.count), ("shift", layer.shift.count)]
            where count != shape.outputCount {
                return "\(name): \(count) \(field) values, expected \(shape.outputCount)"
            }
            if let bad = layer.multiplier.first(where: { $0 < 0 }) { return "\(name): multiplier \(bad) is negative" }
            if let bad = layer.shift.first(where: { !(1...62).contains($0) }) { return "\(name): shift \(bad) outside 1...62" }
            if let bad = layer.bias.first(where: { $0.magnitude > 1 << 30 }) { return "\(name): |bias| \(bad) exceeds 2^30" }
        }
        return nil
    }

    @usableFromInline let layers: [QuantizedLayer]

    /// Re-packs the weights for the fast kernels. `layers` must satisfy `shapeMismatch(in:) == nil`
    /// (the model loader guarantees it); anything else is a programming error and stops the process.
    public init(layers: [QuantizedLayer]) {
        if let problem = Int8Network.shapeMismatch(in: layers) { preconditionFailure("Int8Network: \(problem)") }
        self.layers = layers
    }

    /// Bytes of scratch one `run` or `runReference` call needs (the same arena serves both), including 63 bytes
    /// of slack so that any arena address works (kernels align internally to 64 bytes).
    public var arenaByteCount: Int { Int8Network.arenaByteCount }
    /// `arenaByteCount` without an instance.
    public static var arenaByteCount: Int { ReferenceArena.byteCount + 63 }

    /// Classifies one image; results equal `runReference` bit for bit. (Until the fast kernels land, this runs
    /// the reference kernels.)
    ///
    /// Parameters as in `runReference`.
    public func run(pixels: UnsafePointer<UInt8>, arena: UnsafeMutableRawPointer, scores: UnsafeMutablePointer<Int32>) {
        runReference(pixels: pixels, arena: arena, scores: scores)
    }

    /// Classifies one image with the reference kernels (plain loops, the definition of the results).
    ///
    /// - Parameters:
    ///   - pixels: 784 uint8, row-major 28×28.
    ///   - arena: `arenaByteCount` writable bytes, any alignment, not shared with a concurrent call.
    ///   - scores: 10 Int32 outputs (see `QuantizedLayerKind.linearScores`).
    public func runReference(pixels: UnsafePointer<UInt8>, arena: UnsafeMutableRawPointer, scores: UnsafeMutablePointer<Int32>) {
        let base = alignedArena(arena)
        let act1 = (base + ReferenceArena.conv1Output).assumingMemoryBound(to: UInt8.self)
        let act2 = (base + ReferenceArena.conv2Output).assumingMemoryBound(to: UInt8.self)
        let act3 = (base + ReferenceArena.fc1Output).assumingMemoryBound(to: UInt8.self)
        let act4 = (base + ReferenceArena.fc2Output).assumingMemoryBound(to: UInt8.self)
        let l = layers
        l[0].weights.withUnsafeBufferPointer { w in l[0].bias.withUnsafeBufferPointer { b in
        l[0].multiplier.withUnsafeBufferPointer { m in l[0].shift.withUnsafeBufferPointer { s in
            conv5x5ReluMaxPoolReference_u8s8(input: pixels, inputChannels: 1, height: 28, width: 28,
                                             weights: w.baseAddress!, bias: b.baseAddress!, multiplier: m.baseAddress!,
                                             shift: s.baseAddress!, outputChannels: 16, output: act1)
        } } } }
        l[1].weights.withUnsafeBufferPointer { w in l[1].bias.withUnsafeBufferPointer { b in
        l[1].multiplier.withUnsafeBufferPointer { m in l[1].shift.withUnsafeBufferPointer { s in
            conv5x5ReluMaxPoolReference_u8s8(input: act1, inputChannels: 16, height: 14, width: 14,
                                             weights: w.baseAddress!, bias: b.baseAddress!, multiplier: m.baseAddress!,
                                             shift: s.baseAddress!, outputChannels: 32, output: act2)
        } } } }
        for (index, input, output) in [(2, act2, act3), (3, act3, act4)] {
            let layer = l[index]
            layer.weights.withUnsafeBufferPointer { w in layer.bias.withUnsafeBufferPointer { b in
            layer.multiplier.withUnsafeBufferPointer { m in layer.shift.withUnsafeBufferPointer { s in
                linearReluReference_u8s8(input: input, inputCount: layer.inputCount, weights: w.baseAddress!,
                                         bias: b.baseAddress!, multiplier: m.baseAddress!, shift: s.baseAddress!,
                                         outputCount: layer.outputCount, output: output)
            } } } }
        }
        l[4].weights.withUnsafeBufferPointer { w in l[4].bias.withUnsafeBufferPointer { b in
        l[4].multiplier.withUnsafeBufferPointer { m in l[4].shift.withUnsafeBufferPointer { s in
            linearScoresReference_u8s8(input: act4, inputCount: 84, weights: w.baseAddress!, bias: b.baseAddress!,
                                       multiplier: m.baseAddress!, shift: s.baseAddress!, outputCount: 10, output: scores)
        } } } }
    }
}

/// Rounds an arena address up to 64 bytes (the 63 bytes of slack are in `arenaByteCount`).
@inline(__always)
func alignedArena(_ arena: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(bitPattern: (Int(bitPattern: arena) &+ 63) & ~63)!
}

/// Arena plan of the reference path (uint8 activations, channels first).
enum ReferenceArena {
    static let conv1Output = 0                      // [16, 14, 14] uint8
    static let conv2Output = conv1Output + 16 * 196 // [32, 7, 7] uint8
    static let fc1Output = conv2Output + 32 * 49    // [120] uint8
    static let fc2Output = fc1Output + 120          // [84] uint8
    static let byteCount = fc2Output + 84
}
