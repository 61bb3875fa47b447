// Fuzz target `inflate`: the runtime's own inflater against the system zlib, on the same zlib stream.
// zlib accepts  → ours must accept, given zlib's output length, and produce the same bytes;
// zlib rejects  → ours must reject, whatever length it is told to expect. The one allowed difference: ours does
// not hold a stream to the smaller window its header declares (CINFO < 7); such a stream is retried with zlib under
// the full 32 KB window before a disagreement counts.
import _CZlib
@testable import MNISTQRuntime

/// zlib's verdict: the output, or nil when zlib rejects the stream (or leaves bytes after its end).
private func zlibInflate(_ input: [UInt8]) -> [UInt8]? {
    var stream = z_stream()
    guard mnistq_inflate_init2(&stream, 15) == Z_OK else { fatalError("zlib could not initialise") }
    defer { inflateEnd(&stream) }
    var output = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    return input.withUnsafeBufferPointer { (source) -> [UInt8]? in
        stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
        stream.avail_in = UInt32(source.count)
        while true {
            let status = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                return inflate(&stream, Z_FINISH)
            }
            output += chunk[0..<(chunk.count - Int(stream.avail_out))]
            if status == Z_STREAM_END { return stream.avail_in == 0 ? output : nil }
            // Z_BUF_ERROR with output space left means the input ended early.
            if status == Z_BUF_ERROR && stream.avail_out == 0 { continue }
            if status != Z_OK { return nil }
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInflate(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let ours = { (length: Int) -> [UInt8]? in try? Inflate.zlibDecompress(input, expectedLength: length) }
    if let expected = zlibInflate(input) {
        guard let mine = ours(expected.count) else { fatalError("zlib accepts a stream of \(size) bytes that the runtime rejects") }
        if mine != expected { fatalError("the runtime inflates \(size) bytes differently from zlib") }
        return 0
    }
    // Lengths to try: none, a small one, and one from the input's last bytes (so the fuzzer can steer it).
    let steered = size >= 2 ? Int(data[size - 1]) << 8 | Int(data[size - 2]) : 0
    for length in [0, 1, steered] {
        guard let mine = ours(length) else { continue }
        var widened = input
        if widened.count >= 2, widened[0] & 0x0F == 8, widened[0] >> 4 < 7 {
            widened[0] = 0x78
            widened[1] = UInt8((31 - (0x78 * 256 + Int(widened[1] & 0xE0)) % 31) % 31) | (widened[1] & 0xE0)
            if zlibInflate(widened) == mine { continue }
        }
        fatalError("the runtime accepts a stream of \(size) bytes (\(length) expected) that zlib rejects")
    }
    return 0
}
