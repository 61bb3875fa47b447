// PNG decoding (plain or Adam7-interlaced; gray, RGB, palette, with or without alpha; 1–16 bits), CRCs checked.
import MNISTQRuntime
import MNISTQSupport

/// PNG to 8-bit grayscale. Colour becomes luma (0.299 R + 0.587 G + 0.114 B); alpha is composited over white,
/// since transparent areas of a drawn digit are paper.
package enum PNGDecoder {
    /// The 8-byte PNG signature.
    package static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    package static func decode(_ bytes: [UInt8], file: String, limits: DecodeLimits = .standard) throws -> GrayImage {
        func truncated(_ detail: String) -> ImageError { .truncated(file: file, format: "PNG", detail: detail) }
        func corrupt(_ detail: String) -> ImageError { .corrupt(file: file, format: "PNG", detail: detail) }
        var position = 8
        var header: (width: Int, height: Int, depth: Int, colorType: Int, interlaced: Bool)?
        var palette: [UInt8] = []  // RGB triples
        var paletteAlpha: [UInt8] = []
        var compressed: [UInt8] = []
        var sawEnd = false
        while !sawEnd {
            guard position + 12 <= bytes.count else { throw truncated("the file ends inside or before a chunk header at byte \(position)") }
            let length = Int(bytes.bigEndianUInt32(at: position))
            let type = String(decoding: bytes[position + 4 ..< position + 8], as: UTF8.self)
            guard length <= bytes.count - position - 12 else {
                throw truncated("chunk \(type) at byte \(position) declares \(length) bytes; only \(bytes.count - position - 12) remain")
            }
            let dataStart = position + 8
            let storedCRC = bytes.bigEndianUInt32(at: dataStart + length)
            let computedCRC = bytes.withUnsafeBufferPointer { buffer in
                CRC32.checksum(UnsafeBufferPointer(rebasing: buffer[position + 4 ..< dataStart + length]))
            }
            guard storedCRC == computedCRC else {
                throw corrupt("CRC of chunk \(type) at byte \(position) is 0x\(String(storedCRC, radix: 16)); "
                    + "the data gives 0x\(String(computedCRC, radix: 16))")
            }
            let data = bytes[dataStart ..< dataStart + length]
            if header == nil && type != "IHDR" { throw corrupt("first chunk is \(type); expected IHDR") }
            switch type {
            case "IHDR":
                guard length == 13 else { throw corrupt("IHDR is \(length) bytes; expected 13") }
                let width = Int(bytes.bigEndianUInt32(at: dataStart))
                let height = Int(bytes.bigEndianUInt32(at: dataStart + 4))
                let depth = Int(bytes[dataStart + 8]), colorType = Int(bytes[dataStart + 9])
                try ImageDecoder.checkDimensions(width: width, height: height, file: file, format: .png, limits: limits)
                let validDepths: [Int: [Int]] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
                guard let depths = validDepths[colorType], depths.contains(depth) else {
                    throw corrupt("colour type \(colorType) with bit depth \(depth) is not a valid PNG combination")
                }
                guard bytes[dataStart + 10] == 0, bytes[dataStart + 11] == 0 else {
                    throw corrupt("compression method \(bytes[dataStart + 10]), filter method \(bytes[dataStart + 11]); expected 0 and 0")
                }
                guard bytes[dataStart + 12] <= 1 else { throw corrupt("interlace method \(bytes[dataStart + 12]); expected 0 or 1") }
                header = (width, height, depth, colorType, bytes[dataStart + 12] == 1)
            case "PLTE":
                guard length % 3 == 0, length > 0, length <= 768 else { throw corrupt("PLTE is \(length) bytes; expected 3...768, a multiple of 3") }
                palette = Array(data)
            case "tRNS":
                if header?.colorType == 3 { paletteAlpha = Array(data) }
            case "IDAT":
                compressed.append(contentsOf: data)
            case "IEND":
                sawEnd = true
            default:
                break  // ancillary chunks are skipped; unknown critical ones are a decoder limitation
            }
            position = dataStart + length + 4
        }
        guard let (width, height, depth, colorType, interlaced) = header else { throw corrupt("no IHDR chunk") }
        if colorType == 3 && palette.isEmpty { throw corrupt("palette image without a PLTE chunk") }
        if compressed.isEmpty { throw corrupt("no IDAT chunk (no pixel data)") }

        let channels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colorType]!
        let bitsPerPixel = channels * depth
        let bytesPerPixel = max(1, bitsPerPixel / 8)
        // Adam7: seven sub-images (x0, y0, dx, dy), each stored as rows with their own filter bytes, in order.
        let passes: [(x0: Int, y0: Int, dx: Int, dy: Int)] = interlaced
            ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
            : [(0, 0, 1, 1)]
        func passSize(_ pass: (x0: Int, y0: Int, dx: Int, dy: Int)) -> (columns: Int, rows: Int, rowBytes: Int) {
            let columns = width > pass.x0 ? (width - pass.x0 + pass.dx - 1) / pass.dx : 0
            let rows = height > pass.y0 ? (height - pass.y0 + pass.dy - 1) / pass.dy : 0
            return (columns, rows, (columns * bitsPerPixel + 7) / 8)
        }
        let length = passes.reduce(0) { total, pass in
            let size = passSize(pass)
            return total + (size.columns == 0 ? 0 : size.rows * (size.rowBytes + 1))
        }
        // Limits were checked on IHDR, so this allocation is bounded (≤ 8 bytes per allowed pixel + filter bytes).
        let raw = try inflateExactly(compressed, length: length, file: file)

        var pixels = [UInt8](repeating: 0, count: width * height)
        var rowStart = 0
        for pass in passes {
            let (columns, rows, rowBytes) = passSize(pass)
            if columns == 0 || rows == 0 { continue }
            var previous = [UInt8](repeating: 0, count: rowBytes)
            var current = [UInt8](repeating: 0, count: rowBytes)
            for row in 0..<rows {
                let filter = raw[rowStart]
                for i in 0..<rowBytes { current[i] = raw[rowStart + 1 + i] }
                let y = pass.y0 + row * pass.dy
                try unfilter(&current, previous: previous, filter: filter, bytesPerPixel: bytesPerPixel, row: y, file: file)
                for column in 0..<columns {
                    pixels[y * width + pass.x0 + column * pass.dx] = try grayValue(
                        row: current, x: column, depth: depth, colorType: colorType, palette: palette,
                        paletteAlpha: paletteAlpha, file: file)
                }
                swap(&previous, &current)
                rowStart += rowBytes + 1
            }
        }
        return GrayImage(width: width, height: height, pixels: pixels)
    }

    /// Inflates the IDAT zlib stream into exactly `length` bytes: shorter or cut off is truncated, anything else corrupt.
    static func inflateExactly(_ compressed: [UInt8], length: Int, file: String) throws -> [UInt8] {
        do {
            return try Inflate.zlibDecompress(compressed, expectedLength: length)
        } catch .outputOverrun {
            throw ImageError.corrupt(file: file, format: "PNG", detail: "pixel data is longer than IHDR's \(length) bytes")
        } catch let .outputShorterThanExpected(produced, expected) {
            throw ImageError.truncated(file: file, format: "PNG", detail: "pixel data inflates to \(produced) bytes; IHDR needs \(expected)")
        } catch let .prematureEnd(offset) {
            throw ImageError.truncated(file: file, format: "PNG", detail: "IDAT zlib stream ends early (at byte \(offset))")
        } catch {
            throw ImageError.corrupt(file: file, format: "PNG", detail: "zlib data error in IDAT: \(error)")
        }
    }

    static func unfilter(_ row: inout [UInt8], previous: [UInt8], filter: UInt8, bytesPerPixel: Int, row y: Int, file: String) throws {
        let count = row.count
        switch filter {
        case 0: break
        case 1: for i in bytesPerPixel ..< max(count, bytesPerPixel) { row[i] = row[i] &+ row[i - bytesPerPixel] }
        case 2: for i in 0..<count { row[i] = row[i] &+ previous[i] }
        case 3:
            for i in 0..<count {
                let left = i >= bytesPerPixel ? Int(row[i - bytesPerPixel]) : 0
                row[i] = row[i] &+ UInt8((left + Int(previous[i])) / 2)
            }
        case 4:
            for i in 0..<count {
                let a = i >= bytesPerPixel ? Int(row[i - bytesPerPixel]) : 0
                let b = Int(previous[i])
                let c = i >= bytesPerPixel ? Int(previous[i - bytesPerPixel]) : 0
                let p = a + b - c
                let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                let predictor = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c)
                row[i] = row[i] &+ UInt8(predictor)
            }
        default:
            throw ImageError.corrupt(file: file, format: "PNG", detail: "row \(y) has filter type \(filter); expected 0...4")
        }
    }

    @inline(__always)
    static func grayValue(row: [UInt8], x: Int, depth: Int, colorType: Int, palette: [UInt8], paletteAlpha: [UInt8],
                          file: String) throws -> UInt8 {
        // Samples scaled to 8 bits: 16-bit keeps the high byte; 1/2/4-bit gray is stretched to 0...255.
        func sample(_ index: Int) -> Int {
            switch depth {
            case 8: return Int(row[index])
            case 16: return Int(row[index * 2])
            default:
                let perByte = 8 / depth
                let byte = Int(row[index / perByte])
                let shift = 8 - depth * (index % perByte + 1)
                return (byte >> shift) & ((1 << depth) - 1)
            }
        }
        func luma(_ r: Int, _ g: Int, _ b: Int) -> Int { (299 * r + 587 * g + 114 * b + 500) / 1000 }
        func overWhite(_ value: Int, alpha: Int) -> UInt8 { UInt8((value * alpha + 255 * (255 - alpha) + 127) / 255) }
        switch colorType {
        case 0:
            let value = sample(x)
            return depth >= 8 ? UInt8(value) : UInt8(value * 255 / ((1 << depth) - 1))
        case 2: return UInt8(luma(sample(3 * x), sample(3 * x + 1), sample(3 * x + 2)))
        case 4: return overWhite(sample(2 * x), alpha: sample(2 * x + 1))
        case 6: return overWhite(luma(sample(4 * x), sample(4 * x + 1), sample(4 * x + 2)), alpha: sample(4 * x + 3))
        default:  // 3: palette
            let index = sample(x)
            guard index * 3 + 2 < palette.count else {
                throw ImageError.corrupt(file: file, format: "PNG", detail: "palette index \(index) past the \(palette.count / 3)-entry PLTE")
            }
            let value = luma(Int(palette[3 * index]), Int(palette[3 * index + 1]), Int(palette[3 * index + 2]))
            return index < paletteAlpha.count ? overWhite(value, alpha: Int(paletteAlpha[index])) : UInt8(value)
        }
    }
}
