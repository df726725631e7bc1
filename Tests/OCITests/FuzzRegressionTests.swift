import OCI
import Testing

/// Inputs that crashed the OCI decoders (found with Fuzz/, `BERTH_FUZZ_TARGET=image-manifest`; the
/// same bytes are seeds in Fuzz/corpus/image-manifest/regression-*).
@Suite struct OCIFuzzRegressionTests {
    /// A document without its own mediaType, from a registry whose Content-Type is empty or starts
    /// with `;`: taking the type before the first `;` indexed an empty split.
    @Test(arguments: ["", ";", ";;charset=utf-8"])
    func emptyContentType(_ contentType: String) {
        #expect(throws: ImageSpecError.self) {
            _ = try ManifestDocument.decode(Array("{}".utf8), contentType: contentType)
        }
    }
}
