// Loads the layers of an int8 model file for `mnistq-bench int8 --model` through the runtime's own loader.
import Foundation
import MNISTQRuntime

func loadInt8BenchLayers(path: String) throws -> [QuantizedLayer] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw BenchError.usage("--model: cannot read \(path)")
    }
    let model = try Model(bytes: [UInt8](data))
    return model.layers
}
