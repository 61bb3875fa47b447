// The one way the host side loads an int8 model file: `classify`'s model search and the quantizer's load-back of the
// file it wrote read a path through `load(path:)`; `eval`, `inspect`, `export` and the `--out` check read the raw-byte
// path of their argument like a classify input (mnistq's `ModelFileArgument`) and decode it through `decode`.
import MNISTQRuntime

/// Why a model file could not be loaded: the file could not be read, or the runtime refused its bytes.
package enum ModelLoadError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(path: String, FileReadError)
    case invalid(path: String, ModelError)

    /// "`path`: reason" (the runtime's own message for an invalid file).
    package var description: String {
        switch self {
        case .unreadable(let path, let error): return "\(path): cannot read: \(error.reason)"
        case .invalid(let path, let error): return "\(path): \(error)"
        }
    }
}

package enum ModelLoader {
    /// Reads the model at `path` (regular files only unless `regularFilesOnly` is false; at most `limit` bytes,
    /// `InputLimits.modelFileBytes` by default) and decodes it with the runtime.
    package static func load(path: String, limit: Int = InputLimits.modelFileBytes,
                             regularFilesOnly: Bool = true) throws(ModelLoadError) -> Model {
        let bytes: [UInt8]
        do { bytes = try FileReader.read(path: path, limit: limit, regularFilesOnly: regularFilesOnly) } catch {
            throw .unreadable(path: path, error)
        }
        return try decode(bytes, path: path)
    }

    /// Decodes the bytes of the model file shown as `path` with the runtime.
    package static func decode(_ bytes: [UInt8], path: String) throws(ModelLoadError) -> Model {
        do { return try Model(bytes: bytes) } catch { throw .invalid(path: path, error) }
    }
}
