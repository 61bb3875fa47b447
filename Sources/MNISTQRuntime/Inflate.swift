// A bounded zlib (RFC 1950) / DEFLATE (RFC 1951) decoder, written from the RFCs, for model loading.

/// Why a zlib stream could not be decoded. Every malformed input maps to one of these; none crashes or hangs.
public enum InflateError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The two-byte zlib header is wrong: `reason` says which part (method, window size, or check bits).
    case badZlibHeader(cmf: UInt8, flg: UInt8, reason: String)
    /// The header asks for a preset dictionary (FDICT), which model files never use.
    case presetDictionaryUnsupported
    /// A block header has BTYPE 3, which RFC 1951 reserves.
    case badBlockType(Int)
    /// A stored block's LEN and NLEN are not one's complements of each other.
    case storedLengthMismatch(length: Int, complement: Int)
    /// A dynamic block's code lengths do not describe a valid prefix code; `reason` says how.
    case badCodeLengths(String)
    /// A bit pattern matched no code, or a code decoded to a symbol RFC 1951 does not allow (286/287, 30/31).
    case invalidSymbol(table: String, symbol: Int)
    /// A back-reference points before the start of the output.
    case distanceTooFarBack(distance: Int, available: Int)
    /// The stream would produce more bytes than the expected length.
    case outputOverrun(limit: Int)
    /// The stream ends before its final block (or before the Adler-32 trailer) is complete.
    case prematureEnd(byteOffset: Int)
    /// The stream ended cleanly but produced fewer bytes than expected.
    case outputShorterThanExpected(produced: Int, expected: Int)
    /// The Adler-32 in the trailer does not match the decoded bytes.
    case adler32Mismatch(stored: UInt32, computed: UInt32)
    /// Bytes follow the Adler-32 trailer.
    case trailingBytes(count: Int)

    /// What went wrong, the value found, what was expected, and a hint: "finding; hint".
    public var description: String { "\(finding); \(hint)" }

    /// What went wrong where, with the value found. One line a case: a table, not logic.
    private var finding: String {
        switch self {
        case let .badZlibHeader(cmf, flg, reason): "bad zlib header (CMF 0x\(hex(cmf)), FLG 0x\(hex(flg))): \(reason)"
        case .presetDictionaryUnsupported: "zlib header sets FDICT (preset dictionary), which is not supported"
        case let .badBlockType(type): "deflate block type \(type) is reserved (expected 0 stored, 1 fixed or 2 dynamic)"
        case let .storedLengthMismatch(length, complement): "stored block LEN \(length) and NLEN \(complement) are not complements"
        case let .badCodeLengths(reason): "invalid Huffman code lengths in a dynamic block: \(reason)"
        case let .invalidSymbol(table, symbol): symbol < 0 ? "a bit pattern matches no \(table) code" : "invalid \(table) symbol \(symbol)"
        case let .distanceTooFarBack(distance, available): "back-reference distance \(distance) exceeds the \(available) bytes decoded so far"
        case let .outputOverrun(limit): "decoded payload exceeds its declared length of \(limit) bytes"
        case let .prematureEnd(offset): "compressed payload ends too early (at byte \(offset))"
        case let .outputShorterThanExpected(produced, expected): "decoded payload has \(produced) bytes, header says \(expected)"
        case let .adler32Mismatch(stored, computed): "Adler-32 of decoded payload is 0x\(hex(computed)), stream says 0x\(hex(stored))"
        case let .trailingBytes(count): "\(count) unexpected bytes follow the zlib stream's Adler-32"
        }
    }

    /// What it means or what to do: one text per remedy, written once however many errors share it.
    private var hint: String {
        switch self {
        case .badZlibHeader: "expected e.g. 78 9C — the payload must be a zlib stream (RFC 1950), not raw deflate or gzip"
        case .presetDictionaryUnsupported: "write the payload without a dictionary"
        case .badBlockType, .storedLengthMismatch, .badCodeLengths, .invalidSymbol, .distanceTooFarBack, .adler32Mismatch:
            "the payload is corrupt"
        case .outputOverrun, .outputShorterThanExpected: "the header's payload length or the payload is wrong"
        case .prematureEnd: "the file is truncated"
        case .trailingBytes: "the header's compressed length is wrong"
        }
    }
}

