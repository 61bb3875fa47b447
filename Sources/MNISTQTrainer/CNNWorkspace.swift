// Forward and backward passes of the whole CNN over a slice of a batch, in buffers allocated once.

/// The activations and scratch memory of one thread's share of a batch, allocated once for up to `capacity`
/// images so training steps never allocate. Forward keeps what backward needs (pooled outputs and
/// each pooling window's winner; convolution outputs and im2col columns live only while one image is processed).
///
/// `@unchecked Sendable`: a workspace is handed to one worker thread at a time (`SGDTrainer` and `FloatEvaluator` make
/// one per shard or worker and join before reusing it); its buffers are fixed allocations that never move.
final class CNNWorkspace: @unchecked Sendable {
    /// The most images one `forward` call may process.
    package let capacity: Int

    // Activations, batch-major, B = capacity.
    let input: UnsafeMutablePointer<Float>      // [B, 1, 28, 28], pixel/255
    let columns1: UnsafeMutablePointer<Float>   // [25, 28·28] im2col of one image
    let conv1: UnsafeMutablePointer<Float>      // [16, 28, 28] pre-ReLU, one image
    let pool1: UnsafeMutablePointer<Float>      // [B, 16, 14, 14] = maxpool(relu(conv1))
    let winner1: UnsafeMutablePointer<Float>    // [B, 16, 14, 14] pooling winner codes (MaxPool2d)
    let columns2: UnsafeMutablePointer<Float>   // [400, 196] im2col of one image's pool1
    let conv2: UnsafeMutablePointer<Float>      // [32, 14, 14] pre-ReLU, one image
    let pool2: UnsafeMutablePointer<Float>      // [B, 32, 7, 7] = [B, 32·7·7], fc1 input
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
    let gradPool2: UnsafeMutablePointer<Float>    // [B, 32·7·7]
    let gradConv2: UnsafeMutablePointer<Float>    // [32, 196] one image
    let gradColumns2: UnsafeMutablePointer<Float> // [400, 196] one image
    let gradPool1: UnsafeMutablePointer<Float>    // [16, 196] one image
    let gradConv1: UnsafeMutablePointer<Float>    // [16, 28·28] one image

    private var allocations: [UnsafeMutableRawPointer] = []

    /// Whether backward may run.
    let supportsBackward: Bool

    /// Buffers for up to `capacity` images; `forTraining: false` leaves out the activation-gradient buffers
    /// (~7 KB per image plus ~0.4 MB of per-image scratch), which only backward uses.
    package init(capacity: Int, forTraining: Bool = true) {
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
        let s = CNNSize.self
        input = floats(b * s.inputPixels); columns1 = floats(s.conv1Columns); conv1 = floats(s.conv1Channels * s.inputPixels)
        pool1 = floats(b * s.pool1Count); winner1 = floats(b * s.pool1Count); columns2 = floats(s.conv2Columns)
        conv2 = floats(s.conv2Channels * s.pool1Plane); pool2 = floats(b * s.flattened); winner2 = floats(b * s.flattened)
        fc1 = floats(b * s.fc1Features); hidden1 = floats(b * s.fc1Features); fc2 = floats(b * s.fc2Features); hidden2 = floats(b * s.fc2Features)
        logits = floats(b * s.classes)
        // Without backward these are empty allocations (never read: backward refuses to run).
        let g = forTraining ? 1 : 0
        gradLogits = floats(g * b * s.classes); gradHidden2 = floats(g * b * s.fc2Features); gradHidden1 = floats(g * b * s.fc1Features)
        gradPool2 = floats(g * b * s.flattened); gradConv2 = floats(g * s.conv2Channels * s.pool1Plane); gradColumns2 = floats(g * s.conv2Columns)
        gradPool1 = floats(g * s.pool1Count); gradConv1 = floats(g * s.conv1Channels * s.inputPixels)
        allocations = list
    }

    deinit { for p in allocations { p.deallocate() } }

    /// Fills the input with images `first ..< first+count` of a contiguous [N, 28·28] pixel array, as pixel/255.
    func loadInput(pixels: UnsafePointer<UInt8>, first: Int, count: Int) {
        precondition(count <= capacity)
        let n = CNNSize.inputPixels
        let src = pixels + first &* n
        for i in 0..<(count &* n) { input[i] = Float(src[i]) / 255 }
    }

    /// Fills input row `row` with the 28×28 image at `image` (pixel/255).
    func loadImage(_ image: UnsafePointer<UInt8>, row: Int) {
        precondition(row < capacity)
        let n = CNNSize.inputPixels, dst = input + row &* n
        for i in 0..<n { dst[i] = Float(image[i]) / 255 }
    }

    /// Fills input row `row` with the 28×28 image at `image` distorted by `map` (`DigitAugmentation`), as pixel/255.
    func loadImage(_ image: UnsafePointer<UInt8>, row: Int, distortedBy map: DigitAugmentation.InverseMap) {
        precondition(row < capacity)
        DigitAugmentation.warp(image, with: map, into: input + row &* CNNSize.inputPixels)
    }

