// The MNIST data set: four IDX files in one directory, and the published digests of their content.
import Foundation
import MNISTQRuntime
import MNISTQSupport

/// One split of MNIST (train or test): 28×28 images with their labels.
package struct MNISTSplit: Sendable {
    /// Side length of an MNIST image: the network's input side.
    package static let side = ModelFormat.inputSide
    /// Pixels per image (side²).
    package static let pixelsPerImage = ModelFormat.inputPixelCount

    /// The images, `count × 28 × 28`.
    package let images: IDXImages
    /// One label 0...9 per image.
    package let labels: [UInt8]
    /// Number of examples.
    package var count: Int { labels.count }

    /// Pairs images with labels, checking that they fit: 28×28 images, one label 0...9 per image.
    package init(images: IDXImages, labels: [UInt8]) throws {
        guard images.rows == MNISTSplit.side, images.columns == MNISTSplit.side else {
            throw DataError.badField(file: "images", field: "dimensions", found: "\(images.rows)x\(images.columns)", expected: "\(Self.side)x\(Self.side)")
        }
        guard images.pixels.count == images.count * MNISTSplit.pixelsPerImage else {
            throw DataError.badField(file: "images", field: "pixel count", found: "\(images.pixels.count)", expected: "\(images.count * MNISTSplit.pixelsPerImage) (\(images.count) images of \(Self.side)x\(Self.side))")
        }
        guard labels.count == images.count else {
            throw DataError.mismatch(detail: "\(images.count) images but \(labels.count) labels")
        }
        if let (index, value) = IDXFormat.firstInvalidLabel(labels) {
            throw DataError.badField(file: "labels", field: "label[\(index)]", found: "\(value)", expected: "0...9")
        }
        self.images = images
        self.labels = labels
    }

    /// The `pixelsPerImage` pixels of image `index` (0 = background, 255 = ink).
    package func pixels(of index: Int) -> ArraySlice<UInt8> {
        images.pixels[(index * Self.pixelsPerImage)..<((index + 1) * Self.pixelsPerImage)]
    }

    /// Examples `range` as a split of their own (e.g. to hold out a validation set). `range` must lie
    /// within `0..<count`.
    package func slice(_ range: Range<Int>) -> MNISTSplit {
        let lo = max(0, min(range.lowerBound, count)), hi = max(lo, min(range.upperBound, count))
        let pixels = Array(images.pixels[(lo * Self.pixelsPerImage)..<(hi * Self.pixelsPerImage)])
        return MNISTSplit(checked: IDXImages(count: hi - lo, rows: Self.side, columns: Self.side, pixels: pixels), labels: Array(labels[lo..<hi]))
    }

    /// For inputs already validated.
    init(checked images: IDXImages, labels: [UInt8]) {
        self.images = images
        self.labels = labels
    }
}

/// What we know about one MNIST file: its names and the published digests of its decompressed content.
package struct MNISTFileInfo: Sendable, Equatable {
    /// Name of the gzip file, as on the mirrors and in our cache ("train-images-idx3-ubyte.gz").
    package let gzipName: String
    /// Decompressed size in bytes.
    package let bytes: Int
    /// SHA-256 of the decompressed content, lower-case hex: the authoritative check.
    package let sha256: String

    /// Name of the decompressed file ("train-images-idx3-ubyte").
    package var plainName: String { String(gzipName.dropLast(3)) }
}