/// Decodes zlib streams into a buffer whose size the caller fixes in advance.
///
/// Supports stored, fixed-Huffman and dynamic-Huffman blocks, any number of them. Work and memory are linear in
/// the input and the expected output: at most `expectedLength` bytes are ever allocated, each input bit is read
/// once, and each Huffman decode reads at most 15 bits. Thread-safe (no shared mutable state).
package enum Inflate {
    /// Decodes the zlib stream `input`, which must decode to exactly `expectedLength` bytes and end with a matching
    /// Adler-32 and no trailing bytes (a negative length counts as 0). The caller bounds `expectedLength` (the model loader caps it at
    /// ``ModelFormat/maximumPayloadLength``); this function allocates exactly that many bytes.
    ///
    /// - Throws: ``InflateError``, one case per kind of malformation.
    package static func zlibDecompress(_ input: UnsafeBufferPointer<UInt8>, expectedLength: Int) throws(InflateError) -> [UInt8] {
        let expectedLength = max(0, expectedLength)
        var failure: InflateError? = nil
        let output = [UInt8](unsafeUninitializedCapacity: expectedLength) { buffer, initializedCount in
            var decoder = Decoder(input: input, output: buffer)
            do throws(InflateError) {
                try decoder.decodeZlib()
            } catch {
                failure = error
            }
            // Bytes past `produced` are uninitialised; zero them so the array is always fully initialised.
            if decoder.produced < expectedLength {
                (buffer.baseAddress! + decoder.produced).initialize(repeating: 0, count: expectedLength - decoder.produced)
            }
            initializedCount = expectedLength
        }
        if let failure { throw failure }
        return output
    }

    /// Convenience overload of ``zlibDecompress(_:expectedLength:)-(UnsafeBufferPointer<UInt8>,_)`` for arrays.
    package static func zlibDecompress(_ input: [UInt8], expectedLength: Int) throws(InflateError) -> [UInt8] {
        try input.withUnsafeBufferPointer { (buffer) throws(InflateError) -> [UInt8] in
            try zlibDecompress(buffer, expectedLength: expectedLength)
        }
    }
}

/// A canonical Huffman code stored as counts per length plus symbols in code order (RFC 1951 §3.2.2).
struct HuffmanCode {
    /// counts[n] = number of codes of length n, n in 1...15 (counts[0] unused).
    var counts = [UInt16](repeating: 0, count: 16)
    /// Symbols sorted by (code length, symbol value): the canonical code order.
    var symbols: [UInt16]
    /// Name used in error messages.
    let name: String

    /// Builds the code from per-symbol lengths (0 = symbol unused). Rejects over-subscribed sets; accepts an
    /// incomplete set only when it is empty or a single one-bit code (as zlib does), since RFC 1951 permits one
    /// distance code.
    init(lengths: ArraySlice<UInt8>, name: String) throws(InflateError) {
        self.name = name
        for length in lengths { counts[Int(length)] &+= 1 }
        counts[0] = 0
        var left = 1
        var maxLength = 0
        for length in 1...15 {
            left <<= 1
            left -= Int(counts[length])
            if left < 0 { throw .badCodeLengths("\(name) code is over-subscribed at length \(length)") }
            if counts[length] > 0 { maxLength = length }
        }
        if left > 0 && maxLength > 1 {
            throw .badCodeLengths("\(name) code is incomplete")
        }
        var offsets = [Int](repeating: 0, count: 16)
        for length in 1..<15 { offsets[length + 1] = offsets[length] + Int(counts[length]) }
        symbols = [UInt16](repeating: 0, count: lengths.count)
        for (symbol, length) in zip(0..., lengths) where length != 0 {
            symbols[offsets[Int(length)]] = UInt16(symbol)
            offsets[Int(length)] += 1
        }
    }
}

/// Decoder state for one stream: input cursor, bit buffer and output cursor.
private struct Decoder {
    let input: UnsafeBufferPointer<UInt8>
    let output: UnsafeMutableBufferPointer<UInt8>
    var position = 0
    /// Pending input bits, least significant first; fewer than 8 remain after every read.
    var bitBuffer: UInt32 = 0
    var bitCount = 0
    var produced = 0

    init(input: UnsafeBufferPointer<UInt8>, output: UnsafeMutableBufferPointer<UInt8>) {
        self.input = input
        self.output = output
    }

