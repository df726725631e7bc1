import Foundation
import TestSupport
import Testing

/// `docker cp` both ways over `HEAD`/`GET`/`PUT /containers/{id}/archive`, the path-stat header,
/// and extraction that stays inside the container whatever the archive and the path say.
@Suite(.enabled(if: APIEnv.ready), .serialized)
struct ArchiveTests {
    /// Files and directories in and out, into a volume as `berth cp` puts them there; a missing
    /// path is Docker's 404.
    @Test func dockerCpBothWays() throws {
        let server = try APIServer()
        defer { server.stop() }
        try server.sleeper("box", ["-v", "data:/data"])
        let local = server.base + "/local"
        try FileManager.default.createDirectory(atPath: local + "/tree/sub", withIntermediateDirectories: true)
        try "hello\n".write(toFile: local + "/file.txt", atomically: true, encoding: .utf8)
        try "deep\n".write(toFile: local + "/tree/sub/deep.txt", atomically: true, encoding: .utf8)

        #expect(try server.docker(["cp", local + "/file.txt", "box:/tmp/"]).status == 0)
        #expect(try server.berthOK("exec", "box", "cat", "/tmp/file.txt") == "hello\n")
        let tree = try server.docker(["cp", local + "/tree", "box:/tmp/copied"])
        #expect(tree.status == 0, "\(tree.stderr)")
        #expect(try server.berthOK("exec", "box", "cat", "/tmp/copied/sub/deep.txt") == "deep\n")
        // Into the volume's own directory, as `berth cp` writes there.
        #expect(try server.docker(["cp", local + "/file.txt", "box:/data/in-volume.txt"]).status == 0)
        #expect(try String(contentsOfFile: server.root + "/volumes/data/_data/in-volume.txt", encoding: .utf8) == "hello\n")

        try server.berthOK("exec", "box", "sh", "-c", "mkdir -p /srv/out && echo made > /srv/out/a && ln -s a /srv/out/link")
        let out = server.base + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let fetched = try server.docker(["cp", "box:/srv/out", out + "/"])
        #expect(fetched.status == 0, "\(fetched.stderr)")
        #expect(try String(contentsOfFile: out + "/out/a", encoding: .utf8) == "made\n")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: out + "/out/link") == "a")
        #expect(try server.docker(["cp", "box:/data/in-volume.txt", out + "/v.txt"]).status == 0)
        #expect(try String(contentsOfFile: out + "/v.txt", encoding: .utf8) == "hello\n")
        // To stdout: a tar of the path under its own name.
        let tar = try server.shell("\(APIEnv.docker) cp box:/srv/out - | tar -t | sort")
        #expect(tar.stdout == "out/\nout/a\nout/link\n", "\(tar.stderr)")

        let missing = try server.docker(["cp", "box:/nosuch", out])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("Could not find the file /nosuch in container box"), "\(missing.stderr)")
        let head = try server.curl(["-I", "http://d/containers/box/archive?path=/nosuch"])
        #expect(head.stdout.hasPrefix("HTTP/1.1 404"), "\(head.stdout)")
        #expect(try server.request("GET", "/containers/box/archive?path=/nosuch").body
                == "{\"message\":\"Could not find the file /nosuch in container box\"}\n")
        #expect(try server.request("GET", "/containers/box/archive").status == 400)
    }

    /// `X-Docker-Container-Path-Stat`: name, size, Go's FileMode bits, mtime and, for a link,
    /// where it leads in the container.
    @Test func pathStatHeader() throws {
        let server = try APIServer()
        defer { server.stop() }
        try server.sleeper("box")
        try server.berthOK("exec", "box", "sh", "-c", "printf 12345 > /tmp/f && chmod 4755 /tmp/f && touch -d @1700000000 /tmp/f && ln -s /tmp/f /tmp/l && mkdir -m 1777 /tmp/d")
        func stat(_ path: String) throws -> [String: Any] {
            let head = try server.curl(["-I", "http://d/containers/box/archive?path=" + path])
            let line = try #require(head.stdout.split(separator: "\r\n").first { $0.lowercased().hasPrefix("x-docker-container-path-stat:") })
            let value = line.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)
            let json = try #require(Data(base64Encoded: value))
            return try server.object(String(decoding: json, as: UTF8.self))
        }
        let file = try stat("/tmp/f")
        #expect(file["name"] as? String == "f")
        #expect(file["size"] as? Int == 5)
        #expect(file["mode"] as? Int == 0o755 | 1 << 23)
        #expect(file["mtime"] as? String == "2023-11-14T22:13:20Z")
        #expect(file["linkTarget"] as? String == "")
        let link = try stat("/tmp/l")
        #expect(link["mode"] as? Int == 0o777 | 1 << 27)
        #expect(link["linkTarget"] as? String == "/tmp/f")
        #expect(try stat("/tmp/d")["mode"] as? Int == 0o777 | 1 << 31 | 1 << 20)
        #expect(try stat("/")["name"] as? String == "/")
    }

    /// A crafted archive cannot write outside the container: a `..` name is refused (as dockerd
    /// refuses a breakout), a symlink to `/` and a name through it resolve inside the extraction
    /// directory, a `path` that climbs out is the container's own. Docker's noOverwriteDirNonDir
    /// refuses a file over a directory.
    @Test func extractionStaysInsideTheContainer() throws {
        let server = try APIServer()
        defer { server.stop() }
        try server.sleeper("box")
        let tag = "berth-escape-\(UInt32.random(in: 0...UInt32.max))"
        func put(_ archive: [UInt8], _ query: String) throws -> Output {
            let path = server.base + "/put.tar"
            try Data(archive).write(to: URL(fileURLWithPath: path))
            return try server.curl(["-X", "PUT", "-T", path, "http://d/containers/box/archive?" + query], status: true)
        }
        func outside() throws -> String {
            try sh(["/usr/bin/find", "/", "/tmp", "/work", "-xdev", "-maxdepth", "2", "-name", "\(tag)*"]).stdout
        }
        let dots = try put(Tar.file("../../../../../../../../tmp/\(tag)-dots", "dots\n") + Tar.end, "path=/tmp")
        #expect(dots.stdout.hasSuffix("500") || dots.stdout.hasSuffix("400"), "\(dots.stdout)")
        let link = try put(Tar.symlink("up", "/../../../../../../..") + Tar.file("up/tmp/\(tag)-link", "link\n") + Tar.end, "path=/tmp")
        #expect(link.stdout.hasSuffix("200"), "\(link.stdout)")
        let climbing = try put(Tar.file("\(tag)-path", "path\n") + Tar.end, "path=/../../../../tmp")
        #expect(climbing.stdout.hasSuffix("200"), "\(climbing.stdout)")
        let escaped = try outside()
        #expect(escaped.isEmpty, "written outside the container: \(escaped)")
        // Inside: the link's target is the extraction directory (the root its names resolve in).
        let inside = try server.berthOK("exec", "box", "sh", "-c", "cat /tmp/tmp/\(tag)-link /tmp/\(tag)-path; ls /tmp")
        #expect(inside.hasPrefix("link\npath\n"), "\(inside)")
        #expect(!inside.contains("\(tag)-dots"))

        let over = server.base + "/over.tar"
        try Data(Tar.file("tmp", "not a directory\n") + Tar.end).write(to: URL(fileURLWithPath: over))
        let refused = try server.curl(["-X", "PUT", "-T", over, "http://d/containers/box/archive?path=/&noOverwriteDirNonDir=true"], status: true)
        // dockerd's status for it: 500, the extraction's failure.
        #expect(refused.stdout.hasSuffix("500"), "\(refused.stdout)")
        #expect(refused.stdout.contains("cannot overwrite directory"), "\(refused.stdout)")
        #expect(try server.berthOK("exec", "box", "sh", "-c", "test -d /tmp && echo dir") == "dir\n")
        let notDirectory = try server.curl(["-X", "PUT", "-T", over, "http://d/containers/box/archive?path=/etc/passwd"], status: true)
        #expect(notDirectory.stdout.hasSuffix("400"), "\(notDirectory.stdout)")
    }
}

