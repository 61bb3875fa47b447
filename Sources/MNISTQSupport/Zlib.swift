// The one wrapper around the system zlib on the host side (the runtime has its own inflater and no dependency):
// bounded inflate of gzip or zlib streams, and deflate. Only this file drives a `z_stream`.
import _CZlib

/// Why zlib could not inflate or deflate a buffer. `detail` is a sentence for the caller's error message.
package enum ZlibError: Error, Equatable, Sendable {
    /// The compressed data ends before the stream does (a truncated file).
    case truncated(detail: String)
    /// Damaged data, bytes after the stream, output past the bound, or zlib refusing the call.
    case corrupt(detail: String)

    package var detail: String {
        switch self {
        case .truncated(let detail), .corrupt(let detail): return detail
        }
    }
}

package enum Zlib {
    /// The expected shape of a stream's first output bytes: `length` bytes of a format's header and the total length
    /// they declare (`declaredTotal` may throw the caller's own error, e.g. for a wrong magic; it passes through).
    package typealias Header = (length: Int, declaredTotal: ([UInt8]) throws -> Int)

    /// Decompresses a gzip (or zlib) stream; concatenated gzip members (allowed by RFC 1952) are joined.
    ///
    /// `maxOutput` bounds the result so a hostile file cannot make us allocate without limit. Throws `ZlibError`
    /// for a damaged or truncated stream, trailing garbage, or output beyond `maxOutput`.
    ///
    /// `header`, when given, sees the first `length` bytes of the output as soon as they exist and returns the total
    /// length they declare; inflating stops as soon as the output passes it. A file of a known format is then refused
    /// after its first block, not after `maxOutput` bytes of a gzip bomb.
    package static func inflate(_ compressed: [UInt8], maxOutput: Int, header: Header? = nil) throws -> [UInt8] {
        guard compressed.count < Int(UInt32.max) else {
            throw ZlibError.corrupt(detail: "compressed stream of \(compressed.count) bytes is larger than zlib accepts in one call (4 GiB)")
        }
        var stream = z_stream()
        // 15 + 32: accept both zlib and gzip headers (zlib detects which).
        guard mnistq_inflate_init2(&stream, 15 + 32) == Z_OK else {
            throw ZlibError.corrupt(detail: "zlib could not initialise an inflater")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8]()
        // The whole bound is reserved at once and the output never moves. A large allocation is mapped lazily, so only
        // the bytes actually inflated take memory; growing by doubling instead would briefly hold the old and the new
        // buffer (1.5 times the bound for a gzip bomb), and the size a gzip trailer declares (ISIZE) is the attacker's
        // to choose. (Up to 1 GiB: a caller's bound of Int.max must not become one allocation.)
        output.reserveCapacity(min(maxOutput, 1 << 30))
        var bound = maxOutput
        var headerSeen = false
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        try compressed.withUnsafeBufferPointer { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = UInt32(input.count)
            while true {
                var status: Int32 = Z_OK
                try chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    status = _CZlib.inflate(&stream, Z_NO_FLUSH)
                    guard status == Z_OK || status == Z_STREAM_END else {
                        if status == Z_BUF_ERROR {
                            throw ZlibError.truncated(detail: "compressed data ends early (truncated file?)")
                        }
                        let reason = stream.msg.map { String(cString: $0) } ?? "inflate returned \(status)"
                        throw ZlibError.corrupt(detail: "not a valid gzip stream: \(reason)")
                    }
                    let produced = out.count - Int(stream.avail_out)
                    if output.count + produced > bound {
                        throw ZlibError.corrupt(detail: bound < maxOutput
                            ? "decompresses to more than the \(bound) bytes its header declares"
                            : "decompresses to more than \(maxOutput) bytes")
                    }
                    output.append(contentsOf: out[0..<produced])
                    if let header, !headerSeen, output.count >= header.length {
                        headerSeen = true
                        bound = min(maxOutput, max(header.length, try header.declaredTotal(Array(output.prefix(header.length)))))
                    }
                }
                if status == Z_STREAM_END {
                    let rest = Int(stream.avail_in)
                    if rest == 0 { break }
                    let at = input.count - rest
                    if rest >= 2 && input[at] == 0x1f && input[at + 1] == 0x8b {
                        // Another gzip member follows.
                        guard inflateReset(&stream) == Z_OK else {
                            throw ZlibError.corrupt(detail: "zlib could not restart for the next gzip member")
                        }
                        continue
                    }
                    throw ZlibError.corrupt(detail: "\(rest) unexpected bytes after the end of the gzip stream")
                }
                if stream.avail_in == 0 && stream.avail_out != 0 {
                    throw ZlibError.truncated(detail: "compressed data ends early (truncated file?)")
                }
            }
        }
        return output
    }

    /// `bytes` compressed in one call at `level` (0...9): windowBits 15 gives a zlib stream (RFC 1950, what
    /// `ModelFile.encode` requires), 31 a gzip member, -15 raw deflate. Deterministic: same bytes in, same bytes out
    /// (for one zlib build).
    package static func deflate(_ bytes: [UInt8], level: Int32 = 9, windowBits: Int32 = 15,
                                strategy: Int32 = Z_DEFAULT_STRATEGY) throws(ZlibError) -> [UInt8] {
        var stream = z_stream()
        let initialised = mnistq_deflate_init2(&stream, level, windowBits, strategy)
        guard initialised == Z_OK else { throw ZlibError.corrupt(detail: "zlib deflateInit2 failed (status \(initialised))") }
        defer { deflateEnd(&stream) }
        var input = bytes
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))))
        let status: Int32 = input.withUnsafeMutableBufferPointer { inp in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = inp.baseAddress
                stream.avail_in = uInt(inp.count)
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                return _CZlib.deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw ZlibError.corrupt(detail: "zlib deflate failed (status \(status))") }
        return Array(output[0..<Int(stream.total_out)])
    }
}
