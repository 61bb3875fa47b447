// A tiny HTTP/1.1 server on 127.0.0.1 inside the test process, for testing the MNIST downloader offline.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serves fixed bodies by path, one connection at a time, on an ephemeral port. It answers GET only,
/// closes every connection after one response, and stops itself after `lifetime` seconds even if the
/// test forgets to call `stop()`.
// `@unchecked Sendable` is safe: the request log and the stop flag are guarded by `lock`; the rest is immutable.
final class LoopbackHTTPServer: @unchecked Sendable {
    let port: UInt16
    private let listenFD: Int32
    private let routes: [String: [UInt8]]
    private let lock = NSLock()
    private var requestLog: [String] = []
    private var stopRequested = false
    private let stopped = DispatchSemaphore(value: 0)
    private let deadline: Date

    struct SetupError: Error, CustomStringConvertible {
        let step: String
        var description: String { "loopback server: \(step) failed: \(String(cString: strerror(errno)))" }
    }

    /// - Parameter routes: body per request path, e.g. `"/mnist/t10k-labels-idx1-ubyte.gz"`.
    init(routes: [String: [UInt8]], lifetime: TimeInterval = 120) throws {
        self.routes = routes
        self.deadline = Date().addingTimeInterval(lifetime)
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw SetupError(step: "socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0  // ephemeral
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw SetupError(step: "bind/listen") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { close(fd); throw SetupError(step: "getsockname") }
        self.listenFD = fd
        self.port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in serve() }
        thread.name = "LoopbackHTTPServer"
        thread.start()
    }

    /// Base URL for a folder on this server, e.g. `base("mnist")` → `http://127.0.0.1:PORT/mnist/`.
    func base(_ folder: String) -> URL { URL(string: "http://127.0.0.1:\(port)/\(folder)/")! }

    /// Paths requested so far, in order.
    var requests: [String] { lock.lock(); defer { lock.unlock() }; return requestLog }

    /// Stops accepting and waits (bounded) for the server thread to close its socket.
    func stop() {
        lock.lock(); stopRequested = true; lock.unlock()
        _ = stopped.wait(timeout: .now() + 5)
    }

    private var shouldStop: Bool {
        lock.lock(); defer { lock.unlock() }
        return stopRequested || Date() > deadline
    }

    private func serve() {
        defer { close(listenFD); stopped.signal() }
        while !shouldStop {
            var pfd = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 50) > 0 else { continue }
            let client = accept(listenFD, nil, nil)
            guard client >= 0 else { continue }
            handle(client)
            close(client)
        }
    }

    private func handle(_ fd: Int32) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // Read the request head (bounded); the body of a GET is empty.
        var head = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while head.count < 16384 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            head += buffer[0..<n]
            if head.count >= 4, head.suffix(4) == [13, 10, 13, 10] { break }
        }
        let requestLine = String(decoding: head.prefix { $0 != 13 }, as: UTF8.self)
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3, parts[0] == "GET" else {
            send(fd, Array("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
            return
        }
        let path = String(parts[1])
        lock.lock(); requestLog.append(path); lock.unlock()
        if let body = routes[path] {
            send(fd, Array("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8))
            send(fd, body)
        } else {
            let body = Array("not found: \(path)\n".utf8)
            send(fd, Array("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8))
            send(fd, body)
        }
    }

    private func send(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                #if canImport(Glibc)
                let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                #else
                let n = Darwin.send(fd, raw.baseAddress! + offset, raw.count - offset, 0)
                #endif
                if n <= 0 { return }  // client gone; nothing to do
                offset += n
            }
        }
    }
}
