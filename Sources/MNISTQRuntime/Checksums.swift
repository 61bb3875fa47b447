// CRC-32 (IEEE 802.3, as in zlib/PNG/gzip) and Adler-32 (RFC 1950), both incremental.

/// CRC-32 with the IEEE polynomial (reflected 0xEDB88320), the checksum zlib's `crc32()` computes.
///
/// `CRC32.checksum([])` is 0 and `CRC32.checksum(Array("123456789".utf8))` is 0xCBF43926.
/// Incremental use: `var crc = CRC32(); crc.update(a); crc.update(b)` equals `CRC32.checksum(a + b)`.
public struct CRC32: Sendable {
    /// One 256-entry table, built once per process (a `static let` is initialised lazily and thread-safely).
    static let table: [UInt32] = (0..<256).map { index -> UInt32 in
        var value = UInt32(index)
        for _ in 0..<8 { value = (value & 1) != 0 ? (value >> 1) ^ 0xEDB8_8320 : value >> 1 }
        return value
    }

    /// The running register, pre- and post-inverted as the standard requires.
    private var register: UInt32 = 0xFFFF_FFFF

    /// Starts a checksum over no bytes.
    public init() {}

    /// Adds `bytes` to the checksum.
    public mutating func update(_ bytes: UnsafeBufferPointer<UInt8>) {
        var crc = register
        CRC32.table.withUnsafeBufferPointer { table in
            for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        }
        register = crc
    }

    /// Adds `bytes` to the checksum.
    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBufferPointer { update($0) } }

    /// The checksum of every byte added so far.
    public var value: UInt32 { register ^ 0xFFFF_FFFF }

    /// The CRC-32 of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc = CRC32(); crc.update(bytes); return crc.value
    }

    /// The CRC-32 of `bytes`.
    public static func checksum(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var crc = CRC32(); crc.update(bytes); return crc.value
    }
}

/// Adler-32 (RFC 1950 §8.2), the checksum that ends every zlib stream. `Adler32.checksum([])` is 1.
public struct Adler32: Sendable {
    private var a: UInt32 = 1
    private var b: UInt32 = 0

    /// Starts a checksum over no bytes.
    public init() {}

    /// Adds `bytes` to the checksum.
    public mutating func update(_ bytes: UnsafeBufferPointer<UInt8>) {
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
    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBufferPointer { update($0) } }

    /// The checksum of every byte added so far.
    public var value: UInt32 { (b << 16) | a }

    /// The Adler-32 of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var adler = Adler32(); adler.update(bytes); return adler.value
    }
}
