// SHA-256 against the published test vectors, block-boundary lengths and the MNIST digests.
import Foundation
import XCTest
@testable import MNISTQData
import MNISTQSupport
import MNISTQTestSupport

final class ChecksumTests: XCTestCase {
    func testSHA256KnownVectors() {
        // FIPS 180-4 examples.
        XCTAssertEqual(SHA256.hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Lengths around the 55/56/64-byte padding boundaries; expected digests from Python's hashlib
    /// (`bytes((i*7+3)%256 for i in range(n))`).
    func testPaddingBoundariesAndIncrementalUpdates() {
        let expected: [(Int, String)] = [
            (1, "084fed08b978af4d7d196a7446a86b58009e636b611db16211b65a9aadff29c5"),
            (55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"),
            (56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"),
            (57, "35df609437dcfea3279283ab79fd554e2bf78f8f7ae2de532d8ee300b09e8f73"),
            (63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"),
            (64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"),
            (65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"),
            (119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"),
            (120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"),
            (1000, "1e9bc38cbf860b9ec31918b065f9b52476c549a782e0e7990bed8ce3868d2371"),
        ]
        for (n, sha) in expected {
            let bytes = (0..<n).map { UInt8(($0 * 7 + 3) % 256) }
            XCTAssertEqual(SHA256.hex(bytes), sha, "sha256 of \(n) bytes")
            // The same message fed in uneven pieces gives the same digest.
            var s = SHA256()
            var i = 0, piece = 1
            while i < n {
                let j = min(n, i + piece)
                s.update(Array(bytes[i..<j]))
                i = j; piece = piece * 3 % 67 + 1
            }
            XCTAssertEqual(hexString(s.finalize()), sha, "incremental sha256 of \(n) bytes")
        }
    }

    /// The digest table matches the real test files (sha256 of the decompressed content).
    func testMNISTTestFilesMatchPublishedDigests() throws {
        let dir = try TestData.mnistDirectory()
        for info in MNIST.files where info.gzipName.hasPrefix("t10k") {
            let content = try IDX.readBytes(path: MNIST.path(in: dir, for: info.gzipName))
            XCTAssertEqual(content.count, info.bytes, info.gzipName)
            XCTAssertEqual(SHA256.hex(content), info.sha256, info.gzipName)
            XCTAssertNil(MNISTLocator.verify(try TestData.read(MNIST.path(in: dir, for: info.gzipName)), info: info, url: "file"))
        }
    }
}
