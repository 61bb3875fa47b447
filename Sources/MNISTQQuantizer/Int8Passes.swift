// Int8 passes the quantizer needs (calibration layer outputs, whole-network evaluation), run by the runtime's executor.
import MNISTQRuntime

/// The quantizer has no int8 arithmetic of its own: every int8 result comes from the runtime's `Int8Network`
/// (fast kernels, proven bit-identical to its reference kernels by the runtime's tests), so what is measured
/// while quantizing is exactly what a model file will compute.
enum Int8Passes {
    /// The runtime's executor over the network's first `layers.count` layers (1...5): the outputs of the given layers
    /// can be read while the later ones are still being calibrated (a layer's output never depends on the layers
    /// after it).
    static func network(prefix layers: [QuantizedLayer]) throws -> Int8Network {
        do {
            return try Int8Network(checking: layers)
        } catch {
            throw QuantizationError("internal: the quantized layers cannot run on the int8 executor: \(error)")
        }
    }

    /// uint8 outputs of layer `layers.count − 1` (0 conv1 … 3 fc2) for `count` images of `pixels` ([count, ModelFormat.inputPixelCount]),
    /// as [count, outputSize] in PyTorch order.
    static func lastLayerOutputs(layers: [QuantizedLayer], pixels: [UInt8], count: Int) throws -> [UInt8] {
        let network = try network(prefix: layers)
        let l = layers.count - 1, size = LayerGeometry.outputSizes[l]
        var outputs = [UInt8](repeating: 0, count: count * size)
        let arena = UnsafeMutableRawPointer.allocate(byteCount: network.arenaByteCount, alignment: 64)
        defer { arena.deallocate() }
        pixels.withUnsafeBufferPointer { px in
            for k in 0..<count {
                let values = network.layerOutputs(pixels: px.baseAddress! + k * ModelFormat.inputPixelCount, reference: false, arena: arena)[l]
                for j in 0..<size { outputs[k * size + j] = UInt8(values[j]) }
            }
        }
        return outputs
    }
}
