// swift-tools-version:6.0
// mnistq: train the classic MNIST CNN, quantize it to int8, and run it anywhere.
//
// Module stack (imports point down only; see ../shared/STYLE.md):
//
//   mnistq (CLI, ArgumentParser)
//     ├─ MNISTQImage     decoding (JPEG, PNG, PGM, raw, IDX)                              → MNISTQPreprocess, MNISTQSupport, MNISTQRuntime, _CJPEG
//     │   └─ MNISTQPreprocess  finding the digit in a photo, MNIST-style 28×28              → Swift standard library only (Embedded too)
//     ├─ MNISTQReport    `mnistq report`: one self-contained HTML page about a model        → MNISTQQuantizer, MNISTQTrainer, MNISTQData, MNISTQSupport, MNISTQRuntime
//     ├─ MNISTQQuantizer calibration, int8 conversion, report, model writer             → MNISTQTrainer, MNISTQData, MNISTQSupport, MNISTQRuntime
//     ├─ MNISTQTrainer   float layers, SGD, schedules, checkpoints                      → MNISTQData, MNISTQSupport, MNISTQRuntime (CRC-32)
//     │                  (+ _MNISTQFloatKernels, the package's own C sgemm: AVX-512F / AVX2+FMA / portable, chosen at run time)
//     ├─ MNISTQData      MNIST data sets: IDX reading, download + checksums              → MNISTQSupport, MNISTQRuntime
//     ├─ MNISTQSupport   atomic writes, progress lines, SVG plots; the one file reader,    → MNISTQRuntime, _CZlib
//     │                  zlib wrapper, IDX parser, model loader, seeded generator, input limits
//     └─ MNISTQRuntime   int8 kernels, model reader, inflate, CRC-32                    → Swift standard library only
//                        (+ _MNISTQInt8Kernels, the package's own C intrinsics for the innermost int8 loops)
//
// A plain `swift build -c release` (and an app that depends on this package) trains at full speed: the hot float
// loops, like the int8 ones, are C with function-level target attributes, picked at run time from the CPU. No build
// flag is needed and none may be set here (unsafeFlags would stop apps from depending on this package; -march in
// cSettings would make the binary crash on older CPUs). tools/ scripts still pass `-Xswiftc -target-cpu -Xswiftc
// native`; training speed no longer depends on it (README, "The command").
import PackageDescription

