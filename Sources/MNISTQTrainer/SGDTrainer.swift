// Data-parallel minibatch SGD with PyTorch's momentum rule, and PyTorch's default initialisation.
import Foundation

/// PyTorch's default initialisation for the CNN: every weight and bias ~ U(−1/√fan_in, 1/√fan_in).
///
/// For weights this is `kaiming_uniform_(a: √5)`: gain = √(2/(1+5)), bound = gain·√3/√fan_in = 1/√fan_in;
/// for biases PyTorch uses the same bound. Tensors are drawn in `CNNShape` order, element by element,
/// from `random` (so the same seed gives the same network).
func initializeCNN(random: inout SeededRandom) -> CNNParameters {
    CNNParameters(tensors: CNNShape.counts.enumerated().map { index, count in
        let bound = initializationBound(tensor: index)
        return (0..<count).map { _ in random.nextUniform(bound: bound) }
    })
}

/// Bound of PyTorch's default init for tensor `index` (CNNShape order): 1/√fan_in.
func initializationBound(tensor index: Int) -> Float { Float(1 / Double(CNNLayout.fanIns[index]).squareRoot()) }

/// Parameters, momentum and the per-thread buffers of data-parallel SGD.
///
/// Each step splits the batch into `shards` contiguous slices (one per thread); each slice's forward and
/// backward run on its own workspace and add into its own gradient buffer; the buffers are then summed in
/// shard order 0, 1, 2… for every parameter, so a run is reproducible bit for bit for a given shard count
/// and differs across shard counts only by float rounding. The update is PyTorch's SGD
/// (dampening 0, no Nesterov, weight decay 0): v ← μ·v + g (v ← g on the first step), p ← p − lr·v.
///
/// `@unchecked Sendable`: the worker closures of a step capture `self` to reach per-shard buffers; each shard's
/// workspace, gradient vector, label buffer and result slot is touched by its own thread only, the shared weights are
/// only read during the step, and `concurrentPerform` joins before `hasMomentum` or anything else changes.
final class SGDTrainer: @unchecked Sendable {
    package let parameters: ParameterVector
    /// The momentum buffer v.
    package let momentum: ParameterVector
    /// The summed gradient of the last step (mean loss over its batch).
    let gradients: ParameterVector
    /// False until the first step (PyTorch creates the momentum buffer as a copy of the first gradient).
    var hasMomentum = false
    /// Number of slices a batch is split into (= threads).
    package let shards: Int
    /// Largest batch `step` accepts (digits and outlier rows together).
    let maxBatch: Int

    let shardGradients: [ParameterVector]
    let workspaces: [CNNWorkspace]
    let labelBuffers: [UnsafeMutablePointer<UInt8>]   // per shard [capacity]
    let shardLoss: UnsafeMutablePointer<Double>       // [shards]
    let shardCorrect: UnsafeMutablePointer<Int>       // [shards]

