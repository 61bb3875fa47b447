// How `mnistq classify` finds, opens and reads inputs (issues 9 and 10): hostile paths (FIFOs, symlink loops, names
// that are not UTF-8, control characters, leading '-'), folders with and without --recursive, standard input,
// --files-from, --shard, jsonl, --quiet and the formats added to the decoders. Every run has a timeout: a hang
// fails the test instead of stopping the suite.
import Foundation
import MNISTQImage
import MNISTQRuntime
import XCTest

final class ClassifyInputsCLITests: CLITestCase {
    /// Creates a file whose name is raw bytes (need not be UTF-8) in `folder`.
    func writeRaw(_ name: [UInt8], in folder: String, _ bytes: [UInt8]) throws {
        let path = Array(directory.appendingPathComponent(folder).path.utf8) + [UInt8(ascii: "/")] + name + [0]
        let fd = path.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT | O_TRUNC, 0o644) } }
        XCTAssertGreaterThanOrEqual(fd, 0, "create \(name)")
        defer { close(fd) }
        XCTAssertEqual(bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, $0.count) }, bytes.count)
    }

    func link(_ name: String, to target: String) {
        XCTAssertEqual(symlink(target, directory.appendingPathComponent(name).path), 0, name)
    }

    /// The digit the library gives an MNIST test image (what the CLI must print for it).
    func digit(_ image: GrayImage, _ classifier: ImageClassifier) throws -> Int {
        try classifier.classify(image, scratch: InferenceScratch(for: classifier.model)).digit
    }

    // MARK: Hostile paths (issue 10, findings 1-4)

    func testHostileTreeEndsFastAndEveryEntryIsReportedOnce() throws {
        let mnist = try mnistTest()
        let classifier = try classifier()
        let d = (0..<3).map { try? digit(mnist.images[$0], classifier) }.map { $0! }
        try write("tree/a.raw", mnist.images[0].pixels)
        try write("tree/sub/b.raw", mnist.images[1].pixels)
        try writeRaw([0xFF, 0xFE] + Array("name.raw".utf8), in: "tree", mnist.images[2].pixels)
        try writeRaw(Array("esc\u{1B}[2Jx.raw".utf8), in: "tree", mnist.images[0].pixels)
        try writeRaw(Array("new\nline.raw".utf8), in: "tree", mnist.images[1].pixels)
        XCTAssertEqual(mkfifo(directory.appendingPathComponent("tree/fifo").path, 0o600), 0)
        link("tree/loop1", to: ".")
        link("tree/loop2", to: ".")  // two links to '.': an exponential walk without the (dev, inode) set
        link("tree/sub/up", to: "..")
        link("tree/dangling", to: "nowhere")
        let fifoError = "\"tree/fifo: is a FIFO (named pipe), not a regular file; only regular files are read (hint: pipe data in with `-` for standard input)\""
        let danglingError = "tree/dangling: cannot open: No such file or directory (a symbolic link to a missing file)"

        let recursive = try run(["classify", "--model", Self.modelPath, "--format", "csv", "--top-k", "1", "-r", "tree"], timeout: 10)
        let top = { (digit: Int) in "\(digit),c,,\(digit):c," }
        XCTAssertEqual(confidencesMasked(withoutOODColumn(recursive.stdout)), """
            path,status,digit,confidence,label,top,error
            tree/a.raw,ok,\(top(d[0]))
            tree/dangling,error,,,,,\(danglingError)
            tree/esc\\x1b[2Jx.raw,ok,\(top(d[0]))
            tree/fifo,error,,,,,\(fifoError)
            tree/new\\nline.raw,ok,\(top(d[1]))
            tree/sub/b.raw,ok,\(top(d[1]))
            tree/\\xff\\xfename.raw,ok,\(top(d[2]))

            """)
        XCTAssertEqual(recursive.status, 1, "two inputs failed")
        XCTAssertTrue(recursive.stderr.contains("classified 5 of 7 images, 2 errors"), recursive.stderr)
        for loop in ["tree/loop1", "tree/loop2", "tree/sub/up"] {
            XCTAssertTrue(recursive.stderr.contains("mnistq classify: note: \(loop): skipped, this folder was already visited"), recursive.stderr)
        }
        XCTAssertTrue(recursive.stderr.contains("mnistq classify: tree/fifo: is a FIFO (named pipe)"), recursive.stderr)

        // Without --recursive: the files directly in the folder; the subfolders (and links to folders) are counted.
        let flat = try run(["classify", "--model", Self.modelPath, "--format", "table", "--top-k", "1", "tree"], timeout: 10)
        XCTAssertEqual(flat.status, 1)
        XCTAssertEqual(flat.stdout.split(separator: "\n").map { String($0.split(separator: " ").last!) },
                       ["PATH", "tree/a.raw", "tree/dangling", "tree/esc\\x1b[2Jx.raw", "tree/fifo", "tree/new\\nline.raw", "tree/\\xff\\xfename.raw"])
        XCTAssertTrue(flat.stderr.contains("mnistq classify: note: tree: skipped 3 subfolders (--recursive descends into them)"), flat.stderr)
        for output in [recursive.stdout, recursive.stderr, flat.stdout, flat.stderr] {
            XCTAssertFalse(output.utf8.contains(0x1B), "an escape character reached the terminal")
        }

        // Given directly: the FIFO, a character device and the non-UTF-8 name (raw argv bytes, through a shell).
        let direct = try run(shell: "classify --model '\(Self.modelPath)' --format csv --top-k 1 tree/fifo /dev/null \"$(printf 'tree/\\377\\376name.raw')\"")
        XCTAssertEqual(direct.status, 1, direct.stderr)
        XCTAssertEqual(confidencesMasked(withoutOODColumn(direct.stdout)).split(separator: "\n").dropFirst().map(String.init), [
            "tree/fifo,error,,,,,\(fifoError)",
            "/dev/null,error,,,,,\"/dev/null: is a character device, not a regular file; only regular files are read (hint: pipe data in with `-` for standard input)\"",
            "tree/\\xff\\xfename.raw,ok,\(top(d[2]))",
        ])
    }

    func testAFIFOAsTheModelIsRefusedNotWaitedOn() throws {
        XCTAssertEqual(mkfifo(directory.appendingPathComponent("model.fifo").path, 0o600), 0)
        try write("a.raw", [UInt8](repeating: 0, count: 784))
        for environment in [["MNISTQ_MODEL": "model.fifo"], [:]] {
            let result = try run(["classify"] + (environment.isEmpty ? ["--model", "model.fifo"] : []) + ["a.raw"],
                                 environment: environment, timeout: 10)
            XCTAssertEqual(result.status, 2)
            XCTAssertEqual(result.stderr, "mnistq classify: unusable model model.fifo: is a FIFO (named pipe), not a regular file; only regular files are read\n")
        }
    }

    func testNamesStartingWithADash() throws {
        try write("-dash.raw", try mnistTest().images[0].pixels)
        let refused = try run(["classify", "--model", Self.modelPath, "-dash.raw"], timeout: 10)
        XCTAssertEqual(refused.status, 2, "not the help text with status 0")
        XCTAssertEqual(refused.stdout, "")
        XCTAssertEqual(refused.stderr, "mnistq classify: '-dash.raw' is not an option; a file whose name starts with '-' goes after `--` (mnistq classify -- -dash.raw) or as ./-dash.raw\n")
        for arguments in [["--", "-dash.raw"], ["./-dash.raw"]] {
            let result = try run(["classify", "--model", Self.modelPath, "--format", "csv", "-q"] + arguments, timeout: 10)
            XCTAssertEqual(result.status, 0, result.stderr)
            let row = try XCTUnwrap(confidencesMasked(withoutOODColumn(result.stdout)).split(separator: "\n").last)
            XCTAssertTrue(row.hasPrefix("\(arguments.last!),ok,7,c,,7:c;") && row.hasSuffix(":c,"), result.stdout)
        }
        // Combined short flags still work.
        XCTAssertEqual(try run(["classify", "--model", Self.modelPath, "-rq", "--", "-dash.raw"], timeout: 10).status, 0)
    }

    // MARK: Standard input, --files-from, --shard, jsonl, --quiet

    func testStandardInputAndFilesFrom() throws {
        let mnist = try mnistTest()
        let pgm = Array("P5 28 28 255\n".utf8) + mnist.images[0].pixels
        let fromStdin = try run(["classify", "--model", Self.modelPath, "--format", "csv", "--top-k", "1", "-"], stdin: pgm, timeout: 10)
        XCTAssertEqual(fromStdin.status, 0, fromStdin.stderr)
        XCTAssertEqual(confidencesMasked(withoutOODColumn(fromStdin.stdout)), "path,status,digit,confidence,label,top,error\n-,ok,7,c,,7:c,\n")

        try write("list/1/one.raw", mnist.images[2].pixels)
        try write("list/two.raw", mnist.images[1].pixels)
        try writeRaw([0x80] + Array("odd.raw".utf8), in: "list", mnist.images[0].pixels)
        // A newline list with CRLF ends and a blank line, from a file.
        try write("paths.txt", Array("list/1/one.raw\r\n\nlist/two.raw\r\n".utf8))
        let newline = try run(["classify", "--model", Self.modelPath, "--format", "csv", "--top-k", "1", "--files-from", "paths.txt"], timeout: 10)
        XCTAssertEqual(newline.status, 0, newline.stderr)
        XCTAssertEqual(confidencesMasked(withoutOODColumn(newline.stdout)),
                       "path,status,digit,confidence,label,top,error\nlist/1/one.raw,ok,1,c,1,1:c,\nlist/two.raw,ok,2,c,,2:c,\n")
        // A NUL-separated list (find -print0) on standard input, with a name that is not UTF-8, after an argument.
        let nulList = Array("list/two.raw".utf8) + [0] + Array("list/".utf8) + [0x80] + Array("odd.raw".utf8) + [0]
        let nul = try run(["classify", "--model", Self.modelPath, "--format", "csv", "--top-k", "1", "--files-from", "-", "list/1/one.raw"],
                          stdin: nulList, timeout: 10)
        XCTAssertEqual(nul.status, 0, nul.stderr)
        XCTAssertEqual(nul.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",")[0] }, ["list/1/one.raw", "list/two.raw", "list/\\x80odd.raw"])
        let both = try run(["classify", "--model", Self.modelPath, "--files-from", "-", "-"], timeout: 10)
        XCTAssertEqual(both.status, 2)
        XCTAssertTrue(both.stderr.hasPrefix("mnistq classify: - and --files-from - both want standard input"), both.stderr)
        let missingList = try run(["classify", "--model", Self.modelPath, "--files-from", "nope.txt"], timeout: 10)
        XCTAssertEqual(missingList.status, 2)
        XCTAssertEqual(missingList.stderr, "mnistq classify: --files-from nope.txt: cannot open: No such file or directory\n")
    }

    func testShardsSplitDeterministicallyAndJSONLStreams() throws {
        let mnist = try mnistTest()
        for index in 0..<30 { try write(String(format: "many/%02d.raw", index), mnist.images[index].pixels) }
        var shards: [[String]] = []
        for k in 1...3 {
            let result = try run(["classify", "--model", Self.modelPath, "--format", "jsonl", "--quiet", "--shard", "\(k)/3", "many"], timeout: 10)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stderr, "", "--quiet: no progress line, no summary")
            let lines = result.stdout.split(separator: "\n")
            let rows = try lines.map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            XCTAssertTrue(rows.allSatisfy { $0["status"] as? String == "ok" && ($0["scores"] as? [Any])?.count == 10 })
            shards.append(rows.map { $0["path"] as! String })
            // The same part whatever the folder argument is called: the hash is of the path below it.
            let absolute = try run(["classify", "--model", Self.modelPath, "--format", "csv", "-q", "--shard", "\(k)/3",
                                    directory.appendingPathComponent("many").path + "/"], timeout: 10)
            XCTAssertEqual(absolute.stdout.split(separator: "\n").dropFirst().map { String($0.split(separator: ",")[0].split(separator: "/").last!) },
                           shards.last!.map { String($0.split(separator: "/").last!) })
        }
        XCTAssertEqual(shards.flatMap { $0 }.sorted(), (0..<30).map { String(format: "many/%02d.raw", $0) }, "every file in exactly one part")
        XCTAssertTrue(shards.allSatisfy { !$0.isEmpty }, "\(shards)")
        for bad in ["0/3", "4/3", "1/0", "x"] {
            let result = try run(["classify", "--model", Self.modelPath, "--shard", bad, "many"], timeout: 10)
            XCTAssertEqual(result.status, 2, bad)
            XCTAssertTrue(result.stderr.hasPrefix("mnistq classify: "), result.stderr)
        }
    }

    // MARK: Formats added in issue 9

    func testASCII16BitPGMPPMAndInterlacedPNGMatchTheBinaryPGM() throws {
        let pixels = try mnistTest().images[0].pixels
        try write("p5.pgm", Array("P5 28 28 255\n".utf8) + pixels)
        try write("p2.pgm", Array(("P2\n# ascii\n28 28\n255\n" + pixels.map(String.init).joined(separator: " ") + "\n").utf8))
        try write("p5-16.pgm", Array("P5 28 28 65535\n".utf8) + pixels.flatMap { [$0, $0] })
        try write("p6.ppm", Array("P6 28 28 255\n".utf8) + pixels.flatMap { [$0, $0, $0] })
        try write("adam7.png", Self.interlacedPNG(pixels, width: 28, height: 28))
        let result = try run(["classify", "--model", Self.modelPath, "--format", "json", "p5.pgm", "p2.pgm", "p5-16.pgm", "p6.ppm", "adam7.png"], timeout: 10)
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.count, 5)
        let reference = try XCTUnwrap(rows.first?["scores"] as? [Int])
        for row in rows { XCTAssertEqual(row["scores"] as? [Int], reference, "\(row["path"] ?? "")") }
    }

    /// A gray 8-bit Adam7 PNG (filter 0, stored deflate blocks).
    static func interlacedPNG(_ pixels: [UInt8], width: Int, height: Int) -> [UInt8] {
        func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            var crc = CRC32(); crc.update(Array(type.utf8)); crc.update(data)
            return be32(UInt32(data.count)) + Array(type.utf8) + data + be32(crc.value)
        }
        var rows: [UInt8] = []
        for (x0, y0, dx, dy) in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)] {
            for y in stride(from: y0, to: height, by: dy) {
                let row = stride(from: x0, to: width, by: dx).map { pixels[y * width + $0] }
                if !row.isEmpty { rows += [0] + row }
            }
        }
        let count = rows.count
        let zlib: [UInt8] = [0x78, 0x01, 1, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
            + rows + be32(Adler32.checksum(rows))
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            + chunk("IHDR", be32(UInt32(width)) + be32(UInt32(height)) + [8, 0, 0, 0, 1]) + chunk("IDAT", zlib) + chunk("IEND", [])
    }
}

/// CSV output without its last column, `ood_score` (each image's out-of-distribution score: these tests are about
/// which inputs are read and how they are named; the score has tests of its own).
/// `csv` with every confidence (a number 0.0000…1.0000) written as `c`: these tests pin paths, statuses and digits,
/// not how sure the shipped model is.
func confidencesMasked(_ csv: String) -> String {
    csv.replacingOccurrences(of: #"\b[01]\.[0-9]{4}\b"#, with: "c", options: .regularExpression)
}

func withoutOODColumn(_ csv: String) -> String {
    csv.split(separator: "\n", omittingEmptySubsequences: false).map { line in
        guard let comma = line.lastIndex(of: ",") else { return String(line) }
        return String(line[..<comma])
    }.joined(separator: "\n")
}
