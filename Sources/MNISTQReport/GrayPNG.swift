// Small grayscale PNG files (the report's digit images as data URIs), compressed with the system zlib.
import _CZlib
import Foundation

public enum GrayPNG {
    /// A PNG file of an 8-bit grayscale image (`pixels` row-major, `width × height` bytes, 0 = black).
    /// Returns nil only if zlib fails, which it does not for inputs this small.
    public static func encode(pixels: ArraySlice<UInt8>, width: Int, height: Int) -> [UInt8]? {
        precondition(pixels.count == width * height, "GrayPNG.encode: \(pixels.count) pixels for \(width)×\(height)")
        // Each scanline starts with its filter type; 0 (None) is best for images of 784 bytes.
        var raw = [UInt8]()
        raw.reserveCapacity((width + 1) * height)
        var start = pixels.startIndex
        for _ in 0..<height {
            raw.append(0)
            raw.append(contentsOf: pixels[start..<(start + width)])
            start += width
        }
        var compressedLength = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedLength))
        guard compress2(&compressed, &compressedLength, raw, uLong(raw.count), 9) == Z_OK else { return nil }
        compressed.removeSubrange(Int(compressedLength)...)

        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [8, 0, 0, 0, 0]  // bit depth 8, colour type 0 (grayscale), deflate, filter method 0, no interlace
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", compressed, to: &png)
        appendChunk("IEND", [], to: &png)
        return png
    }

    /// `data:image/png;base64,…` of ``encode(pixels:width:height:)``.
    public static func dataURI(pixels: ArraySlice<UInt8>, width: Int, height: Int) -> String? {
        encode(pixels: pixels, width: width, height: height).map { "data:image/png;base64," + Data($0).base64EncodedString() }
    }

    static func appendChunk(_ type: String, _ data: [UInt8], to png: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        png += bigEndian(UInt32(data.count))
        let body = typeBytes + data
        png += body
        let crc = body.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        png += bigEndian(UInt32(crc))
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
}
