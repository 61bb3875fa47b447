// JPEG decoding through the system libjpeg (via the _CJPEG shim), EXIF orientation, and an encoder for tests.
import _CJPEG

/// JPEG via libjpeg: baseline and progressive; gray, YCbCr, RGB, CMYK and YCCK; output is 8-bit grayscale.
package enum JPEGDecoder {
    /// Decodes to grayscale and applies the EXIF orientation (APP1 "Exif" tag 0x0112), if any.
    ///
    /// `minimumSide` > 0 allows a reduced decode: libjpeg's DCT scaling to 1/2, 1/4 or 1/8 size, the smallest
    /// that keeps the shorter side ≥ `minimumSide` (e.g. a 4000×3000 photo with 256 → 500×375, about 30× less
    /// work and memory). 0 (the default) decodes at full size.
    package static func decode(_ bytes: [UInt8], file: String, limits: DecodeLimits = .standard, minimumSide: Int = 0) throws -> GrayImage {
        var result = bytes.withUnsafeBufferPointer { buffer in
            mnistq_jpeg_decode_gray(buffer.baseAddress, buffer.count, Int32(clamping: limits.maxSide), limits.maxPixels,
                                    Int32(clamping: max(0, minimumSide)))
        }
        defer { mnistq_jpeg_free(result.pixels) }
        let message = withUnsafeBytes(of: &result.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        switch Int(result.status) {
        case Int(MNISTQ_JPEG_OK): break
        case Int(MNISTQ_JPEG_ERROR_TRUNCATED):
            throw ImageError.truncated(file: file, format: "JPEG", detail: message.isEmpty ? "data ends early" : message)
        case Int(MNISTQ_JPEG_ERROR_TOO_LARGE):
            throw ImageError.tooLarge(file: file, format: "JPEG", width: Int(result.width), height: Int(result.height),
                                      maxSide: limits.maxSide, maxPixels: limits.maxPixels)
        default:
            // libjpeg reports a stream cut inside the headers as "no image" / premature end: say "truncated".
            if message.contains("Premature end") || message.contains("contains no image") {
                throw ImageError.truncated(file: file, format: "JPEG", detail: message)
            }
            throw ImageError.corrupt(file: file, format: "JPEG", detail: message.isEmpty ? "libjpeg failed" : message)
        }
        let width = Int(result.width), height = Int(result.height)
        let pixels = [UInt8](UnsafeBufferPointer(start: result.pixels, count: width * height))
        let image = GrayImage(width: width, height: height, pixels: pixels)
        return EXIF.apply(orientation: EXIF.orientation(ofJPEG: bytes), to: image)
    }
}

/// Encodes pixels as JPEG with libjpeg (tests and benchmark fixtures make their JPEGs with it).
package enum JPEGEncoder {
    /// Colour layout of the pixels handed to `encode`.
    package enum Layout: Sendable {
        /// 1 byte per pixel.
        case gray
        /// 3 bytes per pixel, R G B; stored as YCbCr.
        case rgb
        /// 4 bytes per pixel, C M Y K as stored (Adobe files store inverted ink: 255 = none); stored as CMYK.
        case cmyk
        /// As `.cmyk`, stored as YCCK.
        case ycck
    }

    /// JPEG bytes of `pixels` (width × height × components, interleaved) at `quality` 1...100.
    package static func encode(_ pixels: [UInt8], width: Int, height: Int, layout: Layout = .gray, quality: Int = 90,
                              progressive: Bool = false) throws -> [UInt8] {
        let components: Int32 = switch layout { case .gray: 1; case .rgb: 3; case .cmyk, .ycck: 4 }
        guard pixels.count == width * height * Int(components) else {
            throw ImageError.corrupt(file: "<encoder input>", format: "pixels",
                                     detail: "\(pixels.count) bytes; expected \(width)x\(height)x\(components)")
        }
        var result = pixels.withUnsafeBufferPointer { buffer in
            mnistq_jpeg_encode(buffer.baseAddress, Int32(width), Int32(height), components, Int32(quality),
                               progressive ? 1 : 0, layout == .ycck ? 1 : 0)
        }
        defer { mnistq_jpeg_free(result.bytes) }
        guard result.status == Int32(MNISTQ_JPEG_OK) else {
            let message = withUnsafeBytes(of: &result.message) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            throw ImageError.corrupt(file: "<encoder output>", format: "JPEG", detail: message)
        }
        return [UInt8](UnsafeBufferPointer(start: result.bytes, count: result.size))
    }
}

/// The EXIF orientation tag and the 8 transforms it names.
package enum EXIF {
    /// The orientation (1...8) in a JPEG's APP1 Exif segment, or 1 when there is none or it is malformed.
    /// Walks the marker segments before the first scan; never reads out of bounds.
    package static func orientation(ofJPEG bytes: [UInt8]) -> Int {
        var position = 2
        while position + 4 <= bytes.count {
            guard bytes[position] == 0xFF else { return 1 }
            let marker = bytes[position + 1]
            if marker == 0xFF { position += 1; continue }  // fill byte
            if marker == 0xDA || marker == 0xD9 { return 1 }  // start of scan / end of image: no more metadata
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { position += 2; continue }  // no length field
            let length = Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
            guard length >= 2, position + 2 + length <= bytes.count else { return 1 }
            if marker == 0xE1, length >= 8 {
                let start = position + 4
                if bytes[start ..< start + 6].elementsEqual([0x45, 0x78, 0x69, 0x66, 0, 0]) {  // "Exif\0\0"
                    return orientation(ofTIFF: Array(bytes[start + 6 ..< position + 2 + length]))
                }
            }
            position += 2 + length
        }
        return 1
    }

    /// The orientation tag (0x0112) of IFD0 of a TIFF structure, or 1.
    package static func orientation(ofTIFF tiff: [UInt8]) -> Int {
        guard tiff.count >= 8 else { return 1 }
        let littleEndian: Bool
        if tiff[0] == 0x49 && tiff[1] == 0x49 { littleEndian = true } else if tiff[0] == 0x4D && tiff[1] == 0x4D { littleEndian = false } else { return 1 }
        func read16(_ offset: Int) -> Int? {
            guard offset >= 0, offset + 2 <= tiff.count else { return nil }
            return littleEndian ? Int(tiff[offset]) | Int(tiff[offset + 1]) << 8 : Int(tiff[offset]) << 8 | Int(tiff[offset + 1])
        }
        func read32(_ offset: Int) -> Int? {
            guard let low = read16(littleEndian ? offset : offset + 2), let high = read16(littleEndian ? offset + 2 : offset) else { return nil }
            return high << 16 | low
        }
        guard read16(2) == 42, let ifd = read32(4), let entries = read16(ifd) else { return 1 }
        for entry in 0..<entries {
            let base = ifd + 2 + entry * 12
            guard let tag = read16(base) else { return 1 }
            if tag == 0x0112 {
                guard let type = read16(base + 2), type == 3, let value = read16(base + 8), (1...8).contains(value) else { return 1 }
                return value
            }
        }
        return 1
    }

    /// Turns an image stored with EXIF `orientation` into its upright view.
    ///
    /// 1 as is, 2 mirrored left-right, 3 rotated 180°, 4 mirrored top-bottom, 5 transposed (mirror along the
    /// main diagonal), 6 stored rotated 90° counter-clockwise (so turned 90° clockwise here), 7 transverse,
    /// 8 stored rotated 90° clockwise (turned 90° counter-clockwise here). Anything else is treated as 1.
    package static func apply(orientation: Int, to image: GrayImage) -> GrayImage {
        guard (2...8).contains(orientation) else { return image }
        let width = image.width, height = image.height
        let swaps = orientation >= 5
        let outWidth = swaps ? height : width, outHeight = swaps ? width : height
        var out = GrayImage(width: outWidth, height: outHeight)
        for y in 0..<outHeight {
            for x in 0..<outWidth {
                // (sx, sy): where output pixel (x, y) comes from in the stored image.
                let sx: Int, sy: Int
                switch orientation {
                case 2: sx = width - 1 - x; sy = y
                case 3: sx = width - 1 - x; sy = height - 1 - y
                case 4: sx = x; sy = height - 1 - y
                case 5: sx = y; sy = x
                case 6: sx = y; sy = height - 1 - x
                case 7: sx = width - 1 - y; sy = height - 1 - x
                default: sx = width - 1 - y; sy = x  // 8
                }
                out.pixels[y * outWidth + x] = image.pixels[sy * width + sx]
            }
        }
        return out
    }
}
