// im2col / col2im for the 5×5, padding 2, stride 1 convolutions of the MNIST CNN.

/// Unfolds `input` [channels, side, side] into `columns` [channels·25, side·side] so a 5×5, padding-2,
/// stride-1 convolution becomes one matrix product: weights [outChannels, channels·25] · columns.
///
/// Row index = channel·25 + ky·5 + kx (PyTorch's weight order); column index = y·side + x; the entry is
/// input[channel, y+ky−2, x+kx−2], or 0 where that lies outside the image. Every entry of `columns` is written.
public func im2col5x5(input: UnsafePointer<Float>, channels: Int, side: Int, columns: UnsafeMutablePointer<Float>) {
    im2col5x5(input: input, channels: channels, side: side, columns: columns, columnsRowStride: side &* side)
}

/// `im2col5x5` writing rows `columnsRowStride` floats apart (≥ side·side), so several images can be unfolded
/// side by side into one [channels·25, images·side·side] matrix: image b writes at `columns + b·side·side`
/// with `columnsRowStride = images·side·side`.
public func im2col5x5(input: UnsafePointer<Float>, channels: Int, side: Int, columns: UnsafeMutablePointer<Float>,
                      columnsRowStride: Int) {
    guard channels > 0, side > 0 else { return }
    let plane = side &* side
    let paddedSide = side &+ 4
    // A zero-bordered copy of one channel makes every window row one contiguous, branch-free copy.
    withUnsafeTemporaryAllocation(of: Float.self, capacity: paddedSide &* paddedSide) { buffer in
        let padded = buffer.baseAddress!
        padded.initialize(repeating: 0, count: paddedSide &* paddedSide)
        for ch in 0..<channels {
            let src = input + ch &* plane
            for y in 0..<side { copyRow(src + y &* side, padded + ((y &+ 2) &* paddedSide &+ 2), side) }
            for ky in 0..<5 {
                for kx in 0..<5 {
                    let dst = columns + (ch &* 25 &+ ky &* 5 &+ kx) &* columnsRowStride
                    for y in 0..<side { copyRow(padded + ((y &+ ky) &* paddedSide &+ kx), dst + y &* side, side) }
                }
            }
        }
    }
}

