// Single-precision matrix multiply (row-major, optional transposes) for the float trainer: register-tiled FMA kernels.

/// C[m×n] = (accumulate ? C : 0) + op(A)[m×k] · op(B)[k×n], all row-major.
///
/// `op(X)` is X transposed when the flag is set: A is stored k×m when `transposeA`, B is stored n×k when
/// `transposeB`. `lda`, `ldb`, `ldc` are row strides in elements (≥ the stored row length). Zero-sized
/// dimensions are allowed: with k == 0 the result is C (accumulate) or zeros. Single-threaded and
/// allocation-free apart from a stack buffer of ≤ 140 KB (`withUnsafeTemporaryAllocation`, which uses the heap
/// when the thread's stack is short); callers parallelise by giving each thread its own C.
/// C must not overlap A or B. Results differ from `sgemmReference` only by float summation order.
///
/// Kernels: when op(B) rows are contiguous (B not transposed) an 8×32 broadcast kernel runs over 32-column
/// strips of B. For C = A·Bᵀ the same kernel computes Cᵀ = B·Aᵀ over a transposed copy of A (the
/// smaller operand in the CNN) when m > 16, and a dot-product kernel over 4×5 tiles runs otherwise.
/// With both flags set, op(A) is copied to row-major form first (not a CNN shape).
public func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    guard m > 0, n > 0 else { return }
    if k <= 0 {
        if !accumulate { for i in 0..<m { (c + i &* ldc).update(repeating: 0, count: n) } }
        return
    }
    if !transposeB {
        gemmPanelB(transposeA: transposeA, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
    } else if !transposeA {
        gemmNT(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
    } else {
        // Aᵀ·Bᵀ does not occur in the CNN; copy op(A) into row-major form and use the dot kernel.
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: m &* k)
        defer { packed.deallocate() }
        for p in 0..<k {
            let src = a + p &* lda
            for i in 0..<m { packed[i &* k &+ p] = src[i] }
        }
        gemmNT(m: m, n: n, k: k, a: packed, lda: k, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
    }
}

/// C = A·Bᵀ: with more than 16 rows the transposed broadcast path keeps ≥ 12 accumulators busy and wins
/// (measured 96 vs 46 GMAC/s on conv2's 32×400×196); with ≤ 16 rows its 16-column panel leaves the FMA
/// pipes latency-bound and the dot kernel wins (69 vs 42 GMAC/s on conv1's 16×25×784).
private func gemmNT(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    if m > vecWidth {
        gemmTransposedNT(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
    } else {
        gemmDotNT(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
    }
}

/// The plain loop that defines `sgemm`'s result (same contract); the fast path is tested against it
/// and the benchmark uses it as its baseline.
public func sgemmReference(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                           c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    guard m > 0, n > 0 else { return }
    // (row, column) strides of op(A) and op(B) in memory.
    let aRow = transposeA ? 1 : lda, aCol = transposeA ? lda : 1
    let bRow = transposeB ? 1 : ldb, bCol = transposeB ? ldb : 1
    for i in 0..<m {
        let cRow = c + i &* ldc
        if !accumulate {
            for j in 0..<n { cRow[j] = 0 }
        }
        for p in 0..<k {
            let aip = a[i &* aRow &+ p &* aCol]
            let bp = b + p &* bRow
            for j in 0..<n { cRow[j] += aip * bp[j &* bCol] }
        }
    }
}

// MARK: - Broadcast kernel: op(A) · B over 32-column strips of B

/// Widest tile: 8 rows × two vectors (32 columns); a last column strip of ≤ 16 uses one vector. The k-block
/// bounds the packed edge panel (256 × 32 floats = 32 KB) and how many rows of A one pass touches
/// (128, 256 and 512 measured alike within noise).
/// The vector type of both kernels. SIMD16 is one 512-bit register with AVX-512 (this project's
/// Zen 5 build machine runs 2 such FMAs per cycle) and two 256-bit registers on AVX2-only CPUs.
private typealias Vec = SIMD16<Float>
private let vecWidth = Vec.scalarCount
private let vecBytes = vecWidth &* 4
private let tileColumns = 2 &* vecWidth
private let panelDepth = 256

private func gemmPanelB(transposeA: Bool, m: Int, n: Int, k: Int,
                        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    let bigEnd = bigTileEnd(m)
    // Full-width strips of B are read in place, ldb apart: on Zen 5 that measured faster than packing them
    // (conv2 forward 92 → 106 GMAC/s, fc1 dX 102 → 120), even for power-of-two ldb. Only the ragged last
    // strip is packed, zero-padded to the vector width.
    let directB = true
    // Cache-line aligned, so no panel load straddles two lines.
    withUnsafeTemporaryAllocation(byteCount: (panelDepth &* tileColumns &+ bigRows &* tileColumns) &* 4, alignment: 64) { buffer in
        let panel = buffer.baseAddress!.bindMemory(to: Float.self, capacity: panelDepth &* tileColumns &+ bigRows &* tileColumns)
        let edgeTile = panel + panelDepth &* tileColumns
        // op(A)[i, p] lives at a + i·rowStep + p·depthStep.
        let rowStep = transposeA ? 1 : lda
        let depthStep = transposeA ? lda : 1
        var p0 = 0
        while p0 < k {
            let depth = min(panelDepth, k &- p0)
            let addToC = accumulate || p0 > 0
            let aBlock = a + p0 &* depthStep
            var j0 = 0
            while j0 < n {
                let width = min(tileColumns, n &- j0)
                let halves = width > vecWidth ? 2 : 1
                let direct = directB && width == tileColumns
                if !direct {
                    packPanel(b: b + (p0 &* ldb &+ j0), ldb: ldb, depth: depth, width: width, halves: halves, panel: panel)
                }
                let source = direct ? b + (p0 &* ldb &+ j0) : UnsafePointer(panel)
                let sourceStride = direct ? ldb &* 4 : vecBytes &* halves

                /// One tile at row i0 with `tileRows` (8 or 4) and `tileHalves` (1 or 2) fixed at each call site.
                @inline(__always)
                func tile(_ tileRows: Int, _ tileHalves: Int, _ i0: Int, _ rows: Int) {
                    // Rows past the edge repeat the last row: their results are computed and dropped.
                    let last = m &- 1
                    let a0 = aBlock + i0 &* rowStep
                    let a1 = aBlock + min(i0 &+ 1, last) &* rowStep
                    let a2 = aBlock + min(i0 &+ 2, last) &* rowStep
                    let a3 = aBlock + min(i0 &+ 3, last) &* rowStep
                    let a4 = aBlock + min(i0 &+ 4, last) &* rowStep
                    let a5 = aBlock + min(i0 &+ 5, last) &* rowStep
                    let a6 = aBlock + min(i0 &+ 6, last) &* rowStep
                    let a7 = aBlock + min(i0 &+ 7, last) &* rowStep
                    let cTile = c + (i0 &* ldc &+ j0)
                    if rows == tileRows && width == vecWidth &* tileHalves {
                        microKernel(rows: tileRows, halves: tileHalves, depth: depth, a0: a0, a1: a1, a2: a2, a3: a3, a4: a4, a5: a5, a6: a6, a7: a7,
                                    depthStep: depthStep, panel: source, panelStride: sourceStride, c: cTile, ldc: ldc, addToC: addToC)
                    } else {
                        microKernel(rows: tileRows, halves: tileHalves, depth: depth, a0: a0, a1: a1, a2: a2, a3: a3, a4: a4, a5: a5, a6: a6, a7: a7,
                                    depthStep: depthStep, panel: source, panelStride: sourceStride, c: edgeTile, ldc: tileColumns, addToC: false)
                        for r in 0..<rows {
                            let dst = cTile + r &* ldc
                            let src = edgeTile + r &* tileColumns
                            if addToC {
                                for j in 0..<width { dst[j] += src[j] }
                            } else {
                                for j in 0..<width { dst[j] = src[j] }
                            }
                        }
                    }
                }

                var i0 = 0
                if halves == 2 {
                    while i0 < bigEnd { tile(bigRows, 2, i0, min(bigRows, bigEnd &- i0)); i0 &+= bigRows }
                    i0 = bigEnd
                    while i0 < m { tile(4, 2, i0, min(4, m &- i0)); i0 &+= 4 }
                } else {
                    while i0 < bigEnd { tile(bigRows, 1, i0, min(bigRows, bigEnd &- i0)); i0 &+= bigRows }
                    i0 = bigEnd
                    while i0 < m { tile(4, 1, i0, min(4, m &- i0)); i0 &+= 4 }
                }
                j0 &+= tileColumns
            }
            p0 &+= depth
        }
    }
}

/// Rows of the big tile: 8 rows × 2 vectors = 16 accumulators (of AVX-512's 32 registers), 8 broadcasts
/// + 2 panel loads per 16 FMAs. Every row count of the CNN (16, 32, 64, 120, 400) is a multiple of 8.
private let bigRows = 8

/// Rows [0, bigTileEnd(m)) run in 8-row tiles (the last one possibly partial), the rest in one 4-row tile,
/// so m ≡ 0 or 4 (mod 8) wastes no row.
@inline(__always)
private func bigTileEnd(_ m: Int) -> Int {
    let remainder = m % bigRows
    return remainder >= 1 && remainder <= 4 ? max(0, m &- 4) : m
}

// MARK: - A · Bᵀ as (B · Aᵀ)ᵀ: the broadcast kernel over a transposed copy of A

/// The k-block of the transposed path; its panel (1024 × 32 floats = 128 KB) lives in L2.
private let transposedPanelDepth = 1024

/// C = A·Bᵀ (A m×k, B n×k, both row-major) computed as Cᵀ = B·Aᵀ: Aᵀ is packed into k×32 panels
/// (m·k copies, cheap next to m·n·k FMAs), rows of B are broadcast, and each 8×32 tile of Cᵀ is written
/// back transposed. Faster than the dot kernel when k is long enough to amortise the transposed stores.
private func gemmTransposedNT(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                              c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    let bigEnd = bigTileEnd(n)
    let capacity = min(transposedPanelDepth, k) &* tileColumns &+ bigRows &* tileColumns
    withUnsafeTemporaryAllocation(byteCount: capacity &* 4, alignment: 64) { buffer in
        let panel = buffer.baseAddress!.bindMemory(to: Float.self, capacity: capacity)
        let tileOut = panel + min(transposedPanelDepth, k) &* tileColumns
        var p0 = 0
        while p0 < k {
            let depth = min(transposedPanelDepth, k &- p0)
            let addToC = accumulate || p0 > 0
            var i0 = 0
            while i0 < m {
                let width = min(tileColumns, m &- i0)
                let halves = width > vecWidth ? 2 : 1
                let stride = vecWidth &* halves
                // panel[p, ii] = A[i0 + ii, p0 + p], zero past the last row of A.
                for ii in 0..<width {
                    let src = a + ((i0 &+ ii) &* lda &+ p0)
                    for p in 0..<depth { panel[p &* stride &+ ii] = src[p] }
                }
                if width < stride {
                    for p in 0..<depth { for ii in width..<stride { panel[p &* stride &+ ii] = 0 } }
                }

                /// One 6- or 4-row tile of Cᵀ (rows = columns j0..<j0+rows of C), stored transposed into C.
                @inline(__always)
                func tile(_ tileRows: Int, _ tileHalves: Int, _ j0: Int, _ rows: Int) {
                    let last = n &- 1
                    let b0 = b + (j0 &* ldb &+ p0)
                    let b1 = b + (min(j0 &+ 1, last) &* ldb &+ p0)
                    let b2 = b + (min(j0 &+ 2, last) &* ldb &+ p0)
                    let b3 = b + (min(j0 &+ 3, last) &* ldb &+ p0)
                    let b4 = b + (min(j0 &+ 4, last) &* ldb &+ p0)
                    let b5 = b + (min(j0 &+ 5, last) &* ldb &+ p0)
                    let b6 = b + (min(j0 &+ 6, last) &* ldb &+ p0)
                    let b7 = b + (min(j0 &+ 7, last) &* ldb &+ p0)
                    microKernel(rows: tileRows, halves: tileHalves, depth: depth, a0: b0, a1: b1, a2: b2, a3: b3, a4: b4, a5: b5, a6: b6, a7: b7,
                                depthStep: 1, panel: panel, panelStride: vecBytes &* tileHalves, c: tileOut, ldc: tileColumns, addToC: false)
                    for ii in 0..<width {
                        let dst = c + ((i0 &+ ii) &* ldc &+ j0)
                        if addToC {
                            for r in 0..<rows { dst[r] += tileOut[r &* tileColumns &+ ii] }
                        } else {
                            for r in 0..<rows { dst[r] = tileOut[r &* tileColumns &+ ii] }
                        }
                    }
                }

                var j0 = 0
                if halves == 2 {
                    while j0 < bigEnd { tile(bigRows, 2, j0, min(bigRows, bigEnd &- j0)); j0 &+= bigRows }
                    j0 = bigEnd
                    while j0 < n { tile(4, 2, j0, min(4, n &- j0)); j0 &+= 4 }
                } else {
                    while j0 < bigEnd { tile(bigRows, 1, j0, min(bigRows, bigEnd &- j0)); j0 &+= bigRows }
                    j0 = bigEnd
                    while j0 < n { tile(4, 1, j0, min(4, n &- j0)); j0 &+= 4 }
                }
                i0 &+= tileColumns
            }
            p0 &+= depth
        }
    }
}

/// Copies B[0..<depth, 0..<width] into a depth×(vecWidth·halves) panel, zero-filling the columns past width
/// (the ragged last strip of B; full strips are read in place).
@inline(__always)
private func packPanel(b: UnsafePointer<Float>, ldb: Int, depth: Int, width: Int, halves: Int,
                       panel: UnsafeMutablePointer<Float>) {
    let stride = vecWidth &* halves
    if width == stride {
        let out = UnsafeMutableRawPointer(panel)
        for p in 0..<depth {
            let v0 = UnsafeRawPointer(b + p &* ldb).loadUnaligned(as: Vec.self)
            out.storeBytes(of: v0, toByteOffset: p &* vecBytes, as: Vec.self)
        }
        return
    }
    for p in 0..<depth {
        let src = b + p &* ldb
        let dst = panel + p &* stride
        for j in 0..<width { dst[j] = src[j] }
        for j in width..<stride { dst[j] = 0 }
    }
}

/// Picks the compiled variant for (rows, halves). Each variant is its own function with both numbers fixed,
/// so the inner loop carries no branch on them even when the optimizer declines to inline.
@inline(__always)
private func microKernel(rows: Int, halves: Int, depth: Int,
    a0: UnsafePointer<Float>, a1: UnsafePointer<Float>, a2: UnsafePointer<Float>, a3: UnsafePointer<Float>,
    a4: UnsafePointer<Float>, a5: UnsafePointer<Float>, a6: UnsafePointer<Float>, a7: UnsafePointer<Float>,
    depthStep: Int, panel: UnsafePointer<Float>, panelStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, addToC: Bool) {
    switch (rows, halves) {
    case (8, 2): microKernel8x2(depth: depth, a0: a0, a1: a1, a2: a2, a3: a3, a4: a4, a5: a5, a6: a6, a7: a7, depthStep: depthStep, panel: panel, panelStride: panelStride, c: c, ldc: ldc, addToC: addToC)
    case (8, _): microKernel8x1(depth: depth, a0: a0, a1: a1, a2: a2, a3: a3, a4: a4, a5: a5, a6: a6, a7: a7, depthStep: depthStep, panel: panel, panelStride: panelStride, c: c, ldc: ldc, addToC: addToC)
    case (_, 2): microKernel4x2(depth: depth, a0: a0, a1: a1, a2: a2, a3: a3, a4: a4, a5: a5, a6: a6, a7: a7, depthStep: depthStep, panel: panel, panelStride: panelStride, c: c, ldc: ldc, addToC: addToC)
    default: microKernel4x1(depth: depth, a0: a0, a1: a1, a2: a2, a3: a3, a4: a4, a5: a5, a6: a6, a7: a7, depthStep: depthStep, panel: panel, panelStride: panelStride, c: c, ldc: ldc, addToC: addToC)
    }
}

@inline(never)
private func microKernel8x2(depth: Int,
    a0: UnsafePointer<Float>, a1: UnsafePointer<Float>, a2: UnsafePointer<Float>, a3: UnsafePointer<Float>,
    a4: UnsafePointer<Float>, a5: UnsafePointer<Float>, a6: UnsafePointer<Float>, a7: UnsafePointer<Float>,
    depthStep: Int, panel: UnsafePointer<Float>, panelStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, addToC: Bool) {
    microKernelBody(rows: 8, halves: 2, depth: depth, a0: a0, a1: a1, a2: a2, a3: a3, a4: a4, a5: a5, a6: a6, a7: a7, depthStep: depthStep, panel: panel, panelStride: panelStride, c: c, ldc: ldc, addToC: addToC)
}

@inline(never)
private func microKernel8x1(depth: Int,
    a0: UnsafePointer<Float>, a1: UnsafePointer<Float>, a2: UnsafePointer<Float>, a3: UnsafePointer<Float>,
    a4: UnsafePointer<Float>, a5: UnsafePointer<Float>, a6: UnsafePointer<Float>, a7: UnsafePointer<Float>,
    depthStep: Int, panel: UnsafePointer<Float>, panelStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, addToC: Bool) {
    microKernelBody(rows: 8, halves: 1, depth: depth, a0: a0, a1: a1, a2: a2, a3: a3, a4: a4, a5: a5, a6: a6, a7: a7, depthStep: depthStep, panel: panel, panelStride: panelStride, c: c, ldc: ldc, addToC: addToC)
}

@inline(never)
private func microKernel4x2(depth: Int,
    a0: UnsafePointer<Float>, a1: UnsafePointer<Float>, a2: UnsafePointer<Float>, a3: UnsafePointer<Float>,
    a4: UnsafePointer<Float>, a5: UnsafePointer<Float>, a6: UnsafePointer<Float>, a7: UnsafePointer<Float>,
    depthStep: Int, panel: UnsafePointer<Float>, panelStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, addToC: Bool) {
    microKernelBody(rows: 4, halves: 2, depth: depth, a0: a0, a1: a1, a2: a2, a3: a3, a4: a4, a5: a5, a6: a6, a7: a7, depthStep: depthStep, panel: panel, panelStride: panelStride, c: c, ldc: ldc, addToC: addToC)
}

@inline(never)
private func microKernel4x1(depth: Int,
    a0: UnsafePointer<Float>, a1: UnsafePointer<Float>, a2: UnsafePointer<Float>, a3: UnsafePointer<Float>,
    a4: UnsafePointer<Float>, a5: UnsafePointer<Float>, a6: UnsafePointer<Float>, a7: UnsafePointer<Float>,
    depthStep: Int, panel: UnsafePointer<Float>, panelStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, addToC: Bool) {
    microKernelBody(rows: 4, halves: 1, depth: depth, a0: a0, a1: a1, a2: a2, a3: a3, a4: a4, a5: a5, a6: a6, a7: a7, depthStep: depthStep, panel: panel, panelStride: panelStride, c: c, ldc: ldc, addToC: addToC)
}

/// c[rows × vecWidth·halves] = (addToC ? c : 0) + Σ_p a_r[p·depthStep] · panel[p, ·]: up to 16 vector
/// accumulators, one FMA each per p. `rows` (8 or 4) and `halves` (1 or 2) are literals at every call
/// site, so after inlining the unused accumulators and branches disappear.
@inline(__always)
private func microKernelBody(rows: Int, halves: Int, depth: Int,
                         a0: UnsafePointer<Float>, a1: UnsafePointer<Float>, a2: UnsafePointer<Float>,
                         a3: UnsafePointer<Float>, a4: UnsafePointer<Float>, a5: UnsafePointer<Float>,
                         a6: UnsafePointer<Float>, a7: UnsafePointer<Float>,
                         depthStep: Int, panel: UnsafePointer<Float>, panelStride: Int,
                         c: UnsafeMutablePointer<Float>, ldc: Int, addToC: Bool) {
    typealias V = Vec
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    var c60 = V(), c61 = V(), c70 = V(), c71 = V()
    var bp = UnsafeRawPointer(panel)
    let panelStep = panelStride
    var offset = 0
    for _ in 0..<depth {
        let b0 = bp.loadUnaligned(as: V.self)
        let b1 = halves == 2 ? bp.loadUnaligned(fromByteOffset: vecBytes, as: V.self) : V()
        var s = V(repeating: a0[offset])
        c00 = c00.addingProduct(s, b0); if halves == 2 { c01 = c01.addingProduct(s, b1) }
        s = V(repeating: a1[offset])
        c10 = c10.addingProduct(s, b0); if halves == 2 { c11 = c11.addingProduct(s, b1) }
        s = V(repeating: a2[offset])
        c20 = c20.addingProduct(s, b0); if halves == 2 { c21 = c21.addingProduct(s, b1) }
        s = V(repeating: a3[offset])
        c30 = c30.addingProduct(s, b0); if halves == 2 { c31 = c31.addingProduct(s, b1) }
        if rows >= 6 {
            s = V(repeating: a4[offset])
            c40 = c40.addingProduct(s, b0); if halves == 2 { c41 = c41.addingProduct(s, b1) }
            s = V(repeating: a5[offset])
            c50 = c50.addingProduct(s, b0); if halves == 2 { c51 = c51.addingProduct(s, b1) }
        }
        if rows == 8 {
            s = V(repeating: a6[offset])
            c60 = c60.addingProduct(s, b0); if halves == 2 { c61 = c61.addingProduct(s, b1) }
            s = V(repeating: a7[offset])
            c70 = c70.addingProduct(s, b0); if halves == 2 { c71 = c71.addingProduct(s, b1) }
        }
        bp += panelStep
        offset &+= depthStep
    }
    storeRow(c, 0, ldc, halves, c00, c01, addToC)
    storeRow(c, 1, ldc, halves, c10, c11, addToC)
    storeRow(c, 2, ldc, halves, c20, c21, addToC)
    storeRow(c, 3, ldc, halves, c30, c31, addToC)
    if rows >= 6 {
        storeRow(c, 4, ldc, halves, c40, c41, addToC)
        storeRow(c, 5, ldc, halves, c50, c51, addToC)
    }
    if rows == 8 {
        storeRow(c, 6, ldc, halves, c60, c61, addToC)
        storeRow(c, 7, ldc, halves, c70, c71, addToC)
    }
}

@inline(__always)
private func storeRow(_ c: UnsafeMutablePointer<Float>, _ row: Int, _ ldc: Int, _ halves: Int,
                      _ v0: Vec, _ v1: Vec, _ addToC: Bool) {
    let dst = UnsafeMutableRawPointer(c + row &* ldc)
    var w0 = v0, w1 = v1
    if addToC {
        w0 += dst.loadUnaligned(as: Vec.self)
        if halves == 2 { w1 += dst.loadUnaligned(fromByteOffset: vecBytes, as: Vec.self) }
    }
    dst.storeBytes(of: w0, as: Vec.self)
    if halves == 2 { dst.storeBytes(of: w1, toByteOffset: vecBytes, as: Vec.self) }
}

// MARK: - Dot-product kernel: A · Bᵀ with both operands contiguous along k

/// Output tile of the dot kernel (4 rows of A × 5 rows of B: 20 accumulators + 4 A vectors + 1 B vector
/// = 25 of AVX-512's 32 registers; conv1's 16 × 25 weight gradient tiles exactly) and the k-block that
/// keeps the 4 A rows in L1 while all of B's rows pass.
private let dotRows = 4
private let dotColumns = 5
private let dotDepth = 512

private func gemmDotNT(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                       c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: dotRows &* dotColumns) { buffer in
        let sums = buffer.baseAddress!
        var p0 = 0
        while p0 < k {
            // The last block takes any short remainder, so only k < vecWidth ever runs the scalar path.
            let remaining = k &- p0
            let depth = remaining < dotDepth &+ vecWidth ? remaining : dotDepth
            let addToC = accumulate || p0 > 0
            var i0 = 0
            while i0 < m {
                let rows = min(dotRows, m &- i0)
                let lastRow = m &- 1
                let a0 = a + (i0 &* lda &+ p0)
                let a1 = a + (min(i0 &+ 1, lastRow) &* lda &+ p0)
                let a2 = a + (min(i0 &+ 2, lastRow) &* lda &+ p0)
                let a3 = a + (min(i0 &+ 3, lastRow) &* lda &+ p0)
                var j0 = 0
                while j0 < n {
                    let columns = min(dotColumns, n &- j0)
                    let lastColumn = n &- 1
                    let b0 = b + (j0 &* ldb &+ p0)
                    let b1 = b + (min(j0 &+ 1, lastColumn) &* ldb &+ p0)
                    let b2 = b + (min(j0 &+ 2, lastColumn) &* ldb &+ p0)
                    let b3 = b + (min(j0 &+ 3, lastColumn) &* ldb &+ p0)
                    let b4 = b + (min(j0 &+ 4, lastColumn) &* ldb &+ p0)
                    dotKernel4x5(depth: depth, a0: a0, a1: a1, a2: a2, a3: a3, b0: b0, b1: b1, b2: b2, b3: b3, b4: b4, sums: sums)
                    for r in 0..<rows {
                        let dst = c + ((i0 &+ r) &* ldc &+ j0)
                        for s in 0..<columns {
                            let value = sums[r &* dotColumns &+ s]
                            dst[s] = addToC ? dst[s] + value : value
                        }
                    }
                    j0 &+= dotColumns
                }
                i0 &+= dotRows
            }
            p0 &+= depth
        }
    }
}

/// sums[r·5 + s] = a_r · b_s over `depth` elements (r < 4, s < 5). The tail (depth mod vecWidth) is one
/// more full vector ending at the last element, with the lanes already summed zeroed on the A side.
@inline(never)
private func dotKernel4x5(depth: Int, a0: UnsafePointer<Float>, a1: UnsafePointer<Float>, a2: UnsafePointer<Float>,
                          a3: UnsafePointer<Float>, b0: UnsafePointer<Float>, b1: UnsafePointer<Float>,
                          b2: UnsafePointer<Float>, b3: UnsafePointer<Float>, b4: UnsafePointer<Float>,
                          sums: UnsafeMutablePointer<Float>) {
    typealias V = Vec
    if depth < vecWidth {
        let aRows = [a0, a1, a2, a3], bRows = [b0, b1, b2, b3, b4]
        for r in 0..<4 {
            for s in 0..<5 {
                var sum: Float = 0
                for p in 0..<depth { sum += aRows[r][p] * bRows[s][p] }
                sums[r &* 5 &+ s] = sum
            }
        }
        return
    }
    var c00 = V(), c01 = V(), c02 = V(), c03 = V(), c04 = V()
    var c10 = V(), c11 = V(), c12 = V(), c13 = V(), c14 = V()
    var c20 = V(), c21 = V(), c22 = V(), c23 = V(), c24 = V()
    var c30 = V(), c31 = V(), c32 = V(), c33 = V(), c34 = V()
    let ra0 = UnsafeRawPointer(a0), ra1 = UnsafeRawPointer(a1), ra2 = UnsafeRawPointer(a2), ra3 = UnsafeRawPointer(a3)
    let rb0 = UnsafeRawPointer(b0), rb1 = UnsafeRawPointer(b1), rb2 = UnsafeRawPointer(b2)
    let rb3 = UnsafeRawPointer(b3), rb4 = UnsafeRawPointer(b4)

    @inline(__always)
    func step(_ x0: V, _ x1: V, _ x2: V, _ x3: V, _ byte: Int) {
        var y = rb0.loadUnaligned(fromByteOffset: byte, as: V.self)
        c00 = c00.addingProduct(x0, y); c10 = c10.addingProduct(x1, y); c20 = c20.addingProduct(x2, y); c30 = c30.addingProduct(x3, y)
        y = rb1.loadUnaligned(fromByteOffset: byte, as: V.self)
        c01 = c01.addingProduct(x0, y); c11 = c11.addingProduct(x1, y); c21 = c21.addingProduct(x2, y); c31 = c31.addingProduct(x3, y)
        y = rb2.loadUnaligned(fromByteOffset: byte, as: V.self)
        c02 = c02.addingProduct(x0, y); c12 = c12.addingProduct(x1, y); c22 = c22.addingProduct(x2, y); c32 = c32.addingProduct(x3, y)
        y = rb3.loadUnaligned(fromByteOffset: byte, as: V.self)
        c03 = c03.addingProduct(x0, y); c13 = c13.addingProduct(x1, y); c23 = c23.addingProduct(x2, y); c33 = c33.addingProduct(x3, y)
        y = rb4.loadUnaligned(fromByteOffset: byte, as: V.self)
        c04 = c04.addingProduct(x0, y); c14 = c14.addingProduct(x1, y); c24 = c24.addingProduct(x2, y); c34 = c34.addingProduct(x3, y)
    }

    let full = depth & ~(vecWidth &- 1)
    var byte = 0
    let end = full &* 4
    while byte < end {
        step(ra0.loadUnaligned(fromByteOffset: byte, as: V.self), ra1.loadUnaligned(fromByteOffset: byte, as: V.self),
             ra2.loadUnaligned(fromByteOffset: byte, as: V.self), ra3.loadUnaligned(fromByteOffset: byte, as: V.self), byte)
        byte &+= vecBytes
    }
    if full != depth {
        // Lanes below `overlap` were already summed by the last full vector.
        let overlap = Int32(vecWidth &- (depth &- full))
        var lanes = SIMD16<Int32>()
        for lane in 0..<16 { lanes[lane] = Int32(lane) }
        let keep = lanes .>= SIMD16<Int32>(repeating: overlap)
        let tail = (depth &- vecWidth) &* 4
        let zero = V()
        step(zero.replacing(with: ra0.loadUnaligned(fromByteOffset: tail, as: V.self), where: keep),
             zero.replacing(with: ra1.loadUnaligned(fromByteOffset: tail, as: V.self), where: keep),
             zero.replacing(with: ra2.loadUnaligned(fromByteOffset: tail, as: V.self), where: keep),
             zero.replacing(with: ra3.loadUnaligned(fromByteOffset: tail, as: V.self), where: keep), tail)
    }
    let out = UnsafeMutableRawPointer(sums)
    // Rows r, columns 0–3 as one SIMD4 each at r·5; column 4 for all rows last (overlapping stores are
    // ordered, so each SIMD4 store precedes the scalar that completes its row).
    let row0 = horizontalSums(c00, c01, c02, c03), row1 = horizontalSums(c10, c11, c12, c13)
    let row2 = horizontalSums(c20, c21, c22, c23), row3 = horizontalSums(c30, c31, c32, c33)
    let column4 = horizontalSums(c04, c14, c24, c34)
    out.storeBytes(of: row0, toByteOffset: 0, as: SIMD4<Float>.self)
    out.storeBytes(of: row1, toByteOffset: 20, as: SIMD4<Float>.self)
    out.storeBytes(of: row2, toByteOffset: 40, as: SIMD4<Float>.self)
    out.storeBytes(of: row3, toByteOffset: 60, as: SIMD4<Float>.self)
    sums[4] = column4[0]; sums[9] = column4[1]; sums[14] = column4[2]; sums[19] = column4[3]
}

/// (Σ v0, Σ v1, Σ v2, Σ v3) with vector adds of halves instead of four separate reductions.
@inline(__always)
private func horizontalSums(_ w0: Vec, _ w1: Vec, _ w2: Vec, _ w3: Vec) -> SIMD4<Float> {
    let v0 = w0.lowHalf + w0.highHalf, v1 = w1.lowHalf + w1.highHalf
    let v2 = w2.lowHalf + w2.highHalf, v3 = w3.lowHalf + w3.highHalf
    let h0 = v0.lowHalf + v0.highHalf, h1 = v1.lowHalf + v1.highHalf
    let h2 = v2.lowHalf + v2.highHalf, h3 = v3.lowHalf + v3.highHalf
    // Columns of the 4×4 matrix [h0; h1; h2; h3] summed: lane s = Σ h_s.
    let t01 = SIMD4<Float>(h0[0], h1[0], h0[2], h1[2]) + SIMD4<Float>(h0[1], h1[1], h0[3], h1[3])
    let t23 = SIMD4<Float>(h2[0], h3[0], h2[2], h3[2]) + SIMD4<Float>(h2[1], h3[1], h2[3], h3[3])
    return SIMD4<Float>(t01[0], t01[1], t23[0], t23[1]) + SIMD4<Float>(t01[2], t01[3], t23[2], t23[3])
}