    package init(parameters initial: CNNParameters, maxBatch: Int, threads: Int) {
        precondition(maxBatch > 0 && threads > 0)
        parameters = ParameterVector(initial)
        momentum = ParameterVector()
        gradients = ParameterVector()
        self.maxBatch = maxBatch
        shards = min(threads, maxBatch)
        let capacity = (maxBatch + shards - 1) / shards
        shardGradients = (0..<shards).map { _ in ParameterVector() }
        workspaces = (0..<shards).map { _ in CNNWorkspace(capacity: capacity) }
        labelBuffers = (0..<shards).map { _ in
            let p = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity); p.initialize(repeating: 0, count: capacity); return p
        }
        shardLoss = .allocate(capacity: shards); shardLoss.initialize(repeating: 0, count: shards)
        shardCorrect = .allocate(capacity: shards); shardCorrect.initialize(repeating: 0, count: shards)
    }

    deinit {
        for p in labelBuffers { p.deallocate() }
        shardLoss.deallocate(); shardCorrect.deallocate()
    }

    /// Slice of a batch of `count` images handled by shard `s`.
    func shardRange(_ s: Int, count: Int) -> Range<Int> { (s * count / shards)..<((s + 1) * count / shards) }

    /// Forward + backward on the images `indices[0..<count]` of `pixels` ([N, 28·28]); leaves the mean-loss
    /// gradient in `gradients`. Returns the mean loss and the number of correct predictions.
    func computeGradients(pixels: UnsafePointer<UInt8>, labels: UnsafePointer<UInt8>,
                                 indices: UnsafePointer<Int32>, count: Int) -> (loss: Double, correct: Int) {
        let r = computeShardGradients(pixels: pixels, labels: labels, indices: indices, count: count)
        reduceGradients()
        return r
    }

    /// Forward + backward of every shard into its own `shardGradients` buffer; returns the mean loss and the
    /// number of correct predictions (summed in shard order). The batch is the `count` digits at `indices` of
    /// `pixels`, then the `outliers` rows if any (read from their own buffer, never copied); the loss is a mean over
    /// the digits.
    func computeShardGradients(pixels: UnsafePointer<UInt8>, labels: UnsafePointer<UInt8>,
                               indices: UnsafePointer<Int32>, count: Int, outliers: OutlierRows? = nil,
                               distortions: RowDistortions? = nil) -> (loss: Double, correct: Int) {
        let rows = count + (outliers?.count ?? 0)
        precondition(count > 0 && rows <= maxBatch)
        let scale = 1 / Float(count)
        let outlierWeight = outliers?.weight ?? 0
        let n = CNNSize.inputPixels
        let work = { (s: Int) in
            let range = self.shardRange(s, count: rows)
            let g = self.shardGradients[s]
            g.zero()
            guard !range.isEmpty else { self.shardLoss[s] = 0; self.shardCorrect[s] = 0; return }
            let ws = self.workspaces[s], lab = self.labelBuffers[s]
            for (j, i) in range.enumerated() {
                if i < count {
                    let image = Int(indices[i])
                    lab[j] = labels[image]
                    if let distortions {
                        ws.loadImage(pixels + image &* n, row: j, distortedBy: distortions.map(slot: i))
                    } else {
                        ws.loadImage(pixels + image &* n, row: j)
                    }
                } else if let outliers {
                    lab[j] = OutlierExposure.outlierLabel
                    ws.loadImage(outliers.pixels + Int(outliers.indices[i - count]) &* n, row: j)
                }
            }
            ws.forward(parameters: self.parameters.storage, count: range.count)
            let r = ws.backward(parameters: self.parameters.storage, labels: lab, count: range.count,
                                gradientScale: scale, gradients: g.storage, outlierWeight: outlierWeight)
            self.shardLoss[s] = r.lossSum; self.shardCorrect[s] = r.correct
        }
        forEachWorker(shards, work)
        // Fixed-order reductions (never depend on which thread finished first).
        var loss = 0.0, correct = 0
        for s in 0..<shards { loss += shardLoss[s]; correct += shardCorrect[s] }
        return (loss / Double(count), correct)
    }

    /// gradients = Σ shardGradients in shard order, parallel over parameter ranges. With `update`, each block
    /// then gets the SGD update v ← μ·v + g (v ← g on the first step), p ← p − lr·v while it is still in L1.
    func reduceGradients(update: (learningRate: Float, momentum: Float)? = nil) {
        let total = CNNLayout.count, parts = shards, first = !hasMomentum
        let work = { (t: Int) in
            let lo = t * total / parts, hi = (t + 1) * total / parts
            let p = self.parameters.storage, v = self.momentum.storage, g = self.gradients.storage
            // Blocks small enough to stay in L1 between the sum and the update; each loop vectorises.
            var start = lo
            while start < hi {
                let end = min(start &+ 2048, hi)
                (g + start).update(from: self.shardGradients[0].storage + start, count: end &- start)
                for s in 1..<parts {
                    let src = self.shardGradients[s].storage
                    for i in start..<end { g[i] += src[i] }
                }
                if let (lr, mu) = update {
                    if first {
                        for i in start..<end { v[i] = g[i]; p[i] = p[i] - lr * v[i] }
                    } else {
                        for i in start..<end { v[i] = mu * v[i] + g[i]; p[i] = p[i] - lr * v[i] }
                    }
                }
                start = end
            }
        }
        forEachWorker(parts, work)
        if update != nil { hasMomentum = true }
    }

    /// `computeGradients` followed by one SGD update (PyTorch's momentum rule), the reduction and the update
    /// fused into one pass over the parameters. `outliers`: rows added to the batch (outlier exposure);
    /// `distortions`: how the digit rows are distorted (`--augment`), nil for the images as they are.
    package func step(pixels: UnsafePointer<UInt8>, labels: UnsafePointer<UInt8>, indices: UnsafePointer<Int32>,
                      count: Int, learningRate lr: Float, momentum mu: Float, outliers: OutlierRows? = nil,
                      distortions: RowDistortions? = nil) -> (loss: Double, correct: Int) {
        let r = computeShardGradients(pixels: pixels, labels: labels, indices: indices, count: count, outliers: outliers,
                                      distortions: distortions)
        reduceGradients(update: (lr, mu))
        return r
    }
}

/// Rows a step adds to its batch after the digits (outlier exposure): images of their own buffer, each trained towards
/// the uniform softmax with `weight` (per row, relative to a digit's cross-entropy; see `OutlierExposure`).
package struct OutlierRows {
    let pixels: UnsafePointer<UInt8>
    let indices: UnsafePointer<Int32>
    let count: Int
    let weight: Float
}

/// The distortions of one step's digit rows (`DigitAugmentation`): row `slot` of the batch gets the map drawn for
/// (seed, step, slot), whichever shard loads it.
package struct RowDistortions {
    let augmentation: DigitAugmentation
    let seed: UInt64
    let step: Int

    func map(slot: Int) -> DigitAugmentation.InverseMap { augmentation.inverseMap(seed: seed, step: step, slot: slot) }
}
