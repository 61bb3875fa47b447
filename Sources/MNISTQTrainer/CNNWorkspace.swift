// Forward and backward passes of the whole CNN over a slice of a batch, in buffers allocated once.

/// The activations and scratch memory of one thread's share of a batch, allocated once for up to `capacity`
/// images so training steps never allocate. Forward keeps what backward needs (pooled outputs and
/// each pooling window's winner; convolution outputs and im2col columns live only while one image is processed).
public final class CNNWorkspace: @unchecked Sendable {
    /// The most images one `forward` call may process.
    public let capacity: Int

    // Activations, batch-major, B = capacity.
    let input: UnsafeMutablePointer<Float>      // [B, 1, 28, 28], pixel/255
    let columns1: UnsafeMutablePointer<Float>   // [25, 784]  im2col of one image
    let conv1: UnsafeMutablePointer<Float>      // [16, 28, 28] pre-ReLU, one image
    let pool1: UnsafeMutablePointer<Float>      // [B, 16, 14, 14] = maxpool(relu(conv1))
    let winner1: UnsafeMutablePointer<Float>    // [B, 16, 14, 14] pooling winner codes (MaxPool2d)
    let columns2: UnsafeMutablePointer<Float>   // [400, 196] im2col of one image's pool1
    let conv2: UnsafeMutablePointer<Float>      // [32, 14, 14] pre-ReLU, one image
    let pool2: UnsafeMutablePointer<Float>      // [B, 32, 7, 7] = [B, 1568], fc1 input
    let winner2: UnsafeMutablePointer<Float>    // [B, 32, 7, 7] pooling winner codes
    let fc1: UnsafeMutablePointer<Float>        // [B, 120] pre-ReLU
    let hidden1: UnsafeMutablePointer<Float>    // [B, 120] relu(fc1)
    let fc2: UnsafeMutablePointer<Float>        // [B, 84] pre-ReLU
    let hidden2: UnsafeMutablePointer<Float>    // [B, 84] relu(fc2)
    let logits: UnsafeMutablePointer<Float>     // [B, 10]

    // Gradients of activations. Per-image scratch is reused image after image.
    let gradLogits: UnsafeMutablePointer<Float>   // [B, 10]
    let gradHidden2: UnsafeMutablePointer<Float>  // [B, 84]
    let gradHidden1: UnsafeMutablePointer<Float>  // [B, 120]
    let gradPool2: UnsafeMutablePointer<Float>    // [B, 1568]
    let gradConv2: UnsafeMutablePointer<Float>    // [32, 196] one image
    let gradColumns2: UnsafeMutablePointer<Float> // [400, 196] one image
    let gradPool1: UnsafeMutablePointer<Float>    // [16, 196] one image
    let gradConv1: UnsafeMutablePointer<Float>    // [16, 784] one image

    private var allocations: [UnsafeMutableRawPointer] = []

    /// Whether backward may run.
    public let supportsBackward: Bool

