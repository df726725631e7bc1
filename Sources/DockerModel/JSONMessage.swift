/// Docker's JSON message (its `jsonmessage` package): one line of the pull, push, load, import and
/// build streams. Members in Docker's order, each only when set: `stream`, `status`,
/// `progressDetail`, `progress`, `id`, `errorDetail`, `error`, `aux`.
public struct JSONMessage: Encodable, Sendable {
    public var stream: String?
    public var status: String?
    /// `progressDetail` (`{}` for a status with no numbers) and the `progress` text dockerd draws from it.
    public var progress: Progress?
    public var id: String?
    public var error: ErrorDetail?
    public var aux: Aux?

    public init(stream: String? = nil, status: String? = nil, progress: Progress? = nil, id: String? = nil,
                error: ErrorDetail? = nil, aux: Aux? = nil) {
        self.stream = stream
        self.status = status
        self.progress = progress
        self.id = id
        self.error = error
        self.aux = aux
    }

    /// `{"stream":"…"}`: text for the client's stdout (build steps, "Loaded image: …").
    public static func stream(_ text: String) -> JSONMessage { JSONMessage(stream: text) }

    /// `{"status":"…","id":"…"}` without progress (progress.Message in dockerd).
    public static func status(_ text: String, id: String? = nil) -> JSONMessage { JSONMessage(status: text, id: id) }

    /// A layer's status with its `progressDetail` (`{}` without numbers), as dockerd updates it.
    public static func layer(_ text: String, id: String, current: Int64 = 0, total: Int64 = 0) -> JSONMessage {
        JSONMessage(status: text, progress: Progress(current: current, total: total), id: id)
    }

    /// The failure that ends a stream after its head went out: `{"errorDetail":{…},"error":"…"}`.
    public static func failure(_ message: String, code: Int? = nil) -> JSONMessage {
        JSONMessage(error: ErrorDetail(code: code, message: message))
    }

    /// Go's JSONProgress: `current`, `total` (each left out at 0).
    public struct Progress: Encodable, Sendable, Equatable {
        public var current: Int64
        public var total: Int64

        public init(current: Int64, total: Int64) {
            self.current = current
            self.total = total
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: AnyKey.self)
            if current != 0 { try c.encode(current, forKey: AnyKey("current")) }
            if total != 0 { try c.encode(total, forKey: AnyKey("total")) }
        }

        /// The bar and numbers dockerd sends as `progress`: it draws them for a 200-column
        /// terminal (it has none), so the bar is always there:
        /// `[=========>                                         ]  1.049MB/5.243MB`.
        public var text: String {
            if current <= 0 && total <= 0 { return "" }
            if total <= 0 { return padded(humanSize(current, significantDigits: 4)) }
            let percentage = min(Int(Double(current) / Double(total) * 100) / 2, 50)
            let bar = "[" + String(repeating: "=", count: percentage) + ">" + String(repeating: " ", count: 50 - percentage) + "] "
            if current > total { return bar + padded(humanSize(current, significantDigits: 4)) }
            return bar + padded(humanSize(current, significantDigits: 4)) + "/" + humanSize(total, significantDigits: 4)
        }

        /// Go's `%8v`: right-aligned in eight columns.
        private func padded(_ text: String) -> String {
            String(repeating: " ", count: max(0, 8 - text.count)) + text
        }
    }

    /// Go's JSONError: `code` (left out at 0) and `message`.
    public struct ErrorDetail: Encodable, Sendable, Equatable {
        public var code: Int?
        public var message: String

        public init(code: Int?, message: String) {
            self.code = code
            self.message = message
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: AnyKey.self)
            if let code, code != 0 { try c.encode(code, forKey: AnyKey("code")) }
            try c.encode(message, forKey: AnyKey("message"))
        }
    }

    /// `aux`: a build's image ID, or a push's result.
    public enum Aux: Encodable, Sendable, Equatable {
        case imageID(String)
        case pushed(tag: String, digest: String, size: Int)

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: AnyKey.self)
            switch self {
            case .imageID(let id):
                try c.encode(id, forKey: AnyKey("ID"))
            case .pushed(let tag, let digest, let size):
                try c.encode(tag, forKey: AnyKey("Tag"))
                try c.encode(digest, forKey: AnyKey("Digest"))
                try c.encode(size, forKey: AnyKey("Size"))
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        try c.encodeIfPresent(stream, forKey: AnyKey("stream"))
        try c.encodeIfPresent(status, forKey: AnyKey("status"))
        if let progress {
            try c.encode(progress, forKey: AnyKey("progressDetail"))
            let text = progress.text
            if !text.isEmpty { try c.encode(text, forKey: AnyKey("progress")) }
        }
        try c.encodeIfPresent(id, forKey: AnyKey("id"))
        if let error {
            try c.encode(error, forKey: AnyKey("errorDetail"))
            try c.encode(error.message, forKey: AnyKey("error"))
        }
        try c.encodeIfPresent(aux, forKey: AnyKey("aux"))
    }
}
