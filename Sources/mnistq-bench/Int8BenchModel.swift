// Loads the layers of an int8 model file for `mnistq-bench int8 --model` through the runtime's own loader.
import MNISTQRuntime

func loadInt8BenchLayers(path: String) throws -> [QuantizedLayer] {
    try Model(bytes: try readBenchModelFile(path)).layers
}
