// gzip/zlib decompression through the system zlib (host side only; the runtime has its own inflater).
import _CZlib

/// Decompresses a gzip (or zlib) stream. `maxOutput` bounds the result so a hostile file cannot
/// make us allocate without limit; `file` only names the source in errors.
public func gunzip(_ compressed: [UInt8], file: String, maxOutput: Int) throws -> [UInt8] {
    var stream = z_stream()
    // 15 + 32: accept both zlib and gzip headers (zlib detects which).
    guard mnistq_inflate_init2(&stream, 15 + 32) == Z_OK else {
        throw DataError.corrupt(file: file, detail: "zlib could not initialise an inflater")
    }
    defer { inflateEnd(&stream) }
    var output = [UInt8]()
    output.reserveCapacity(min(maxOutput, max(1 << 16, compressed.count * 4)))
    var chunk = [UInt8](repeating: 0, count: 1 << 18)
    var status: Int32 = Z_OK
    try compressed.withUnsafeBufferPointer { input in
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
        stream.avail_in = UInt32(input.count)
        repeat {
            try chunk.withUnsafeMutableBufferPointer { out in
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                status = inflate(&stream, Z_NO_FLUSH)
                guard status == Z_OK || status == Z_STREAM_END else {
                    let reason = stream.msg.map { String(cString: $0) } ?? "inflate returned \(status)"
                    if status == Z_BUF_ERROR {
                        throw DataError.corrupt(file: file, detail: "compressed data ends early (truncated file?)")
                    }
                    throw DataError.corrupt(file: file, detail: "not a valid gzip stream: \(reason)")
                }
                let produced = out.count - Int(stream.avail_out)
                if output.count + produced > maxOutput {
                    throw DataError.corrupt(file: file, detail: "decompresses to more than \(maxOutput) bytes")
                }
                output.append(contentsOf: out[0..<produced])
            }
            if status != Z_STREAM_END && stream.avail_in == 0 && stream.avail_out != 0 {
                throw DataError.corrupt(file: file, detail: "compressed data ends early (truncated file?)")
            }
        } while status != Z_STREAM_END
    }
    return output
}
