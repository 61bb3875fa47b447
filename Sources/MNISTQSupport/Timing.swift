// Clocks and the median the CLI and the benchmarks share for timing work.
import Foundation

/// Seconds on the monotonic clock (never jumps with wall-clock changes); only differences are meaningful.
package func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

/// CPU time consumed by the calling thread, in seconds. On a shared machine a thread is descheduled for long
/// stretches, which wall time would count as work; this clock does not.
package func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

/// The median of `values`: the middle value, or the mean of the two middle values for an even count;
/// NaN when `values` is empty. Benchmarks quote medians because timings on a shared machine have long tails.
package func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    if sorted.isEmpty { return .nan }
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