    /// Reads `count` (0...16) bits, first bit in the least significant position.
    @inline(__always)
    mutating func bits(_ count: Int) throws(InflateError) -> Int {
        while bitCount < count {
            guard position < input.count else { throw .prematureEnd(byteOffset: position) }
            bitBuffer |= UInt32(input[position]) << UInt32(bitCount)
            position += 1
            bitCount += 8
        }
        let value = Int(bitBuffer & ((1 << UInt32(count)) - 1))
        bitBuffer >>= UInt32(count)
        bitCount -= count
        return value
    }

    mutating func byte() throws(InflateError) -> UInt8 {
        guard position < input.count else { throw .prematureEnd(byteOffset: position) }
        defer { position += 1 }
        return input[position]
    }

    /// Decodes one symbol, reading the code's bits one at a time (Huffman codes are packed first bit first).
    mutating func decode(_ code: HuffmanCode) throws(InflateError) -> Int {
        var value = 0      // bits read so far, as a code
        var first = 0      // first code of the current length
        var index = 0      // index in `symbols` of the first code of the current length
        for length in 1...15 {
            value |= try bits(1)
            let count = Int(code.counts[length])
            if value - first < count { return Int(code.symbols[index + value - first]) }
            index += count
            first = (first + count) << 1
            value <<= 1
        }
        throw .invalidSymbol(table: code.name, symbol: -1)
    }

    mutating func decodeZlib() throws(InflateError) {
        let cmf = try byte(), flg = try byte()
        if cmf & 0x0F != 8 {
            throw .badZlibHeader(cmf: cmf, flg: flg, reason: "compression method \(cmf & 0x0F), expected 8 (deflate)")
        }
        if cmf >> 4 > 7 {
            throw .badZlibHeader(cmf: cmf, flg: flg, reason: "window size 2^\(Int(cmf >> 4) + 8) exceeds 2^15")
        }
        if (UInt16(cmf) << 8 | UInt16(flg)) % 31 != 0 {
            throw .badZlibHeader(cmf: cmf, flg: flg, reason: "check bits: CMF·256 + FLG is not a multiple of 31")
        }
        if flg & 0x20 != 0 { throw .presetDictionaryUnsupported }

        var isFinal = false
        while !isFinal {
            isFinal = try bits(1) == 1
            switch try bits(2) {
            case 0: try storedBlock()
            case 1: try huffmanBlock(literals: Decoder.fixedLiteralCode, distances: Decoder.fixedDistanceCode)
            case 2:
                let (literals, distances) = try dynamicCodes()
                try huffmanBlock(literals: literals, distances: distances)
            default: throw .badBlockType(3)
            }
        }
        if produced < output.count { throw .outputShorterThanExpected(produced: produced, expected: output.count) }

        // The trailer starts at the next byte boundary; the partial byte's bits are padding.
        bitBuffer = 0; bitCount = 0
        var stored: UInt32 = 0
        for _ in 0..<4 { stored = stored << 8 | UInt32(try byte()) }
        var adler = Adler32()
        adler.update(UnsafeBufferPointer(output))
        if stored != adler.value { throw .adler32Mismatch(stored: stored, computed: adler.value) }
        if position < input.count { throw .trailingBytes(count: input.count - position) }
    }

    mutating func storedBlock() throws(InflateError) {
        bitBuffer = 0; bitCount = 0  // skip to the byte boundary
        let length = Int(try byte()) | Int(try byte()) << 8
        let complement = Int(try byte()) | Int(try byte()) << 8
        if length != complement ^ 0xFFFF { throw .storedLengthMismatch(length: length, complement: complement) }
        guard input.count - position >= length else { throw .prematureEnd(byteOffset: input.count) }
        guard output.count - produced >= length else { throw .outputOverrun(limit: output.count) }
        for offset in 0..<length { output[produced + offset] = input[position + offset] }
        position += length
        produced += length
    }

