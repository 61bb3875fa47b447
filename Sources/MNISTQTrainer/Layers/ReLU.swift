// ReLU on a flat buffer (the fully connected layers' activation; the convolutions' ReLU is fused into MaxPool2d).

/// ReLU: max(x, 0), with PyTorch's derivative at 0 (0).
enum ReLU {
    /// max(x, 0); +0 for x = ±0 (so every ReLU in the trainer gives the same zero).
    @inline(__always)
    static func apply(_ x: Float) -> Float { max(x, 0) }

    /// output = max(input, 0).
    static func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { output[i] = apply(input[i]) }
    }

    /// gradient *= (input > 0), in place (PyTorch's derivative at 0 is 0).
    static func backward(input: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count where !(input[i] > 0) { gradient[i] = 0 }
    }
}
