// The one reader per thing that the host-side modules share: seeded generator, zlib, whole files, IDX headers and
// model files. The modules that use them (MNISTQData, MNISTQImage, MNISTQQuantizer) test them again in their words.
import Foundation
import MNISTQRuntime
@testable import MNISTQSupport
import MNISTQTestSupport
import XCTest

final class SharedReaderTests: XCTestCase {
    func testSplitMix64GivesTheReferenceSequence() {
        // Vigna's splitmix64.c, seed 1234567: the sequence every seeded output of the package rests on.
        var random = SplitMix64(seed: 1_234_567)
        XCTAssertEqual([random.next(), random.next(), random.next()],
                       [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423])
        var zero = SplitMix64(seed: 0)
        XCTAssertEqual(zero.next(), 16_294_208_416_658_607_535)
        var bounded = SplitMix64(seed: 9)
        for _ in 0..<1000 {
            XCTAssert((3...7).contains(bounded.int(3...7)))
            XCTAssert((0..<1).contains(bounded.unit()))
        }
    }

    func testZlibRoundTripsAndNamesTruncationAndTrailingBytes() throws {
        let data = SeededData.bytes(count: 5000, seed: 3) + [UInt8](repeating: 7, count: 5000)
        for windowBits: Int32 in [15, 31] {
            let packed = try Zlib.deflate(data, windowBits: windowBits)
            XCTAssertEqual(try Zlib.inflate(packed, maxOutput: data.count), data)
            XCTAssertThrowsError(try Zlib.inflate(Array(packed.prefix(packed.count / 2)), maxOutput: data.count)) { error in
                guard case .truncated? = error as? ZlibError else { return XCTFail("\(error)") }
            }
            XCTAssertThrowsError(try Zlib.inflate(packed, maxOutput: data.count - 1)) { error in
                XCTAssertEqual(error as? ZlibError, .corrupt(detail: "decompresses to more than \(data.count - 1) bytes"))
            }
        }
        XCTAssertEqual(try Zlib.inflate(ReferenceCoding.gzipStored([1, 2]) + ReferenceCoding.gzipStored([3]), maxOutput: 10), [1, 2, 3])
        XCTAssertThrowsError(try Zlib.inflate(ReferenceCoding.gzipStored([1]) + [0, 0], maxOutput: 10)) { error in
            XCTAssertEqual(error as? ZlibError, .corrupt(detail: "2 unexpected bytes after the end of the gzip stream"))
        }
        // A header that declares 20 bytes stops the stream right after them, long before maxOutput.
        let declared = try Zlib.deflate([UInt8](repeating: 0, count: 1 << 20), windowBits: 31)
        XCTAssertThrowsError(try Zlib.inflate(declared, maxOutput: 1 << 30, header: (4, { _ in 20 }))) { error in
            XCTAssertEqual(error as? ZlibError, .corrupt(detail: "decompresses to more than the 20 bytes its header declares"))
        }
    }

    func testFileReaderTypesEveryRefusal() throws {
        let directory = try TemporaryDirectory(prefix: "mnistq-support")
        defer { directory.remove() }
        try directory.write([1, 2, 3, 4, 5], to: "five")
        XCTAssertEqual(try FileReader.read(path: directory.file("five"), limit: 5), [1, 2, 3, 4, 5])
        XCTAssertThrowsError(try FileReader.read(path: directory.file("five"), limit: 4)) { error in
            XCTAssertEqual(error as? FileReadError, .tooLarge(bytes: 5, limit: 4))
        }
        XCTAssertThrowsError(try FileReader.read(path: directory.file("missing"), limit: 4)) { error in
            XCTAssertEqual(error as? FileReadError, .cannotOpen(errno: ENOENT))
        }
        XCTAssertThrowsError(try FileReader.read(path: directory.path, limit: 4)) { error in
            XCTAssertEqual(error as? FileReadError, .isDirectory)
        }
        XCTAssertThrowsError(try FileReader.read(path: "/dev/null", limit: 4, regularFilesOnly: true)) { error in
            XCTAssertEqual(error as? FileReadError, .notRegularFile)
        }
        XCTAssertEqual(try FileReader.read(path: "/dev/null", limit: 4), [])
        XCTAssertThrowsError(try FileReader.read(path: "/dev/zero", limit: 1000)) { error in
            XCTAssertEqual(error as? FileReadError, .tooLarge(bytes: 1001, limit: 1000))
        }
    }

    func testIDXFormatReadsHeadersAndLeavesTheVerdictToTheCaller() {
        let images = idxHeader([2051, 3, 28, 27]) + [0]
        XCTAssertEqual(IDXFormat.imageMagic, 2051)
        XCTAssertEqual(IDXFormat.labelMagic, 2049)
        XCTAssertTrue(IDXFormat.hasMagic(images))
        XCTAssertEqual(IDXFormat.magic(images), 2051)
        XCTAssertEqual(IDXFormat.imageHeader(images)?.count, 3)
        XCTAssertEqual(IDXFormat.imageHeader(images)?.rows, 28)
        XCTAssertEqual(IDXFormat.imageHeader(images)?.columns, 27)
        XCTAssertNil(IDXFormat.imageHeader(Array(images.prefix(15))))
        XCTAssertNil(IDXFormat.magic([0, 0, 8]))
        XCTAssertEqual(IDXFormat.labelCount(idxHeader([2049, 10])), 10)
        XCTAssertFalse(IDXFormat.hasMagic(idxHeader([2050])))
        XCTAssertEqual(IDXFormat.firstInvalidLabel([1, 9, 10, 11])?.index, 2)
        XCTAssertNil(IDXFormat.firstInvalidLabel([0, 9]))
        XCTAssertEqual(UInt32(0x0102_0304).bigEndianBytes, [1, 2, 3, 4])
        XCTAssertEqual(([9, 1, 2, 3, 4] as [UInt8]).bigEndianUInt32(at: 1), 0x0102_0304)
    }

    func testModelLoaderLoadsTheSampleAndNamesWhatIsWrong() throws {
        let model = try ModelLoader.load(path: TestPaths.sampleModelPath)
        XCTAssertEqual(model.layers.count, ModelFormat.network.count)
        let directory = try TemporaryDirectory(prefix: "mnistq-support")
        defer { directory.remove() }
        try directory.write([0x4D, 0x4E, 0x51, 0x38, 0, 0], to: "short.mnq8")
        XCTAssertThrowsError(try ModelLoader.load(path: directory.file("short.mnq8"))) { error in
            guard case .invalid(let path, _)? = error as? ModelLoadError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, directory.file("short.mnq8"))
        }
        XCTAssertThrowsError(try ModelLoader.load(path: directory.file("short.mnq8"), limit: 3)) { error in
            XCTAssertEqual(error as? ModelLoadError, .unreadable(path: directory.file("short.mnq8"), .tooLarge(bytes: 6, limit: 3)))
        }
    }
}