    /// Runs the network on the first `count` loaded images. The im2col columns are not kept (one image's
    /// columns, reused image after image, stay in cache; backward unfolds the image again, which costs less
    /// than writing and re-reading ~20 MB of columns per step), so inference and training run the same forward.
    func forward(parameters p: UnsafePointer<Float>, count: Int) {
        precondition(count <= capacity)
        let s = CNNSize.self
        for b in 0..<count {
            Conv2d.forward(input: input + b &* s.inputPixels, inChannels: 1, outChannels: s.conv1Channels, side: s.inputSide,
                           weight: p + CNNLayout.conv1Weight, bias: p + CNNLayout.conv1Bias,
                           columns: columns1, output: conv1)
            MaxPool2d.forwardReLU(input: conv1, channels: s.conv1Channels, side: s.inputSide, output: pool1 + b &* s.pool1Count,
                                  winner: winner1 + b &* s.pool1Count)
            Conv2d.forward(input: pool1 + b &* s.pool1Count, inChannels: s.conv1Channels, outChannels: s.conv2Channels,
                           side: s.pool1Side, weight: p + CNNLayout.conv2Weight, bias: p + CNNLayout.conv2Bias,
                           columns: columns2, output: conv2)
            MaxPool2d.forwardReLU(input: conv2, channels: s.conv2Channels, side: s.pool1Side, output: pool2 + b &* s.flattened,
                                  winner: winner2 + b &* s.flattened)
        }
        Linear.forward(input: pool2, batch: count, inFeatures: s.flattened, outFeatures: s.fc1Features,
                       weight: p + CNNLayout.fc1Weight, bias: p + CNNLayout.fc1Bias, output: fc1)
        ReLU.forward(input: fc1, output: hidden1, count: count &* s.fc1Features)
        Linear.forward(input: hidden1, batch: count, inFeatures: s.fc1Features, outFeatures: s.fc2Features,
                       weight: p + CNNLayout.fc2Weight, bias: p + CNNLayout.fc2Bias, output: fc2)
        ReLU.forward(input: fc2, output: hidden2, count: count &* s.fc2Features)
        Linear.forward(input: hidden2, batch: count, inFeatures: s.fc2Features, outFeatures: s.classes,
                       weight: p + CNNLayout.fc3Weight, bias: p + CNNLayout.fc3Bias, output: logits)
    }

    /// Loss and gradients for the `count` images of the last `forward` (which must have kept its state).
    /// Adds this slice's parameter gradients into `gradients` (layout `CNNLayout`), scaled by
    /// `gradientScale` (1/N for the mean loss over a batch of N). Returns the summed per-image loss and the
    /// number of correctly classified images.
    func backward(parameters p: UnsafePointer<Float>, labels: UnsafePointer<UInt8>, count: Int,
                  gradientScale: Float, gradients g: UnsafeMutablePointer<Float>,
                  outlierWeight: Float = 0) -> (lossSum: Double, correct: Int) {
        precondition(supportsBackward && count <= capacity)
        let s = CNNSize.self
        var correct = 0
        let lossSum = SoftmaxCrossEntropy.forwardBackward(logits: logits, labels: labels, batch: count, classes: s.classes,
                                                          gradientScale: gradientScale, gradLogits: gradLogits, correct: &correct,
                                                          outlierWeight: outlierWeight)
        Linear.backward(gradOutput: gradLogits, input: hidden2, batch: count, inFeatures: s.fc2Features, outFeatures: s.classes,
                        weight: p + CNNLayout.fc3Weight, gradWeight: g + CNNLayout.fc3Weight,
                        gradBias: g + CNNLayout.fc3Bias, gradInput: gradHidden2)
        ReLU.backward(input: fc2, gradient: gradHidden2, count: count &* s.fc2Features)
        Linear.backward(gradOutput: gradHidden2, input: hidden1, batch: count, inFeatures: s.fc1Features, outFeatures: s.fc2Features,
                        weight: p + CNNLayout.fc2Weight, gradWeight: g + CNNLayout.fc2Weight,
                        gradBias: g + CNNLayout.fc2Bias, gradInput: gradHidden1)
        ReLU.backward(input: fc1, gradient: gradHidden1, count: count &* s.fc1Features)
        Linear.backward(gradOutput: gradHidden1, input: pool2, batch: count, inFeatures: s.flattened, outFeatures: s.fc1Features,
                        weight: p + CNNLayout.fc1Weight, gradWeight: g + CNNLayout.fc1Weight,
                        gradBias: g + CNNLayout.fc1Bias, gradInput: gradPool2)
        for b in 0..<count {
            MaxPool2d.backwardReLU(gradOutput: gradPool2 + b &* s.flattened, winner: winner2 + b &* s.flattened,
                                   channels: s.conv2Channels, side: s.pool1Side, gradInput: gradConv2)
            Conv2d.backward(gradOutput: gradConv2, unfolded: .transposing(input: pool1 + b &* s.pool1Count, scratch: columns2),
                            inChannels: s.conv1Channels, outChannels: s.conv2Channels, side: s.pool1Side,
                            weight: p + CNNLayout.conv2Weight, gradWeight: g + CNNLayout.conv2Weight,
                            gradBias: g + CNNLayout.conv2Bias, gradColumns: gradColumns2, gradInput: gradPool1)
            MaxPool2d.backwardReLU(gradOutput: gradPool1, winner: winner1 + b &* s.pool1Count,
                                   channels: s.conv1Channels, side: s.inputSide, gradInput: gradConv1)
            // conv1's input is the image: no input gradient needed.
            im2col5x5(input: input + b &* s.inputPixels, channels: 1, side: s.inputSide, columns: columns1)
            Conv2d.backward(gradOutput: gradConv1, unfolded: .columns(columns1), inChannels: 1, outChannels: s.conv1Channels,
                            side: s.inputSide, weight: p + CNNLayout.conv1Weight, gradWeight: g + CNNLayout.conv1Weight,
                            gradBias: g + CNNLayout.conv1Bias, gradColumns: nil, gradInput: nil)
        }
        return (lossSum, correct)
    }

    /// Logits of image `b` of the last forward pass.
    func logits(of b: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: logits + b &* CNNSize.classes, count: CNNSize.classes))
    }
}
