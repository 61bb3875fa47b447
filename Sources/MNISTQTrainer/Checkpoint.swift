// Training checkpoints (.mnqc): everything needed to continue a run to bit-identical weights.
import Foundation
import MNISTQSupport

/// Checkpoint file format, version 3 (version 2 lacked the model path at the end; version 1 also the per-epoch SGD
/// time) (little-endian; floats IEEE-754):
///
/// magic `"MNQC"`, version u32, then the configuration (epochs, batch size, lr, momentum, seed, schedule,
/// warm-up steps, validation count, patience, guard, restore-best, train limit), the shard count, the
/// training-set size, the progress (epochs done, global step, the four xoshiro256** state words, lr scale,
/// best metric and epoch, epochs without improvement, early-stop flag, momentum flags), four flat
/// `CNNLayout` vectors (weights, momentum, best weights, best momentum), the metrics history, the path of the
/// model the run writes (u32 length + UTF-8; empty when unknown; so `--resume` keeps writing to the run's own
/// files), and a CRC-32 of every preceding byte. Written atomically after every epoch. Version 2 files are read too.
public enum Checkpoint {
    public static let magic: [UInt8] = Array("MNQC".utf8)
    public static let version: UInt32 = 3
    /// Versions this build reads.
    static let readableVersions: ClosedRange<UInt32> = 2...3
    /// Bound on a valid file (4 vectors of 850 KB plus a long history).
    static let maxBytes = 64 << 20

    public static func encode(_ t: Training, modelPath: String? = nil) -> [UInt8] {
        var w = ByteWriter()
        w.raw(magic); w.u32(version)
        let c = t.configuration
        w.u32(UInt32(c.epochs)); w.u32(UInt32(c.batchSize)); w.f32(c.learningRate); w.f32(c.momentum); w.u64(c.seed)
        w.u32(UInt32(LearningRateSchedule.allCases.firstIndex(of: c.schedule)!))
        w.u32(UInt32(c.warmupSteps)); w.u32(UInt32(c.validationCount)); w.u32(UInt32(c.patience))
        w.u32(c.divergenceGuard ? 1 : 0); w.u32(c.restoreBest ? 1 : 0); w.u64(UInt64(bitPattern: Int64(c.trainLimit ?? -1)))
        w.u32(UInt32(t.sgd.shards)); w.u32(UInt32(t.data.trainLabels.count))
        w.u32(UInt32(t.epochsDone)); w.u64(UInt64(t.globalStep))
        let s = t.random.state
        w.u64(s.0); w.u64(s.1); w.u64(s.2); w.u64(s.3)
        w.f32(t.learningRateScale); w.f64(t.bestMetric); w.u32(UInt32(t.bestEpoch)); w.u32(UInt32(t.epochsWithoutImprovement))
        w.u32(t.stoppedEarly ? 1 : 0); w.u32(t.sgd.hasMomentum ? 1 : 0); w.u32(t.bestHasMomentum ? 1 : 0)
        for v in [t.sgd.parameters, t.sgd.momentum, t.bestParameters, t.bestMomentum] { w.floats(v.storage, count: v.count) }
        w.u32(UInt32(t.history.count))
        for m in t.history {
            w.u32(UInt32(m.epoch)); w.f64(m.trainLoss); w.f64(m.trainAccuracy)
            w.f64(m.validationLoss ?? .nan); w.f64(m.validationAccuracy ?? .nan); w.f64(m.testAccuracy ?? .nan)
            w.f64(m.learningRate); w.f64(m.seconds); w.f64(m.trainSeconds); w.u32(UInt32(m.trainImages)); w.string(m.note)
        }
        w.string(modelPath ?? "")
        w.appendCRC()
        return w.bytes
    }

    /// Writes the run's state to `path` atomically; `modelPath` is the model file the run writes (kept for `--resume`).
    public static func save(_ t: Training, to path: String, modelPath: String? = nil) throws {
        try AtomicFile.write(encode(t, modelPath: modelPath), to: path)
    }

    /// The configuration and shard count stored in a checkpoint (to show or check before resuming).
    public struct Header: Equatable {
        public var configuration: TrainingConfiguration
        public var shards: Int
        public var trainingSetSize: Int
        public var epochsDone: Int
        /// The model file the run writes (version 3; nil in version 2 files or when unknown). Set by `resumeWithHeader`.
        public var modelPath: String?
        var version: UInt32 = Checkpoint.version
    }

    /// Reads only the header (after checking magic, version and CRC).
    public static func header(path: String) throws -> Header {
        var r = try open(path)
        return try readHeader(&r, file: path)
    }

    /// Rebuilds a run from a checkpoint. `data` must be the training data the run started with (checked by
    /// size); `threads` should equal the stored shard count for bit-identical results (more or fewer
    /// threads still work, and differ by float rounding).
    public static func resume(path: String, data: TrainingData, threads: Int) throws -> Training {
        try resumeWithHeader(path: path, data: data, threads: threads).training
    }

