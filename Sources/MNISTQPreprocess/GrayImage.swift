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

/// Side of the image this module produces: an MNIST image, the network's input (`ModelFormat.inputSide` in
/// MNISTQRuntime; this module imports nothing, so it names the side here, once).
package let mnistSide = 28
/// Pixels in an MNIST image (`mnistSide`²).
package let mnistPixelCount = mnistSide * mnistSide
