// `mnistq export --flash`: turn a packed .mnq8 into the in-place image firmware and memory maps run from as is.
import ArgumentParser
import Foundation
import MNISTQImage
import MNISTQRuntime
import MNISTQSupport

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a model as an in-place image (uncompressed, aligned, in kernel order) for flash or mmap.",
        discussion: """
        The in-place image (spec: ModelFormat.md, "In-place image") is what `InPlaceModel` and the C API's \
        mnistq_model_init borrow: nothing is copied or allocated from load through classify. It is about 216 KB; \
        the packed .mnq8 (about 190 KB) stays the file to ship and download. --c-array also writes the image as a \
        C source (OUT with its extension replaced by .c) defining a 16-byte aligned `const uint8_t SYMBOL[]` and \
        `const size_t SYMBOL_size`, for firmware. Before it reports success, export loads the image back, checks \
        that it holds exactly the model's layers and metadata, and that both classify a set of probe images \
        with identical scores. Exit status: 0 written, 2 unreadable or invalid input, 1 write failure.
        """
    )

    @Flag(help: "Write the in-place image (the only export kind so far; required so scripts say what they want).")
    var flash = false

    @Argument(help: "The model to export: a packed .mnq8 (or an in-place image, which is checked and rewritten).")
    var input: String

    @Argument(help: "The in-place image to write (.mnqi suggested).")
    var output: String

    @Flag(name: .customLong("c-array"), help: "Also write the image as a C array (OUT with extension .c).")
    var cArray = false

    @Option(help: "The C symbol of the array (with --c-array).")
    var symbol = "mnistq_model_image"

    func validate() throws {
        if !flash { throw ValidationError("say which export: --flash (the in-place image) is the one there is") }
        let identifier = symbol.utf8.allSatisfy { $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
        if symbol.isEmpty || !identifier || (0x30...0x39).contains(symbol.utf8.first!) {
            throw ValidationError("--symbol \(symbol) is not a C identifier (letters, digits, _; not starting with a digit)")
        }
    }

    func run() throws {
        let model: Model
        do { model = try ModelFileArgument.loadInt8(RawPath(input)) } catch {
            throw CommandFailure.usage("\(error)")
        }
        let image = try InPlaceImage.encode(layers: model.layers, metadata: model.metadata,
                                            outOfDistribution: model.outOfDistributionCalibration)
        try verify(image, against: model)
        do {
            try AtomicFile.write(image, to: output)
            if cArray { try AtomicFile.write(ExportCommand.cSource(image, symbol: symbol, from: input), to: cPath) }
        } catch {
            throw CommandFailure.failed("\(error)")
        }
        var line = "wrote \(output): in-place image, \(image.count) bytes (from \(model.fileByteCount) packed)"
        if cArray { line += "; \(cPath): C array \(symbol)[\(image.count)]" }
        print(line)
    }

    /// OUT with its extension replaced by .c (OUT.c when it has none).
    var cPath: String {
        let url = URL(fileURLWithPath: output)
        return url.pathExtension.isEmpty ? output + ".c" : url.deletingPathExtension().path + ".c"
    }

    /// Loads the image back as firmware would and proves it is the same model: the same layers and metadata, and the
    /// same scores as the packed model on probe images (blank, full, and seeded noise).
    func verify(_ image: [UInt8], against model: Model) throws {
        try image.withUnsafeBytes { bytes in
            // [UInt8] storage is 16-byte aligned on the platforms the CLI runs on; copy when it is not.
            let aligned = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: ModelFormat.inPlaceAlignment)
            defer { aligned.deallocate() }
            aligned.copyMemory(from: bytes)
            let view = try InPlaceModel(borrowing: UnsafeRawBufferPointer(aligned))
            let decoded = view.decoded()
            guard decoded.layers == model.layers, view.outOfDistributionCalibration == model.outOfDistributionCalibration,
                  decoded.metadata.map({ "\($0.key)=\($0.value)" }) == model.metadata.map({ "\($0.key)=\($0.value)" }) else {
                throw ExportFailure("the image does not read back as the same layers, metadata and out-of-distribution section (a bug: please report it)")
            }
            let scratch = InferenceScratch(byteCount: max(model.arenaByteCount, InPlaceModel.arenaByteCount))
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            for probe in 0..<34 {
                let pixels = (0..<Model.pixelCount).map { _ -> UInt8 in
                    if probe == 0 { return 0 }
                    if probe == 1 { return 255 }
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    return UInt8(truncatingIfNeeded: state >> 56)
                }
                let expected = pixels.withUnsafeBufferPointer { model.classify(pixels: $0, scratch: scratch) }
                let found = pixels.withUnsafeBufferPointer { view.classify(pixels: $0, scratch: scratch) }
                if expected.scores != found.scores || expected.outOfDistributionScore != found.outOfDistributionScore {
                    throw ExportFailure("probe image \(probe) scores differ between the packed model and the image (a bug: please report it)")
                }
            }
        }
    }

    /// A C source defining the image as an aligned array: a provenance comment, 16 bytes per line.
    static func cSource(_ image: [UInt8], symbol: String, from input: String) -> String {
        var text = """
        // Generated by `mnistq export --flash --c-array` from \(URL(fileURLWithPath: input).lastPathComponent): the model's in-place image
        // (\(image.count) bytes). Do not edit; regenerate it. Declare it elsewhere as
        //   extern const uint8_t \(symbol)[]; extern const size_t \(symbol)_size;
        // and pass both to mnistq_model_init (include/mnistq.h). Const, so it stays in flash.
        #include <stddef.h>
        #include <stdint.h>

        __attribute__((aligned(16))) const uint8_t \(symbol)[\(image.count)] = {

        """
        text.reserveCapacity(text.utf8.count + image.count * 5 + 100)
        let digits = Array("0123456789abcdef".utf8)
        var line = [UInt8]()
        for start in stride(from: 0, to: image.count, by: 16) {
            line.removeAll(keepingCapacity: true)
            line += "   ".utf8
            for byte in image[start..<min(start + 16, image.count)] {
                line += " 0x".utf8
                line.append(digits[Int(byte >> 4)]); line.append(digits[Int(byte & 15)])
                line.append(UInt8(ascii: ","))
            }
            line.append(UInt8(ascii: "\n"))
            text += String(decoding: line, as: UTF8.self)
        }
        text += "};\nconst size_t \(symbol)_size = sizeof \(symbol);\n"
        return text
    }
}

private struct ExportFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