let package = Package(
    name: "mnistq",
    products: [
        // The edge runtime: int8 inference, no dependency at all (not even Foundation or zlib).
        .library(name: "MNISTQRuntime", targets: ["MNISTQRuntime"]),
        // Decoding + preprocessing of real images, for apps that want what `mnistq classify` does.
        .library(name: "MNISTQImage", targets: ["MNISTQImage"]),
        // The preprocessing alone (gray pixels in, 28×28 out): no dependency, builds in Embedded Swift for WebAssembly.
        .library(name: "MNISTQPreprocess", targets: ["MNISTQPreprocess"]),
        .executable(name: "mnistq", targets: ["mnistq"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: - Runtime (bottom of the stack)
        .target(name: "MNISTQRuntime", dependencies: ["_MNISTQInt8Kernels"]),
        // The runtime's innermost int8 dot products with AVX2 / NEON intrinsics (function-level target attributes and
        // run-time dispatch, no build flags), behind the pure-Swift reference kernels they are proven equal to.
        .target(name: "_MNISTQInt8Kernels"),

        // MARK: - C shims (only these see C types)
        .target(name: "_CZlib", linkerSettings: [.linkedLibrary("z")]),
        .target(name: "_CJPEG", linkerSettings: [.linkedLibrary("jpeg")]),

        // MARK: - Host-side libraries
        // Atomic file writes, progress lines on stderr, SVG plots, and the one reader per thing every host-side module
        // shares: whole files with limits, zlib, IDX headers, model files, big-endian fields; SplitMix64; InputLimits.
        .target(name: "MNISTQSupport", dependencies: ["MNISTQRuntime", "_CZlib"]),
        .target(name: "MNISTQData", dependencies: ["MNISTQSupport", "MNISTQRuntime"]),
        // Thresholding, components, crop, scale and centring on a gray buffer; no imports, so the browser build
        // (Embedded Swift → wasm) preprocesses byte for byte like `mnistq classify`.
        .target(name: "MNISTQPreprocess"),
        .target(name: "MNISTQImage", dependencies: ["MNISTQPreprocess", "MNISTQSupport", "MNISTQRuntime", "_CJPEG"]),
        // Seeded photo-like renderings of MNIST test digits (low contrast, frames, specks, shadows, noise, 12 MP
        // frames, thin strokes) for the accuracy tests and tools/bench-photos.sh; never shipped, never committed as data.
        .target(name: "MNISTQPhotoSet", dependencies: ["MNISTQImage", "MNISTQData", "MNISTQSupport"]),
        .target(name: "MNISTQTrainer", dependencies: ["MNISTQData", "MNISTQSupport", "MNISTQRuntime", "_MNISTQFloatKernels"]),
        // The trainer's sgemm micro-kernels in C, built for AVX-512F, AVX2+FMA and portable C (function-level target
        // attributes, run-time dispatch, no build flags); every path gives the same bits.
        .target(name: "_MNISTQFloatKernels"),
        .target(name: "MNISTQQuantizer", dependencies: ["MNISTQTrainer", "MNISTQRuntime", "MNISTQData", "MNISTQSupport"]),
        // The model report page (`mnistq report`): gathers curves, accuracy, mistakes and scales, renders one HTML file.
        .target(name: "MNISTQReport", dependencies: ["MNISTQQuantizer", "MNISTQTrainer", "MNISTQRuntime", "MNISTQData", "MNISTQSupport"]),

        // MARK: - Command-line tool
        .executableTarget(
            name: "mnistq",
            dependencies: [
                "MNISTQRuntime", "MNISTQData", "MNISTQImage", "MNISTQTrainer", "MNISTQQuantizer", "MNISTQReport", "MNISTQSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Speed and memory benchmarks (tools/ scripts run it in release mode); never part of the tests.
        .executableTarget(
            name: "mnistq-bench",
            dependencies: ["MNISTQRuntime", "MNISTQData", "MNISTQImage", "MNISTQTrainer", "MNISTQQuantizer", "MNISTQSupport",
                           "MNISTQPhotoSet", "_CHeapStats"]
        ),
        // The memory benchmark's view of the C heap (mallinfo2).
        .target(name: "_CHeapStats"),

        // MARK: - Tests
        // Test support: counts heap allocations per thread (the runtime's zero-allocation test).
        .target(name: "_CAllocationCounter", path: "Tests/_CAllocationCounter"),
        .testTarget(name: "MNISTQRuntimeTests", dependencies: ["MNISTQRuntime", "MNISTQSupport", "_CZlib", "_CAllocationCounter"]),
        // Test support shared by the test targets: data paths (MNIST_DIR, MNISTQ_GOLDEN_DIR, ../shared), seeded data,
        // reference gzip/zlib/CRC-32 encoders.
        .target(name: "MNISTQTestSupport", dependencies: ["MNISTQSupport"], path: "Tests/MNISTQTestSupport"),
        .testTarget(name: "MNISTQSupportTests", dependencies: ["MNISTQSupport", "MNISTQRuntime", "MNISTQTestSupport"]),
        .testTarget(name: "MNISTQDataTests", dependencies: ["MNISTQData", "MNISTQSupport", "MNISTQTestSupport"]),
        .testTarget(name: "MNISTQImageTests", dependencies: ["MNISTQImage", "MNISTQPreprocess", "MNISTQRuntime", "MNISTQData", "MNISTQPhotoSet",
                                                             "MNISTQSupport", "MNISTQTestSupport", "_CJPEG"]),
        .testTarget(name: "MNISTQTrainerTests", dependencies: ["MNISTQTrainer", "MNISTQData", "MNISTQSupport"]),
        .testTarget(name: "MNISTQQuantizerTests", dependencies: ["MNISTQQuantizer", "MNISTQTrainer", "MNISTQRuntime", "MNISTQData", "MNISTQTestSupport"]),
        .testTarget(name: "MNISTQReportTests", dependencies: ["MNISTQReport", "MNISTQQuantizer", "MNISTQRuntime", "MNISTQData"]),
        // HelpSnapshots/: the exact `--help` text of every command (HelpSnapshotTests reads them by path).
        .testTarget(name: "MNISTQCLITests", dependencies: ["mnistq", "MNISTQImage", "MNISTQRuntime"], exclude: ["HelpSnapshots"]),
    ],
    swiftLanguageModes: [.v6]
)
