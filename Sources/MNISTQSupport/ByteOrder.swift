// The one big-endian byte reader of the host-side libraries (the runtime, which imports nothing, has its own):
// IDX and PNG headers.

extension Collection where Element == UInt8, Index == Int {
    /// The big-endian `UInt32` at `offset` (the caller has checked that 4 bytes are there).
    @inline(__always)
    package func bigEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) << 24 | UInt32(self[offset + 1]) << 16 | UInt32(self[offset + 2]) << 8 | UInt32(self[offset + 3])
    }
}

extension UInt32 {
    /// The four bytes of `self`, most significant first.
    package var bigEndianBytes: [UInt8] {
        [UInt8(self >> 24), UInt8(truncatingIfNeeded: self >> 16), UInt8(truncatingIfNeeded: self >> 8), UInt8(truncatingIfNeeded: self)]
    }
}
