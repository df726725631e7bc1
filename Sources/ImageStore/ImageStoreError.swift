import LinuxSys
import OCI

/// Why an image operation failed, naming the image, blob or file it was working on.
public struct ImageStoreError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    static func sys(_ error: SysError) -> ImageStoreError { ImageStoreError(error.description) }
    static func notFound(_ name: String) -> ImageStoreError { ImageStoreError("No such image: \(name)") }
}
