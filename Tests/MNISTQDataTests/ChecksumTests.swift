// SHA-256 and MD5 against the published test vectors, block-boundary lengths and the MNIST digests.
import Foundation
import XCTest
import MNISTQData

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

    func testMD5KnownVectors() {
        // RFC 1321 appendix A.5.
        XCTAssertEqual(MD5.hex([]), "d41d8cd98f00b204e9800998ecf8427e")
        XCTAssertEqual(MD5.hex(Array("a".utf8)), "0cc175b9c0f1b6a831c399e269772661")
        XCTAssertEqual(MD5.hex(Array("abc".utf8)), "900150983cd24fb0d6963f7d28e17f72")
        XCTAssertEqual(MD5.hex(Array("message digest".utf8)), "f96b697d7cb7938d525a2f31aaf161d0")
        XCTAssertEqual(MD5.hex(Array("abcdefghijklmnopqrstuvwxyz".utf8)), "c3fcd3d76192e4007dfb496cca67e13b")
        XCTAssertEqual(MD5.hex(Array("12345678901234567890123456789012345678901234567890123456789012345678901234567890".utf8)),
                       "57edf4a22be3c955ac49da2e2107b67a")
    }

    /// Lengths around the 55/56/64-byte padding boundaries; expected digests from Python's hashlib
    /// (`bytes((i*7+3)%256 for i in range(n))`).
    func testPaddingBoundariesAndIncrementalUpdates() {
        let expected: [(Int, String, String)] = [
            (1, "084fed08b978af4d7d196a7446a86b58009e636b611db16211b65a9aadff29c5", "8666683506aacd900bbd5a74ac4edf68"),
            (55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b", "52c0e574e1198de5fe3f8f11440dcb1b"),
            (56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27", "46c9907fc908ee68b1e7b8e71286a518"),
            (57, "35df609437dcfea3279283ab79fd554e2bf78f8f7ae2de532d8ee300b09e8f73", "1c805dd236c35cab25fcb1bc73802c51"),
            (63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055", "a62f6d59e837867693f042f5b8f5a236"),
            (64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241", "7160b8fb5e9e4023d549c3971fbaeead"),
            (65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e", "70bd662e7aefbda85a0f7244167b7897"),
            (119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e", "e84905d4214f4d1ca56c2cdcc152b143"),
            (120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5", "e3eb5a6c8669ea01a8c185b8abc8a5dc"),
            (1000, "1e9bc38cbf860b9ec31918b065f9b52476c549a782e0e7990bed8ce3868d2371", "10046f077f2082ac19676b8079f1cb1a"),
        ]
        for (n, sha, md5) in expected {
            let bytes = (0..<n).map { UInt8(($0 * 7 + 3) % 256) }
            XCTAssertEqual(SHA256.hex(bytes), sha, "sha256 of \(n) bytes")
            XCTAssertEqual(MD5.hex(bytes), md5, "md5 of \(n) bytes")
            // The same message fed in uneven pieces gives the same digest.
            var s = SHA256(), m = MD5()
            var i = 0, piece = 1
            while i < n {
                let j = min(n, i + piece)
                s.update(Array(bytes[i..<j])); m.update(Array(bytes[i..<j]))
                i = j; piece = piece * 3 % 67 + 1
            }
            XCTAssertEqual(hexString(s.finalize()), sha, "incremental sha256 of \(n) bytes")
            XCTAssertEqual(hexString(m.finalize()), md5, "incremental md5 of \(n) bytes")
        }
    }

    /// The digest table matches the real test files (sha256 and md5 of the decompressed content).
    func testMNISTTestFilesMatchPublishedDigests() throws {
        let dir = try TestData.mnistDirectory()
        for info in MNIST.files where info.gzipName.hasPrefix("t10k") {
            let content = try IDX.readBytes(path: MNIST.path(in: dir, for: info.gzipName))
            XCTAssertEqual(content.count, info.bytes, info.gzipName)
            XCTAssertEqual(SHA256.hex(content), info.sha256, info.gzipName)
            XCTAssertEqual(MD5.hex(content), info.md5, info.gzipName)
            XCTAssertNil(MNISTLocator.verify(try TestData.read(MNIST.path(in: dir, for: info.gzipName)), info: info, url: "file"))
        }
    }
}
