/// A user name and password (or token) for one registry.
public struct Credentials: Sendable, Equatable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// The `Authorization` header value of HTTP Basic auth.
    var basicAuthorization: String { "Basic " + Base64.encode(Array("\(username):\(password)".utf8)) }
}
