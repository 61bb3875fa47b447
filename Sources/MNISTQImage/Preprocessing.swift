// The preprocessing core lives in MNISTQPreprocess (pure Swift, also built for WebAssembly); this module decodes
// files and maps its errors to ImageError with the file name.
@_exported import MNISTQPreprocess

extension Preprocess {
    /// ``modelInput(_:options:)`` with the file name in the error: throws `ImageError.blank(file:)` when no ink
    /// stands out from the background.
    public static func mnistStyle(_ image: GrayImage, file: String = "<image>", options: PreprocessOptions = PreprocessOptions()) throws -> [UInt8] {
        do {
            return try modelInput(image, options: options)
        } catch {
            switch error {
            case .blank: throw ImageError.blank(file: file)
            }
        }
    }
}
