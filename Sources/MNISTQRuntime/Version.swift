// One version for the whole of mnistq: the CLI's `--version`, this runtime and the C library's `mnistq_version()`
// (include/mnistq.h's MNISTQ_VERSION must equal it; InPlaceModelTests checks the header).

/// The version of mnistq: the command-line tool, the Swift runtime and the C library report the same one.
public enum MNISTQVersion {
    /// The version string, e.g. "0.5.0" (static storage, so the C library hands out a pointer to it).
    public static let string: StaticString = "0.5.0"
}
