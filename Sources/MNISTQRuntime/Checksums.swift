// CRC-32 (IEEE 802.3, as in zlib/PNG/gzip) and Adler-32 (RFC 1950), both incremental.
import _MNISTQInt8Kernels

/// CRC-32 with the IEEE polynomial (reflected 0xEDB88320), the checksum zlib's `crc32()` computes.
///
/// `CRC32.checksum([])` is 0 and `CRC32.checksum(Array("123456789".utf8))` is 0xCBF43926.
/// Incremental use: `var crc = CRC32(); crc.update(a); crc.update(b)` equals `CRC32.checksum(a + b)`.
package struct CRC32: Sendable {

    /// The running register, pre- and post-inverted as the standard requires.
    private var register: UInt32 = 0xFFFF_FFFF

    /// Starts a checksum over no bytes.
    package init() {}

    /// Adds `bytes` to the checksum.
    package mutating func update(_ bytes: UnsafeBufferPointer<UInt8>) {
        // The table lives in the C target as a constant: no lazily built array, so a microcontroller keeps it in
        // flash and checking a model allocates nothing.
        guard let base = bytes.baseAddress else { return }
        register = mnistq_crc32_update(register, base, bytes.count)
    }

    /// Adds `bytes` to the checksum.
    package mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBufferPointer { update($0) } }

    /// The checksum of every byte added so far.
    package var value: UInt32 { register ^ 0xFFFF_FFFF }

    /// The CRC-32 of `bytes`.
    package static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc = CRC32(); crc.update(bytes); return crc.value
    }

    /// The CRC-32 of `bytes`.
    package static func checksum(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var crc = CRC32(); crc.update(bytes); return crc.value
    }
}

/// Adler-32 (RFC 1950 §8.2), the checksum that ends every zlib stream. `Adler32.checksum([])` is 1.
package struct Adler32: Sendable {
    private var a: UInt32 = 1
    private var b: UInt32 = 0

    /// Starts a checksum over no bytes.
    package init() {}

    /// Adds `bytes` to the checksum.
    package mutating func update(_ bytes: UnsafeBufferPointer<UInt8>) {
        // 5552 is the largest n with 255·n(n+1)/2 + (n+1)(65520) < 2^32, so sums fit UInt32 between reductions.
        let modulus: UInt32 = 65521
        var index = 0
        while index < bytes.count {
            let end = min(index + 5552, bytes.count)
            while index < end {
                a &+= UInt32(bytes[index]); b &+= a
                index += 1
            }
            a %= modulus; b %= modulus
        }
    }

    /// Adds `bytes` to the checksum.
    package mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBufferPointer { update($0) } }

    /// The checksum of every byte added so far.
    package var value: UInt32 { (b << 16) | a }

    /// The Adler-32 of `bytes`.
    package static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var adler = Adler32(); adler.update(bytes); return adler.value
    }
}
