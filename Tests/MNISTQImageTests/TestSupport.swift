// Helpers of the image tests: the MNIST test split, the model, and tiny PNG files; paths, seeded generator and
// reference encoders come from MNISTQTestSupport.
import Foundation
@testable import MNISTQData
@testable import MNISTQImage
import MNISTQRuntime
import MNISTQSupport
import MNISTQTestSupport
import XCTest

enum TestData {
    static var mnistDirectory: String { TestPaths.mnistDirectory }
    static var modelPath: String { TestPaths.sampleModelPath }

    /// The MNIST test split, loaded once.
    static func mnistTest() throws -> MNISTSplit {
        do { return try cachedTest.get() } catch {
            XCTFail("MNIST test set not found in \(mnistDirectory) (set MNIST_DIR): \(error)")
            throw error
        }
    }
    private static let cachedTest = Result { try MNIST.loadTest(directory: mnistDirectory) }

    /// The int8 model the accuracy tests use ($MNISTQ_MODEL, else samples/mnistq-int8.mnq8).
    static func model() throws -> Model {
        do {
            return try Model(bytes: try ImageDecoder.readFile(atPath: modelPath))
        } catch {
            XCTFail("no usable int8 model at \(modelPath) (set MNISTQ_MODEL to an .mnq8 file from `mnistq quantize`): \(error)")
            throw error
        }
    }
}

/// Minimal PNG writer for tests: stored (uncompressed) deflate blocks, real CRC-32 and Adler-32.
enum TestPNG {
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        return be32(UInt32(data.count)) + typeBytes + data + be32(ReferenceCoding.crc32(typeBytes + data))
    }

    static func be32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// A zlib stream holding `data` in stored blocks.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] { ReferenceCoding.zlibStored(data) }

    /// A PNG of `rows` (each already including its filter byte) with the given header fields.
    static func make(width: Int, height: Int, depth: UInt8 = 8, colorType: UInt8, interlace: UInt8 = 0,
                     rows: [UInt8], extraChunks: [[UInt8]] = []) -> [UInt8] {
        let header = be32(UInt32(width)) + be32(UInt32(height)) + [depth, colorType, 0, 0, interlace]
        var file = PNGDecoder.signature + chunk("IHDR", header)
        for extra in extraChunks { file += extra }
        return file + chunk("IDAT", zlibStored(rows)) + chunk("IEND", [])
    }

    /// Filter-0 rows from interleaved samples (`bytesPerRow` bytes per row).
    static func unfiltered(_ samples: [UInt8], bytesPerRow: Int) -> [UInt8] {
        stride(from: 0, to: samples.count, by: bytesPerRow).flatMap { [0] + samples[$0 ..< $0 + bytesPerRow] }
    }
}
