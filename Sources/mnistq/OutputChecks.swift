// Checks on where a command will write, done before any work starts (a typo in --out must not cost a training run).
import Foundation
import MNISTQImage
import MNISTQRuntime

/// A reason not to start: the message names the flag, the path and what to do.
struct OutputLocationError: Error, CustomStringConvertible {
    let description: String
}

enum OutputCheck {
    /// `path`'s folder must already exist and be writable, and `path` must not be a folder. Nothing is created:
    /// a mistyped --out would otherwise silently grow a folder tree somewhere far away.
    static func writableLocation(_ path: String, flag: String) throws {
        let shown = RawPath(path).display
        if path.isEmpty { throw OutputLocationError(description: "\(flag) is empty; give a file name") }
        let folder = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw OutputLocationError(description: "\(flag) \(shown): is a folder; give a file name (e.g. \(shown)/\(flag == "--out" ? "model" : "file"))")
        }
        guard stat(folder, &info) == 0 else {
            throw OutputLocationError(description: "\(flag) \(shown): the folder \(RawPath(folder).display) does not exist; create it first (mkdir -p \(RawPath(folder).display)) — mnistq creates no folders for its outputs")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw OutputLocationError(description: "\(flag) \(shown): \(RawPath(folder).display) is not a folder")
        }
        guard access(folder, W_OK | X_OK) == 0 else {
            throw OutputLocationError(description: "\(flag) \(shown): the folder \(RawPath(folder).display) is not writable (\(String(cString: strerror(errno))))")
        }
    }

    /// True when something exists at `path` (a dangling link counts: writing would replace it).
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// The `source-model` an existing int8 model file was quantized from; nil when the file is not an int8 model.
    static func int8ModelSource(_ path: String) -> String? {
        // Read like a classify input: a FIFO or device at --out is "not a model", never a hang.
        guard let model = try? ModelFileArgument.loadInt8(RawPath(path)) else { return nil }
        return model.metadata.first(where: { $0.key == "source-model" })?.value ?? ""
    }
}
