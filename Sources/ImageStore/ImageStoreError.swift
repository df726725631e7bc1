import LinuxSys
import OCI

/// Why an image operation failed, naming the image, blob or file it was working on. The kind lets
/// front ends answer as Docker does (404 for a missing image, 409 for one in use) without reading
/// the text.
public struct ImageStoreError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// No such image (or tag).
        case notFound
        /// The image is in a state that forbids the operation (in use, named in several repositories).
        case conflict
        /// The caller's input cannot be used (a tag with a digest).
        case invalid
        /// Anything else: the store, its files, the content.
        case failed
    }

    public let kind: Kind
    public let message: String
    public init(_ message: String) { self.init(.failed, message) }
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { message }

    static func sys(_ error: SysError) -> ImageStoreError { ImageStoreError(error.description) }
    static func notFound(_ name: String) -> ImageStoreError { ImageStoreError(.notFound, "No such image: \(name)") }
}
