// Where a float model comes from: a trainer model file (.mnqf) or a golden-style directory of raw float32 tensors.
import Foundation
import MNISTQTrainer

package enum FloatModelSource {
    /// Loads a float model from `path`: a directory holding `<prefix>.<name>.f32` files (PyTorch layouts, as in
    /// ../shared/golden; prefix `trained` tried first, then `model`) or a float model file from `mnistq train`.
    package static func load(path: String) throws -> CNNParameters {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw QuantizationError("\(path): no such file or directory; hint: pass --model with a model from `mnistq train` or a directory of trained.*.f32 files")
        }
        if isDirectory.boolValue {
            for prefix in ["trained", "model"] {
                let probe = (path as NSString).appendingPathComponent("\(prefix).conv1.weight.f32")
                if FileManager.default.fileExists(atPath: probe) {
                    return try CNNParameters.loadRaw(directory: path, prefix: prefix)
                }
            }
            throw QuantizationError("\(path): directory has no trained.conv1.weight.f32 (nor model.conv1.weight.f32); hint: a raw float model directory holds trained.<layer>.<weight|bias>.f32 files in PyTorch layouts")
        }
        return try FloatModelFile.load(path: path)
    }
}
