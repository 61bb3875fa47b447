// `mnistq inspect`: show an int8 model file's header, layers, scales, sizes, arena and metadata (text or JSON).
import ArgumentParser
import Foundation
import MNISTQImage
import MNISTQRuntime

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show an int8 model file's header, layers, scales, sizes, arena and metadata.",
        discussion: """
        The file is fully validated first (the same checks as loading it for inference). Exit status: 0 valid \
        model, 2 unreadable or invalid file (the error names the field, the value found and the value expected).
        """
    )

    @Argument(help: "The int8 model file (.mnq8).")
    var file: String

    @OptionGroup var output: JSONOption

    func run() throws {
        let model: Model
        do { model = try ModelFileArgument.loadInt8(RawArguments.positional(file)) } catch {
            throw CommandFailure.usage("\(error)")
        }
        let report = InspectReport(file: file, model: model)
        if output.json {
            try printJSON(report, escapingSlashes: false)
        } else {
            print(report.text)
        }
    }
}

/// Everything `inspect` shows, in one Encodable value so text and JSON cannot drift apart.
struct InspectReport: Encodable {
    struct Header: Encodable {
        let magic: String, version: Int, flags: Int, headerLength: Int, payloadLength: Int, compressedLength: Int
        let crc32: String
    }
    struct Range: Encodable { let min: Double, max: Double }
    struct IntRange: Encodable { let min: Int, max: Int }
    struct Layer: Encodable {
        let name: String, kind: String, weightShape: [Int], outputCount: Int, inputCount: Int
        let inputScale: Float, outputScale: Float, weightScale: Range, multiplier: IntRange, shift: IntRange
        let bias: IntRange, weight: IntRange
    }
    struct Sizes: Encodable {
        let fileBytes: Int, payloadBytes: Int, compressedPayloadBytes: Int, compressionRatio: Double
        let parameters: Int, weights: Int
    }
    struct Entry: Encodable { let key: String, value: String }
    /// The out-of-distribution section's defaults (flag bit 1), absent in older files.
    struct OutOfDistribution: Encodable { let threshold: Int, minimumConfidence: Float }

    let file: String
    let header: Header
    let layers: [Layer]
    let sizes: Sizes
    let arenaBytes: Int
    let outOfDistribution: OutOfDistribution?
    let metadata: [Entry]

    init(file: String, model: Model) {
        self.file = file
        let h = model.header
        header = Header(magic: String(decoding: ModelFormat.magic, as: UTF8.self), version: Int(h.version),
                        flags: Int(h.flags), headerLength: Int(h.headerLength), payloadLength: Int(h.payloadLength),
                        compressedLength: Int(h.compressedLength), crc32: "0x" + hex32(h.crc32))
        layers = zip(ModelFormat.network, model.layers).map { spec, layer in
            let shape = layer.kind == .conv5x5ReluMaxPool ? [layer.outputCount, layer.inputCount, 5, 5] : [layer.outputCount, layer.inputCount]
            return Layer(
                name: spec.name, kind: InspectReport.kindName(layer.kind), weightShape: shape,
                outputCount: layer.outputCount, inputCount: layer.inputCount,
                inputScale: layer.inputScale, outputScale: layer.outputScale,
                weightScale: Range(min: Double(layer.weightScales.min() ?? 0), max: Double(layer.weightScales.max() ?? 0)),
                multiplier: IntRange(min: Int(layer.multiplier.min() ?? 0), max: Int(layer.multiplier.max() ?? 0)),
                shift: IntRange(min: Int(layer.shift.min() ?? 0), max: Int(layer.shift.max() ?? 0)),
                bias: IntRange(min: Int(layer.bias.min() ?? 0), max: Int(layer.bias.max() ?? 0)),
                weight: IntRange(min: Int(layer.weights.min() ?? 0), max: Int(layer.weights.max() ?? 0)))
        }
        sizes = Sizes(fileBytes: model.fileByteCount, payloadBytes: model.payloadByteCount,
                      compressedPayloadBytes: model.compressedPayloadByteCount,
                      compressionRatio: (Double(model.compressedPayloadByteCount) / Double(max(1, model.payloadByteCount)) * 1000).rounded() / 1000,
                      parameters: model.parameterCount, weights: model.layers.reduce(0) { $0 + $1.weights.count })
        arenaBytes = model.arenaByteCount
        outOfDistribution = model.outOfDistributionCalibration.map {
            OutOfDistribution(threshold: Int($0.threshold), minimumConfidence: $0.minimumConfidence)
        }
        metadata = model.metadata.map { Entry(key: $0.key, value: $0.value) }
    }

    static func kindName(_ kind: QuantizedLayerKind) -> String {
        switch kind {
        case .conv5x5ReluMaxPool: return "conv5x5+relu+maxpool2"
        case .linearRelu: return "linear+relu"
        case .linearScores: return "linear (scores)"
        }
    }

    var text: String {
        var lines: [String] = []
        lines.append("file      \(file)")
        lines.append("header    magic \(header.magic), version \(header.version), flags 0x\(String(format: "%04X", header.flags)), "
                     + "header \(header.headerLength) B, payload \(header.payloadLength) B, compressed \(header.compressedLength) B, "
                     + "CRC-32 \(header.crc32)")
        lines.append("layers")
        let columns = ["name", "kind", "weights", "input scale", "output scale", "weight scale min..max",
                       "multiplier min..max", "shift", "bias min..max"]
        var rows = [columns]
        for layer in layers {
            rows.append([
                layer.name, layer.kind, "[" + layer.weightShape.map(String.init).joined(separator: ",") + "]",
                sci(layer.inputScale), sci(layer.outputScale),
                sci(Float(layer.weightScale.min)) + ".." + sci(Float(layer.weightScale.max)),
                "\(layer.multiplier.min)..\(layer.multiplier.max)", "\(layer.shift.min)..\(layer.shift.max)",
                "\(layer.bias.min)..\(layer.bias.max)",
            ])
        }
        let widths = columns.indices.map { column in rows.map { $0[column].count }.max()! }
        for row in rows {
            lines.append("  " + row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
        lines.append("sizes     file \(sizes.fileBytes) B, payload \(sizes.payloadBytes) B, compressed payload "
                     + "\(sizes.compressedPayloadBytes) B (\(String(format: "%.1f", sizes.compressionRatio * 100))% of payload), "
                     + "parameters \(sizes.parameters) (\(sizes.weights) int8 weights)")
        lines.append("arena     \(arenaBytes) B per inference thread")
        if let outOfDistribution {
            lines.append("ood       out-of-distribution score: threshold \(outOfDistribution.threshold), minimum confidence "
                         + "\(outOfDistribution.minimumConfidence) (classify's defaults)")
        } else {
            lines.append("ood       none (quantized before mnistq 0.4.0: classify uses --min-confidence alone)")
        }
        lines.append("metadata" + (metadata.isEmpty ? "  (none)" : ""))
        for entry in metadata { lines.append("  \(entry.key): \(entry.value)") }
        return lines.joined(separator: "\n")
    }
}

private func sci(_ value: Float) -> String { String(format: "%.4g", Double(value)) }
private func hex32(_ value: UInt32) -> String { String(format: "%08X", value) }
