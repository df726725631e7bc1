/// runc's command-line grammar (urfave/cli): flags with one or two dashes, `--flag=value` or
/// `--flag value`, global flags before the command, command flags before its positional arguments.
/// Parsing stops at the first positional argument so `exec ID sh -c ...` keeps the command intact.
struct ParsedArguments {
    var values: [String: String] = [:]
    /// Every value of a flag given more than once (`--env A --env B`), in order.
    var lists: [String: [String]] = [:]
    var positionals: [String] = []

    func flag(_ name: String) -> Bool {
        guard let value = values[name] else { return false }
        return value != "false" && value != "0"
    }

    func value(_ name: String) -> String? { values[name] }

    func all(_ name: String) -> [String] { lists[name] ?? [] }
}

struct UsageError: Error, CustomStringConvertible {
    var description: String
}

struct FlagSet {
    /// Flags that take a value; the first name is canonical, the others aliases.
    var valued: [[String]] = []
    /// Flags that are true when present.
    var boolean: [[String]] = []

    func canonical(_ name: String) -> (String, Bool)? {
        if let names = valued.first(where: { $0.contains(name) }) { return (names[0], true) }
        if let names = boolean.first(where: { $0.contains(name) }) { return (names[0], false) }
        return nil
    }

    /// Parses flags from the front of `arguments`; returns the rest untouched when `stopAtPositional`.
    func parse(_ arguments: [String], stopAtPositional: Bool) throws(UsageError) -> ParsedArguments {
        var result = ParsedArguments()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                result.positionals += arguments[(index + 1)...]
                break
            }
            guard argument.hasPrefix("-"), argument.count > 1 else {
                result.positionals.append(argument)
                index += 1
                if stopAtPositional {
                    result.positionals += arguments[index...]
                    break
                }
                continue
            }
            var name = String(argument.drop(while: { $0 == "-" }))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let (canonical, takesValue) = canonical(name) else {
                throw UsageError(description: "flag provided but not defined: -\(name)")
            }
            if takesValue {
                let value: String
                if let inlineValue {
                    value = inlineValue
                } else {
                    index += 1
                    guard index < arguments.count else { throw UsageError(description: "flag needs an argument: -\(name)") }
                    value = arguments[index]
                }
                result.values[canonical] = value
                result.lists[canonical, default: []].append(value)
            } else {
                result.values[canonical] = inlineValue ?? "true"
            }
            index += 1
        }
        return result
    }
}
