// Shared helpers of the image tests: data locations, the model, and tiny file builders (PNG, JPEG surgery).
import Foundation
import MNISTQData
import MNISTQImage
import MNISTQRuntime
import XCTest

enum TestData {
    /// The package root, from this file's path (Tests/MNISTQImageTests/TestSupport.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static var mnistDirectory: String {
        ProcessInfo.processInfo.environment["MNIST_DIR"] ?? packageRoot.appendingPathComponent("../shared/mnist").standardized.path
    }

    static var modelPath: String {
        ProcessInfo.processInfo.environment["MNISTQ_MODEL"] ?? packageRoot.appendingPathComponent("samples/mnistq-int8.mnq8").path
    }

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
        var crc = CRC32()
        crc.update(typeBytes)
        crc.update(data)
        return be32(UInt32(data.count)) + typeBytes + data + be32(crc.value)
    }

    static func be32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// A zlib stream holding `data` in stored blocks.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let count = min(65535, data.count - offset)
            let final: UInt8 = offset + count == data.count ? 1 : 0
            out += [final, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
            out += data[offset ..< offset + count]
            offset += count
        } while offset < data.count
        return out + be32(Adler32.checksum(data))
    }

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

/// Seeded generator for test renderings (SplitMix64).
struct TestRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
