import ContainerSpec
import Foundation
import Glibc
import OCI
import TestSupport
import Testing

/// `docker run` flags → RunOptions: each parser against tables of good and bad values (Docker's
/// wording), the checks across flags, then two peers: the real `docker` CLI (its client-side
/// errors, with no daemon behind it) and `podman create` + `inspect` (the values it stores).
@Suite("RunOptionsParseTests")
struct RunOptionsParseTests {
    typealias Parse = RunOptions.Parse

    /// The error text of a throwing call, or nil when it succeeds.
    static func failure<T>(_ body: () throws(EngineError) -> T) -> String? {
        do { _ = try body(); return nil } catch { return error.message }
    }

    // MARK: sizes and CPUs

    @Test(arguments: [
        ("512", 512), ("512k", 524_288), ("512K", 524_288), ("1.5g", 1_610_612_736), ("1G", 1_073_741_824),
        ("2GiB", 2_147_483_648), ("1 m", 1_048_576), ("1 kib", 1024), ("1b", 1), ("1B", 1), ("1kb", 1024),
        ("0", 0), (".5k", 512), ("1.", 1), ("1t", 1_099_511_627_776), ("1p", 1_125_899_906_842_624), ("1e3", 1000),
    ] as [(String, Int64)])
    func sizes(text: String, bytes: Int64) throws {
        #expect(try Parse.size(text) == bytes)
    }

    @Test(arguments: [
        ("abc", "invalid size: 'abc'"), ("1x", "invalid suffix: 'x'"), ("-1", "invalid size: '-1'"), ("", "invalid size: ''"),
        ("1.5.3", "strconv.ParseFloat: parsing \"1.5.3\": invalid syntax"), ("1kbb", "invalid suffix: 'kbb'"),
        ("1ib", "invalid suffix: 'ib'"), ("1mi", "invalid suffix: 'mi'"), ("0x10", "strconv.ParseFloat: parsing \"0x10\": invalid syntax"),
        ("1  k", "strconv.ParseFloat: parsing \"1 \": invalid syntax"), (".", "strconv.ParseFloat: parsing \".\": invalid syntax"),
    ])
    func badSizes(text: String, message: String) {
        #expect(Self.failure { () throws(EngineError) in try Parse.size(text) } == message)
    }

    @Test func memorySwapTakesMinusOne() throws {
        #expect(try Parse.memorySwap("-1") == -1)
        #expect(try Parse.memorySwap("1g") == 1 << 30)
        #expect(Self.failure { () throws(EngineError) in try Parse.memorySwap("-2") } == "invalid size: '-2'")
    }

    @Test(arguments: [
        ("1.5", 1_500_000_000), ("3/2", 1_500_000_000), ("1e-3", 1_000_000), (".5", 500_000_000), ("1.", 1_000_000_000),
        ("0", 0), ("1.0000000000", 1_000_000_000), ("-1", -1_000_000_000), ("0.000000001", 1), ("2", 2_000_000_000),
        ("1.5e0", 1_500_000_000), ("+0.25", 250_000_000),
    ] as [(String, Int64)])
    func cpus(text: String, nano: Int64) throws {
        #expect(try Parse.nanoCPUs(text) == nano)
    }

    @Test(arguments: [
        ("0.0000000001", "value is too precise"), ("1/3", "value is too precise"), ("", "failed to parse  as a rational number"),
        ("abc", "failed to parse abc as a rational number"), (" 1", "failed to parse  1 as a rational number"),
        ("1/0", "failed to parse 1/0 as a rational number"), ("1.2.3", "failed to parse 1.2.3 as a rational number"),
    ])
    func badCPUs(text: String, message: String) {
        #expect(Self.failure { () throws(EngineError) in try Parse.nanoCPUs(text) } == message)
    }