/// Hand-made ustar entries, for archives no tar tool would write.
enum Tar {
    static func header(_ name: String, type: UInt8, size: Int, link: String = "") -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, _ length: Int) {
            for (index, byte) in text.utf8.prefix(length).enumerated() { block[offset + index] = byte }
        }
        put(name, at: 0, 100)
        put("0000644", at: 100, 8)
        put("0000000", at: 108, 8)
        put("0000000", at: 116, 8)
        put(String(format: "%011o", size), at: 124, 12)
        put("00000000000", at: 136, 12)
        block[156] = type
        put(link, at: 157, 100)
        put("ustar", at: 257, 6)
        put("00", at: 263, 2)
        put("        ", at: 148, 8)
        let sum = block.reduce(0) { $0 + Int($1) }
        put(String(format: "%06o", sum), at: 148, 6)
        block[154] = 0
        block[155] = 0x20
        return block
    }

    static func file(_ name: String, _ content: String) -> [UInt8] {
        let bytes = Array(content.utf8)
        let padding = (512 - bytes.count % 512) % 512
        return header(name, type: UInt8(ascii: "0"), size: bytes.count) + bytes + [UInt8](repeating: 0, count: padding)
    }

    static func symlink(_ name: String, _ target: String) -> [UInt8] {
        header(name, type: UInt8(ascii: "2"), size: 0, link: target)
    }

    static let end = [UInt8](repeating: 0, count: 1024)
}
