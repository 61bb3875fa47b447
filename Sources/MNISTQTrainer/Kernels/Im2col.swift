// im2col / col2im for the 5×5, padding 2, stride 1 convolutions of the MNIST CNN.

/// Unfolds `input` [channels, side, side] into `columns` [channels·25, side·side] so a 5×5, padding-2,
/// stride-1 convolution becomes one matrix product: weights [outChannels, channels·25] · columns.
///
/// Row index = channel·25 + ky·5 + kx (PyTorch's weight order); column index = y·side + x; the entry is
/// input[channel, y+ky−2, x+kx−2], or 0 where that lies outside the image. Every entry of `columns` is written.
public func im2col5x5(input: UnsafePointer<Float>, channels: Int, side: Int, columns: UnsafeMutablePointer<Float>) {
    let plane = side &* side
    for ch in 0..<channels {
        let src = input + ch &* plane
        for ky in 0..<5 {
            for kx in 0..<5 {
                let dst = columns + (ch &* 25 &+ ky &* 5 &+ kx) &* plane
                let dx = kx &- 2
                // Valid x range: 0 ≤ x+dx < side.
                let x0 = max(0, -dx), x1 = min(side, side &- dx)
                for y in 0..<side {
                    let sy = y &+ ky &- 2
                    let row = dst + y &* side
                    if sy < 0 || sy >= side || x0 >= x1 {
                        row.update(repeating: 0, count: side)
                        continue
                    }
                    let srcRow = src + (sy &* side &+ dx)
                    for x in 0..<x0 { row[x] = 0 }
                    for x in x0..<x1 { row[x] = srcRow[x] }
                    for x in x1..<side { row[x] = 0 }
                }
            }
        }
    }
}

/// The adjoint of `im2col5x5`: adds every entry of `columns` [channels·25, side·side] back to the input
/// pixel it was copied from, into `gradInput` [channels, side, side]; entries that came from the zero
/// padding are dropped. With `accumulate == false` gradInput is overwritten, otherwise added to.
public func col2im5x5(columns: UnsafePointer<Float>, channels: Int, side: Int,
                      gradInput: UnsafeMutablePointer<Float>, accumulate: Bool) {
    let plane = side &* side
    if !accumulate { gradInput.update(repeating: 0, count: channels &* plane) }
    for ch in 0..<channels {
        let dstPlane = gradInput + ch &* plane
        for ky in 0..<5 {
            for kx in 0..<5 {
                let src = columns + (ch &* 25 &+ ky &* 5 &+ kx) &* plane
                let dx = kx &- 2
                let x0 = max(0, -dx), x1 = min(side, side &- dx)
                if x0 >= x1 { continue }
                for y in 0..<side {
                    let sy = y &+ ky &- 2
                    if sy < 0 || sy >= side { continue }
                    let srcRow = src + y &* side
                    let dstRow = dstPlane + (sy &* side &+ dx)
                    for x in x0..<x1 { dstRow[x] += srcRow[x] }
                }
            }
        }
    }
}
