// The parameters of the classic MNIST CNN, in PyTorch's layouts, so golden vectors load as they are.
import Foundation

/// Names and shapes of the ten parameter tensors, in PyTorch's `state_dict` order.
///
/// conv1: [16, 1, 5, 5] + [16]; conv2: [32, 16, 5, 5] + [32];
/// fc1: [120, 1568] + [120] (input index = channel·49 + y·7 + x, PyTorch's flatten of [32, 7, 7]);
/// fc2: [84, 120] + [84]; fc3: [10, 84] + [10].
public enum CNNShape {
    public static let names = ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                               "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]
    public static let shapes: [[Int]] = [[16, 1, 5, 5], [16], [32, 16, 5, 5], [32],
                                         [120, 1568], [120], [84, 120], [84], [10, 84], [10]]
    /// Number of floats in each tensor, in `names` order.
    public static let counts: [Int] = shapes.map { $0.reduce(1, *) }
    /// Total number of float parameters (212,542).
    public static let totalCount: Int = counts.reduce(0, +)
}

/// All parameters of the CNN as ten flat float arrays in PyTorch layouts (see `CNNShape`).
public struct CNNParameters: Sendable, Equatable {
    /// Tensors in `CNNShape.names` order.
    public var tensors: [[Float]]

    public init(tensors: [[Float]]) {
        precondition(tensors.count == CNNShape.names.count && zip(tensors, CNNShape.counts).allSatisfy { $0.count == $1 },
                     "CNNParameters needs ten tensors with the shapes of CNNShape")
        self.tensors = tensors
    }

    /// All-zero parameters.
    public static var zeros: CNNParameters { CNNParameters(tensors: CNNShape.counts.map { [Float](repeating: 0, count: $0) }) }

    public subscript(name: String) -> [Float] {
        get { tensors[CNNShape.names.firstIndex(of: name)!] }
        set { tensors[CNNShape.names.firstIndex(of: name)!] = newValue }
    }

    /// Loads `<prefix>.<name>.f32` files (raw little-endian float32, as in ../shared/golden) from `directory`.
    public static func loadRaw(directory: String, prefix: String) throws -> CNNParameters {
        var tensors = [[Float]]()
        for (name, count) in zip(CNNShape.names, CNNShape.counts) {
            let path = (directory as NSString).appendingPathComponent("\(prefix).\(name).f32")
            tensors.append(try readRawFloats(path: path, count: count))
        }
        return CNNParameters(tensors: tensors)
    }
}

/// A problem with a float model or checkpoint file.
public struct ModelFileError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let detail: String
    public init(file: String, detail: String) { self.file = file; self.detail = detail }
    public var description: String { "\(file): \(detail)" }
}

/// Reads exactly `count` little-endian float32 values from a raw file.
public func readRawFloats(path: String, count: Int) throws -> [Float] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ModelFileError(file: path, detail: "cannot read the file")
    }
    guard data.count == count * 4 else {
        throw ModelFileError(file: path, detail: "has \(data.count) bytes, expected \(count * 4) (\(count) float32 values)")
    }
    return data.withUnsafeBytes { raw in
        (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
}
