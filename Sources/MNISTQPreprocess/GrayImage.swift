// An 8-bit grayscale image, the common currency of the decoders and the preprocessing steps.

/// A width × height grid of 8-bit luminance values, row-major, top row first, no padding.
///
/// Decoders return it in the file's own sense (a scanned page is light with dark ink); the preprocessing
/// steps turn it into MNIST's sense (black background 0, white ink 255).
public struct GrayImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// `width * height` values; `pixels[y * width + x]`.
    public var pixels: [UInt8]

    /// Wraps `pixels`; the count must be `width * height` (checked by the caller; this initializer does not throw).
    public init(width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A uniform image.
    public init(width: Int, height: Int, fill: UInt8 = 0) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: fill, count: width * height))
    }

    /// The pixel at column `x`, row `y` (both must be in range).
    @inlinable public subscript(x: Int, y: Int) -> UInt8 {
        get { pixels[y &* width &+ x] }
        set { pixels[y &* width &+ x] = newValue }
    }
}

/// Side of an MNIST image.
public let mnistSide = 28
/// Pixels in an MNIST image (28 × 28).
public let mnistPixelCount = 784
