import ContainerDNS
import Testing

/// Inputs that crashed the DNS server's parsers (found with Fuzz/, `BERTH_FUZZ_TARGET=dns-config`;
/// the same bytes are seeds in Fuzz/corpus/dns-config/regression-*).
@Suite struct DNSFuzzRegressionTests {
    /// `nameserver #`: the address before `#` was read from an empty split. The line is skipped, as
    /// glibc skips a nameserver line it cannot read.
    @Test func nameserverWithoutAddress() {
        let conf = ResolvConf(parsing: "nameserver #\nnameserver ##53\nnameserver 10.0.0.1\n")
        #expect(conf.nameservers == [SocketAddress(IPv4(10, 0, 0, 1), 53)])
    }
}
