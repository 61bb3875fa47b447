// IDX reader: the real MNIST test split, and specific errors for a wrong magic, truncation, count mismatch, bad gzip.
import Foundation
import XCTest
@testable import MNISTQData
import MNISTQSupport
import MNISTQTestSupport

final class IDXTests: XCTestCase {
    func testReadsTheRealMNISTTestSplit() throws {
        let dir = try TestData.mnistDirectory()
        let test = try MNIST.loadTest(directory: dir)
        XCTAssertEqual(test.count, 10_000)
        XCTAssertEqual(test.images.count, 10_000)
        XCTAssertEqual(test.images.rows, 28)
        XCTAssertEqual(test.images.columns, 28)
        XCTAssertEqual(test.images.pixels.count, 10_000 * 784)
        var perClass = [Int](repeating: 0, count: 10)
        for label in test.labels { perClass[Int(label)] += 1 }
        // The published class sizes of the MNIST test set.
        XCTAssertEqual(perClass, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
        XCTAssertEqual(Array(test.labels.prefix(10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
        // Image 0 is a 7: ink in the middle rows, blank border.
        let first = Array(test.pixels(of: 0))
        XCTAssertEqual(first.count, 784)
        XCTAssertEqual(first[0..<28].max(), 0)
        XCTAssertGreaterThan(first.filter { $0 > 128 }.count, 50)
        XCTAssertEqual(test.images.pixels.max(), 255)

        let head = test.slice(10..<15)
        XCTAssertEqual(head.count, 5)
        XCTAssertEqual(head.labels, Array(test.labels[10..<15]))
        XCTAssertEqual(Array(head.pixels(of: 0)), Array(test.pixels(of: 10)))
    }

    func testWrongMagicNamesFileFieldFoundAndExpected() throws {
        let labels = idxHeader([2049, 3]) + [1, 2, 3]
        XCTAssertThrowsError(try IDX.parseImages(labels, file: "x.idx")) { error in
            XCTAssertEqual(error as? DataError, .badField(file: "x.idx", field: "magic", found: "2049",
                                                          expected: "2051 (IDX images); 2049 marks a label file, so images and labels look swapped"))
        }
        let images = idxHeader([2051, 1, 1, 1]) + [0]
        XCTAssertThrowsError(try IDX.parseLabels(images, file: "y.idx")) { error in
            XCTAssertEqual(error as? DataError, .badField(file: "y.idx", field: "magic", found: "2051",
                                                          expected: "2049 (IDX labels); 2051 marks an image file, so images and labels look swapped"))
        }
        XCTAssertThrowsError(try IDX.parseImages(idxHeader([0x1234, 1, 1, 1]) + [0], file: "z")) { error in
            XCTAssertEqual(error as? DataError, .badField(file: "z", field: "magic", found: "4660", expected: "2051 (IDX images)"))
            XCTAssertEqual("\(error)", "z: magic is 4660, expected 2051 (IDX images). Hint: is this an MNIST IDX file?")
        }
    }

    func testTruncatedFiles() throws {
        // Header promises 3 images of 2x2 = 12 pixel bytes; only 5 follow.
        XCTAssertThrowsError(try IDX.parseImages(idxHeader([2051, 3, 2, 2]) + [1, 2, 3, 4, 5], file: "img")) { error in
            XCTAssertEqual(error as? DataError, .truncated(file: "img", expectedBytes: 28, foundBytes: 21))
        }
        XCTAssertThrowsError(try IDX.parseLabels(idxHeader([2049, 10]) + [1, 2], file: "lab")) { error in
            XCTAssertEqual(error as? DataError, .truncated(file: "lab", expectedBytes: 18, foundBytes: 10))
        }
        XCTAssertThrowsError(try IDX.parseImages([0, 0, 8], file: "tiny")) { error in
            XCTAssertEqual(error as? DataError, .truncated(file: "tiny", expectedBytes: 16, foundBytes: 3))
        }
        // Extra bytes are an error too (a different file glued on, or a wrong count).
        XCTAssertThrowsError(try IDX.parseLabels(idxHeader([2049, 1]) + [1, 2], file: "lab")) { error in
            XCTAssertEqual(error as? DataError, .badField(file: "lab", field: "length", found: "10 bytes", expected: "9 bytes (1 labels)"))
        }
    }

    func testHeaderFieldsAreBounded() throws {
        XCTAssertThrowsError(try IDX.parseImages(idxHeader([2051, 1, 0, 28]), file: "f")) { error in
            XCTAssertEqual(error as? DataError, .badField(file: "f", field: "rows", found: "0", expected: "1...4096"))
        }
        // A huge count must be refused before any allocation.
        XCTAssertThrowsError(try IDX.parseImages(idxHeader([2051, 0xFFFF_FFFF, 4096, 4096]), file: "f")) { error in
            guard case let .badField(_, field, _, _)? = error as? DataError else { return XCTFail("\(error)") }
            XCTAssertEqual(field, "count")
        }
        XCTAssertThrowsError(try IDX.parseLabels(idxHeader([2049, 2]) + [3, 10], file: "f")) { error in
            XCTAssertEqual(error as? DataError, .badField(file: "f", field: "label[1]", found: "10", expected: "0...9"))
        }
    }

    func testCountMismatchBetweenImagesAndLabels() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        try dir.write(ReferenceCoding.gzipStored(idxHeader([2051, 3, 28, 28]) + [UInt8](repeating: 0, count: 3 * 784)), to: MNIST.fileNames.testImages)
        try dir.write(ReferenceCoding.gzipStored(idxHeader([2049, 2]) + [4, 2]), to: MNIST.fileNames.testLabels)
        XCTAssertThrowsError(try MNIST.loadTest(directory: dir.path)) { error in
            XCTAssertEqual(error as? DataError, .mismatch(detail: "\(dir.file(MNIST.fileNames.testImages)) has 3 images but \(dir.file(MNIST.fileNames.testLabels)) has 2 labels"))
        }
        // Plain (un-gzipped) files are accepted under the name without .gz.
        try FileManager.default.removeItem(atPath: dir.file(MNIST.fileNames.testLabels))
        try dir.write(idxHeader([2049, 3]) + [4, 2, 9], to: "t10k-labels-idx1-ubyte")
        let split = try MNIST.loadTest(directory: dir.path)
        XCTAssertEqual(split.labels, [4, 2, 9])
        // Wrong image size for MNIST.
        try dir.write(ReferenceCoding.gzipStored(idxHeader([2051, 3, 2, 2]) + [UInt8](repeating: 0, count: 12)), to: MNIST.fileNames.testImages)
        XCTAssertThrowsError(try MNIST.loadTest(directory: dir.path)) { error in
            XCTAssertEqual(error as? DataError, .badField(file: dir.file(MNIST.fileNames.testImages), field: "dimensions", found: "2x2", expected: "28x28"))
        }
        XCTAssertThrowsError(try MNISTSplit(images: IDXImages(count: 2, rows: 28, columns: 28, pixels: [UInt8](repeating: 0, count: 1568)), labels: [1])) { error in
            XCTAssertEqual(error as? DataError, .mismatch(detail: "2 images but 1 labels"))
        }
    }

    func testBadGzipStreams() throws {
        let payload = idxHeader([2049, 5]) + [1, 2, 3, 4, 5]
        let good = ReferenceCoding.gzipStored(payload)
        XCTAssertEqual(try gunzip(good, file: "g", maxOutput: 100), payload)

        // Damaged deflate data: a stored block whose length check (NLEN) is wrong.
        var damaged = good
        damaged[13] ^= 0xff
        XCTAssertThrowsError(try gunzip(damaged, file: "bad.gz", maxOutput: 100)) { error in
            XCTAssertEqual(error as? DataError, .corrupt(file: "bad.gz", detail: "not a valid gzip stream: invalid stored block lengths"))
        }
        // Wrong CRC in the trailer.
        var badCRC = good
        badCRC[badCRC.count - 8] ^= 1
        XCTAssertThrowsError(try gunzip(badCRC, file: "crc.gz", maxOutput: 100)) { error in
            XCTAssertEqual(error as? DataError, .corrupt(file: "crc.gz", detail: "not a valid gzip stream: incorrect data check"))
        }
        // Truncated: the stream stops in the middle.
        XCTAssertThrowsError(try gunzip(Array(good.prefix(good.count - 6)), file: "cut.gz", maxOutput: 100)) { error in
            XCTAssertEqual(error as? DataError, .corrupt(file: "cut.gz", detail: "compressed data ends early (truncated file?)"))
        }
        // Bounded output.
        XCTAssertThrowsError(try gunzip(good, file: "big.gz", maxOutput: 12)) { error in
            XCTAssertEqual(error as? DataError, .corrupt(file: "big.gz", detail: "decompresses to more than 12 bytes"))
        }
        // Garbage after the stream; but a second gzip member is fine (RFC 1952 allows several).
        XCTAssertThrowsError(try gunzip(good + [0, 0, 0], file: "tail.gz", maxOutput: 100)) { error in
            XCTAssertEqual(error as? DataError, .corrupt(file: "tail.gz", detail: "3 unexpected bytes after the end of the gzip stream"))
        }
        XCTAssertEqual(try gunzip(ReferenceCoding.gzipStored([1, 2]) + ReferenceCoding.gzipStored([3]), file: "two.gz", maxOutput: 100), [1, 2, 3])

        // Through the file reader: a .gz that is cut short names the file.
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        try dir.write(Array(good.prefix(20)), to: "labels.gz")
        XCTAssertThrowsError(try IDX.readLabels(path: dir.file("labels.gz"))) { error in
            XCTAssertEqual(error as? DataError, .corrupt(file: dir.file("labels.gz"), detail: "compressed data ends early (truncated file?)"))
        }
    }

    func testUnreadableFiles() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        XCTAssertThrowsError(try IDX.readImages(path: dir.file("nope.gz"))) { error in
            XCTAssertEqual(error as? DataError, .unreadable(file: dir.file("nope.gz"), detail: "no such file"))
        }
        XCTAssertThrowsError(try IDX.readImages(path: dir.path)) { error in
            XCTAssertEqual(error as? DataError, .unreadable(file: dir.path, detail: "is a directory"))
        }
        XCTAssertThrowsError(try MNIST.loadTest(directory: dir.path)) { error in
            XCTAssertEqual(error as? DataError, .unreadable(file: dir.file(MNIST.fileNames.testImages), detail: "no such file"))
        }
        XCTAssertThrowsError(try IDX.readFile(path: "/dev/zero", limit: 10)) { error in
            XCTAssertEqual(error as? DataError, .unreadable(file: "/dev/zero", detail: "not a regular file"))
        }
    }
}
