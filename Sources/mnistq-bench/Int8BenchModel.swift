// Loads the layers of an int8 model file for `mnistq-bench int8 --model` (through the runtime's loader).
import MNISTQRuntime

func loadInt8BenchLayers(path: String) throws -> [QuantizedLayer] {
    throw BenchError.usage("--model: the runtime's model loader is not wired into the benchmark yet")
}
