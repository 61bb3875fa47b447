// gzip-compressed data set files: `Zlib.inflate` (MNISTQSupport) with its problems as `DataError`s.
import MNISTQSupport

/// Decompresses a gzip (or zlib) stream; concatenated gzip members are joined (see `Zlib.inflate`).
///
/// `maxOutput` bounds the result so a hostile file cannot make us allocate without limit; `file` only names
/// the source in errors. Throws `DataError.corrupt` for a damaged or truncated stream, trailing garbage, or
/// output beyond `maxOutput`.
package func gunzip(_ compressed: [UInt8], file: String, maxOutput: Int) throws(DataError) -> [UInt8] {
    do { return try Zlib.inflate(compressed, maxOutput: maxOutput) } catch let error as ZlibError {
        throw .corrupt(file: file, detail: error.detail)
    } catch {
        throw .corrupt(file: file, detail: "\(error)")  // no header callback here, so zlib's errors are the only ones
    }
}
