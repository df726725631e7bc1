/// Docker-style names for containers created without `--name`: an adjective and a scientist or
/// engineer, joined by an underscore.
enum NameGenerator {
    static let adjectives = [
        "agile", "bold", "brave", "bright", "calm", "clever", "crisp", "daring", "eager", "earnest",
        "fearless", "fluent", "gentle", "glad", "hardy", "honest", "humble", "jolly", "keen", "kind",
        "lively", "lucid", "merry", "modest", "nimble", "noble", "patient", "plucky", "proud", "quick",
        "quiet", "ready", "serene", "sharp", "sincere", "steady", "sturdy", "swift", "tender", "tidy",
        "upbeat", "vivid", "warm", "wise", "witty", "zealous",
    ]
    static let people = [
        "agnesi", "babbage", "banach", "bohr", "boole", "cantor", "cerf", "curie", "dijkstra", "euclid",
        "euler", "faraday", "fermat", "feynman", "franklin", "galois", "gauss", "germain", "goodall",
        "hamilton", "hopper", "hypatia", "jackson", "johnson", "kepler", "knuth", "kovalevskaya", "lamarr",
        "laplace", "lovelace", "maxwell", "meitner", "mirzakhani", "newton", "noether", "pascal", "planck",
        "ramanujan", "ritchie", "shannon", "somerville", "tesla", "thompson", "turing", "wozniak", "wu",
    ]

    static func random() -> String {
        (adjectives.randomElement() ?? "steady") + "_" + (people.randomElement() ?? "turing")
    }
}