    /// Buffers for up to `capacity` images; `forTraining: false` leaves out the activation-gradient buffers
    /// (~7 KB per image plus ~0.4 MB of per-image scratch), which only backward uses.
    public init(capacity: Int, forTraining: Bool = true) {
        precondition(capacity > 0)
        self.capacity = capacity
        self.supportsBackward = forTraining
        var list: [UnsafeMutableRawPointer] = []
        func floats(_ n: Int) -> UnsafeMutablePointer<Float> {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64)
            list.append(raw)
            return raw.initializeMemory(as: Float.self, repeating: 0, count: n)
        }
        let b = capacity
        input = floats(b * 784); columns1 = floats(25 * 784); conv1 = floats(16 * 784)
        pool1 = floats(b * 16 * 196); winner1 = floats(b * 16 * 196); columns2 = floats(400 * 196)
        conv2 = floats(32 * 196); pool2 = floats(b * 1568); winner2 = floats(b * 1568)
        fc1 = floats(b * 120); hidden1 = floats(b * 120); fc2 = floats(b * 84); hidden2 = floats(b * 84)
        logits = floats(b * 10)
        // Without backward these are empty allocations (never read: backward refuses to run).
        let g = forTraining ? 1 : 0
        gradLogits = floats(g * b * 10); gradHidden2 = floats(g * b * 84); gradHidden1 = floats(g * b * 120)
        gradPool2 = floats(g * b * 1568); gradConv2 = floats(g * 32 * 196); gradColumns2 = floats(g * 400 * 196)
        gradPool1 = floats(g * 16 * 196); gradConv1 = floats(g * 16 * 784)
        allocations = list
    }

    deinit { for p in allocations { p.deallocate() } }

    /// Fills the input with images `first ..< first+count` of a contiguous [N, 784] pixel array, as pixel/255.
    public func loadInput(pixels: UnsafePointer<UInt8>, first: Int, count: Int) {
        precondition(count <= capacity)
        let src = pixels + first &* 784
        for i in 0..<(count &* 784) { input[i] = Float(src[i]) / 255 }
    }

    /// Fills the input with the images at `indices` (pixel/255).
    public func loadInput(pixels: UnsafePointer<UInt8>, indices: UnsafePointer<Int32>, count: Int) {
        precondition(count <= capacity)
        for b in 0..<count {
            let src = pixels + Int(indices[b]) &* 784, dst = input + b &* 784
            for i in 0..<784 { dst[i] = Float(src[i]) / 255 }
        }
    }

    /// Runs the network on the first `count` loaded images. The im2col columns are not kept (one image's
    /// columns, reused image after image, stay in cache; backward unfolds the image again, which costs less
    /// than writing and re-reading ~20 MB of columns per step), so inference and training run the same forward.
    public func forward(parameters p: UnsafePointer<Float>, count: Int) {
        precondition(count <= capacity)
        for b in 0..<count {
            Conv2d.forward(input: input + b &* 784, inChannels: 1, outChannels: 16, side: 28,
                           weight: p + CNNLayout.conv1Weight, bias: p + CNNLayout.conv1Bias,
                           columns: columns1, output: conv1)
            MaxPool2d.forwardReLU(input: conv1, channels: 16, side: 28, output: pool1 + b &* (16 * 196),
                                  winner: winner1 + b &* (16 * 196))
            Conv2d.forward(input: pool1 + b &* (16 * 196), inChannels: 16, outChannels: 32, side: 14,
                           weight: p + CNNLayout.conv2Weight, bias: p + CNNLayout.conv2Bias,
                           columns: columns2, output: conv2)
            MaxPool2d.forwardReLU(input: conv2, channels: 32, side: 14, output: pool2 + b &* 1568, winner: winner2 + b &* 1568)
        }
        Linear.forward(input: pool2, batch: count, inFeatures: 1568, outFeatures: 120,
                       weight: p + CNNLayout.fc1Weight, bias: p + CNNLayout.fc1Bias, output: fc1)
        ReLU.forward(input: fc1, output: hidden1, count: count &* 120)
        Linear.forward(input: hidden1, batch: count, inFeatures: 120, outFeatures: 84,
                       weight: p + CNNLayout.fc2Weight, bias: p + CNNLayout.fc2Bias, output: fc2)
        ReLU.forward(input: fc2, output: hidden2, count: count &* 84)
        Linear.forward(input: hidden2, batch: count, inFeatures: 84, outFeatures: 10,
                       weight: p + CNNLayout.fc3Weight, bias: p + CNNLayout.fc3Bias, output: logits)
    }

    /// Loss and gradients for the `count` images of the last `forward` (which must have kept its state).
    /// Adds this slice's parameter gradients into `gradients` (layout `CNNLayout`), scaled by
    /// `gradientScale` (1/N for the mean loss over a batch of N). Returns the summed per-image loss and the
    /// number of correctly classified images.
    public func backward(parameters p: UnsafePointer<Float>, labels: UnsafePointer<UInt8>, count: Int,
                         gradientScale: Float, gradients g: UnsafeMutablePointer<Float>,
                         outlierWeight: Float = 0) -> (lossSum: Double, correct: Int) {
        precondition(supportsBackward && count <= capacity)
        var correct = 0
        let lossSum = SoftmaxCrossEntropy.forwardBackward(logits: logits, labels: labels, batch: count, classes: 10,
                                                          gradientScale: gradientScale, gradLogits: gradLogits, correct: &correct,
                                                          outlierWeight: outlierWeight)
        Linear.backward(gradOutput: gradLogits, input: hidden2, batch: count, inFeatures: 84, outFeatures: 10,
                        weight: p + CNNLayout.fc3Weight, gradWeight: g + CNNLayout.fc3Weight,
                        gradBias: g + CNNLayout.fc3Bias, gradInput: gradHidden2)
        ReLU.backward(input: fc2, gradient: gradHidden2, count: count &* 84)
        Linear.backward(gradOutput: gradHidden2, input: hidden1, batch: count, inFeatures: 120, outFeatures: 84,
                        weight: p + CNNLayout.fc2Weight, gradWeight: g + CNNLayout.fc2Weight,
                        gradBias: g + CNNLayout.fc2Bias, gradInput: gradHidden1)
        ReLU.backward(input: fc1, gradient: gradHidden1, count: count &* 120)
        Linear.backward(gradOutput: gradHidden1, input: pool2, batch: count, inFeatures: 1568, outFeatures: 120,
                        weight: p + CNNLayout.fc1Weight, gradWeight: g + CNNLayout.fc1Weight,
                        gradBias: g + CNNLayout.fc1Bias, gradInput: gradPool2)
        for b in 0..<count {
            MaxPool2d.backwardReLU(gradOutput: gradPool2 + b &* 1568, winner: winner2 + b &* 1568,
                                   channels: 32, side: 14, gradInput: gradConv2)
            Conv2d.backward(gradOutput: gradConv2, input: pool1 + b &* (16 * 196), columnsScratch: columns2, inChannels: 16, outChannels: 32,
                            side: 14, weight: p + CNNLayout.conv2Weight, gradWeight: g + CNNLayout.conv2Weight,
                            gradBias: g + CNNLayout.conv2Bias, gradColumns: gradColumns2, gradInput: gradPool1)
            MaxPool2d.backwardReLU(gradOutput: gradPool1, winner: winner1 + b &* (16 * 196),
                                   channels: 16, side: 28, gradInput: gradConv1)
            // conv1's input is the image: no input gradient needed.
            im2col5x5(input: input + b &* 784, channels: 1, side: 28, columns: columns1)
            Conv2d.backward(gradOutput: gradConv1, columns: columns1, inChannels: 1, outChannels: 16,
                            side: 28, weight: p + CNNLayout.conv1Weight, gradWeight: g + CNNLayout.conv1Weight,
                            gradBias: g + CNNLayout.conv1Bias, gradColumns: nil, gradInput: nil)
        }
        return (lossSum, correct)
    }

    /// Logits of image `b` of the last forward pass.
    public func logits(of b: Int) -> [Float] { Array(UnsafeBufferPointer(start: logits + b &* 10, count: 10)) }
}
