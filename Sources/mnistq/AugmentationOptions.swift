// `mnistq train --augment`: random affine distortions of the training digits.
import ArgumentParser
import MNISTQTrainer

/// The distortion options of `train` (an option group). A checkpoint records them, so `--resume` continues with them.
struct AugmentationOptions: ParsableArguments {
    @Flag(help: "Distort each training digit of each step at random (rotation, size per axis, slant, shift; ranges below). Trains a network that is less thrown by where a photo's preprocessing puts the strokes. Off by default and in the reference recipe.")
    var augment = false

    @Option(name: .customLong("augment-rotation"), help: ArgumentHelp("Largest rotation either way, in degrees (default 10).", valueName: "degrees"))
    var rotation: Float?

    @Option(name: .customLong("augment-scale"), help: ArgumentHelp("Largest relative size change per axis (default 0.1: 0.9×…1.1×).", valueName: "fraction"))
    var scale: Float?

    @Option(name: .customLong("augment-shear"), help: ArgumentHelp("Largest horizontal slant either way (default 0.15).", valueName: "slope"))
    var shear: Float?

    @Option(name: .customLong("augment-shift"), help: ArgumentHelp("Largest shift along each axis, in pixels (default 1.5).", valueName: "pixels"))
    var shift: Float?

    /// The options given, by name (with --resume they conflict: the checkpoint's settings are used).
    var explicitSettings: [String] {
        (augment ? ["--augment"] : []) + [("--augment-rotation", rotation), ("--augment-scale", scale),
                                           ("--augment-shear", shear), ("--augment-shift", shift)]
            .compactMap { $0.1 == nil ? nil : $0.0 }
    }

    func validate() throws {
        if !augment, let first = explicitSettings.first {
            throw ValidationError("\(first) sets a range of --augment; add --augment")
        }
    }

    /// The distortions these options ask for, or nil without --augment.
    var augmentation: DigitAugmentation? {
        guard augment else { return nil }
        var a = DigitAugmentation()
        if let rotation { a.maxRotationDegrees = rotation }
        if let scale { a.maxScaleChange = scale }
        if let shear { a.maxShear = shear }
        if let shift { a.maxShift = shift }
        return a
    }
}
