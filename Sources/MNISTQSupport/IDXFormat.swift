// The one IDX parser (MNIST's format): magic numbers, header layout and payload length, for both the data set
// reader (MNISTQData) and the image decoder (MNISTQImage), which add their own limits and error messages.

/// IDX files as MNIST distributes them: a big-endian header (magic, then one UInt32 per dimension), then one
/// unsigned byte per pixel or label.
package enum IDXFormat {
    /// Magic of an IDX uint8 3-D (images) file: 0x00000803 = 2051.
    package static let imageMagic: UInt32 = 0x0000_0803
    /// Magic of an IDX uint8 1-D (labels) file: 0x00000801 = 2049.
    package static let labelMagic: UInt32 = 0x0000_0801
    /// Bytes before the pixels of an image file: magic, count, rows, columns.
    package static let imageHeaderLength = 16
    /// Bytes before the labels of a label file: magic, count.
    package static let labelHeaderLength = 8

    /// Whether the first bytes are an IDX uint8 magic of images or labels (what a format sniffer looks for).
    package static func hasMagic(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0x08 && (bytes[3] == 0x03 || bytes[3] == 0x01)
    }

    /// The magic number, or nil when fewer than 4 bytes are there.
    package static func magic(_ bytes: [UInt8]) -> UInt32? {
        bytes.count >= 4 ? bytes.bigEndianUInt32(at: 0) : nil
    }

    /// The header of an image file: `count` images of `rows`×`columns`, or nil when fewer than 16 bytes are there.
    /// The magic is not checked here (see `magic(_:)`): callers name a wrong one in their own words.
    package static func imageHeader(_ bytes: [UInt8]) -> (count: Int, rows: Int, columns: Int)? {
        guard bytes.count >= imageHeaderLength else { return nil }
        return (Int(bytes.bigEndianUInt32(at: 4)), Int(bytes.bigEndianUInt32(at: 8)), Int(bytes.bigEndianUInt32(at: 12)))
    }

    /// The label count of a label file, or nil when fewer than 8 bytes are there.
    package static func labelCount(_ bytes: [UInt8]) -> Int? {
        bytes.count >= labelHeaderLength ? Int(bytes.bigEndianUInt32(at: 4)) : nil
    }

    /// The first label above 9 (MNIST has digits only), as (index, value).
    package static func firstInvalidLabel(_ labels: [UInt8]) -> (index: Int, value: UInt8)? {
        labels.firstIndex(where: { $0 > 9 }).map { ($0, labels[$0]) }
    }
}
