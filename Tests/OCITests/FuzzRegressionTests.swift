import OCI
import Testing

/// Inputs that crashed the OCI decoders (with Fuzz/'s `image-manifest` and `image-config` targets;
/// the same bytes are seeds in Fuzz/corpus/*/regression-*).
@Suite struct OCIFuzzRegressionTests {
    /// A document without its own mediaType, from a registry whose Content-Type is empty or starts
    /// with `;`: taking the type before the first `;` indexed an empty split.
    @Test(arguments: ["", ";", ";;charset=utf-8"])
    func emptyContentType(_ contentType: String) {
        #expect(throws: ImageSpecError.self) {
            _ = try ManifestDocument.decode(Array("{}".utf8), contentType: contentType)
        }
    }

    /// A high surrogate escape followed by an escape that is not a low surrogate (`\uDBAB\uDB39`,
    /// found by libFuzzer in an image config): the pair arithmetic overflowed, so any config.json,
    /// manifest or image config from a registry could crash the engine. As Go reads it now: the
    /// lone surrogate is U+FFFD and the next escape is read on its own.
    @Test func unpairedSurrogateEscapes() throws {
        func decoded(_ literal: String) throws -> String {
            try decodeJSON([String].self, Array("[\"\(literal)\"]".utf8))[0]
        }
        #expect(try decoded(#"\uDbab\uDb39"#) == "\u{FFFD}\u{FFFD}")
        #expect(try decoded(#"\uD800\u0041"#) == "\u{FFFD}A")
        #expect(try decoded(#"\uD83D\uDE00"#) == "\u{1F600}")
        #expect(try decoded(#"\uDE00x"#) == "\u{FFFD}x")
        let config = #"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{"User":"\uDbab\uDb39"}}"#
        #expect(try decodeJSON(ImageConfiguration.self, Array(config.utf8)).config?.user == "\u{FFFD}\u{FFFD}")
    }
}
