// The MNIST data set: four IDX files in one directory.
import Foundation

/// One split of MNIST (train or test): 28×28 images with their labels.
public struct MNISTSplit: Sendable {
    public let images: IDXImages
    public let labels: [UInt8]
    public var count: Int { labels.count }

    /// The 784 pixels of image `index`.
    public func pixels(of index: Int) -> ArraySlice<UInt8> {
        images.pixels[(index * 784)..<((index + 1) * 784)]
    }
}

/// MNIST train and test splits.
public struct MNIST: Sendable {
    public static let fileNames = (
        trainImages: "train-images-idx3-ubyte.gz", trainLabels: "train-labels-idx1-ubyte.gz",
        testImages: "t10k-images-idx3-ubyte.gz", testLabels: "t10k-labels-idx1-ubyte.gz"
    )
    public let train: MNISTSplit
    public let test: MNISTSplit

    /// Loads both splits from `directory` (files as named in `fileNames`; plain, un-gzipped files with the
    /// same name minus `.gz` are accepted too).
    public static func load(directory: String) throws -> MNIST {
        MNIST(train: try loadSplit(directory: directory, images: fileNames.trainImages, labels: fileNames.trainLabels),
              test: try loadSplit(directory: directory, images: fileNames.testImages, labels: fileNames.testLabels))
    }

    /// Loads only the test split (10,000 images).
    public static func loadTest(directory: String) throws -> MNISTSplit {
        try loadSplit(directory: directory, images: fileNames.testImages, labels: fileNames.testLabels)
    }

    /// Loads only the training split (60,000 images).
    public static func loadTrain(directory: String) throws -> MNISTSplit {
        try loadSplit(directory: directory, images: fileNames.trainImages, labels: fileNames.trainLabels)
    }

    static func loadSplit(directory: String, images: String, labels: String) throws -> MNISTSplit {
        let imagePath = resolve(directory, images), labelPath = resolve(directory, labels)
        let idx = try IDX.readImages(path: imagePath)
        guard idx.rows == 28, idx.columns == 28 else {
            throw DataError.badField(file: imagePath, field: "dimensions", found: "\(idx.rows)x\(idx.columns)", expected: "28x28")
        }
        let lab = try IDX.readLabels(path: labelPath)
        guard lab.count == idx.count else {
            throw DataError.mismatch(detail: "\(imagePath) has \(idx.count) images but \(labelPath) has \(lab.count) labels")
        }
        return MNISTSplit(images: idx, labels: lab)
    }

    static func resolve(_ directory: String, _ name: String) -> String {
        let gz = (directory as NSString).appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: gz) { return gz }
        let plain = String(gz.dropLast(3))
        return FileManager.default.fileExists(atPath: plain) ? plain : gz
    }
}
