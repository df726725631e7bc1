import Glibc

/// Berth's programs find each other: the engine starts berth-supervisor and berth-dns, the builder
/// runs berth-runtime.
public enum Executables {
    /// A program installed beside the running one (berth-supervisor next to berth), or `BERTH_<NAME>`.
    public static func sibling(_ name: String) -> String? {
        let variable = "BERTH_" + name.replacing("berth-", with: "").replacing("-", with: "_").uppercased()
        if let value = getenv(variable).map({ String(cString: $0) }), !value.isEmpty { return value }
        if let me = SealedExecutable.installedPath {
            let dir = me.split(separator: "/").dropLast().joined(separator: "/")
            let path = "/" + dir + "/" + name
            if access(path, X_OK) == 0 { return path }
        }
        for dir in ["/usr/local/bin", "/usr/bin"] where access(dir + "/" + name, X_OK) == 0 { return dir + "/" + name }
        return nil
    }
}
