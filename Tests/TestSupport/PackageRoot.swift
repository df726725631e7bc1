import Foundation

/// The package's directory (this file is Tests/TestSupport/PackageRoot.swift in it).
public let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()