    @Test func cpusAreBoundedByTheHost() {
        var options = RunOptions()
        options.nanoCPUs = 3_000_000_000
        #expect(Self.failure { () throws(EngineError) in try options.validate(hostCPUs: 2) }
            == "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available")
        options.nanoCPUs = 2_000_000_000
        #expect(Self.failure { () throws(EngineError) in try options.validate(hostCPUs: 2) } == nil)
        options.nanoCPUs = -1
        #expect(Self.failure { () throws(EngineError) in try options.validate(hostCPUs: 4) }
            == "Range of CPUs is from 0.01 to 4.00, as there are only 4 CPUs available")
    }

    // MARK: mounts

    @Test(arguments: [
        ("/data", MountRequest(kind: .volume, source: nil, target: "/data")),
        ("vol1:/data", MountRequest(kind: .volume, source: "vol1", target: "/data")),
        ("vol1:/data:ro,nocopy", MountRequest(kind: .volume, source: "vol1", target: "/data", readOnly: true, options: ["nocopy"])),
        ("/host:/ctr", MountRequest(kind: .bind, source: "/host", target: "/ctr")),
        ("/host/:/ctr/:rw", MountRequest(kind: .bind, source: "/host", target: "/ctr")),
        ("/host:/ctr:ro", MountRequest(kind: .bind, source: "/host", target: "/ctr", readOnly: true)),
        ("/host:/ctr:z", MountRequest(kind: .bind, source: "/host", target: "/ctr", options: ["z"])),
        ("/host:/ctr:Z,ro,rshared", MountRequest(kind: .bind, source: "/host", target: "/ctr", readOnly: true, options: ["Z", "rshared"])),
        ("./sub:/ctr", MountRequest(kind: .bind, source: "/work/dir/sub", target: "/ctr")),
        ("../up:/ctr", MountRequest(kind: .bind, source: "/work/up", target: "/ctr")),
        (".:/ctr", MountRequest(kind: .bind, source: "/work/dir", target: "/ctr")),
        ("a.b-c_d:/x", MountRequest(kind: .volume, source: "a.b-c_d", target: "/x")),
    ])
    func volumes(spec: String, expected: MountRequest) throws {
        #expect(try Parse.volume(spec, currentDirectory: "/work/dir") == expected)
    }

    @Test(arguments: [
        (":/x", "invalid volume specification: ':/x'"),
        ("/x:ro", "invalid volume specification: '/x:ro'"),
        ("/a:/b:ro:x", "invalid volume specification: '/a:/b:ro:x'"),
        ("/a:/b:xx", "invalid mode: xx"),
        ("/a:/b:ro,rw", "invalid mode: ro,rw"),
        ("/a:/b:shared,rshared", "invalid mode: shared,rshared"),
        ("/a:b", "invalid volume specification: '/a:b': invalid mount config for type \"bind\": invalid mount path: 'b' mount path must be absolute"),
        ("/a:/", "invalid volume specification: '/a:/': invalid mount config for type \"bind\": invalid specification: destination can't be '/'"),
        ("rel", "invalid volume specification: 'rel': invalid mount config for type \"volume\": invalid mount path: 'rel' mount path must be absolute"),
        ("v1:/x:rshared", "invalid volume specification: 'v1:/x:rshared': invalid mount config for type \"volume\": field BindOptions must not be specified"),
        ("/a:/x:nocopy", "invalid volume specification: '/a:/x:nocopy': invalid mount config for type \"bind\": field VolumeOptions must not be specified"),
        ("foo/bar:/x", "create foo/bar: \"foo/bar\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"),
        ("~/x:/x", "create ~/x: \"~/x\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"),
        ("a:/x", "create a: volume name is too short, names should be at least two alphanumeric characters"),
    ])
    func badVolumes(spec: String, message: String) {
        #expect(Self.failure { () throws(EngineError) in try Parse.volume(spec, currentDirectory: "/w") } == message)
    }

    @Test(arguments: [
        ("type=bind,source=/h,target=/c", MountRequest(kind: .bind, source: "/h", target: "/c")),
        ("type=bind,src=/h,dst=/c,readonly", MountRequest(kind: .bind, source: "/h", target: "/c", readOnly: true)),
        ("type=bind,src=/h,destination=/c,ro=true,bind-propagation=rshared", MountRequest(kind: .bind, source: "/h", target: "/c", readOnly: true, options: ["rshared"])),
        ("type=bind,src=/h,dst=/c,ro=false", MountRequest(kind: .bind, source: "/h", target: "/c")),
        ("TYPE=BIND,SRC=/h,DST=/c", MountRequest(kind: .bind, source: "/h", target: "/c")),
        ("src=./d,dst=/c,type=bind", MountRequest(kind: .bind, source: "/w/d", target: "/c")),
        ("target=/c", MountRequest(kind: .volume, source: nil, target: "/c")),
        ("type=volume,src=data,dst=/c,volume-nocopy", MountRequest(kind: .volume, source: "data", target: "/c", options: ["nocopy"])),
        ("type=volume,src=data,dst=/c,volume-nocopy=false", MountRequest(kind: .volume, source: "data", target: "/c")),
        ("type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1777", MountRequest(kind: .tmpfs, source: nil, target: "/t", options: ["size=67108864", "mode=01777"])),
        ("\"type=bind\",\"src=/a,b\",dst=/c", MountRequest(kind: .bind, source: "/a,b", target: "/c")),
        ("type=bind,\"src=/say \"\"hi\"\"\",dst=/c", MountRequest(kind: .bind, source: "/say \"hi\"", target: "/c")),
    ])
    func mounts(text: String, expected: MountRequest) throws {
        #expect(try Parse.mount(text, currentDirectory: "/w") == expected)
    }

    @Test(arguments: [
        ("type=bind,src=/a", "target is required"),
        ("type=,dst=/a", "type is required"),
        ("type=bind,dst=/a,foo=bar", "unexpected key 'foo' in 'foo=bar'"),
        ("dst=/a,readonly,xx", "invalid field 'xx' must be a key=value pair"),
        ("dst=/a,ro=maybe", "invalid value for ro: maybe"),
        ("type=volume,dst=/a,bind-propagation=shared", "cannot mix 'bind-*' options with mount type 'volume'"),
        ("type=bind,src=/a,dst=/a,volume-nocopy", "cannot mix 'volume-*' options with mount type 'bind'"),
        ("type=bind,src=/a,dst=/a,tmpfs-size=1m", "cannot mix 'tmpfs-*' options with mount type 'bind'"),
        ("type=tmpfs,dst=/a,tmpfs-size=x", "invalid value for tmpfs-size: x"),
        ("type=tmpfs,dst=/a,tmpfs-mode=9", "invalid value for tmpfs-mode: 9"),
        ("type=foo,dst=/a", "invalid mount config for type \"foo\": mount type unknown"),
        ("type=bind,dst=/a", "invalid mount config for type \"bind\": field Source must not be empty"),
        ("type=bind,src=rel,dst=/a", "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute"),
        ("type=bind,src=/h,dst=rel", "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute"),
        ("type=bind,src=/h,dst=/", "invalid mount config for type \"bind\": invalid specification: destination can't be '/'"),
        ("type=bind,src=/h,dst=/c,bind-propagation=sideways", "invalid mount config for type \"bind\": invalid propagation mode: sideways"),
        ("type=volume,dst=/a,ro", "invalid mount config for type \"volume\": must not set ReadOnly mode when using anonymous volumes"),
        ("type=tmpfs,src=x,dst=/a", "invalid mount config for type \"tmpfs\": field Source must not be specified"),
        ("type=bind,src=/a\"b,dst=/c", "parse error on line 1, column 17: bare \" in non-quoted-field"),
        ("\"type=bind\"x,dst=/c", "parse error on line 1, column 11: extraneous or missing \" in quoted-field"),
        ("\"abc", "parse error on line 1, column 5: extraneous or missing \" in quoted-field"),
        ("x=\"a\"", "parse error on line 1, column 3: bare \" in non-quoted-field"),
        (",", "invalid field '' must be a key=value pair"),
        ("", "EOF"),
    ])
    func badMounts(text: String, message: String) {
        #expect(Self.failure { () throws(EngineError) in try Parse.mount(text, currentDirectory: "/w") } == message)
    }

    @Test func tmpfsMounts() throws {
        #expect(try Parse.tmpfs("/run") == MountRequest(kind: .tmpfs, source: nil, target: "/run"))
        #expect(try Parse.tmpfs("/t:size=64m,mode=1777,ro,noexec")
            == MountRequest(kind: .tmpfs, source: nil, target: "/t", readOnly: true, options: ["size=64m", "mode=1777", "noexec"]))
        #expect(Self.failure { () throws(EngineError) in try Parse.tmpfs("rel") } == "invalid mount path: 'rel' mount path must be absolute")
        #expect(Self.failure { () throws(EngineError) in try Parse.tmpfs("/:size=1m") } == "invalid specification: destination can't be '/'")
    }

    // MARK: limits, devices, lifecycle

    @Test(arguments: [
        ("nofile=1024", Ulimit(name: "nofile", soft: 1024, hard: 1024)),
        ("nofile=1024:2048", Ulimit(name: "nofile", soft: 1024, hard: 2048)),
        ("core=-1", Ulimit(name: "core", soft: -1, hard: -1)),
        ("memlock=-1:-1", Ulimit(name: "memlock", soft: -1, hard: -1)),
        ("nproc=5:-1", Ulimit(name: "nproc", soft: 5, hard: -1)),
    ])
    func ulimits(text: String, expected: Ulimit) throws {
        #expect(try Parse.ulimit(text) == expected)
    }

    @Test(arguments: [
        ("nofile", "invalid ulimit argument: nofile"),
        ("as=1", "invalid ulimit type: as"),
        ("NOFILE=1", "invalid ulimit type: NOFILE"),
        ("nofile=1:2:3", "too many limit value arguments - 1:2:3, can only have up to two, `soft[:hard]`"),
        ("nofile=x", "strconv.ParseInt: parsing \"x\": invalid syntax"),
        ("nofile=99999999999999999999", "strconv.ParseInt: parsing \"99999999999999999999\": value out of range"),
        ("nofile=-1:5", "ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: 5"),
        ("nofile=2:1", "ulimit soft limit must be less than or equal to hard limit: 2 > 1"),
    ])
    func badUlimits(text: String, message: String) {
        #expect(Self.failure { () throws(EngineError) in try Parse.ulimit(text) } == message)
    }

    @Test(arguments: [
        ("/dev/fuse", DeviceRequest(hostPath: "/dev/fuse", containerPath: "/dev/fuse")),
        ("/dev/fuse:r", DeviceRequest(hostPath: "/dev/fuse", containerPath: "/dev/fuse", permissions: "r")),
        ("/dev/sda:/dev/xvda", DeviceRequest(hostPath: "/dev/sda", containerPath: "/dev/xvda")),
        ("/dev/sda:/dev/xvda:rw", DeviceRequest(hostPath: "/dev/sda", containerPath: "/dev/xvda", permissions: "rw")),
    ])
    func devices(text: String, expected: DeviceRequest) throws {
        #expect(try Parse.device(text) == expected)
    }

    @Test(arguments: [
        ("/a:/b:/c:/d", "bad format for path: /a:/b:/c:/d"),
        (":/b", "bad format for path: :/b"),
        ("/a:/b:rwx", "bad mode specified: rwx"),
        ("/a:/b:rr", "bad mode specified: rr"),
        ("/a:b", "b is not an absolute path"),
        ("sda", "sda is not an absolute path"),
    ])
    func badDevices(text: String, message: String) {
        #expect(Self.failure { () throws(EngineError) in try Parse.device(text) } == message)
    }

    @Test(arguments: [
        ("", RestartPolicy.no), ("no", .no), ("always", .always), ("unless-stopped", .unlessStopped),
        ("on-failure", .onFailure(maximumRetries: nil)), ("on-failure:3", .onFailure(maximumRetries: 3)),
        ("on-failure:0", .onFailure(maximumRetries: nil)), ("always:0", .always),
    ])
    func restartPolicies(text: String, expected: RestartPolicy) throws {
        #expect(try Parse.restart(text) == expected)
    }

    @Test(arguments: [
        ("on-failure:x", "invalid restart policy format: maximum retry count must be an integer"),
        (":3", "invalid restart policy format: no policy provided before colon"),
        ("always:3", "invalid restart policy: maximum retry count can only be used with 'on-failure'"),
        ("no:-1", "invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be negative"),
        ("on-failure:-2", "invalid restart policy: maximum retry count cannot be negative"),
        ("sometimes", "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"),
    ])
    func badRestartPolicies(text: String, message: String) {
        #expect(Self.failure { () throws(EngineError) in try Parse.restart(text) } == message)
    }

    @Test(arguments: [
        ("30s", 30_000_000_000), ("1m30s", 90_000_000_000), ("500ms", 500_000_000), ("1.5h", 5_400_000_000_000),
        ("0", 0), ("-2s", -2_000_000_000), ("1h2m3s4ms5us6ns", 3_723_004_005_006), ("300us", 300_000),
        ("300\u{00B5}s", 300_000), (".5s", 500_000_000), ("1.s", 1_000_000_000), ("0.000000001s", 1),
    ] as [(String, Int64)])
    func durations(text: String, nanoseconds: Int64) throws {
        #expect(try Parse.duration(text) == nanoseconds)
    }

    @Test(arguments: [
        ("", "time: invalid duration \"\""), ("1x", "time: unknown unit \"x\" in duration \"1x\""),
        ("5", "time: missing unit in duration \"5\""), ("s", "time: invalid duration \"s\""), (".s", "time: invalid duration \".s\""),
        ("1s2", "time: missing unit in duration \"1s2\""), ("-", "time: invalid duration \"-\""),
        ("9999999999h", "time: invalid duration \"9999999999h\""),
    ])
    func badDurations(text: String, message: String) {
        #expect(Self.failure { () throws(EngineError) in try Parse.duration(text) } == message)
    }

    @Test func signalsAndCapabilities() throws {
        for good in ["SIGTERM", "term", "KILL", "9", "SIGRTMIN+3", "rtmax", "64"] {
            #expect(try Parse.stopSignal(good) == good)
        }
        for bad in ["FOO", "0", "65", "SIG", "-1"] {
            #expect(Self.failure { () throws(EngineError) in try Parse.stopSignal(bad) } == "invalid signal: \(bad)")
        }
        #expect(try Parse.capability("net_admin") == "CAP_NET_ADMIN")
        #expect(try Parse.capability("CAP_SYS_TIME") == "CAP_SYS_TIME")
        #expect(try Parse.capability("cap_chown") == "CAP_CHOWN")
        #expect(try Parse.capability("all") == "ALL")
        #expect(try Parse.capability("bpf") == "CAP_BPF")
        #expect(Self.failure { () throws(EngineError) in try Parse.capability("foo") } == "unknown capability: \"CAP_FOO\"")
    }

    @Test func networksPullAndSysctls() throws {
        #expect(try Parse.network("host") == .host)
        #expect(try Parse.network("none") == .none)
        #expect(try Parse.network("default") == .default)
        #expect(try Parse.network("bridge") == .named("bridge"))
        #expect(try Parse.network("mynet") == .named("mynet"))
        #expect(try Parse.network("container:web") == .container("web"))
        #expect(Self.failure { () throws(EngineError) in try Parse.network("container:") } == "invalid container format container:<name|id>")
        #expect(try Parse.pull("always") == .always)
        #expect(try Parse.pull("never") == .never)
        #expect(try Parse.pull("") == .missing)
        #expect(Self.failure { () throws(EngineError) in try Parse.pull("Always") }
            == "invalid pull option: 'Always': must be one of \"always\", \"missing\" or \"never\"")
        #expect(try Parse.sysctl("net.ipv4.ip_forward=1") == ("net.ipv4.ip_forward", "1"))
        #expect(try Parse.sysctl("kernel.shmmax=1=2") == ("kernel.shmmax", "1=2"))
        #expect(try Parse.sysctl("fs.mqueue.msg_max=10") == ("fs.mqueue.msg_max", "10"))
        for bad in ["foo", "kernel.domainname=x", "net.ipv4.ip_forward", "=1"] {
            #expect(Self.failure { () throws(EngineError) in try Parse.sysctl(bad) } == "sysctl '\(bad)' is not allowed")
        }
    }

    @Test func securityOptions() throws {
        var options = RunOptions()
        try options.applySecurityOption("seccomp=unconfined")
        #expect(options.seccomp == .unconfined)
        try options.applySecurityOption("seccomp:/etc/profile.json")
        #expect(options.seccomp == .profile(path: "/etc/profile.json"))
        try options.applySecurityOption("seccomp=builtin")
        #expect(options.seccomp == .builtin)
        try options.applySecurityOption("no-new-privileges")
        #expect(options.noNewPrivileges)
        try options.applySecurityOption("no-new-privileges=false")
        #expect(!options.noNewPrivileges)
        try options.applySecurityOption("no-new-privileges:true")
        #expect(options.noNewPrivileges)
        try options.applySecurityOption("label=disable")
        try options.applySecurityOption("apparmor=unconfined")
        #expect(options.securityOpt == ["no-new-privileges", "no-new-privileges=false", "no-new-privileges:true", "label=disable", "apparmor=unconfined"])
        for (bad, message) in [
            ("seccomp", "Invalid --security-opt: \"seccomp\""), ("foo", "Invalid --security-opt: \"foo\""),
            ("seccomp=", "Invalid --security-opt: \"seccomp=\""), ("foo=bar", "invalid --security-opt 2: \"foo=bar\""),
            ("no-new-privileges=maybe", "invalid --security-opt 2: \"no-new-privileges=maybe\""),
        ] {
            #expect(Self.failure { () throws(EngineError) in try options.applySecurityOption(bad) } == message)
        }
    }

    // MARK: environment and labels

    @Test func envFlags() throws {
        let lookup: (String) -> String? = { ["HOME": "/root", "EMPTY": ""][$0] }
        #expect(try Parse.env("A=1", lookup: lookup) == "A=1")
        #expect(try Parse.env("A=", lookup: lookup) == "A=")
        #expect(try Parse.env("A=b=c", lookup: lookup) == "A=b=c")
        #expect(try Parse.env("HOME", lookup: lookup) == "HOME=/root")
        #expect(try Parse.env("EMPTY", lookup: lookup) == "EMPTY=")
        #expect(try Parse.env("UNSET", lookup: lookup) == nil)
        #expect(Self.failure { () throws(EngineError) in try Parse.env("=x", lookup: lookup) } == "invalid environment variable: =x")
    }

    @Test func envFileFormat() throws {
        let text = "\u{FEFF}# comment\n\n  A=1\nB= spaced value \nC=\"quoted\"\n\tHOME\nUNSET\n  # indented comment\nD=x=y\r\nE=\n"
        let lines = try Parse.envFile(contents: Array(text.utf8), path: "f", lookup: { $0 == "HOME" ? "/root" : nil })
        #expect(lines == ["A=1", "B= spaced value ", "C=\"quoted\"", "HOME=/root", "D=x=y", "E="])
        // Label files have no lookup: a bare key is dropped, as Docker 28's CLI does.
        let labels = try Parse.envFile(contents: Array("a=1\nb\n".utf8), path: "f", lookup: nil)
        #expect(labels == ["a=1"])
        for (content, reason) in [
            ("A B=1\n", "variable 'A B' contains whitespaces"), ("HOME \n", "variable 'HOME ' contains whitespaces"),
            ("=1\n", "no variable name on line '=1'"), ("  =1\n", "no variable name on line '=1'"),
        ] {
            #expect(Self.failure { () throws(EngineError) in try Parse.envFile(contents: Array(content.utf8), path: "f", lookup: nil) }
                == "invalid env file (f): \(reason)")
        }
        #expect(Self.failure { () throws(EngineError) in try Parse.envFile(contents: [0x41, 0x3D, 0xFF, 0x0A], path: "f", lookup: nil) }
            == "invalid env file (f): invalid utf8 bytes at line 1: [65 61 255]")
        #expect(Self.failure { () throws(EngineError) in try Parse.keyValueFile("/nonexistent/env", lookup: nil) }
            == "open /nonexistent/env: no such file or directory")
    }

    @Test func labelFlags() throws {
        #expect(try Parse.label("a=1") == ("a", "1"))
        #expect(try Parse.label("a") == ("a", ""))
        #expect(try Parse.label("  a=b c") == ("a", "b c"))
        #expect(Self.failure { () throws(EngineError) in try Parse.label("=x") } == "invalid label '=x': empty name")
        #expect(Self.failure { () throws(EngineError) in try Parse.label("a b=1") } == "label 'a b' contains whitespaces")
    }
}
