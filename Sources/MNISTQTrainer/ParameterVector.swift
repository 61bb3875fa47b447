// All trainable parameters (or their gradients, or momentum) in one contiguous allocation.

/// Where each of the ten `CNNShape` tensors starts inside one flat float vector (CNNShape order, no padding),
/// so parameters, gradients and momentum are each a single allocation and a checkpoint is one write.
public enum CNNLayout {
    public static let conv1Weight = 0                       // [16, 1, 5, 5]
    public static let conv1Bias = conv1Weight + 16 * 25     // [16]
    public static let conv2Weight = conv1Bias + 16          // [32, 16, 5, 5]
    public static let conv2Bias = conv2Weight + 32 * 400    // [32]
    public static let fc1Weight = conv2Bias + 32            // [120, 1568]
    public static let fc1Bias = fc1Weight + 120 * 1568      // [120]
    public static let fc2Weight = fc1Bias + 120             // [84, 120]
    public static let fc2Bias = fc2Weight + 84 * 120        // [84]
    public static let fc3Weight = fc2Bias + 84              // [10, 84]
    public static let fc3Bias = fc3Weight + 10 * 84         // [10]
    /// Number of floats in the whole vector (212,542).
    public static let count = fc3Bias + 10
    /// Start offset of every tensor, in `CNNShape.names` order.
    public static let offsets = [conv1Weight, conv1Bias, conv2Weight, conv2Bias, fc1Weight, fc1Bias,
                                 fc2Weight, fc2Bias, fc3Weight, fc3Bias]
    /// fan_in of the layer each tensor belongs to (PyTorch's init bound is 1/√fan_in for weights and biases).
    public static let fanIns = [25, 25, 400, 400, 1568, 1568, 120, 120, 84, 84]
}

/// A flat float vector laid out by `CNNLayout`, owning its memory (64-byte aligned for vector loads).
public final class ParameterVector: @unchecked Sendable {
    /// `CNNLayout.count` floats.
    public let storage: UnsafeMutablePointer<Float>
    public var count: Int { CNNLayout.count }

    /// A zero vector.
    public init() {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: CNNLayout.count * 4, alignment: 64)
        storage = raw.initializeMemory(as: Float.self, repeating: 0, count: CNNLayout.count)
    }

    /// A copy of `parameters` in flat layout.
    public convenience init(_ parameters: CNNParameters) {
        self.init()
        for (tensor, offset) in zip(parameters.tensors, CNNLayout.offsets) {
            tensor.withUnsafeBufferPointer { (storage + offset).update(from: $0.baseAddress!, count: $0.count) }
        }
    }

    /// A copy of another vector.
    public convenience init(copying other: ParameterVector) {
        self.init()
        copy(from: other)
    }

    deinit { storage.deallocate() }

    /// The ten tensors as a `CNNParameters` value.
    public var parameters: CNNParameters {
        CNNParameters(tensors: zip(CNNLayout.offsets, CNNShape.counts).map { offset, count in
            Array(UnsafeBufferPointer(start: storage + offset, count: count))
        })
    }

    /// All values as one array (tests, serialisation).
    public var values: [Float] { Array(UnsafeBufferPointer(start: storage, count: count)) }

    public func copy(from other: ParameterVector) { storage.update(from: other.storage, count: count) }

    public func zero() { storage.update(repeating: 0, count: count) }

    /// Overwrites every value from `values` (which must hold `CNNLayout.count` floats).
    public func load(_ values: [Float]) {
        precondition(values.count == count)
        values.withUnsafeBufferPointer { storage.update(from: $0.baseAddress!, count: count) }
    }

    /// True when both vectors hold the same bit patterns (so −0 ≠ +0 and NaNs compare by payload).
    public func bitwiseEqual(_ other: ParameterVector) -> Bool {
        for i in 0..<count where storage[i].bitPattern != other.storage[i].bitPattern { return false }
        return true
    }
}
