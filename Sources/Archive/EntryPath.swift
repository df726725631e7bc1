/// An archive path cleaned for unpacking: no empty, `.` or `..` components, relative to the root.
///
/// A leading `/` is dropped (absolute names mean "from the layer root"), `./a`, `a//b` and `a/` are
/// normalised, `a/../b` is `b`. A path that climbs above the root, names `.` or `..` as its last
/// component, or contains NUL is rejected. `.`, `./` and `/` name the root itself.
///
/// This is the lexical half of containment; the other half is that every lookup of `parent` goes
/// through openat2(RESOLVE_IN_ROOT), so symlinks in the snapshot cannot lead out either.
struct EntryPath: Equatable {
    /// The cleaned parent directory, "" for the root.
    var parent: String
    /// The last component, "" when the path names the root.
    var name: String

    var isRoot: Bool { name.isEmpty }
    var cleaned: String { parent.isEmpty ? name : parent + "/" + name }

    init(_ raw: String) throws(PathError) {
        if raw.utf8.contains(0) { throw PathError.containsNUL }
        let literal = raw.split(separator: "/")
        if let last = literal.last, last == ".." || (last == "." && literal.contains { $0 != "." }) {
            throw PathError.dotComponent
        }
        var parts: [Substring] = []
        parts.reserveCapacity(literal.count)
        for part in literal {
            if part == "." { continue }
            if part == ".." {
                if parts.isEmpty { throw PathError.climbsOut }
                parts.removeLast()
                continue
            }
            parts.append(part)
        }
        name = parts.last.map(String.init) ?? ""
        parent = parts.count > 1 ? parts.dropLast().joined(separator: "/") : ""
    }

    enum PathError: Error, CustomStringConvertible {
        case containsNUL, dotComponent, climbsOut

        var description: String {
            switch self {
            case .containsNUL: "name contains a NUL byte"
            case .dotComponent: "name ends in '.' or '..'"
            case .climbsOut: "path climbs out of the layer root"
            }
        }
    }
}
