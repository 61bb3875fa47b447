// Fork-join over worker indices, the one place the trainer hands non-Sendable closures to other threads.
import Dispatch

/// Runs `body(0) … body(workers − 1)`, on the calling thread when `workers` is 1, else concurrently
/// (`DispatchQueue.concurrentPerform`), and returns when all have finished.
///
/// `body` may capture raw pointers and other non-Sendable state: callers guarantee that iterations write disjoint
/// memory (one shard's buffers, one parameter range, one image's result slot) and only read what no iteration
/// writes. Under that contract the closure is safe to share, which the wrapper below asserts to the compiler; the
/// join before returning orders every write before the caller's next read.
func forEachWorker(_ workers: Int, _ body: (Int) -> Void) {
    if workers == 1 { body(0); return }
    withoutActuallyEscaping(body) { body in
        let shared = SharedWorkerBody(run: body)
        DispatchQueue.concurrentPerform(iterations: workers) { shared.run($0) }
    }
}

/// `@unchecked Sendable`: see `forEachWorker` (iterations touch disjoint memory; the call joins before returning).
private struct SharedWorkerBody: @unchecked Sendable {
    let run: (Int) -> Void
}
