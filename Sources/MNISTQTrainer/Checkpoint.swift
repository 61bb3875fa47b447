// Training checkpoints (.mnqc): everything needed to continue a run to bit-identical weights.
import Foundation
import MNISTQSupport

/// Checkpoint file format, version 4 (version 3 lacked the distortions at the end of the configuration; version 2
/// also the model path at the end; version 1 also the per-epoch SGD time) (little-endian; floats IEEE-754):
///
/// magic `"MNQC"`, version u32, then the configuration (`TrainingConfiguration.write`: epochs, batch size, lr,
/// momentum, seed, schedule by its explicit code (none 0, step 1, cosine 2), warm-up steps, validation count,
/// patience, guard, restore-best, train limit, distortions (`--augment`)), the shard count, the training-set size, the run's state
/// (`Training.writeState`: epochs done, global step, the four xoshiro256** state words, lr scale, best metric and
/// epoch, epochs without improvement, early-stop flag, momentum flags, four flat `CNNLayout` vectors (weights,
/// momentum, best weights, best momentum), the metrics history), the path of the model the run writes (u32 length +
/// UTF-8; empty when unknown; so `--resume` keeps writing to the run's own files), and a CRC-32 of every preceding
/// byte. Written atomically after every epoch. Version 2 and 3 files are read too (they resume without distortions).
package enum Checkpoint {
    package static let magic: [UInt8] = Array("MNQC".utf8)
    package static let version: UInt32 = 4
    /// Versions this build reads.
    static let readableVersions: ClosedRange<UInt32> = 2...4
    /// Bound on a valid file (4 vectors of 850 KB plus a long history).
    static let maxBytes = 64 << 20

    /// The checkpoint of `t`; `version` below the current one writes an older layout (tests of the readers of old files).
    static func encode(_ t: Training, modelPath: String? = nil, version: UInt32 = Checkpoint.version) -> [UInt8] {
        var w = ByteWriter()
        w.raw(magic); w.u32(version)
        t.configuration.write(to: &w, checkpointVersion: version)
        w.u32(UInt32(t.sgd.shards)); w.u32(UInt32(t.data.trainLabels.count))
        t.writeState(to: &w)
        if version >= 3 { w.string(modelPath ?? "") }
        w.appendCRC()
        return w.bytes
    }

    /// Writes the run's state to `path` atomically; `modelPath` is the model file the run writes (kept for `--resume`).
    package static func save(_ t: Training, to path: String, modelPath: String? = nil) throws {
        try AtomicFile.write(encode(t, modelPath: modelPath), to: path)
    }

    /// The configuration and shard count stored in a checkpoint (to show or check before resuming).
    package struct Header: Equatable {
        package var configuration: TrainingConfiguration
        package var shards: Int
        var trainingSetSize: Int
        package var epochsDone: Int
        /// The model file the run writes (version 3; nil in version 2 files or when unknown). Set by `resumeWithHeader`.
        package var modelPath: String?
        var version: UInt32 = Checkpoint.version
    }

    /// Reads only the header (after checking magic, version and CRC).
    package static func header(path: String) throws -> Header {
        var r = try open(path)
        return try readHeader(&r, file: path)
    }

    /// Rebuilds a run from a checkpoint. `data` must be the training data the run started with (checked by
    /// size); `threads` should equal the stored shard count for bit-identical results (more or fewer
    /// threads still work, and differ by float rounding).
    package static func resume(path: String, data: TrainingData, threads: Int) throws -> Training {
        try resumeWithHeader(path: path, data: data, threads: threads).training
    }

    /// `resume` that also returns the checkpoint's header, so a caller needing both reads and CRC-checks
    /// the file once.
    ///
    /// `epochs` extends (or shortens) the run to that many epochs in all; a run that stopped early then continues
    /// (its patience counter starts again). The learning-rate schedule follows the new total from the next step on.
    package static func resumeWithHeader(path: String, data: TrainingData, threads: Int, epochs: Int? = nil) throws
        -> (header: Header, training: Training) {
        var r = try open(path)
        do {
            var h = try readHeader(&r, file: path)
            if let epochs {
                guard epochs > h.epochsDone else {
                    throw TrainingError.checkpoint(file: path, detail: "the run has done \(h.epochsDone) epochs already; --epochs \(epochs) must be more than that to extend it")
                }
                h.configuration.epochs = epochs
                do { try h.configuration.validate() } catch let e as TrainingError {
                    throw TrainingError.checkpoint(file: path, detail: "--epochs \(epochs): \(e)")
                }
            }
            guard h.trainingSetSize == data.trainLabels.count else {
                throw TrainingError.checkpoint(file: path, detail: "was written for a training set of \(h.trainingSetSize) images, this one has \(data.trainLabels.count). Hint: pass the same --data as the original run" + (h.trainingSetSize > data.trainLabels.count ? "; a run trained with --extra-digits cannot be resumed (the checkpoint does not record those files)." : "."))
            }
            let t = try Training(configuration: h.configuration, data: data, threads: threads, restoringFrom: &r, file: path)
            if epochs != nil { t.resumeAfterEarlyStop() }
            if h.version >= 3 {
                guard let model = try r.string(maxBytes: 65_536) else {
                    throw TrainingError.checkpoint(file: path, detail: "model path longer than 65536 bytes")
                }
                h.modelPath = model.isEmpty ? nil : model
            }
            guard r.offset == r.end else {
                throw TrainingError.checkpoint(file: path, detail: "\(r.end - r.offset) unexpected bytes after the history")
            }
            return (h, t)
        } catch let end as ByteReaderEnd {
            throw TrainingError.checkpoint(file: path, detail: "truncated: needs at least \(end.needed + 4) bytes, has \(end.available + 4)")
        }
    }

    static func open(_ path: String) throws -> ByteReader {
        let bytes: [UInt8]
        do { bytes = try readWholeFile(path, maxBytes: maxBytes) } catch let e as ModelFileError {
            throw TrainingError.checkpoint(file: path, detail: e.detail)
        }
        guard bytes.count >= 12, Array(bytes[0..<4]) == magic else {
            throw TrainingError.checkpoint(file: path, detail: "not a training checkpoint (magic is not \"MNQC\"). Hint: --resume takes the .ckpt file written during training, not the model.")
        }
        let (stored, computed) = trailingCRC(bytes)
        guard stored == computed else {
            throw TrainingError.checkpoint(file: path, detail: String(format: "CRC-32 mismatch (stored %08x, computed %08x): the file is damaged or truncated", stored, computed))
        }
        var r = ByteReader(bytes, end: bytes.count - 4)
        _ = try? r.take(4)
        return r
    }

    /// Reads the header and leaves `r` at the run's state (`Training.writeState`).
    static func readHeader(_ r: inout ByteReader, file: String) throws -> Header {
        do {
            let v = try r.u32()
            guard readableVersions.contains(v) else {
                throw TrainingError.checkpoint(file: file, detail: "checkpoint version \(v), this build reads versions \(readableVersions.lowerBound)-\(readableVersions.upperBound)")
            }
            let c = try TrainingConfiguration(reading: &r, file: file, checkpointVersion: v)
            let shards = Int(try r.u32()), size = Int(try r.u32())
            // The state that follows starts with the epochs done: read here for the header, left for `Training`.
            var peek = r
            let done = Int(try peek.u32())
            guard (1...4096).contains(shards) else { throw TrainingError.checkpoint(file: file, detail: "shard count \(shards), expected 1...4096") }
            return Header(configuration: c, shards: shards, trainingSetSize: size, epochsDone: done, modelPath: nil, version: v)
        } catch let end as ByteReaderEnd {
            throw TrainingError.checkpoint(file: file, detail: "truncated: needs at least \(end.needed + 4) bytes, has \(end.available + 4)")
        }
    }
}
