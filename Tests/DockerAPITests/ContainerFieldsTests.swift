import Foundation
import TestSupport
import Testing

/// Fields of the container endpoints as dockerd fills them: inspect's ExecIDs, create's and
/// update's Warnings, and the main endpoint's Links and MacAddress (where the docker CLI 28 puts
/// `--link` and `--mac-address`).
@Suite(.enabled(if: APIEnv.ready), .serialized)
struct ContainerFieldsTests {
    /// The execs made or running, null when none; an ended one leaves the list.
    @Test func inspectListsExecIDs() throws {
        let server = try APIServer()
        defer { server.stop() }
        try server.dockerOK("run", "-d", "--name", "box", "busybox:test", "sleep", "120")
        #expect(try server.dockerOK("inspect", "-f", "{{json .ExecIDs}}", "box") == "null\n")
        let made = try server.request("POST", "/v1.51/containers/box/exec", ["-H", "Content-Type: application/json", "-d", #"{"Cmd":["sleep","60"]}"#])
        let id = try #require((try JSONSerialization.jsonObject(with: Data(made.body.utf8)) as? [String: Any])?["Id"] as? String, "\(made)")
        #expect(try server.dockerOK("inspect", "-f", "{{json .ExecIDs}}", "box") == "[\"\(id)\"]\n")
        try server.dockerOK("exec", "box", "true")
        _ = try server.request("POST", "/v1.51/exec/\(id)/start", ["-H", "Content-Type: application/json", "-d", #"{"Detach":true}"#])
        #expect(try server.dockerOK("inspect", "-f", "{{json .ExecIDs}}", "box") == "[\"\(id)\"]\n")
    }

    /// Inspect's Config.AttachStdin/AttachStdout/AttachStderr, OpenStdin, StdinOnce and Tty are the
    /// create body's, as dockerd keeps them: the docker CLI 28's `create`/`run` flag lines show what
    /// they show against dockerd 20.10 (`run -d` nothing attached, `create -a stdout` no stderr).
    @Test func attachFieldsAsTheBodySaid() throws {
        let server = try APIServer()
        defer { server.stop() }
        for (index, line) in AttachFields.observed.enumerated() {
            let made = try server.docker(line.flags + ["--name", "attach\(index)", "busybox:test", "true"])
            #expect(made.status == 0, "\(line.flags): \(made.stderr)")
            let shown = try server.dockerOK("inspect", "-f", AttachFields.template, "attach\(index)")
            #expect(shown == line.shown + "\n", "\(line.flags)")
        }
    }

    /// The daemon's warnings in create's answer (the CLI prints them), `[]` when none; update's
    /// OomKillDisable warned of, its Warnings null otherwise.
    @Test func createAndUpdateWarnings() throws {
        let server = try APIServer()
        defer { server.stop() }
        let cgroupV2 = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
        let warning = cgroupV2 ? "Your kernel does not support OomKillDisable. OomKillDisable discarded."
            : "OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources."
        let json = ["-H", "Content-Type: application/json", "-d"]
        let plain = try server.request("POST", "/v1.51/containers/create?name=plain", json + [#"{"Image":"busybox:test","Cmd":["sleep","60"]}"#])
        #expect(plain.status == 201 && plain.body.hasSuffix(#","Warnings":[]}"# + "\n"), "\(plain)")
        let warned = try server.request("POST", "/v1.51/containers/create", json + [#"{"Image":"busybox:test","HostConfig":{"OomKillDisable":true}}"#])
        #expect(warned.status == 201 && warned.body.hasSuffix(#","Warnings":["\#(warning)"]}"# + "\n"), "\(warned)")
        let cli = try server.docker(["create", "--oom-kill-disable", "busybox:test", "true"])
        #expect(cli.status == 0 && cli.stderr.contains("WARNING: " + warning), "\(cli.stderr)")

        let update = try server.request("POST", "/v1.51/containers/plain/update", json + [#"{"OomKillDisable":true}"#])
        #expect(update.status == 200 && update.body == #"{"Warnings":["\#(warning)"]}"# + "\n", "\(update)")
        let quiet = try server.request("POST", "/v1.51/containers/plain/update", json + [#"{"CpuShares":512}"#])
        #expect(quiet.status == 200 && quiet.body == #"{"Warnings":null}"# + "\n", "\(quiet)")
    }

    /// `--link` and `--mac-address` on a user-defined network: the docker CLI sends them in the
    /// endpoint; the container has the MAC and the link's name. A container-wide MAC that differs
    /// from the endpoint's is dockerd's 400.
    @Test func endpointLinksAndMacAddress() throws {
        let server = try APIServer()
        defer { server.stop() }
        try server.dockerOK("network", "create", "links")
        try server.dockerOK("run", "-d", "--name", "target", "--network", "links", "busybox:test", "sleep", "120")
        let out = try server.dockerOK("run", "--rm", "--network", "links", "--link", "target:tgt", "--mac-address", "02:42:ac:11:00:99",
                                      "busybox:test", "sh", "-c", "cat /sys/class/net/eth0/address; grep -c tgt /etc/hosts")
        #expect(out == "02:42:ac:11:00:99\n1\n", "\(out)")
        let body = #"{"Image":"busybox:test","MacAddress":"02:42:ac:11:00:01","HostConfig":{"NetworkMode":"links"},"NetworkingConfig":{"EndpointsConfig":{"links":{"MacAddress":"02:42:ac:11:00:02"}}}}"#
        let clash = try server.request("POST", "/v1.51/containers/create", ["-H", "Content-Type: application/json", "-d", body])
        #expect(clash.status == 400 && clash.body.contains("the container-wide MAC address must match the endpoint-specific MAC address"), "\(clash)")
    }
}
