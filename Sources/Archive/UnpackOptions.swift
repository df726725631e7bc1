/// How `LayerUnpacker` applies a layer.
public struct UnpackOptions: Sendable {
    /// Added to every uid and gid from the archive (and to whiteouts' 0:0), for snapshots that a
    /// user-namespaced container will see through a shifted id map. Zero means "as in the archive".
    public var uidShift: UInt32
    public var gidShift: UInt32
    /// The xattr prefix overlayfs uses: `trusted.overlay.` for a root mount, `user.overlay.` for
    /// the `userxattr` mounts of rootless overlay. The opaque-directory marker is `<prefix>opaque`,
    /// and the archive's own xattrs in this namespace are dropped: a layer must not forge overlay
    /// metadata (redirects, metacopy) that the snapshot's owner did not write.
    public var overlayXattrPrefix: String
    /// Entries of tar types the reader does not know are skipped rather than failing the layer.
    public var skipUnknownEntryTypes: Bool
    /// Docker's NoOverwriteDirNonDir (`cp` into a container): an entry may not replace an existing
    /// directory with a non-directory, nor a non-directory with a directory.
    public var noOverwriteDirNonDir = false

    public init(uidShift: UInt32 = 0, gidShift: UInt32 = 0, overlayXattrPrefix: String = "trusted.overlay.",
                skipUnknownEntryTypes: Bool = false) {
        self.uidShift = uidShift
        self.gidShift = gidShift
        self.overlayXattrPrefix = overlayXattrPrefix
        self.skipUnknownEntryTypes = skipUnknownEntryTypes
    }
}

/// What unpacking a layer produced.
public struct UnpackedLayer: Sendable, Equatable {
    /// "sha256:<hex>" of the uncompressed tar: the layer's DiffID in the image config's rootfs.
    public var diffID: String
    /// Bytes of the uncompressed tar, end-of-archive padding included.
    public var uncompressedSize: Int64
    /// Entries in the archive (each whiteout counts as one).
    public var entryCount: Int
    /// The compression found on the blob.
    public var compression: Compression
    /// What was skipped rather than failing: xattrs the filesystem refused, overlay xattrs from the archive.
    public var warnings: [String]
}