    mutating func huffmanBlock(literals: HuffmanCode, distances: HuffmanCode) throws(InflateError) {
        while true {
            let symbol = try decode(literals)
            if symbol < 256 {
                guard produced < output.count else { throw .outputOverrun(limit: output.count) }
                output[produced] = UInt8(truncatingIfNeeded: symbol)
                produced += 1
                continue
            }
            if symbol == 256 { return }
            let lengthIndex = symbol - 257
            guard lengthIndex < 29 else { throw .invalidSymbol(table: literals.name, symbol: symbol) }
            let length = Decoder.lengthBase[lengthIndex] + (try bits(Decoder.lengthExtraBits[lengthIndex]))
            let distanceSymbol = try decode(distances)
            guard distanceSymbol < 30 else { throw .invalidSymbol(table: distances.name, symbol: distanceSymbol) }
            let distance = Decoder.distanceBase[distanceSymbol] + (try bits(Decoder.distanceExtraBits[distanceSymbol]))
            guard distance <= produced else { throw .distanceTooFarBack(distance: distance, available: produced) }
            guard output.count - produced >= length else { throw .outputOverrun(limit: output.count) }
            // Byte by byte: source and destination overlap when distance < length (a run).
            for _ in 0..<length {
                output[produced] = output[produced - distance]
                produced += 1
            }
        }
    }

    /// Reads a dynamic block's code descriptions (RFC 1951 §3.2.7).
    mutating func dynamicCodes() throws(InflateError) -> (HuffmanCode, HuffmanCode) {
        let literalCount = try bits(5) + 257
        let distanceCount = try bits(5) + 1
        let codeLengthCount = try bits(4) + 4
        if literalCount > 286 { throw .badCodeLengths("\(literalCount) literal/length codes (at most 286)") }
        if distanceCount > 30 { throw .badCodeLengths("\(distanceCount) distance codes (at most 30)") }

        var codeLengthLengths = [UInt8](repeating: 0, count: 19)
        for index in 0..<codeLengthCount {
            codeLengthLengths[Decoder.codeLengthOrder[index]] = UInt8(try bits(3))
        }
        let codeLengthCode = try HuffmanCode(lengths: codeLengthLengths[...], name: "code-length")
        // The code-length code must be complete (zlib's rule); an empty one cannot describe anything.
        if codeLengthCode.symbols.isEmpty || !Decoder.isComplete(codeLengthCode) {
            throw .badCodeLengths("code-length code is incomplete")
        }

        var lengths = [UInt8](repeating: 0, count: literalCount + distanceCount)
        var index = 0
        while index < lengths.count {
            let symbol = try decode(codeLengthCode)
            if symbol < 16 {
                lengths[index] = UInt8(symbol)
                index += 1
                continue
            }
            let value: UInt8
            let repeatCount: Int
            switch symbol {
            case 16:
                guard index > 0 else { throw .badCodeLengths("repeat code 16 with no previous length") }
                value = lengths[index - 1]
                repeatCount = 3 + (try bits(2))
            case 17:
                value = 0
                repeatCount = 3 + (try bits(3))
            default:
                value = 0
                repeatCount = 11 + (try bits(7))
            }
            guard index + repeatCount <= lengths.count else {
                throw .badCodeLengths("a repeat runs past the \(lengths.count) declared lengths")
            }
            for _ in 0..<repeatCount { lengths[index] = value; index += 1 }
        }
        if lengths[256] == 0 { throw .badCodeLengths("end-of-block symbol 256 has no code") }
        let literals = try HuffmanCode(lengths: lengths[0..<literalCount], name: "literal/length")
        let distances = try HuffmanCode(lengths: lengths[literalCount...], name: "distance")
        return (literals, distances)
    }

    static func isComplete(_ code: HuffmanCode) -> Bool {
        var left = 1
        for length in 1...15 { left = (left << 1) - Int(code.counts[length]) }
        return left == 0
    }

    static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
                             131, 163, 195, 227, 258]
    static let lengthExtraBits = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025,
                               1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtraBits = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11,
                                    12, 12, 13, 13]

    /// RFC 1951 §3.2.6. Symbols 286/287 and distances 30/31 get codes (so the code is complete) but are rejected.
    static let fixedLiteralCode: HuffmanCode = {
        var lengths = [UInt8](repeating: 8, count: 288)
        for symbol in 144..<256 { lengths[symbol] = 9 }
        for symbol in 256..<280 { lengths[symbol] = 7 }
        return try! HuffmanCode(lengths: lengths[...], name: "literal/length")  // constant, valid by construction
    }()
    static let fixedDistanceCode: HuffmanCode = {
        try! HuffmanCode(lengths: [UInt8](repeating: 5, count: 32)[...], name: "distance")  // constant, valid
    }()
}

@inline(__always)
func hex<T: FixedWidthInteger>(_ value: T) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, T.bitWidth / 4 - digits.count)) + digits
}
