import Foundation

/// The busybox test image, made by Tests/Scripts/registry/make-busybox-image.sh (umoci and Debian's
/// busybox-static, no Berth involved): an OCI layout tagged `latest`, and a tar of it (`load`
/// takes it; the image comes in untagged). Made once per test process, under a temporary name and
/// renamed into place, so no suite (nor another test process) sees it half-made. Read-only: copy it
/// to change it.
public enum BusyboxImage {
    /// The OCI layout's directory.
    public static var layout: String { made.path }
    /// The tar of `layout`.
    public static var tar: String { made.path + ".tar" }
    /// Why the image could not be made; nil when it is there.
    public static var failure: String? { made.failure }

    private static let made: (path: String, failure: String?) = {
        let path = NSTemporaryDirectory() + "berth-busybox-\(getpid())"
        if FileManager.default.fileExists(atPath: path + ".tar") { return (path, nil) }
        let making = path + ".making"
        _ = try? sh(["/bin/rm", "-rf", making, making + ".tar", path, path + ".tar"])
        do {
            let script = try sh(["/bin/bash", packageRoot + "/Tests/Scripts/registry/make-busybox-image.sh", making])
            guard script.status == 0 else { return (path, "make-busybox-image.sh: \(script.stderr)") }
            let tar = try sh(["/bin/tar", "-C", making, "-cf", making + ".tar", "."])
            guard tar.status == 0 else { return (path, "tar of the busybox layout: \(tar.stderr)") }
        } catch {
            return (path, "making the busybox image: \(error)")
        }
        // The tar last: its presence says the layout is whole.
        guard rename(making, path) == 0, rename(making + ".tar", path + ".tar") == 0 else {
            return (path, "renaming the busybox image into place: \(String(cString: strerror(errno)))")
        }
        return (path, nil)
    }()
}
