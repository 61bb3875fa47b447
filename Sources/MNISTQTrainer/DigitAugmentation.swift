// Random affine distortions of the training digits (`mnistq train --augment`): the small rotations, scalings, slants
// and shifts by which a digit found in a photo (MNISTQPreprocess's box, centre of mass and resampling) differs from
// MNIST's own normalisation of the same digit. Trained on them, the network leans less on where exactly a stroke lands.
import Foundation
import MNISTQRuntime
import MNISTQSupport

/// The ranges of the distortions; each digit row of each SGD step draws its own, uniformly within them.
///
/// The draw of row `slot` of global step `step` is a pure function of (seed, step, slot) — a `SplitMix64` started at
/// that position, as for the outlier draws — so the distortions do not depend on the thread count or on a resume.
/// Zero ranges everywhere leave every image exactly as it is (the identity is sampled at pixel centres).
package struct DigitAugmentation: Sendable, Equatable {
    /// Largest rotation either way, in degrees.
    package var maxRotationDegrees: Float = 10
    /// Largest relative change of the digit's size, drawn for each axis on its own: 0.1 scales by 0.9…1.1.
    package var maxScaleChange: Float = 0.1
    /// Largest horizontal slant (x += shear · y, y pointing down), either way.
    package var maxShear: Float = 0.15
    /// Largest shift along each axis, in pixels.
    package var maxShift: Float = 1.5

    package init() {}

    package init(maxRotationDegrees: Float, maxScaleChange: Float, maxShear: Float, maxShift: Float) {
        self.maxRotationDegrees = maxRotationDegrees; self.maxScaleChange = maxScaleChange
        self.maxShear = maxShear; self.maxShift = maxShift
    }

    /// Checks the ranges; the message names the option.
    package func validate() throws(TrainingError) {
        func check(_ value: Float, _ option: String, _ upper: Float) throws(TrainingError) {
            guard value.isFinite && value >= 0 && value <= upper else {
                throw .invalidConfiguration("\(option) is \(value), expected a number in [0, \(upper)]")
            }
        }
        try check(maxRotationDegrees, "--augment-rotation", 45)
        try check(maxScaleChange, "--augment-scale", 0.5)
        try check(maxShear, "--augment-shear", 1)
        try check(maxShift, "--augment-shift", 7)
    }

    /// The inverse map of one distortion: output pixel (x, y) samples the source at
    /// (m00·dx + m01·dy + c, m10·dx + m11·dy + c) + offset, where (dx, dy) = (x, y) − c and c the image centre.
    struct InverseMap {
        var m00: Float, m01: Float, m10: Float, m11: Float, offsetX: Float, offsetY: Float
    }

    /// The distortion of row `slot` of global step `step` of a run seeded with `seed`.
    func inverseMap(seed: UInt64, step: Int, slot: Int) -> InverseMap {
        // 4096 rows per step: in a batch of more than 4,096 digits (up to 60,000 are allowed), row 4096 + k draws what
        // row k of the next step draws; each draw is still uniform, two different images just share it. Kept so that
        // the shipped sample's draws stay reproducible.
        let position = UInt64(step) &* 4096 &+ UInt64(slot)
        var random = SplitMix64(seed: (seed ^ 0xA06_D16_17A_0A11) &+ 0x9E37_79B9_7F4A_7C15 &* position)
        func uniform() -> Float { Float(Int64(random.next() >> 40) - (1 << 23)) / Float(1 << 23) }   // [−1, 1)
        let angle = uniform() * maxRotationDegrees * .pi / 180
        let scaleX = 1 + uniform() * maxScaleChange, scaleY = 1 + uniform() * maxScaleChange
        let shear = uniform() * maxShear
        let shiftX = uniform() * maxShift, shiftY = uniform() * maxShift
        // Forward: p' = c + shift + R·H·S·(p − c), with S = diag(sx, sy), H = [[1, k], [0, 1]], R the rotation.
        let cosA = cosf(angle), sinA = sinf(angle)
        let a00 = scaleX * cosA, a01 = scaleY * (shear * cosA - sinA)
        let a10 = scaleX * sinA, a11 = scaleY * (shear * sinA + cosA)
        let det = a00 * a11 - a01 * a10
        let m00 = a11 / det, m01 = -a01 / det, m10 = -a10 / det, m11 = a00 / det
        // p = c + A⁻¹·(p' − c − shift): fold −A⁻¹·shift into the offset.
        return InverseMap(m00: m00, m01: m01, m10: m10, m11: m11,
                          offsetX: -(m00 * shiftX + m01 * shiftY), offsetY: -(m10 * shiftX + m11 * shiftY))
    }

    /// Writes the distorted `image` (28 × 28 bytes) to `destination` as pixel/255, sampling bilinearly (zero outside).
    static func warp(_ image: UnsafePointer<UInt8>, with map: InverseMap, into destination: UnsafeMutablePointer<Float>) {
        let side = ModelFormat.inputSide
        let centre = Float(side - 1) / 2
        @inline(__always) func pixel(_ x: Int, _ y: Int) -> Float {
            (x >= 0 && x < side && y >= 0 && y < side) ? Float(image[y &* side &+ x]) : 0
        }
        for y in 0..<side {
            let dy = Float(y) - centre
            for x in 0..<side {
                let dx = Float(x) - centre
                let u = map.m00 * dx + map.m01 * dy + centre + map.offsetX
                let v = map.m10 * dx + map.m11 * dy + centre + map.offsetY
                let value: Float
                if u <= -1 || v <= -1 || u >= Float(side) || v >= Float(side) {
                    value = 0
                } else {
                    let x0 = Int(u.rounded(.down)), y0 = Int(v.rounded(.down))
                    let fx = u - Float(x0), fy = v - Float(y0)
                    let top = pixel(x0, y0) + fx * (pixel(x0 &+ 1, y0) - pixel(x0, y0))
                    let bottom = pixel(x0, y0 &+ 1) + fx * (pixel(x0 &+ 1, y0 &+ 1) - pixel(x0, y0 &+ 1))
                    value = top + fy * (bottom - top)
                }
                destination[y &* side &+ x] = value / 255
            }
        }
    }
}