/// MNIST train and test splits.
package struct MNIST: Sendable {
    /// The four file names, gzip-compressed.
    package static let fileNames = (
        trainImages: "train-images-idx3-ubyte.gz", trainLabels: "train-labels-idx1-ubyte.gz",
        testImages: "t10k-images-idx3-ubyte.gz", testLabels: "t10k-labels-idx1-ubyte.gz"
    )

    /// The four files with their digests (from ../shared/mnist/README.md; the same digests are published with
    /// the original data set). Ordered small to large, so a failing download fails early.
    ///
    /// For reference, the published MD5 digests (not checked: SHA-256 is):
    ///
    /// | file | MD5 of the content | MD5 of the mirrored .gz |
    /// |---|---|---|
    /// | t10k-labels-idx1-ubyte | 27ae3e4e09519cfbb04c329615203637 | ec29112dd5afa0611ce80d1b7f02629c |
    /// | train-labels-idx1-ubyte | a25bea736e30d166cdddb491f175f624 | d53e105ee54ea40749a09fcbcd1e9432 |
    /// | t10k-images-idx3-ubyte | 2646ac647ad5339dbf082846283269ea | 9fb629c4189551a2d022fa330f9573f3 |
    /// | train-images-idx3-ubyte | 6bbc9ace898e44ae57da46a324031adb | f68b3c2dcbeaaa9fbdd348bbdeb94873 |
    ///
    /// (Re-gzipped copies of the .gz files differ from the mirrored ones; only the content digests are stable.)
    package static let files: [MNISTFileInfo] = [
        MNISTFileInfo(gzipName: "t10k-labels-idx1-ubyte.gz", bytes: 10008,
                      sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
        MNISTFileInfo(gzipName: "train-labels-idx1-ubyte.gz", bytes: 60008,
                      sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        MNISTFileInfo(gzipName: "t10k-images-idx3-ubyte.gz", bytes: 7840016,
                      sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        MNISTFileInfo(gzipName: "train-images-idx3-ubyte.gz", bytes: 47040016,
                      sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    ]

    /// The training split (60,000 images).
    package let train: MNISTSplit
    /// The test split (10,000 images).
    package let test: MNISTSplit

    /// Loads both splits from `directory` (files as named in `fileNames`; plain, un-gzipped files with the
    /// same name minus `.gz` are accepted too). Structure is checked (magic, counts, 28×28, labels 0...9);
    /// digests are not (that is the downloader's job; see `MNISTLocator`).
    package static func load(directory: String) throws -> MNIST {
        MNIST(train: try loadSplit(directory: directory, images: fileNames.trainImages, labels: fileNames.trainLabels),
              test: try loadSplit(directory: directory, images: fileNames.testImages, labels: fileNames.testLabels))
    }

    /// Loads only the test split (10,000 images).
    package static func loadTest(directory: String) throws -> MNISTSplit {
        try loadSplit(directory: directory, images: fileNames.testImages, labels: fileNames.testLabels)
    }

    /// Loads only the training split (60,000 images).
    package static func loadTrain(directory: String) throws -> MNISTSplit {
        try loadSplit(directory: directory, images: fileNames.trainImages, labels: fileNames.trainLabels)
    }

    static func loadSplit(directory: String, images: String, labels: String) throws -> MNISTSplit {
        let imagePath = path(in: directory, for: images), labelPath = path(in: directory, for: labels)
        let idx = try IDX.readImages(path: imagePath)
        guard idx.rows == MNISTSplit.side, idx.columns == MNISTSplit.side else {
            throw DataError.badField(file: imagePath, field: "dimensions", found: "\(idx.rows)x\(idx.columns)", expected: "\(MNISTSplit.side)x\(MNISTSplit.side)")
        }
        let lab = try IDX.readLabels(path: labelPath)
        guard lab.count == idx.count else {
            throw DataError.mismatch(detail: "\(imagePath) has \(idx.count) images but \(labelPath) has \(lab.count) labels")
        }
        return MNISTSplit(checked: idx, labels: lab)
    }

    /// The path of `gzipName` in `directory`: the .gz file if present, else the plain file if present, else
    /// the .gz path (so a "no such file" error names the file we looked for first).
    package static func path(in directory: String, for gzipName: String) -> String {
        let gz = (directory as NSString).appendingPathComponent(gzipName)
        if FileManager.default.fileExists(atPath: gz) { return gz }
        let plain = String(gz.dropLast(3))
        return FileManager.default.fileExists(atPath: plain) ? plain : gz
    }

    /// The gzip names of the MNIST files present in neither form in `directory`.
    package static func missingFiles(in directory: String) -> [String] {
        files.map(\.gzipName).filter { name in
            let gz = (directory as NSString).appendingPathComponent(name)
            return !FileManager.default.fileExists(atPath: gz) && !FileManager.default.fileExists(atPath: String(gz.dropLast(3)))
        }
    }
}
