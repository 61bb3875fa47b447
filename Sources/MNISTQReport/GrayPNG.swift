// Small grayscale PNG files (the report's digit images as data URIs), compressed with the system zlib.
import Foundation
import MNISTQRuntime
import MNISTQSupport

package enum GrayPNG {
    /// A PNG file of an 8-bit grayscale image (`pixels` row-major, `width × height` bytes, 0 = black).
    /// Returns nil only if zlib fails, which it does not for inputs this small.
    package static func encode(pixels: ArraySlice<UInt8>, width: Int, height: Int) -> [UInt8]? {
        precondition(pixels.count == width * height, "GrayPNG.encode: \(pixels.count) pixels for \(width)×\(height)")
        // Each scanline starts with its filter type; 0 (None) is best for images as small as the network's input.
        var raw = [UInt8]()
        raw.reserveCapacity((width + 1) * height)
        var start = pixels.startIndex
        for _ in 0..<height {
            raw.append(0)
            raw.append(contentsOf: pixels[start..<(start + width)])
            start += width
        }
        // A zlib stream at level 9, windowBits 15, memLevel 8: what zlib's compress2(…, 9) writes.
        guard let compressed = try? Zlib.deflate(raw, level: 9) else { return nil }

        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header = UInt32(width).bigEndianBytes + UInt32(height).bigEndianBytes
        header += [8, 0, 0, 0, 0]  // bit depth 8, colour type 0 (grayscale), deflate, filter method 0, no interlace
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", compressed, to: &png)
        appendChunk("IEND", [], to: &png)
        return png
    }

    /// `data:image/png;base64,…` of ``encode(pixels:width:height:)``.
    package static func dataURI(pixels: ArraySlice<UInt8>, width: Int, height: Int) -> String? {
        encode(pixels: pixels, width: width, height: height).map { "data:image/png;base64," + Data($0).base64EncodedString() }
    }

    static func appendChunk(_ type: String, _ data: [UInt8], to png: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        png += UInt32(data.count).bigEndianBytes
        let body = typeBytes + data
        png += body
        png += CRC32.checksum(body).bigEndianBytes
    }
}
