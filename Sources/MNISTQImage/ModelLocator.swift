// Finding and loading the int8 model for classification: --model, $MNISTQ_MODEL, or samples/ near the tool.
import Foundation
import MNISTQRuntime
import MNISTQSupport

/// Why no model could be loaded.
package enum ModelLocatorError: Error, Equatable, CustomStringConvertible {
    /// No candidate file exists; `searched` lists every path tried, in order.
    case noModel(searched: [String])
    /// A file was found (or named explicitly) but could not be read or is not a valid model.
    case unusableModel(path: String, reason: String)

    /// What went wrong and, for a missing model, how to make or name one.
    package var description: String {
        switch self {
        case .noModel(let searched):
            return "no model found; searched \(searched.joined(separator: ", ")) "
                + "(hint: pass --model FILE or set MNISTQ_MODEL; `mnistq train` then `mnistq quantize` make one)"
        case .unusableModel(let path, let reason):
            return "unusable model \(path): \(reason)"
        }
    }
}

/// Locates the int8 model file the classifier uses.
///
/// Order: an explicit path (`--model`), else a non-empty `$MNISTQ_MODEL`, else `samples/mnistq-int8.mnq8` in the
/// current directory and then in up to six directories above the executable's (so a freshly built tool finds
/// the package's sample model). An explicit or environment path must load; searched paths are skipped when absent.
package enum ModelLocator {
    /// The sample model's path relative to the package root.
    package static let samplePath = "samples/mnistq-int8.mnq8"
    /// Largest model file accepted, so a wrong path cannot make us read a huge file (`InputLimits.modelFileBytes`).
    package static let maxModelBytes = InputLimits.modelFileBytes

    /// Loads the first model found; returns it with the path it came from.
    package static func load(explicit: String?,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            executablePath: String = currentExecutablePath()) throws -> (model: Model, path: String) {
        var candidates: [String] = []
        var mustExist = false
        if let explicit {
            candidates = [explicit]; mustExist = true
        } else if let path = environment["MNISTQ_MODEL"], !path.isEmpty {
            candidates = [path]; mustExist = true
        } else {
            candidates.append(samplePath)
            var directory = URL(fileURLWithPath: executablePath).deletingLastPathComponent()
            for _ in 0..<6 where directory.path != "/" {
                directory = directory.deletingLastPathComponent()
                candidates.append(directory.appendingPathComponent(samplePath).path)
            }
        }
        for path in candidates {
            guard mustExist || FileManager.default.fileExists(atPath: path) else { continue }
            do { return (try ModelLoader.load(path: path, limit: maxModelBytes, regularFilesOnly: false), path) } catch {
                switch error {
                case .unreadable(_, let reading): throw ModelLocatorError.unusableModel(path: path, reason: "\(ImageError(reading: reading, file: path))")
                case .invalid(_, let invalid): throw ModelLocatorError.unusableModel(path: path, reason: "\(invalid)")
                }
            }
        }
        throw ModelLocatorError.noModel(searched: candidates)
    }

    /// The running executable's path (symbolic links resolved on Linux).
    package static func currentExecutablePath() -> String {
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return resolved }
        return Bundle.main.executablePath ?? CommandLine.arguments[0]
    }
}
