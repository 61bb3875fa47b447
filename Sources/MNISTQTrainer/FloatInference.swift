// The float CNN for inference and calibration, one image at a time: the plain reference pass and the pass the
// quantizer runs, which computes the reference's bits (every sum in the same order) with vectorizing loops.
import MNISTQRuntime

/// The float CNN for inference. Input is pixel/255; output is 10 logits.
///
/// Every sum runs in PyTorch index order: bias first, then the inputs (ic, ky, kx ascending for a convolution),
/// so the results depend only on the parameters, never on threads or batch size. Training and batched evaluation
/// run `CNNWorkspace` instead (sgemm: the same math, other summation order).
package struct FloatCNN: Sendable {
    package var parameters: CNNParameters
    package init(parameters: CNNParameters) { self.parameters = parameters }

    /// Every intermediate tensor of one forward pass, for calibration and per-layer error reports. Reuse one
    /// `Trace` per thread for many images: it also holds the im2col scratch.
    package struct Trace: Sendable {
        /// conv1 output before ReLU, [16, 28, 28].
        package var conv1 = [Float](repeating: 0, count: CNNSize.conv1Channels * CNNSize.inputPixels)
        /// after ReLU + max-pool, [16, 14, 14].
        package var pool1 = [Float](repeating: 0, count: CNNSize.pool1Count)
        /// conv2 output before ReLU, [32, 14, 14].
        package var conv2 = [Float](repeating: 0, count: CNNSize.conv2Channels * CNNSize.pool1Plane)
        /// after ReLU + max-pool, [32, 7, 7] = fc1 input.
        package var pool2 = [Float](repeating: 0, count: CNNSize.flattened)
        /// fc1 output before ReLU (120), fc2 before ReLU (84), logits (10).
        package var fc1 = [Float](repeating: 0, count: CNNSize.fc1Features)
        package var fc2 = [Float](repeating: 0, count: CNNSize.fc2Features)
        package var logits = [Float](repeating: 0, count: CNNSize.classes)
        /// fc1 and fc2 after ReLU (the inputs of fc2 and fc3).
        package var hidden1 = [Float](repeating: 0, count: CNNSize.fc1Features)
        package var hidden2 = [Float](repeating: 0, count: CNNSize.fc2Features)
        package init() {}

        var input = [Float]()       // [28·28] pixel / 255
        var columns1 = [Float]()    // [25, 28·28] im2col rows of conv1
        var columns2 = [Float]()    // [16·25, 14·14] im2col rows of conv2
    }

    /// Runs one 28×28 uint8 image through the network, filling `trace`: the reference's bits
    /// (`forwardReference`), computed by the layers' `forwardInReferenceOrder` variants.
    package func forward(pixels: ArraySlice<UInt8>, trace: inout Trace) {
        precondition(pixels.count == CNNSize.inputPixels)
        if trace.input.count != CNNSize.inputPixels {
            trace.input = [Float](repeating: 0, count: CNNSize.inputPixels)
            trace.columns1 = [Float](repeating: 0, count: CNNSize.conv1Columns)
            trace.columns2 = [Float](repeating: 0, count: CNNSize.conv2Columns)
        }
        var k = 0
        for v in pixels { trace.input[k] = Float(v) / 255; k += 1 }
        let p = parameters.tensors
        let s = CNNSize.self
        Conv2d.forwardInReferenceOrder(input: trace.input, inChannels: 1, outChannels: s.conv1Channels, side: s.inputSide,
                                       weight: p[0], bias: p[1], columns: &trace.columns1, output: &trace.conv1)
        MaxPool2d.forwardReLUReference(input: trace.conv1, channels: s.conv1Channels, side: s.inputSide,
                                       output: &trace.pool1, argmax: nil)
        Conv2d.forwardInReferenceOrder(input: trace.pool1, inChannels: s.conv1Channels, outChannels: s.conv2Channels,
                                       side: s.pool1Side, weight: p[2], bias: p[3], columns: &trace.columns2,
                                       output: &trace.conv2)
        MaxPool2d.forwardReLUReference(input: trace.conv2, channels: s.conv2Channels, side: s.pool1Side,
                                       output: &trace.pool2, argmax: nil)
        Linear.forwardInReferenceOrder(input: trace.pool2, inFeatures: s.flattened, outFeatures: s.fc1Features,
                                       weight: p[4], bias: p[5], output: &trace.fc1)
        ReLU.forward(input: trace.fc1, output: &trace.hidden1, count: s.fc1Features)
        Linear.forwardInReferenceOrder(input: trace.hidden1, inFeatures: s.fc1Features, outFeatures: s.fc2Features,
                                       weight: p[6], bias: p[7], output: &trace.fc2)
        ReLU.forward(input: trace.fc2, output: &trace.hidden2, count: s.fc2Features)
        Linear.forwardInReferenceOrder(input: trace.hidden2, inFeatures: s.fc2Features, outFeatures: s.classes,
                                       weight: p[8], bias: p[9], output: &trace.logits)
    }

    /// The definition of the network, as plain loops over the reference layers (one output at a time, padding
    /// taps skipped): what `forward` and, to float rounding, `CNNWorkspace.forward` are tested against.
    package func forwardReference(pixels: ArraySlice<UInt8>) -> Trace {
        precondition(pixels.count == CNNSize.inputPixels)
        var t = Trace()
        let input = pixels.map { Float($0) / 255 }
        let p = parameters.tensors
        let s = CNNSize.self
        Conv2d.forwardReference(input: input, inChannels: 1, outChannels: s.conv1Channels, side: s.inputSide,
                                weight: p[0], bias: p[1], output: &t.conv1)
        MaxPool2d.forwardReLUReference(input: t.conv1, channels: s.conv1Channels, side: s.inputSide, output: &t.pool1, argmax: nil)
        Conv2d.forwardReference(input: t.pool1, inChannels: s.conv1Channels, outChannels: s.conv2Channels, side: s.pool1Side,
                                weight: p[2], bias: p[3], output: &t.conv2)
        MaxPool2d.forwardReLUReference(input: t.conv2, channels: s.conv2Channels, side: s.pool1Side, output: &t.pool2, argmax: nil)
        Linear.forwardReference(input: t.pool2, inFeatures: s.flattened, outFeatures: s.fc1Features, weight: p[4], bias: p[5], output: &t.fc1)
        ReLU.forward(input: t.fc1, output: &t.hidden1, count: s.fc1Features)
        Linear.forwardReference(input: t.hidden1, inFeatures: s.fc1Features, outFeatures: s.fc2Features, weight: p[6], bias: p[7], output: &t.fc2)
        ReLU.forward(input: t.fc2, output: &t.hidden2, count: s.fc2Features)
        Linear.forwardReference(input: t.hidden2, inFeatures: s.fc2Features, outFeatures: s.classes, weight: p[8], bias: p[9], output: &t.logits)
        return t
    }

    /// Predicted digit for one image (first index of the largest logit).
    package func predict(pixels: ArraySlice<UInt8>) -> Int {
        var trace = Trace()
        forward(pixels: pixels, trace: &trace)
        return trace.logits.indices.max { trace.logits[$0] < trace.logits[$1] }!
    }
}
