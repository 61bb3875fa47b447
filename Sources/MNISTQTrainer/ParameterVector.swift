// All trainable parameters (or their gradients, or momentum) in one contiguous allocation.
import MNISTQRuntime

/// Where each of the ten `CNNShape` tensors starts inside one flat float vector (CNNShape order, no padding),
/// so parameters, gradients and momentum are each a single allocation and a checkpoint is one write.
enum CNNLayout {
    /// Start offset of every tensor, in `CNNShape.names` order.
    static let offsets: [Int] = CNNShape.counts.indices.map { CNNShape.counts[..<$0].reduce(0, +) }
    static let conv1Weight = offsets[0]   // [16, 1, 5, 5]
    static let conv1Bias = offsets[1]     // [16]
    static let conv2Weight = offsets[2]   // [32, 16, 5, 5]
    static let conv2Bias = offsets[3]     // [32]
    static let fc1Weight = offsets[4]     // [120, 32·7·7]
    static let fc1Bias = offsets[5]       // [120]
    static let fc2Weight = offsets[6]     // [84, 120]
    static let fc2Bias = offsets[7]       // [84]
    static let fc3Weight = offsets[8]     // [10, 84]
    static let fc3Bias = offsets[9]       // [10]
    /// Number of floats in the whole vector (212,542).
    static let count = CNNShape.totalCount
    /// fan_in of the layer each tensor belongs to (PyTorch's init bound is 1/√fan_in for weights and biases):
    /// a weight's elements per output, shared by the bias that follows it.
    static let fanIns: [Int] = CNNShape.shapes.indices.map { CNNShape.shapes[$0 & ~1].dropFirst().reduce(1, *) }
}

/// A flat float vector laid out by `CNNLayout`, owning its memory (64-byte aligned for vector loads).
///
/// `@unchecked Sendable`: the class only owns a fixed allocation (its pointer never changes); the floats behind it
/// are written by one thread at a time by construction: SGD steps and the fixed-range reductions of
/// `SGDTrainer` split every vector into disjoint ranges per thread and join before anyone reads, and evaluation
/// threads only read. The type does not lock; concurrent writers to one range would race.
package final class ParameterVector: @unchecked Sendable {
    /// `CNNLayout.count` floats.
    package let storage: UnsafeMutablePointer<Float>
    package var count: Int { CNNLayout.count }

    /// A zero vector.
    package init() {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: CNNLayout.count * 4, alignment: 64)
        storage = raw.initializeMemory(as: Float.self, repeating: 0, count: CNNLayout.count)
    }

    /// A copy of `parameters` in flat layout.
    package convenience init(_ parameters: CNNParameters) {
        self.init()
        for (tensor, offset) in zip(parameters.tensors, CNNLayout.offsets) {
            tensor.withUnsafeBufferPointer { (storage + offset).update(from: $0.baseAddress!, count: $0.count) }
        }
    }

    /// A copy of another vector.
    package convenience init(copying other: ParameterVector) {
        self.init()
        copy(from: other)
    }

    deinit { storage.deallocate() }

    /// The ten tensors as a `CNNParameters` value.
    package var parameters: CNNParameters {
        CNNParameters(tensors: zip(CNNLayout.offsets, CNNShape.counts).map { offset, count in
            Array(UnsafeBufferPointer(start: storage + offset, count: count))
        })
    }

    /// All values as one array (tests, serialisation).
    package var values: [Float] { Array(UnsafeBufferPointer(start: storage, count: count)) }

    package func copy(from other: ParameterVector) { storage.update(from: other.storage, count: count) }

    package func zero() { storage.update(repeating: 0, count: count) }

    /// Overwrites every value from `values` (which must hold `CNNLayout.count` floats).
    package func load(_ values: [Float]) {
        precondition(values.count == count)
        values.withUnsafeBufferPointer { storage.update(from: $0.baseAddress!, count: count) }
    }

    /// True when both vectors hold the same bit patterns (so −0 ≠ +0 and NaNs compare by payload).
    func bitwiseEqual(_ other: ParameterVector) -> Bool {
        for i in 0..<count where storage[i].bitPattern != other.storage[i].bitPattern { return false }
        return true
    }
}
