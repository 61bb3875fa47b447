// The parameters of the classic MNIST CNN, in PyTorch's layouts, so golden vectors load as they are.
import Foundation
import MNISTQRuntime

/// The sizes the trainer's loops use, all derived from the one network description (`ModelFormat`), named
/// for the trainer's buffers. Static lets of Int: each is computed once, and a loop bound stays a plain load.
enum CNNSize {
    /// 28: the input image's side, and conv1's (padding 2 keeps it).
    static let inputSide = ModelFormat.inputSide
    /// 28·28 pixels of one image.
    static let inputPixels = ModelFormat.inputPixelCount
    static let conv1Channels = ModelFormat.conv1Channels
    static let conv2Channels = ModelFormat.conv2Channels
    /// 14: pool1's side, conv2's input and output side.
    static let pool1Side = ModelFormat.conv1OutputSide
    /// 196 positions of one pool1 / conv2 channel.
    static let pool1Plane = pool1Side * pool1Side
    /// 16·14·14 floats of pool1 per image.
    static let pool1Count = conv1Channels * pool1Plane
    /// 32·7·7: pool2 per image, fc1's input.
    static let flattened = ModelFormat.flattenedFeatureCount
    static let fc1Features = ModelFormat.fc1Features
    static let fc2Features = ModelFormat.fc2Features
    static let classes = ModelFormat.classCount
    /// im2col rows × columns of conv1 (25 × 28·28) and conv2 (400 × 196).
    static let conv1Columns = Conv2d.taps * inputPixels
    static let conv2Columns = conv1Channels * Conv2d.taps * pool1Plane
}

/// Names and shapes of the ten parameter tensors, in PyTorch's `state_dict` order, from `ModelFormat`'s sizes.
///
/// conv1: [16, 1, 5, 5] + [16]; conv2: [32, 16, 5, 5] + [32];
/// fc1: [120, 32·7·7] + [120] (input index = channel·49 + y·7 + x, PyTorch's flatten of [32, 7, 7]);
/// fc2: [84, 120] + [84]; fc3: [10, 84] + [10].
package enum CNNShape {
    package static let names = ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                                "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]
    static let shapes: [[Int]] = {
        let k = ModelFormat.kernelSide, c1 = ModelFormat.conv1Channels, c2 = ModelFormat.conv2Channels
        let f1 = ModelFormat.fc1Features, f2 = ModelFormat.fc2Features, classes = ModelFormat.classCount
        return [[c1, 1, k, k], [c1], [c2, c1, k, k], [c2],
                [f1, ModelFormat.flattenedFeatureCount], [f1], [f2, f1], [f2], [classes, f2], [classes]]
    }()
    /// Number of floats in each tensor, in `names` order.
    static let counts: [Int] = shapes.map { $0.reduce(1, *) }
    /// Total number of float parameters (212,542).
    static let totalCount: Int = counts.reduce(0, +)
}

/// All parameters of the CNN as ten flat float arrays in PyTorch layouts (see `CNNShape`).
package struct CNNParameters: Sendable, Equatable {
    /// Tensors in `CNNShape.names` order.
    package var tensors: [[Float]]

    package init(tensors: [[Float]]) {
        precondition(tensors.count == CNNShape.names.count && zip(tensors, CNNShape.counts).allSatisfy { $0.count == $1 },
                     "CNNParameters needs ten tensors with the shapes of CNNShape")
        self.tensors = tensors
    }

    /// All-zero parameters.
    package static var zeros: CNNParameters { CNNParameters(tensors: CNNShape.counts.map { [Float](repeating: 0, count: $0) }) }

    package subscript(name: String) -> [Float] {
        get { tensors[CNNShape.names.firstIndex(of: name)!] }
        set { tensors[CNNShape.names.firstIndex(of: name)!] = newValue }
    }

    /// Loads `<prefix>.<name>.f32` files (raw little-endian float32, as in ../shared/golden) from `directory`.
    package static func loadRaw(directory: String, prefix: String) throws -> CNNParameters {
        var tensors = [[Float]]()
        for (name, count) in zip(CNNShape.names, CNNShape.counts) {
            let path = (directory as NSString).appendingPathComponent("\(prefix).\(name).f32")
            tensors.append(try readRawFloats(path: path, count: count))
        }
        return CNNParameters(tensors: tensors)
    }
}

/// A problem with a float model or checkpoint file.
struct ModelFileError: Error, CustomStringConvertible, Equatable {
    package let file: String
    package let detail: String
    package init(file: String, detail: String) { self.file = file; self.detail = detail }
    package var description: String { "\(file): \(detail)" }
}

/// Reads exactly `count` little-endian float32 values from a raw file.
package func readRawFloats(path: String, count: Int) throws -> [Float] {
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
