// Which build of the float kernels `sgemm` runs: chosen at run time from the CPU, forceable for tests and benchmarks.
import _MNISTQFloatKernels

/// An instruction-set build of the C float kernels. Every path gives the same bits; they differ only in speed.
package enum FloatKernelPath: Int32, CaseIterable, Sendable, CustomStringConvertible {
    /// Plain C vectors: NEON on arm64; on an x86-64 without AVX2 SSE2 with `fmaf` calls (exact but slow).
    case portable = 0
    /// x86-64 with AVX2 and FMA.
    case avx2 = 1
    /// x86-64 with AVX-512F.
    case avx512 = 2

    /// The name `MNISTQ_FLOAT_KERNELS` accepts.
    package var description: String {
        switch self {
        case .portable: return "portable"
        case .avx2: return "avx2"
        case .avx512: return "avx512"
        }
    }

    /// Whether this CPU (and OS) runs the path.
    var isAvailable: Bool { mnistq_float_path_available(rawValue) != 0 }

    /// Every path this CPU runs, slowest first.
    package static var available: [FloatKernelPath] { allCases.filter(\.isAvailable) }

    /// The path in use: on first use the environment variable MNISTQ_FLOAT_KERNELS (avx512, avx2 or portable;
    /// read once) if this CPU runs it, else the fastest available one.
    package static var active: FloatKernelPath { FloatKernelPath(rawValue: mnistq_float_path()) ?? .portable }

    /// Makes `sgemm` use `path` from now on; returns false (and changes nothing) if this CPU cannot run it.
    /// Not for use while other threads are inside `sgemm`.
    @discardableResult
    package static func use(_ path: FloatKernelPath) -> Bool { mnistq_float_set_path(path.rawValue) != 0 }
}