/// `im2col5x5` transposed: `columns` [side·side, channels·25], one row per output position (row y·side + x
/// holds input[channel, y+ky−2, x+kx−2] at channel·25 + ky·5 + kx). Lets a weight gradient
/// gradOutput [out, side·side] · columnsᵀ run as a plain product with contiguous rows of B.
public func im2col5x5Transposed(input: UnsafePointer<Float>, channels: Int, side: Int,
                                columns: UnsafeMutablePointer<Float>) {
    guard channels > 0, side > 0 else { return }
    let plane = side &* side, paddedSide = side &+ 4, paddedPlane = paddedSide &* paddedSide
    let rowLength = channels &* 25
    // Zero-bordered copies of all channels (+8 floats: the 8-wide loads below may run past the last row).
    withUnsafeTemporaryAllocation(of: Float.self, capacity: channels &* paddedPlane &+ 8) { buffer in
        let padded = buffer.baseAddress!
        padded.initialize(repeating: 0, count: channels &* paddedPlane &+ 8)
        for ch in 0..<channels {
            for y in 0..<side {
                copyRow(input + (ch &* plane &+ y &* side), padded + (ch &* paddedPlane &+ (y &+ 2) &* paddedSide &+ 2), side)
            }
        }
        let src = UnsafeRawPointer(padded)
        for y in 0..<side {
            for x in 0..<side {
                let dst = UnsafeMutableRawPointer(columns + (y &* side &+ x) &* rowLength)
                for ch in 0..<channels {
                    let window = ch &* paddedPlane &+ y &* paddedSide &+ x
                    for ky in 0..<5 {
                        // 8 floats go out, 5 count: the next window row overwrites the extra 3. The row's very
                        // last window row is written exactly, so nothing lands past the row.
                        let o = ch &* 25 &+ ky &* 5
                        let from = (window &+ ky &* paddedSide) &* 4
                        if o &+ 8 <= rowLength {
                            dst.storeBytes(of: src.loadUnaligned(fromByteOffset: from, as: SIMD8<Float>.self),
                                           toByteOffset: o &* 4, as: SIMD8<Float>.self)
                        } else {
                            dst.storeBytes(of: src.loadUnaligned(fromByteOffset: from, as: SIMD4<Float>.self),
                                           toByteOffset: o &* 4, as: SIMD4<Float>.self)
                            dst.storeBytes(of: src.load(fromByteOffset: from &+ 16, as: Float.self),
                                           toByteOffset: (o &+ 4) &* 4, as: Float.self)
                        }
                    }
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
    col2im5x5(columns: columns, channels: channels, side: side, columnsRowStride: side &* side,
              gradInput: gradInput, accumulate: accumulate)
}

/// `col2im5x5` reading rows `columnsRowStride` floats apart (the layout of the strided `im2col5x5`).
public func col2im5x5(columns: UnsafePointer<Float>, channels: Int, side: Int, columnsRowStride: Int,
                      gradInput: UnsafeMutablePointer<Float>, accumulate: Bool) {
    guard channels > 0, side > 0 else { return }
    if side < 8 {
        col2imDirect(columns: columns, channels: channels, side: side, columnsRowStride: columnsRowStride,
                     gradInput: gradInput, accumulate: accumulate)
        return
    }
    let plane = side &* side
    let width = side &+ 4
    // Two passes that never read back a value just stored (read-modify-write of shifted rows stalls on
    // store forwarding): shifts[kx] row y = Σ_ky columns(ky, kx) row y+2−ky, placed at x offset 2 in a
    // zero-bordered row; then grad[y, x] = Σ_kx shifts[kx][y, x+4−kx].
    let shiftPlane = side &* width
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 5 &* shiftPlane &+ side) { buffer in
        let shifts = buffer.baseAddress!
        let rowOut = shifts + 5 &* shiftPlane
        shifts.initialize(repeating: 0, count: 5 &* shiftPlane &+ side)
        for ch in 0..<channels {
            let channelColumns = columns + ch &* 25 &* columnsRowStride
            for kx in 0..<5 {
                let shift = shifts + kx &* shiftPlane
                for y in 0..<side {
                    // Window rows ky with 0 ≤ y+2−ky < side contribute to input row y.
                    let kyLow = max(0, y &+ 2 &- (side &- 1)), kyHigh = min(4, y &+ 2)
                    let dst = UnsafeMutableRawPointer(shift + (y &* width &+ 2))
                    var x = 0
                    while true {
                        if x &+ 8 > side { x = side &- 8 }
                        var sum = SIMD8<Float>()
                        for ky in kyLow...kyHigh {
                            let src = channelColumns + ((ky &* 5 &+ kx) &* columnsRowStride &+ (y &+ 2 &- ky) &* side &+ x)
                            sum += UnsafeRawPointer(src).loadUnaligned(as: SIMD8<Float>.self)
                        }
                        dst.storeBytes(of: sum, toByteOffset: x &* 4, as: SIMD8<Float>.self)
                        if x &+ 8 >= side { break }
                        x &+= 8
                    }
                }
            }
            let grad = gradInput + ch &* plane
            let out = UnsafeMutableRawPointer(rowOut)
            for y in 0..<side {
                var x = 0
                while true {
                    if x &+ 8 > side { x = side &- 8 }
                    var sum = SIMD8<Float>()
                    for kx in 0..<5 {
                        sum += UnsafeRawPointer(shifts + (kx &* shiftPlane &+ y &* width &+ x &+ 4 &- kx)).loadUnaligned(as: SIMD8<Float>.self)
                    }
                    out.storeBytes(of: sum, toByteOffset: x &* 4, as: SIMD8<Float>.self)
                    if x &+ 8 >= side { break }
                    x &+= 8
                }
                if accumulate { addRow(rowOut, grad + y &* side, side) } else { copyRow(rowOut, grad + y &* side, side) }
            }
        }
    }
}

/// col2im for images narrower than one SIMD8 vector: plain loops.
private func col2imDirect(columns: UnsafePointer<Float>, channels: Int, side: Int, columnsRowStride: Int,
                          gradInput: UnsafeMutablePointer<Float>, accumulate: Bool) {
    let plane = side &* side
    if !accumulate { gradInput.update(repeating: 0, count: channels &* plane) }
    for ch in 0..<channels {
        let dstPlane = gradInput + ch &* plane
        for ky in 0..<5 {
            for kx in 0..<5 {
                let src = columns + (ch &* 25 &+ ky &* 5 &+ kx) &* columnsRowStride
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

/// dst[0..<count] = src[0..<count] in SIMD8 pieces; a ragged end is one more piece overlapping the previous.
@inline(__always)
private func copyRow(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    if count < 8 {
        for x in 0..<count { dst[x] = src[x] }
        return
    }
    let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
    var x = 0
    while x &+ 8 <= count {
        d.storeBytes(of: s.loadUnaligned(fromByteOffset: x &* 4, as: SIMD8<Float>.self), toByteOffset: x &* 4, as: SIMD8<Float>.self)
        x &+= 8
    }
    if x < count {
        let last = (count &- 8) &* 4
        d.storeBytes(of: s.loadUnaligned(fromByteOffset: last, as: SIMD8<Float>.self), toByteOffset: last, as: SIMD8<Float>.self)
    }
}

/// dst[0..<count] += src[0..<count] in SIMD8, SIMD4 and scalar pieces (no overlap: each sum happens once).
@inline(__always)
private func addRow(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
    var x = 0
    while x &+ 8 <= count {
        let sum = d.loadUnaligned(fromByteOffset: x &* 4, as: SIMD8<Float>.self) + s.loadUnaligned(fromByteOffset: x &* 4, as: SIMD8<Float>.self)
        d.storeBytes(of: sum, toByteOffset: x &* 4, as: SIMD8<Float>.self)
        x &+= 8
    }
    if x &+ 4 <= count {
        let sum = d.loadUnaligned(fromByteOffset: x &* 4, as: SIMD4<Float>.self) + s.loadUnaligned(fromByteOffset: x &* 4, as: SIMD4<Float>.self)
        d.storeBytes(of: sum, toByteOffset: x &* 4, as: SIMD4<Float>.self)
        x &+= 4
    }
    while x < count {
        dst[x] += src[x]
        x &+= 1
    }
}
