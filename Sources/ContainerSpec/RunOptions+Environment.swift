import GoCompat
import LinuxSys

// MARK: environment and labels

extension RunOptions.Parse {
    /// `-e KEY=VALUE` as given; a bare `-e KEY` takes the caller's value, or nil (dropped) when unset.
    public static func env(_ text: String, lookup: (String) -> String?) throws(EngineError) -> String? {
        let (key, value) = cut(text, "=")
        guard !key.isEmpty else { throw .invalid("invalid environment variable: \(text)") }
        if value != nil { return text }
        return lookup(key).map { key + "=" + $0 }
    }

    /// An `--env-file`'s (or `--label-file`'s) lines, in Docker's format (its CLI's pkg/kvfile):
    /// blank lines and `#` comments skipped, leading whitespace dropped, `KEY=VALUE` kept verbatim
    /// (no quotes removed, trailing whitespace kept), a bare `KEY` resolved through `lookup` or
    /// dropped (label files have no lookup: a bare key is dropped there too).
    public static func envFile(contents: [UInt8], path: String, lookup: ((String) -> String?)?) throws(EngineError) -> [String] {
        let fail = { (reason: String) in EngineError.invalid("invalid env file (\(path)): \(reason)") }
        var out: [String] = []
        var lineNumber = 0
        var lines = contents.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        for rawLine in lines {
            lineNumber += 1
            var bytes = Array(rawLine)
            if bytes.last == 0x0D { bytes.removeLast() }  // bufio.ScanLines drops a CR before the LF
            guard var text = String(validating: bytes, as: UTF8.self) else {
                let shown = bytes.map(String.init).joined(separator: " ")  // Go's %v of a []byte
                throw fail("invalid utf8 bytes at line \(lineNumber): [\(shown)]")
            }
            if lineNumber == 1, text.hasPrefix("\u{FEFF}") { text.removeFirst() }
            let line = String(text.drop { $0.isWhitespace })
            if line.isEmpty || line.hasPrefix("#") { continue }
            let (key, value) = cut(line, "=")
            if key.isEmpty { throw fail("no variable name on line '\(line)'") }
            if key.contains(" ") || key.contains("\t") { throw fail("variable '\(key)' contains whitespaces") }
            if value != nil {
                out.append(line)
            } else if let found = lookup?(key) {
                out.append(key + "=" + found)
            }
        }
        return out
    }

    /// Reads an `--env-file` (lookup non-nil) or `--label-file` (lookup nil).
    public static func keyValueFile(_ path: String, lookup: ((String) -> String?)?) throws(EngineError) -> [String] {
        let bytes: [UInt8]
        do { bytes = try FS.readFile(path) } catch { throw .invalid(error.description) }
        return try envFile(contents: bytes, path: path, lookup: lookup)
    }

    /// `-l key=value` (or a bare `key`, with an empty value).
    public static func label(_ text: String) throws(EngineError) -> (key: String, value: String) {
        let (rawKey, value) = cut(text, "=")
        let key = String(rawKey.drop { $0 == " " || $0 == "\t" })
        if key.isEmpty { throw .invalid("invalid label '\(text)': empty name") }
        if key.contains(" ") || key.contains("\t") { throw .invalid("label '\(key)' contains whitespaces") }
        return (key, value ?? "")
    }

    /// `--log-opt KEY=VALUE` for the json-file driver.
    public static func logOption(_ text: String) throws(EngineError) -> (key: String, value: String) {
        let (key, value) = cut(text, "=")
        guard let value else { throw .invalid("invalid log opt '\(text)': must be KEY=VALUE") }
        switch key {
        case "max-size":
            // json-file reads max-size with decimal units (go-units FromHumanSize); -1 is unlimited.
            if value != "-1", (try? size(value)) == nil { throw .invalid("invalid max-size: \(value)") }
        case "max-file":
            guard let count = Int(value) else { throw .invalid("strconv.Atoi: parsing \(goQuote(value)): invalid syntax") }
            if count < 1 { throw .invalid("max-file cannot be less than 1") }
        case "compress":
            if goBool(value) == nil { throw .invalid("error reading compress log option: strconv.ParseBool: parsing \(goQuote(value)): invalid syntax") }
        case "labels", "labels-regex", "env", "env-regex", "tag", "mode", "max-buffer-size":
            break
        default:
            throw .invalid("unknown log opt '\(key)' for json-file log driver")
        }
        return (key, value)
    }
}

extension RunOptions {
    /// `--env-file`s, read after every flag; their variables come before the `-e` ones.
    public mutating func addEnvFiles(_ paths: [String], lookup: @escaping (String) -> String?) throws(EngineError) {
        var fromFiles: [String] = []
        for path in paths {
            fromFiles += try Parse.keyValueFile(path, lookup: lookup)
        }
        env = fromFiles + env
    }

    /// `--label-file`s, then `-l`s (each already checked by `Parse.label` as its flag was read).
    public mutating func addLabels(files: [String], labels: [String]) throws(EngineError) {
        var fromFiles: [String] = []
        for path in files {
            fromFiles += try Parse.keyValueFile(path, lookup: nil)
        }
        for item in fromFiles + labels {
            let (key, value) = try Parse.label(item)
            self.labels[key] = value
        }
    }

    /// `--log-opt`s, checked against `logDriver` (set it first).
    public mutating func addLogOptions(_ options: [String]) throws(EngineError) {
        if logDriver == LogDriver.none, !options.isEmpty { throw .invalid("invalid logging opts for driver none") }
        for item in options {
            let (key, value) = logDriver == .local ? try Parse.localLogOption(item) : try Parse.logOption(item)
            logOptions[key] = value
        }
        if logDriver == .local { try Parse.checkLocalLogOptions(logOptions) }
    }
}

