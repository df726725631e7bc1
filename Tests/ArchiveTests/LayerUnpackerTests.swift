import Archive
import Foundation
import LinuxSys
import Testing

@Suite struct LayerUnpackerTests {
    /// A tree with every kind of entry a layer carries, made with real tools.
    static func makeSourceTree(_ src: String) throws {
        let long = String(repeating: "long-directory-name-", count: 4) + "/" + String(repeating: "f", count: 90)
        try shell("""
            set -e; cd \(src)
            mkdir -p a/b/c sticky "$(dirname '\(long)')" emptydir
            printf 'hello\\n' > a/file.txt
            head -c 1048577 /dev/urandom > a/b/random.bin
            printf 'long' > '\(long)'
            : > a/empty
            printf 'suid' > a/suid && chown 1000:1000 a/suid && chmod 4755 a/suid
            printf 'sgid' > a/sgid && chown 0:50 a/sgid && chmod 2711 a/sgid
            chmod 1777 sticky && chmod 0750 a/b && chown 33:33 a/b
            ln a/file.txt a/b/hard
            ln -s ../file.txt a/b/rel-link
            ln -s /etc/passwd abs-link
            ln -s does/not/exist dangling
            ln -s '\(long)' long-link
            mkfifo a/fifo && chmod 0640 a/fifo
            mknod a/null c 1 3 && mknod a/loop b 7 200 && chown 0:6 a/loop
            touch -h -d '2020-02-02 02:02:02.123456789' abs-link
            touch -d '2021-03-04 05:06:07.5' a/file.txt a/b/random.bin
            touch -d '@1000000000' a/b/c a/b emptydir
            """)
        #expect(Xattr.set(path: src + "/a/file.txt", name: "user.greeting", value: Array("hi there".utf8), follow: false) == 0)
        #expect(Xattr.set(path: src + "/a/empty", name: "trusted.berth-test", value: [0, 1, 2, 255], follow: false) == 0)
        // CAP_NET_BIND_SERVICE, effective: a v2 vfs_cap_data.
        let capability: [UInt8] = [1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        #expect(Xattr.set(path: src + "/a/suid", name: "security.capability", value: capability, follow: false) == 0)
        try shell("touch -d '@1500000000.25' \(src)/a")
    }

    /// GNU tar's extraction of an archive and ours must be the same tree.
    @Test(arguments: ["pax", "gnu"])
    func matchesGnuTarExtraction(_ format: String) throws {
        let tmp = try TempDir()
        let src = try tmp.sub("src"), reference = try tmp.sub("reference"), ours = try tmp.sub("ours")
        try Self.makeSourceTree(src)
        let xattrs = format == "pax" ? "--xattrs --xattrs-include='*'" : ""
        try shell("tar --format=\(format) \(xattrs) --numeric-owner -C \(src) -cf \(tmp.path)/layer.tar .")
        try shell("tar -xpf \(tmp.path)/layer.tar \(xattrs) --numeric-owner -C \(reference)")
        let layer = try LayerUnpacker.unpack(file: tmp.path + "/layer.tar", into: ours)
        #expect(layer.warnings.isEmpty, "\(layer.warnings)")
        #expect(layer.compression == Compression.none)

        let expected = try listing(reference), actual = try listing(ours)
        #expect(expected.count > 15)
        for (e, a) in zip(expected, actual) where e != a { Issue.record("GNU tar: \(e)\nBerth:   \(a)") }
        #expect(expected.count == actual.count)
        if format == "pax" {
            #expect(actual.contains { $0.hasPrefix("a/suid f 4755 1000:1000") && $0.contains("security.capability=") })
            #expect(actual.contains { $0.hasPrefix("a/file.txt f 644 0:0 1614834367.500000000") && $0.contains("user.greeting=") })
        }

        let sum = try shell("sha256sum \(tmp.path)/layer.tar").stdout.prefix(64)
        #expect(layer.diffID == "sha256:" + sum)
        #expect(layer.uncompressedSize == Int64(try FS.stat(tmp.path + "/layer.tar").st_size))
        let count = try shell("tar -tf \(tmp.path)/layer.tar | wc -l").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(layer.entryCount == Int(count))
    }

    /// gzip and zstd layers, fed in 1-byte, 7-byte and large chunks, all give the same tree and DiffID.
    @Test func compressedLayersInAnyChunkSize() throws {
        let tmp = try TempDir()
        let src = try tmp.sub("src")
        try shell("cd \(src) && mkdir -p d/e && printf one > d/one && head -c 70000 /dev/urandom > d/e/rand && ln -s one d/link")
        try shell("tar --format=pax -C \(src) -cf \(tmp.path)/layer.tar . && gzip -k -n \(tmp.path)/layer.tar")
        let tar = try readBytes(tmp.path + "/layer.tar")
        let sum = "sha256:" + (try shell("sha256sum \(tmp.path)/layer.tar").stdout.prefix(64))
        var blobs: [(String, [UInt8])] = [("tar", tar), ("gzip(1)", try readBytes(tmp.path + "/layer.tar.gz")),
                                          ("GzipCompressor", try GzipCompressor.compressAll(tar)),
                                          ("ZstdCompressor", try ZstdCompressor.compressAll(tar))]
        if has("zstd") {
            try shell("zstd -q \(tmp.path)/layer.tar -o \(tmp.path)/layer.tar.zst")
            blobs.append(("zstd(1)", try readBytes(tmp.path + "/layer.tar.zst")))
        }
        var reference: [String]?
        for (name, blob) in blobs {
            for chunk in [1, 7, 1 << 20] {
                let out = try tmp.sub("\(name)-\(chunk)")
                let layer = try unpack(blob, into: out, chunk: chunk)
                #expect(layer.diffID == sum, "\(name) in \(chunk)-byte chunks")
                #expect(layer.compression == Compression.detect(blob))
                let tree = try listing(out)
                if let reference { #expect(tree == reference, "\(name) in \(chunk)-byte chunks") } else { reference = tree }
            }
        }
        #expect(reference?.count == 5)
    }

    @Test func truncatedAndCorruptLayersAreErrors() throws {
        let tmp = try TempDir()
        let tar = try TarWriter.archive([dir("d"), file("d/big", String(repeating: "x", count: 5000)), file("d/after", "a")])
        // Cut in the middle of d/big's data.
        let cut = archiveError { try unpack(Array(tar.prefix(512 * 3 + 100)), into: try tmp.sub("cut")) }
        #expect(cut?.description.hasPrefix("tar entry d/big: archive truncated") == true, "\(String(describing: cut))")
        // A truncated gzip stream.
        let gz = try GzipCompressor.compressAll(tar)
        let gzCut = archiveError { try unpack(Array(gz.prefix(gz.count - 12)), into: try tmp.sub("gzcut")) }
        #expect(gzCut?.context == "gzip stream", "\(String(describing: gzCut))")
        // A bad checksum in the third header (after 1 + 1 + 10 blocks).
        var bad = tar
        bad[512 * 12 + 5] ^= 1
        let checksum = archiveError { try unpack(bad, into: try tmp.sub("checksum")) }
        #expect(checksum?.description.hasPrefix("tar header at offset 6144: bad checksum") == true, "\(String(describing: checksum))")
        // Garbage that is neither tar nor compressed.
        let garbage = archiveError { try unpack(Array(repeating: 0x41, count: 4000), into: try tmp.sub("garbage")) }
        #expect(garbage?.context == "tar header at offset 0")
        // A directory that is not empty is refused.
        let full = try tmp.sub("full")
        try writeBytes(full + "/x", [])
        #expect(throws: ArchiveError.self) { try LayerUnpacker(into: full) }
        // After a failure every call repeats the error.
        let unpacker = try LayerUnpacker(into: try tmp.sub("again"))
        #expect(throws: ArchiveError.self) { try unpacker.consume(Array(repeating: 0x41, count: 600)) }
        #expect(throws: ArchiveError.self) { try unpacker.consume([0]) }
        #expect(throws: ArchiveError.self) { _ = try unpacker.finish() }
    }

    @Test func emptyLayers() throws {
        let tmp = try TempDir()
        #expect(try unpack(try TarWriter.archive([]), into: try tmp.sub("a")).entryCount == 0)
        #expect(try unpack(try GzipCompressor.compressAll(try TarWriter.archive([])), into: try tmp.sub("b")).entryCount == 0)
        #expect(try unpack([], into: try tmp.sub("c")).diffID == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func laterEntriesReplaceEarlierOnes() throws {
        let tmp = try TempDir()
        let root = try tmp.sub("root")
        try unpack(try TarWriter.archive([
            file("x", "file first"), dir("x"), file("x/inside", "in dir"),          // file → dir
            dir("y"), file("y/deep/z", "z"), file("y", "now a file"),               // dir with contents → file
            dir("keep"), file("keep/a", "a"), dir("keep", mode: 0o700),             // dir over dir keeps contents
            file("s", "file"), symlink("s", to: "target"),                          // file → symlink
            symlink("t", to: "/etc"), file("t", "plain file, not through the link"), // symlink → file
            file("u", "one"), file("u", "two"),                                      // file → file
        ]), into: root)
        let st = try FS.lstat(root + "/x")
        #expect(FS.isDirectory(st))
        #expect(try FS.readText(root + "/x/inside") == "in dir")
        #expect(try FS.readText(root + "/y") == "now a file")
        #expect(try FS.readText(root + "/keep/a") == "a")
        #expect(try FS.lstat(root + "/keep").st_mode & 0o7777 == 0o700)
        #expect(try FS.readlink(root + "/s") == "target")
        #expect(try FS.lstat(root + "/t").st_mode & S_IFMT == S_IFREG)
        #expect(try FS.readText(root + "/u") == "two")
    }

    @Test func errorsNameTheEntryAndTheCall() throws {
        let tmp = try TempDir()
        let notDir = archiveError { try unpack(try TarWriter.archive([file("a", "file"), file("a/b", "under a file")]), into: try tmp.sub("1")) }
        #expect(notDir?.description == "layer entry a/b: open parent directory a: not a directory")
        let missing = archiveError { try unpack(try TarWriter.archive([hardlink("h", to: "nowhere/x")]), into: try tmp.sub("2")) }
        #expect(missing?.description == "layer entry h: hardlink target nowhere/x does not exist in this layer")
        let missing2 = archiveError { try unpack(try TarWriter.archive([hardlink("h", to: "x")]), into: try tmp.sub("3")) }
        #expect(missing2?.description == "layer entry h: hardlink target x does not exist in this layer")
        let toDir = archiveError { try unpack(try TarWriter.archive([dir("d"), hardlink("h", to: "d")]), into: try tmp.sub("4")) }
        #expect(toDir?.description == "layer entry h: link: operation not permitted")
    }

    @Test func missingParentsAreCreatedAndDirectoryTimesSetLast() throws {
        let tmp = try TempDir()
        let root = try tmp.sub("root")
        try unpack(try TarWriter.archive([
            dir("./d/", mtime: 1_234_567_890), file("./d//e/f", "nested"), file("d/g", "g"), dir("./", mode: 0o755, mtime: 1_111_111_111),
        ]), into: root)
        #expect(try FS.readText(root + "/d/e/f") == "nested")
        #expect(try FS.stat(root + "/d").st_mtim.tv_sec == 1_234_567_890)
        #expect(try FS.stat(root).st_mtim.tv_sec == 1_111_111_111)
        #expect(try FS.stat(root + "/d/e").st_mode & 0o777 == 0o755)
    }

    /// 10,000 small files, timed beside GNU tar on the same blob. On tmpfs when there is one, so
    /// the numbers measure the unpackers rather than the state of a shared disk; CPU time is
    /// compared as well as wall time, since the test machine is busy with other builds.
    @Test func tenThousandSmallFilesUnpackQuickly() throws {
        let tmp = try TempDir(base: access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp")
        var entries: [(TarHeader, [UInt8])] = []
        for d in 0..<100 {
            entries.append(dir("usr/share/d\(d)"))
            for f in 0..<100 { entries.append(file("usr/share/d\(d)/file-\(f).txt", "content of \(d)/\(f)\n", mode: 0o644, uid: 0, gid: 0)) }
        }
        let tar = try TarWriter.archive(entries)
        let gz = try GzipCompressor.compressAll(tar, level: 1)
        let root = try tmp.sub("root")
        let clock = ContinuousClock()
        var layer: UnpackedLayer?
        let cpuBefore = threadCPUSeconds()
        let elapsed = try clock.measure { layer = try unpack(gz, into: root, chunk: 32 * 1024) }
        let cpu = threadCPUSeconds() - cpuBefore
        #expect(layer?.entryCount == 10_100)
        #expect(try FS.readText(root + "/usr/share/d99/file-99.txt") == "content of 99/99\n")

        try writeBytes(tmp.path + "/layer.tar.gz", gz)
        let gnu = try tmp.sub("gnu")
        var gnuCPU = 0.0
        let gnuElapsed = try clock.measure {
            // `times` prints the shell's children's user and system time: tar's and gzip's.
            let out = try shell("tar -xzpf \(tmp.path)/layer.tar.gz -C \(gnu) && times").stdout
            gnuCPU = out.split(separator: "\n").last.map(parseTimes) ?? 0
        }
        print("unpacked 10,000 files in \(tmp.path): Berth \(elapsed) (CPU \(cpu) s), GNU tar \(gnuElapsed) (CPU \(gnuCPU) s)")
        #expect(cpu < gnuCPU * 3 + 0.5)
    }
}