    /// `resume` that also returns the checkpoint's header, so a caller needing both reads and CRC-checks
    /// the file once.
    ///
    /// `epochs` extends (or shortens) the run to that many epochs in all; a run that stopped early then continues
    /// (its patience counter starts again). The learning-rate schedule follows the new total from the next step on.
    public static func resumeWithHeader(path: String, data: TrainingData, threads: Int, epochs: Int? = nil) throws
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
                throw TrainingError.checkpoint(file: path, detail: "was written for a training set of \(h.trainingSetSize) images, this one has \(data.trainLabels.count). Hint: pass the same --data as the original run.")
            }
            let globalStep = Int(try r.u64())
            let state = (try r.u64(), try r.u64(), try r.u64(), try r.u64())
            guard let random = SeededRandom(state: state) else {
                throw TrainingError.checkpoint(file: path, detail: "random generator state is all zero (damaged file)")
            }
            let scale = try r.f32(), bestMetric = try r.f64()
            let bestEpoch = Int(try r.u32()), noImprove = Int(try r.u32())
            let stopped = try r.u32() != 0, hasMomentum = try r.u32() != 0, bestHasMomentum = try r.u32() != 0
            let vectors = try (0..<4).map { _ -> ParameterVector in
                let v = ParameterVector(); try r.floats(into: v.storage, count: v.count); return v
            }
            let t = try Training(configuration: h.configuration, data: data, threads: threads,
                                 initial: vectors[0].parameters, random: random)
            t.sgd.momentum.copy(from: vectors[1]); t.sgd.hasMomentum = hasMomentum
            t.bestParameters.copy(from: vectors[2]); t.bestMomentum.copy(from: vectors[3]); t.bestHasMomentum = bestHasMomentum
            t.epochsDone = h.epochsDone; t.globalStep = globalStep; t.learningRateScale = scale
            t.bestMetric = bestMetric; t.bestEpoch = bestEpoch; t.epochsWithoutImprovement = noImprove; t.stoppedEarly = stopped
            if epochs != nil && stopped { t.stoppedEarly = false; t.epochsWithoutImprovement = 0 }
            let entries = Int(try r.u32())
            guard entries <= h.epochsDone else {
                throw TrainingError.checkpoint(file: path, detail: "history has \(entries) epochs but \(h.epochsDone) are done")
            }
            for _ in 0..<entries {
                let epoch = Int(try r.u32())
                let values = try (0..<8).map { _ in try r.f64() }
                let trainImages = Int(try r.u32())
                guard let note = try r.string(maxBytes: 4096) else {
                    throw TrainingError.checkpoint(file: path, detail: "history note longer than 4096 bytes")
                }
                func opt(_ x: Double) -> Double? { x.isNaN ? nil : x }
                t.history.append(EpochMetrics(epoch: epoch, trainLoss: values[0], trainAccuracy: values[1],
                                              validationLoss: opt(values[2]), validationAccuracy: opt(values[3]),
                                              testAccuracy: opt(values[4]), learningRate: values[5], seconds: values[6],
                                              trainSeconds: values[7], trainImages: trainImages, note: note))
            }
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

    static func readHeader(_ r: inout ByteReader, file: String) throws -> Header {
        do {
            let v = try r.u32()
            guard readableVersions.contains(v) else {
                throw TrainingError.checkpoint(file: file, detail: "checkpoint version \(v), this build reads versions \(readableVersions.lowerBound)-\(readableVersions.upperBound)")
            }
            var c = TrainingConfiguration()
            c.epochs = Int(try r.u32()); c.batchSize = Int(try r.u32()); c.learningRate = try r.f32(); c.momentum = try r.f32()
            c.seed = try r.u64()
            let schedule = Int(try r.u32())
            guard schedule < LearningRateSchedule.allCases.count else {
                throw TrainingError.checkpoint(file: file, detail: "schedule code \(schedule), expected 0...\(LearningRateSchedule.allCases.count - 1)")
            }
            c.schedule = LearningRateSchedule.allCases[schedule]
            c.warmupSteps = Int(try r.u32()); c.validationCount = Int(try r.u32()); c.patience = Int(try r.u32())
            c.divergenceGuard = try r.u32() != 0; c.restoreBest = try r.u32() != 0
            let limit = Int64(bitPattern: try r.u64())
            c.trainLimit = limit < 0 ? nil : Int(limit)
            do { try c.validate() } catch let e as TrainingError {
                throw TrainingError.checkpoint(file: file, detail: "stored settings are invalid: \(e)")
            }
            let shards = Int(try r.u32()), size = Int(try r.u32()), done = Int(try r.u32())
            guard (1...4096).contains(shards) else { throw TrainingError.checkpoint(file: file, detail: "shard count \(shards), expected 1...4096") }
            return Header(configuration: c, shards: shards, trainingSetSize: size, epochsDone: done, modelPath: nil, version: v)
        } catch let end as ByteReaderEnd {
            throw TrainingError.checkpoint(file: file, detail: "truncated: needs at least \(end.needed + 4) bytes, has \(end.available + 4)")
        }
    }
}
