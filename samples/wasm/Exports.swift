// The WebAssembly module's exports beyond include/mnistq.h: MNIST-style preprocessing with MNISTQPreprocess, the
// core `mnistq classify` preprocesses with, so the page's 28×28 input is the command's for the same pixels.
// Compiled only into mnistq.wasm (tools/build-wasm), as its own Embedded Swift module.
import MNISTQPreprocess

/// Status codes of the exports below.
enum PreprocessStatus: Int32 {
    case ok = 0, blank = 1, argument = 2
}

/// `count` RGBA pixels as 8-bit gray, exactly as MNISTQImage's PNG decoder turns a colour PNG with alpha into gray:
/// luma 0.299 R + 0.587 G + 0.114 B rounded (integer arithmetic), composited over white by alpha. A gray or opaque
/// image keeps its values (R = G = B = v gives v).
func grayFromRGBA(_ rgba: UnsafePointer<UInt8>, count: Int) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: count) { gray, initialized in
        for i in 0..<count {
            let r = Int(rgba[4 * i]), g = Int(rgba[4 * i + 1]), b = Int(rgba[4 * i + 2]), alpha = Int(rgba[4 * i + 3])
            let luma = (299 * r + 587 * g + 114 * b + 500) / 1000
            gray[i] = UInt8((luma * alpha + 255 * (255 - alpha) + 127) / 255)
        }
        initialized = count
    }
}

/// The 784 pixels the model sees (`Preprocess.modelInput`) for a `width` × `height` image given as RGBA (`channels`
/// 4: a canvas's getImageData, a decoded photo) or gray (`channels` 1), written to `out`.
/// Returns 0, 1 when no digit stands out (a blank image), 2 for a NULL pointer, a size ≤ 0 or above 2^26 pixels, or
/// `channels` other than 1 and 4.
@c(mnq_preprocess)
public func mnq_preprocess(_ pixels: UnsafePointer<UInt8>?, _ width: Int, _ height: Int, _ channels: Int,
                           _ out: UnsafeMutablePointer<UInt8>?) -> Int32 {
    guard let pixels, let out, width > 0, height > 0, width <= 1 << 26 / height, channels == 1 || channels == 4 else {
        return PreprocessStatus.argument.rawValue
    }
    let count = width * height
    let gray = channels == 4 ? grayFromRGBA(pixels, count: count) : Array(UnsafeBufferPointer(start: pixels, count: count))
    do {
        let input = try Preprocess.modelInput(GrayImage(width: width, height: height, pixels: gray))
        for i in 0..<784 { out[i] = input[i] }
        return PreprocessStatus.ok.rawValue
    } catch {
        return PreprocessStatus.blank.rawValue
    }
}
