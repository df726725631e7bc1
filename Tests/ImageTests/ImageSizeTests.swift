import Foundation
import TestSupport
import Testing

/// An image's size is the unpacked content of its layers, as Docker reports it (not the bytes of
/// their tar streams), measured when a layer is unpacked; a store an older Berth filled is
/// measured once, on first use.
@Suite(.enabled(if: ImageEnv.ready && ImageEnv.has("python3") && ImageEnv.has("find"), "needs root, a built berth and python3"))
struct ImageSizeTests {
    static func sqlite(_ database: String, _ script: String) throws -> String {
        let out = try sh(["/usr/bin/python3", "-c", """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            for statement in sys.argv[2].split(';'):
                for row in db.execute(statement): print(*row)
            db.commit()
            """, database, script])
        try #require(out.status == 0, "sqlite: \(out.stderr)")
        return out.stdout
    }

    @Test func sizesAreTheUnpackedContentAndOlderStoresAreMeasuredOnce() throws {
        let berth = try BerthCLI()
        defer { berth.remove() }
        let work = try ImageEnv.temporaryDirectory("sizes")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let made = try sh(["/bin/bash", "-c", ImageEnv.makeRichRootfs + #"""

            make_rich "$1/rich" "$1/expected" && tar -C "$1/rich" --sort=name --owner=0 --group=0 --numeric-owner -cf "$1/rich.tar" .
            """#, "bash", work])
        try #require(made.status == 0, "\(made.stderr)")
        let expected = trimmed(try String(contentsOfFile: work + "/expected", encoding: .utf8))
        let tarSize = try FileManager.default.attributesOfItem(atPath: work + "/rich.tar")[.size] as? Int ?? 0
        #expect(Int(expected) ?? 0 > 1_300_000 && tarSize > (Int(expected) ?? 0) + 100_000, "the tar must be larger: \(tarSize) against \(expected)")

        try berth.call("import", work + "/rich.tar", "local/rich:1")
        #expect(trimmed(try berth.call("image", "inspect", "--format", "{{.Size}}", "local/rich:1")) == expected)
        #expect(trimmed(try berth.call("history", "--format", "{{.Size}}", "local/rich:1")) == "1.32MB")

        // What an older Berth left: no content sizes, the images' sizes the tars' lengths.
        let database = berth.root + "/berth.db"
        _ = try Self.sqlite(database, """
            DELETE FROM grdb_migrations WHERE identifier = 'images-v2'; ALTER TABLE layers DROP COLUMN content_size;
            UPDATE images SET size = \(tarSize)
            """)
        #expect(try Self.sqlite(database, "SELECT size FROM images") == "\(tarSize)\n")
        #expect(trimmed(try berth.call("images", "--format", "{{.Size}}")) == "1.32MB")
        #expect(trimmed(try berth.call("image", "inspect", "--format", "{{.Size}}", "local/rich:1")) == expected)
        // Measured once and kept: the next listing reads the numbers.
        #expect(try Self.sqlite(database, "SELECT size FROM images") == "\(expected)\n")
        #expect(try Self.sqlite(database, "SELECT content_size FROM layers") == "\(expected)\n")
        #expect(try Self.sqlite(database, "SELECT size FROM layers") == "\(tarSize)\n")

        // save still writes each layer's tar whole (its length is the tar's, not the content's).
        let saved = work + "/saved.tar"
        try berth.call("save", "-o", saved, "local/rich:1")
        let other = try BerthCLI()
        defer { other.remove() }
        try other.call("load", "-i", saved)
        #expect(trimmed(try other.call("image", "inspect", "--format", "{{.Id}} {{.Size}}", "local/rich:1"))
                == trimmed(try berth.call("image", "inspect", "--format", "{{.Id}} {{.Size}}", "local/rich:1")))
    }
}
