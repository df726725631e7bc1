import Foundation
import TestSupport
import Testing

/// The kubelet's role: Pods applied with the real kubectl run as Engine containers (a sandbox on the
/// pod network, init containers, then containers), with the status a kubelet writes; checked from
/// inside through a hostPath the pod writes and through the engine (`berth ps`, `berth logs`).
@Suite(.serialized, .enabled(if: KubeEnv.ready && BusyboxImage.failure == nil && FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/bridge")))
struct PodTests {
    /// `berth` on the server's root.
    static func berth(_ server: KubeServer, _ arguments: [String]) throws -> Output {
        try sh([KubeEnv.berth, "--root", server.root, "--runroot", server.runRoot] + arguments)
    }

    static func loadBusybox(_ server: KubeServer) throws {
        let loaded = try berth(server, ["load", "-i", BusyboxImage.tar])
        try #require(loaded.status == 0, "berth load: \(loaded.stderr)")
        let id = try #require(loaded.stdout.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        #expect(try berth(server, ["tag", id, "busybox:test"]).status == 0)
    }

    /// Polls `body` until it returns true (every 200 ms, at most `seconds`).
    static func eventually(_ seconds: Double, _ body: () throws -> Bool) rethrows -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if try body() { return true }
            usleep(200_000)
        }
        return try body()
    }

    static func podContainers(_ server: KubeServer) throws -> [String] {
        try berth(server, ["ps", "-a", "--format", "{{.Names}}"]).stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("k8s_") }
    }

    /// Removes whatever a failed test left running (containers outlive the server).
    static func cleanUp(_ server: KubeServer) {
        for name in (try? podContainers(server)) ?? [] { _ = try? berth(server, ["rm", "-f", name]) }
    }

    @Test func podRunsWithSandboxEnvVolumesAndStatus() throws {
        let server = try KubeServer()
        defer { Self.cleanUp(server); server.stop() }
        try Self.loadBusybox(server)
        let out = server.base + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let manifest = """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: settings}
            data: {GREETING: hello, mode: fast}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: creds}
            data: {password: czNjcjN0}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: web, labels: {app: web}}
            spec:
              terminationGracePeriodSeconds: 2
              volumes:
              - {name: out, hostPath: {path: \(out)}}
              - {name: scratch, emptyDir: {}}
              - {name: conf, configMap: {name: settings}}
              - {name: secret, secret: {secretName: creds}}
              initContainers:
              - name: prepare
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sh, -c, "echo from-init > /scratch/init"]
                volumeMounts: [{name: scratch, mountPath: /scratch}]
              containers:
              - name: main
                image: busybox:test
                imagePullPolicy: IfNotPresent
                workingDir: /tmp
                envFrom: [{configMapRef: {name: settings}, prefix: CM_}]
                env:
                - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
                - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
                - {name: APP, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
                - {name: PASSWORD, valueFrom: {secretKeyRef: {name: creds, key: password}}}
                - {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
                - {name: WHO, value: "$(POD_NAME)-$(APP)-$$(APP)-$(MISSING)"}
                command: [sh, -c]
                args:
                - |
                  { hostname; pwd; echo "WHO=$WHO"; echo "CM=$CM_GREETING"; echo "PASSWORD=$PASSWORD"; echo "MEM=$MEM"
                    echo "POD_IP=$POD_IP"; cat /scratch/init; cat /conf/mode; echo; cat /secret/password; echo
                    echo "ARG=$(POD_NAME)"; } > /out/report.tmp
                  cp /etc/hosts /out/hosts; cp /etc/resolv.conf /out/resolv.conf; mv /out/report.tmp /out/report
                  exec sleep 3600
                resources: {limits: {memory: 64Mi}}
                volumeMounts:
                - {name: out, mountPath: /out}
                - {name: scratch, mountPath: /scratch}
                - {name: conf, mountPath: /conf}
                - {name: secret, mountPath: /secret}
            """
        try server.kubectlOK("apply", "-f", "-", stdin: manifest)
        let waited = try server.kubectl(["wait", "--for=condition=Ready", "pod/web", "--timeout=90s"])
        try #require(waited.status == 0, "kubectl wait: \(waited.stderr)\n\(server.serverLog)\n\((try? server.kubectl(["get", "pod", "web", "-o", "yaml"]))?.stdout ?? "")")
        #expect(waited.stdout == "pod/web condition met\n")

        let podIP = try server.kubectlOK("get", "pod", "web", "-o", "jsonpath={.status.podIP}")
        #expect(podIP.hasPrefix("10.42."), "podIP \(podIP)")
        #expect(try server.kubectlOK("get", "pod", "web", "-o", "jsonpath={.spec.nodeName}") != "")
        #expect(try server.kubectlOK("get", "pod", "web", "-o", "jsonpath={.status.qosClass}") == "Burstable")
        #expect(try server.kubectlOK("get", "pod", "web", "-o", "jsonpath={.status.phase}") == "Running")
        let containerID = try server.kubectlOK("get", "pod", "web", "-o", "jsonpath={.status.containerStatuses[0].containerID}")
        #expect(containerID.hasPrefix("berth://"))
        #expect(try server.kubectlOK("get", "pod", "web", "-o", "jsonpath={.status.initContainerStatuses[0].state.terminated.reason}") == "Completed")
        let conditions = try server.kubectlOK("get", "pod", "web", "-o", "jsonpath={range .status.conditions[*]}{.type}={.status} {end}")
        for expected in ["PodScheduled=True", "Initialized=True", "ContainersReady=True", "Ready=True"] {
            #expect(conditions.contains(expected), "\(conditions)")
        }
        let table = try server.kubectlOK("get", "pods")
        #expect(table.contains("web ") && table.contains("1/1") && table.contains("Running"), "\(table)")

        // The engine's containers carry the names and labels the streaming endpoints rely on.
        let uid = try server.kubectlOK("get", "pod", "web", "-o", "jsonpath={.metadata.uid}")
        let names = try Self.podContainers(server)
        #expect(names.contains("k8s_main_web_default_\(uid)_0"), "\(names)")
        #expect(names.contains("k8s_POD_web_default_\(uid)_0"), "\(names)")
        #expect(names.contains("k8s_prepare_web_default_\(uid)_0"), "\(names)")
        let labels = try Self.berth(server, ["inspect", "--format", "{{index .Config.Labels \"io.kubernetes.pod.uid\"}} {{index .Config.Labels \"io.kubernetes.container.name\"}}",
                                             "k8s_main_web_default_\(uid)_0"]).stdout
        #expect(labels == "\(uid) main\n")

        // What the container saw.
        #expect(Self.eventually(20) { FileManager.default.fileExists(atPath: out + "/report") })
        let report = (try? String(contentsOfFile: out + "/report", encoding: .utf8)) ?? ""
        #expect(report == "web\n/tmp\nWHO=web-web-$(APP)-$(MISSING)\nCM=hello\nPASSWORD=s3cr3t\nMEM=64\nPOD_IP=\(podIP)\nfrom-init\nfast\ns3cr3t\nARG=web\n",
                "\(report)")
        let hosts = (try? String(contentsOfFile: out + "/hosts", encoding: .utf8)) ?? ""
        #expect(hosts.contains("\(podIP)\tweb\n"), "\(hosts)")
        let resolv = (try? String(contentsOfFile: out + "/resolv.conf", encoding: .utf8)) ?? ""
        #expect(resolv.contains("search default.svc.cluster.local svc.cluster.local cluster.local"), "\(resolv)")
        #expect(resolv.contains("nameserver 10.96.0.10"), "\(resolv)")
        #expect(resolv.contains("options ndots:5"), "\(resolv)")

        // kill -9 of the server and a new start: the pod's containers are adopted, not duplicated.
        kill(server.pid, SIGKILL)
        var status: Int32 = 0
        waitpid(server.pid, &status, 0)
        try server.start()
        sleep(3)
        #expect(try Self.podContainers(server).sorted() == names.sorted())
        #expect(try server.kubectlOK("get", "pod", "web", "-o", "jsonpath={.status.containerStatuses[0].containerID}") == containerID)

        // Deletion: containers, sandbox, network namespace and address lease all go.
        let sandboxID = try Self.berth(server, ["inspect", "--format", "{{.Id}}", "k8s_POD_web_default_\(uid)_0"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // The host side of the pod's veth: eth0@ifN in the sandbox names it by index N.
        let sandboxPID = try Self.berth(server, ["inspect", "--format", "{{.State.Pid}}", "k8s_POD_web_default_\(uid)_0"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let eth0 = try sh(["/usr/bin/nsenter", "-t", sandboxPID, "-n", "/usr/sbin/ip", "-o", "link", "show", "eth0"]).stdout
        let peerIndex = try #require(eth0.split(separator: "@").dropFirst().first?.split(separator: ":").first.map { String($0.dropFirst(2)) },
                                     "no peer index in \(eth0)")
        try server.kubectlOK("delete", "pod", "web")
        #expect(Self.eventually(30) { ((try? Self.podContainers(server)) ?? ["x"]).isEmpty }, "\((try? Self.podContainers(server)) ?? [])")
        #expect(!FileManager.default.fileExists(atPath: server.runRoot + "/netns/" + sandboxID))
        #expect(!FileManager.default.fileExists(atPath: "/var/lib/cni/berth/berth-pods/" + podIP))
        #expect(!FileManager.default.fileExists(atPath: server.root + "/kubelet/pods/" + uid))
        // The pod's veth is gone from the pod bridge (other suites' pods may be on it meanwhile).
        let ports = try sh(["/usr/sbin/ip", "-o", "link", "show", "master", "berth-cni0"]).stdout
        #expect(!ports.split(separator: "\n").contains { $0.hasPrefix(peerIndex + ":") }, "\(ports)")
    }

    @Test func restartPoliciesShowCompletedErrorAndCrashLoopBackOff() throws {
        let server = try KubeServer()
        defer { Self.cleanUp(server); server.stop() }
        try Self.loadBusybox(server)
        func pod(_ name: String, _ policy: String, _ script: String) -> String {
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: \(name)}
            spec:
              restartPolicy: \(policy)
              terminationGracePeriodSeconds: 1
              containers:
              - {name: c, image: busybox:test, imagePullPolicy: Never, command: [sh, -c, "\(script)"]}
            """
        }
        try server.kubectlOK("apply", "-f", "-", stdin: [pod("done", "Never", "exit 0"), pod("failed", "Never", "exit 3"),
                                                        pod("crash", "Always", "exit 1"), pod("retry", "OnFailure", "exit 2")].joined(separator: "\n---\n"))
        func column(_ name: String) throws -> String {
            let line = try server.kubectlOK("get", "pod", name, "--no-headers")
            return line.split(separator: " ", omittingEmptySubsequences: true).map(String.init).dropFirst(2).first ?? ""
        }
        #expect(try Self.eventually(60) { try column("done") == "Completed" }, "\((try? server.kubectl(["get", "pods"]))?.stdout ?? "")")
        #expect(try Self.eventually(30) { try column("failed") == "Error" })
        #expect(try server.kubectlOK("get", "pod", "failed", "-o", "jsonpath={.status.phase} {.status.containerStatuses[0].state.terminated.exitCode}") == "Failed 3")
        #expect(try server.kubectlOK("get", "pod", "done", "-o", "jsonpath={.status.phase}") == "Succeeded")
        #expect(try Self.eventually(60) { try column("crash") == "CrashLoopBackOff" }, "\((try? server.kubectl(["get", "pods"]))?.stdout ?? "")")
        let crash = try server.kubectlOK("get", "pod", "crash", "-o", "jsonpath={.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].lastState.terminated.exitCode} {.status.containerStatuses[0].state.waiting.message}")
        #expect(crash.hasPrefix("1 1 back-off 10s restarting failed container=c pod=crash_default(") || crash.hasPrefix("2 1 back-off 20s"), "\(crash)")
        #expect(try Self.eventually(60) { try column("retry") == "CrashLoopBackOff" })
        #expect(try server.kubectlOK("get", "pod", "done", "-o", "jsonpath={.status.containerStatuses[0].restartCount}") == "0")
        // A finished pod's sandbox stops (its containers stay, for their logs).
        let doneUID = try server.kubectlOK("get", "pod", "done", "-o", "jsonpath={.metadata.uid}")
        #expect(try Self.eventually(20) {
            try Self.berth(server, ["inspect", "--format", "{{.State.Running}}", "k8s_POD_done_default_\(doneUID)_0"]).stdout == "false\n"
        })
        #expect(try Self.podContainers(server).contains("k8s_c_done_default_\(doneUID)_0"))
        // A client's PUT without the status: the kubelet writes it again (level-triggered).
        let json = try server.kubectlOK("get", "pod", "failed", "-o", "json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        object["status"] = nil
        let body = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        try server.kubectlOK("replace", "-f", "-", stdin: body)
        #expect(try Self.eventually(20) {
            try server.kubectlOK("get", "pod", "failed", "-o", "jsonpath={.status.phase} {.status.containerStatuses[0].state.terminated.exitCode}") == "Failed 3"
        }, "\((try? server.kubectl(["get", "pod", "failed", "-o", "yaml"]))?.stdout ?? "")")
        // kubectl delete returns once the pods' containers are gone.
        try server.kubectlOK("delete", "pod", "done", "failed", "crash", "retry")
        #expect(Self.eventually(30) { ((try? Self.podContainers(server)) ?? ["x"]).isEmpty })
    }

    @Test func deletionIsGracefulWithHooks() throws {
        let server = try KubeServer()
        defer { Self.cleanUp(server); server.stop() }
        try Self.loadBusybox(server)
        let out = server.base + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let manifest = """
            apiVersion: v1
            kind: Pod
            metadata: {name: hooks}
            spec:
              terminationGracePeriodSeconds: 20
              shareProcessNamespace: true
              volumes: [{name: out, hostPath: {path: \(out)}}]
              containers:
              - name: polite
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sh, -c, "trap 'echo term > /out/term; exit 0' TERM; while true; do sleep 0.2; done"]
                lifecycle:
                  postStart: {exec: {command: [sh, -c, "echo started > /out/poststart"]}}
                  preStop: {exec: {command: [sh, -c, "echo stopping > /out/prestop"]}}
                volumeMounts: [{name: out, mountPath: /out}]
              - name: other
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sh, -c, "ps -o comm > /out/ps; exec sleep 3600"]
                volumeMounts: [{name: out, mountPath: /out}]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: stubborn}
            spec:
              terminationGracePeriodSeconds: 2
              containers:
              - {name: c, image: busybox:test, imagePullPolicy: IfNotPresent, command: [sh, -c, "trap '' TERM; while true; do sleep 0.2; done"]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: missing}
            spec:
              containers:
              - name: c
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sleep, "3600"]
                envFrom: [{configMapRef: {name: nowhere}}]
            """
        try server.kubectlOK("apply", "-f", "-", stdin: manifest)
        let waited = try server.kubectl(["wait", "--for=condition=Ready", "pod/hooks", "pod/stubborn", "--timeout=90s"])
        try #require(waited.status == 0, "kubectl wait: \(waited.stderr)\n\(server.serverLog)")
        #expect(FileManager.default.fileExists(atPath: out + "/poststart"))
        // shareProcessNamespace: one PID namespace, the pause process and the other container's in it.
        #expect(Self.eventually(10) { ((try? String(contentsOfFile: out + "/ps", encoding: .utf8)) ?? "").contains("sleep") })
        let ps = (try? String(contentsOfFile: out + "/ps", encoding: .utf8)) ?? ""
        #expect(ps.contains("sh") && ps.contains("busybox"), "\(ps)")

        // A missing ConfigMap: the container waits with the kubelet's reason.
        #expect(try Self.eventually(20) {
            try server.kubectlOK("get", "pod", "missing", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}") == "CreateContainerConfigError"
        })
        #expect(try server.kubectlOK("get", "pod", "missing", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.message}") == "configmap \"nowhere\" not found")
        let table = try server.kubectlOK("get", "pod", "missing", "--no-headers")
        #expect(table.contains("0/1") && table.contains("CreateContainerConfigError"), "\(table)")

        // delete: preStop, then TERM; kubectl returns once the pod is gone, well inside the 20 s grace.
        var started = Date()
        let deleted = try server.kubectl(["delete", "pod", "hooks"])
        #expect(deleted.status == 0 && deleted.stdout == "pod \"hooks\" deleted\n", "\(deleted.stderr)")
        #expect(Date().timeIntervalSince(started) < 15)
        #expect(FileManager.default.fileExists(atPath: out + "/prestop"))
        #expect(FileManager.default.fileExists(atPath: out + "/term"))
        #expect(try !Self.podContainers(server).contains { $0.contains("_hooks_") })
        #expect(try server.kubectl(["get", "pod", "hooks"]).stderr.contains("NotFound"))
        // A container that ignores TERM is killed when the grace period ends.
        started = Date()
        try server.kubectlOK("delete", "pod", "stubborn", "missing")
        #expect(Date().timeIntervalSince(started) >= 2)
        #expect(try Self.podContainers(server).isEmpty)
    }

    @Test func volumesResourcesAndSecurityContext() throws {
        let server = try KubeServer()
        defer { Self.cleanUp(server); server.stop() }
        try Self.loadBusybox(server)
        let out = server.base + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        chmod(out, 0o777)
        let manifest = """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: app}
            data: {color: blue}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: key}
            data: {token: YWJj}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: vols, labels: {tier: back}}
            spec:
              terminationGracePeriodSeconds: 1
              securityContext: {runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000}
              volumes:
              - {name: out, hostPath: {path: \(out)}}
              - {name: mem, emptyDir: {medium: Memory}}
              - {name: key, secret: {secretName: key, defaultMode: 0400}}
              - {name: info, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}, {path: name, fieldRef: {fieldPath: metadata.name}}]}}
              - name: all
                projected:
                  sources:
                  - configMap: {name: app, items: [{key: color, path: conf/color}]}
                  - downwardAPI: {items: [{path: ns, fieldRef: {fieldPath: metadata.namespace}}]}
              containers:
              - name: c
                image: busybox:test
                imagePullPolicy: IfNotPresent
                resources: {limits: {memory: 48Mi, cpu: 250m}}
                securityContext:
                  readOnlyRootFilesystem: true
                  allowPrivilegeEscalation: false
                  capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
                command: [sh, -c]
                args:
                - |
                  { id -u; id -g; id -G; grep -c ' /mem tmpfs ' /proc/mounts; stat -c %a /key/token; cat /key/token; echo
                    cat /info/labels; echo; cat /info/name; echo; cat /all/conf/color; echo; cat /all/ns; echo
                    touch /rootfs-file 2>/dev/null && echo writable || echo read-only
                    grep -E '^(NoNewPrivs|CapBnd)' /proc/self/status | tr -s '\\t' ' '; } > /out/report.tmp; mv /out/report.tmp /out/report
                  exec sleep 3600
                volumeMounts:
                - {name: out, mountPath: /out}
                - {name: mem, mountPath: /mem}
                - {name: key, mountPath: /key}
                - {name: info, mountPath: /info}
                - {name: all, mountPath: /all}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: nonroot}
            spec:
              securityContext: {runAsNonRoot: true}
              containers:
              - {name: c, image: busybox:test, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}
            """
        try server.kubectlOK("apply", "-f", "-", stdin: manifest)
        let waited = try server.kubectl(["wait", "--for=condition=Ready", "pod/vols", "--timeout=90s"])
        try #require(waited.status == 0, "kubectl wait: \(waited.stderr)\n\(server.serverLog)\n\((try? server.kubectl(["get", "pod", "vols", "-o", "yaml"]))?.stdout ?? "")")
        #expect(Self.eventually(20) { FileManager.default.fileExists(atPath: out + "/report") })
        let report = (try? String(contentsOfFile: out + "/report", encoding: .utf8)) ?? ""
        // CAP_NET_BIND_SERVICE alone (bit 10) in the bounding set; the effective set of a non-root user is empty, as with Docker and containerd.
        #expect(report == "1000\n3000\n3000 2000\n1\n440\nabc\ntier=\"back\"\nvols\nblue\ndefault\nread-only\nCapBnd: 0000000000000400\nNoNewPrivs: 1\n", "\(report)")

        // The limits are the container's cgroup's (v1 hierarchy or v2).
        let id = String(try server.kubectlOK("get", "pod", "vols", "-o", "jsonpath={.status.containerStatuses[0].containerID}").dropFirst("berth://".count))
        let v1 = "/sys/fs/cgroup/memory/berth/\(id)/memory.limit_in_bytes", v2 = "/sys/fs/cgroup/berth/\(id)/memory.max"
        let memory = ((try? String(contentsOfFile: v1, encoding: .utf8)) ?? (try? String(contentsOfFile: v2, encoding: .utf8)) ?? "")
        #expect(memory == "\(48 << 20)\n", "memory limit \(memory)")
        let cpuV1 = "/sys/fs/cgroup/cpu/berth/\(id)/cpu.cfs_quota_us", cpuV2 = "/sys/fs/cgroup/berth/\(id)/cpu.max"
        let cpu = ((try? String(contentsOfFile: cpuV1, encoding: .utf8)) ?? (try? String(contentsOfFile: cpuV2, encoding: .utf8)) ?? "")
        #expect(cpu == "25000\n" || cpu == "25000 100000\n", "cpu quota \(cpu)")
        // Limits alone: requests default to them, so the pod is Guaranteed.
        #expect(try server.kubectlOK("get", "pod", "vols", "-o", "jsonpath={.status.qosClass}") == "Guaranteed")

        // runAsNonRoot with an image that runs as root: refused, as the kubelet words it.
        #expect(try Self.eventually(20) {
            try server.kubectlOK("get", "pod", "nonroot", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}") == "CreateContainerConfigError"
        })
        let message = try server.kubectlOK("get", "pod", "nonroot", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.message}")
        #expect(message.hasPrefix("container has runAsNonRoot and image will run as root (pod: \"nonroot_default("), "\(message)")
        try server.kubectlOK("delete", "pod", "vols", "nonroot")
        #expect(try Self.podContainers(server).isEmpty)
    }

    @Test func probesFlipReadinessAndRestartOnLivenessFailure() throws {
        let server = try KubeServer()
        defer { Self.cleanUp(server); server.stop() }
        try Self.loadBusybox(server)
        let manifest = """
            apiVersion: v1
            kind: Pod
            metadata: {name: probed}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: flag
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sleep, "3600"]
                readinessProbe: {exec: {command: [cat, /tmp/ready]}, periodSeconds: 1}
              - name: web
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sh, -c, "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]
                ports: [{name: http, containerPort: 8080}]
                startupProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
                readinessProbe: {httpGet: {path: /index.html, port: http}, periodSeconds: 1}
                livenessProbe: {httpGet: {path: /index.html, port: 8080}, periodSeconds: 1}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: unhealthy}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: c
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sleep, "3600"]
                livenessProbe: {exec: {command: [sh, -c, "echo sick; exit 1"]}, periodSeconds: 1, failureThreshold: 2}
            """
        try server.kubectlOK("apply", "-f", "-", stdin: manifest)
        func field(_ pod: String, _ path: String) throws -> String { try server.kubectlOK("get", "pod", pod, "-o", "jsonpath={\(path)}") }
        // web becomes ready through its startup, readiness (HTTP from the host to the pod's address) and liveness probes;
        // flag stays unready until its file exists.
        #expect(try Self.eventually(30) { try field("probed", ".status.containerStatuses[1].ready") == "true" },
                "\((try? server.kubectl(["get", "pod", "probed", "-o", "yaml"]))?.stdout ?? "")")
        #expect(try field("probed", ".status.containerStatuses[1].started") == "true")
        #expect(try field("probed", ".status.containerStatuses[0].ready") == "false")
        #expect(try field("probed", ".status.containerStatuses[0].state.running.startedAt") != "")
        let table = try server.kubectlOK("get", "pod", "probed", "--no-headers")
        #expect(table.contains("1/2") && table.contains("Running"), "\(table)")
        #expect(try server.kubectl(["wait", "--for=condition=Ready", "pod/probed", "--timeout=2s"]).status != 0)
        let uid = try field("probed", ".metadata.uid")
        #expect(try Self.berth(server, ["exec", "k8s_flag_probed_default_\(uid)_0", "touch", "/tmp/ready"]).status == 0)
        #expect(try server.kubectl(["wait", "--for=condition=Ready", "pod/probed", "--timeout=20s"]).status == 0)
        #expect(try Self.berth(server, ["exec", "k8s_flag_probed_default_\(uid)_0", "rm", "/tmp/ready"]).status == 0)
        #expect(try server.kubectl(["wait", "--for=condition=Ready=false", "pod/probed", "--timeout=20s"]).status == 0)

        // A failing liveness probe restarts the container; the events say why.
        #expect(try Self.eventually(40) { (Int(try field("unhealthy", ".status.containerStatuses[0].restartCount")) ?? 0) >= 1 })
        #expect(try field("unhealthy", ".status.containerStatuses[0].lastState.terminated.reason") == "Error")
        let events = try server.kubectlOK("get", "events", "--field-selector", "involvedObject.name=unhealthy", "-o",
                                          "jsonpath={range .items[*]}{.reason}|{.message}{\"\\n\"}{end}")
        #expect(events.contains("Unhealthy|Liveness probe failed: sick\n"), "\(events)")
        #expect(events.contains("Killing|Container c failed liveness probe, will be restarted\n"), "\(events)")
        #expect(events.contains("Scheduled|Successfully assigned default/unhealthy to "), "\(events)")
        #expect(events.contains("Pulled|Container image \"busybox:test\" already present on machine\n"), "\(events)")
        #expect(events.contains("Started|Started container c\n"), "\(events)")
        let described = try server.kubectlOK("describe", "pod", "unhealthy")
        #expect(described.contains("Liveness probe failed: sick"), "\(described)")
        try server.kubectlOK("delete", "pod", "probed", "unhealthy")
        #expect(try Self.podContainers(server).isEmpty)
    }

    @Test func sandboxLossPullPolicyNeverAndSlowDeletionDoNotBlockOthers() throws {
        let server = try KubeServer()
        defer { Self.cleanUp(server); server.stop() }
        try Self.loadBusybox(server)
        func pod(_ name: String, image: String = "busybox:test", grace: Int = 1) -> String {
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: \(name)}
            spec:
              terminationGracePeriodSeconds: \(grace)
              containers:
              - {name: c, image: "\(image)", imagePullPolicy: Never, command: [sleep, "3600"]}
            """
        }
        try server.kubectlOK("apply", "-f", "-", stdin: [pod("steady"), pod("absent", image: "nothere:1"), pod("slow", grace: 60)].joined(separator: "\n---\n"))
        #expect(try server.kubectl(["wait", "--for=condition=Ready", "pod/steady", "pod/slow", "--timeout=60s"]).status == 0)
        #expect(try Self.eventually(20) {
            try server.kubectlOK("get", "pod", "absent", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}") == "ErrImageNeverPull"
        })
        #expect(try server.kubectlOK("get", "pod", "absent", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.message}")
                == "Container image \"nothere:1\" is not present with pull policy of Never")

        // The sandbox is killed: the pod comes back in a new one, its container restarted.
        let uid = try server.kubectlOK("get", "pod", "steady", "-o", "jsonpath={.metadata.uid}")
        #expect(try Self.berth(server, ["kill", "k8s_POD_steady_default_\(uid)_0"]).status == 0)
        #expect(try Self.eventually(30) {
            try Self.podContainers(server).contains("k8s_POD_steady_default_\(uid)_1")
                && server.kubectlOK("get", "pod", "steady", "-o", "jsonpath={.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].ready}") == "1 true"
        }, "\((try? Self.podContainers(server)) ?? [])")
        #expect(try !Self.podContainers(server).contains("k8s_POD_steady_default_\(uid)_0"))

        // A container that ends while berth serve is down: the status catches up after the restart.
        kill(server.pid, SIGKILL)
        var status: Int32 = 0
        waitpid(server.pid, &status, 0)
        #expect(try Self.berth(server, ["kill", "k8s_c_steady_default_\(uid)_1"]).status == 0)
        try server.start()
        #expect(try Self.eventually(30) {
            try server.kubectlOK("get", "pod", "steady", "-o", "jsonpath={.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].ready}") == "2 true"
        })
        #expect(try Self.podContainers(server).filter { $0.contains("_steady_") }.sorted()
                == ["k8s_POD_steady_default_\(uid)_1", "k8s_c_steady_default_\(uid)_1", "k8s_c_steady_default_\(uid)_2"])

        // A pod with 60 s of grace being deleted holds up no other pod.
        try server.kubectlOK("delete", "pod", "slow", "--wait=false")
        #expect(try server.kubectlOK("get", "pod", "slow", "--no-headers").contains("Terminating"))
        try server.kubectlOK("apply", "-f", "-", stdin: pod("late"))
        let started = Date()
        #expect(try server.kubectl(["wait", "--for=condition=Ready", "pod/late", "--timeout=30s"]).status == 0)
        #expect(Date().timeIntervalSince(started) < 20)
        // --grace-period shortens it.
        let shortened = Date()
        try server.kubectlOK("delete", "pod", "slow", "--grace-period=1")
        #expect(Date().timeIntervalSince(shortened) < 15)
        try server.kubectlOK("delete", "pod", "steady", "absent", "late")
        #expect(try Self.podContainers(server).isEmpty)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/docker-registry")))
    func imagesArePulledThroughTheEngine() throws {
        let server = try KubeServer()
        defer { Self.cleanUp(server); server.stop() }
        try Self.loadBusybox(server)
        let registryDirectory = server.base + "/registry"
        let script = TestSupport.packageRoot + "/Tests/Scripts/registry/registry.sh"
        let started = try sh(["/bin/bash", script, "start", registryDirectory])
        try #require(started.status == 0, "registry.sh start: \(started.stderr)")
        defer { _ = try? sh(["/bin/bash", script, "stop", registryDirectory]) }
        let registry = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try Self.berth(server, ["tag", "busybox:test", "\(registry)/busybox:1"]).status == 0)
        #expect(try Self.berth(server, ["tag", "busybox:test", "\(registry)/busybox:latest"]).status == 0)
        for tag in ["1", "latest"] {
            let pushed = try Self.berth(server, ["push", "\(registry)/busybox:\(tag)"])
            try #require(pushed.status == 0, "push: \(pushed.stderr)")
        }
        // Gone locally: the kubelet must pull them (IfNotPresent for :1; :latest defaults to Always).
        #expect(try Self.berth(server, ["rmi", "busybox:test", "\(registry)/busybox:1", "\(registry)/busybox:latest"]).status == 0)
        let manifest = """
            apiVersion: v1
            kind: Pod
            metadata: {name: pulled}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - {name: a, image: "\(registry)/busybox:1", command: [sleep, "3600"]}
              - {name: b, image: "\(registry)/busybox", command: [sleep, "3600"]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: nowhere}
            spec:
              containers:
              - {name: c, image: "\(registry)/missing:1", command: [sleep, "3600"]}
            """
        try server.kubectlOK("apply", "-f", "-", stdin: manifest)
        let waited = try server.kubectl(["wait", "--for=condition=Ready", "pod/pulled", "--timeout=60s"])
        #expect(waited.status == 0, "\(waited.stderr)\n\((try? server.kubectl(["get", "pod", "pulled", "-o", "yaml"]))?.stdout ?? "")")
        let events = try server.kubectlOK("get", "events", "--field-selector", "involvedObject.name=pulled", "-o",
                                          "jsonpath={range .items[*]}{.reason}|{.message}{\"\\n\"}{end}")
        #expect(events.contains("Pulling|Pulling image \"\(registry)/busybox:1\"\n"), "\(events)")
        #expect(events.contains("Pulling|Pulling image \"\(registry)/busybox\"\n"), "\(events)")
        #expect(events.contains("Pulled|Successfully pulled image \"\(registry)/busybox\" in "), "\(events)")
        #expect(try Self.berth(server, ["image", "inspect", "\(registry)/busybox:1"]).status == 0)
        // A missing image: ErrImagePull, then ImagePullBackOff.
        #expect(try Self.eventually(30) {
            let reason = try server.kubectlOK("get", "pod", "nowhere", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}")
            return reason == "ImagePullBackOff"
        })
        try server.kubectlOK("delete", "pod", "pulled", "nowhere")
        #expect(try Self.podContainers(server).isEmpty)
    }

    @Test func sidecarsRunBesideTheContainersAndStopWithThePod() throws {
        let server = try KubeServer()
        defer { Self.cleanUp(server); server.stop() }
        try Self.loadBusybox(server)
        let manifest = """
            apiVersion: v1
            kind: Pod
            metadata: {name: withsidecar}
            spec:
              restartPolicy: Never
              terminationGracePeriodSeconds: 1
              initContainers:
              - {name: setup, image: busybox:test, imagePullPolicy: IfNotPresent, command: [true]}
              - {name: proxy, image: busybox:test, imagePullPolicy: IfNotPresent, restartPolicy: Always, command: [sleep, "3600"]}
              containers:
              - {name: app, image: busybox:test, imagePullPolicy: IfNotPresent, command: [sh, -c, "sleep 3"]}
            """
        try server.kubectlOK("apply", "-f", "-", stdin: manifest)
        #expect(try Self.eventually(30) { try server.kubectlOK("get", "pod", "withsidecar", "--no-headers").contains("2/2") })
        let running = try server.kubectlOK("get", "pod", "withsidecar", "--no-headers")
        #expect(running.contains("Running"), "\(running)")
        #expect(try server.kubectlOK("get", "pod", "withsidecar", "-o", "jsonpath={.status.initContainerStatuses[1].started}") == "true")
        // The app ends: the pod is Completed and its sidecar stopped.
        #expect(try Self.eventually(30) { try server.kubectlOK("get", "pod", "withsidecar", "-o", "jsonpath={.status.phase}") == "Succeeded" })
        let uid = try server.kubectlOK("get", "pod", "withsidecar", "-o", "jsonpath={.metadata.uid}")
        #expect(try Self.eventually(20) {
            try Self.berth(server, ["inspect", "--format", "{{.State.Running}}", "k8s_proxy_withsidecar_default_\(uid)_0"]).stdout == "false\n"
        })
        // A finished Pod's object goes at once (the apiserver's rule); its containers then go with the kubelet's next pass.
        try server.kubectlOK("delete", "pod", "withsidecar")
        #expect(try Self.eventually(20) { try Self.podContainers(server).isEmpty })
    }

    @Test func hostNetworkAndSeccompProfiles() throws {
        let server = try KubeServer()
        defer { Self.cleanUp(server); server.stop() }
        try Self.loadBusybox(server)
        let out = server.base + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        func pod(_ name: String, _ extra: String) -> String {
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: \(name)}
            spec:
              terminationGracePeriodSeconds: 1
              \(extra)
              volumes: [{name: out, hostPath: {path: \(out)}}]
              containers:
              - name: c
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sh, -c, "{ hostname; grep ^Seccomp: /proc/self/status | tr -s '\\\\t' ' '; } > /out/\(name).tmp; mv /out/\(name).tmp /out/\(name); exec sleep 3600"]
                volumeMounts: [{name: out, mountPath: /out}]
            """
        }
        try server.kubectlOK("apply", "-f", "-", stdin: [pod("plain", "hostNetwork: false"), pod("confined", "securityContext: {seccompProfile: {type: RuntimeDefault}}"),
                                                        pod("onhost", "hostNetwork: true")].joined(separator: "\n---\n"))
        #expect(try server.kubectl(["wait", "--for=condition=Ready", "pod/plain", "pod/confined", "pod/onhost", "--timeout=60s"]).status == 0)
        #expect(Self.eventually(20) { ["plain", "confined", "onhost"].allSatisfy { FileManager.default.fileExists(atPath: out + "/" + $0) } })
        func report(_ name: String) -> String { (try? String(contentsOfFile: out + "/" + name, encoding: .utf8)) ?? "" }
        // No profile is Kubernetes' Unconfined; RuntimeDefault the engine's default profile (filter mode).
        #expect(report("plain") == "plain\nSeccomp: 0\n", "\(report("plain"))")
        #expect(report("confined") == "confined\nSeccomp: 2\n", "\(report("confined"))")
        let hostName = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? ""
        #expect(report("onhost").hasPrefix(hostName + "\n"), "\(report("onhost"))")
        #expect(try server.kubectlOK("get", "pod", "onhost", "-o", "jsonpath={.status.podIP}")
                == server.kubectlOK("get", "pod", "onhost", "-o", "jsonpath={.status.hostIP}"))
        try server.kubectlOK("delete", "pod", "plain", "confined", "onhost")
        #expect(try Self.podContainers(server).isEmpty)
    }

    /// The grpc probe against a real gRPC server (Python's grpcio, run in the pod's network namespace).
    /// A python3 with grpcio (Debian's python3-grpcio, or pip's in another python3 on the PATH).
    static let grpcPython: String? = {
        let found = try? sh(["/bin/sh", "-c", "for p in $(which -a python3) /root/.pyenv/versions/*/bin/python3; do "
                             + "[ -x \"$p\" ] && \"$p\" -c 'import grpc' 2>/dev/null && { readlink -f \"$p\" 2>/dev/null || echo \"$p\"; break; }; done"])
        let path = found?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return path.isEmpty ? nil : path
    }()

    @Test(.enabled(if: grpcPython != nil))
    func grpcProbe() throws {
        let server = try KubeServer()
        defer { Self.cleanUp(server); server.stop() }
        try Self.loadBusybox(server)
        let script = server.base + "/health.py", statusFile = server.base + "/status"
        try """
            import sys, grpc
            from concurrent import futures
            def check(request, context):
                try: status = int(open(sys.argv[2]).read().strip())
                except Exception: status = 1
                return bytes([0x08, status])
            handler = grpc.method_handlers_generic_handler("grpc.health.v1.Health", {"Check": grpc.unary_unary_rpc_method_handler(
                check, request_deserializer=lambda b: b, response_serializer=lambda b: b)})
            server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
            server.add_generic_rpc_handlers((handler,))
            server.add_insecure_port("0.0.0.0:" + sys.argv[1])
            server.start()
            server.wait_for_termination()
            """.write(toFile: script, atomically: true, encoding: .utf8)
        try "1\n".write(toFile: statusFile, atomically: true, encoding: .utf8)
        try server.kubectlOK("apply", "-f", "-", stdin: """
            apiVersion: v1
            kind: Pod
            metadata: {name: rpc}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: c
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sleep, "3600"]
                readinessProbe: {grpc: {port: 50051}, periodSeconds: 1}
            """)
        #expect(try Self.eventually(20) { try server.kubectlOK("get", "pod", "rpc", "-o", "jsonpath={.status.podIP}") != "" })
        #expect(try server.kubectlOK("get", "pod", "rpc", "-o", "jsonpath={.status.containerStatuses[0].ready}") == "false")
        let uid = try server.kubectlOK("get", "pod", "rpc", "-o", "jsonpath={.metadata.uid}")
        let sandbox = try Self.berth(server, ["inspect", "--format", "{{.Id}}", "k8s_POD_rpc_default_\(uid)_0"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let pid = try TestSupport.spawn(["/usr/bin/nsenter", "--net=" + server.runRoot + "/netns/" + sandbox, Self.grpcPython!, script, "50051", statusFile],
                                        stdout: server.base + "/health.log", append: true)
        defer { kill(pid, SIGKILL); var status: Int32 = 0; waitpid(pid, &status, 0) }
        #expect(try server.kubectl(["wait", "--for=condition=Ready", "pod/rpc", "--timeout=30s"]).status == 0,
                "\((try? String(contentsOfFile: server.base + "/health.log", encoding: .utf8)) ?? "")")
        try "2\n".write(toFile: statusFile, atomically: true, encoding: .utf8)
        #expect(try server.kubectl(["wait", "--for=condition=Ready=false", "pod/rpc", "--timeout=30s"]).status == 0)
        let events = try server.kubectlOK("get", "events", "--field-selector", "involvedObject.name=rpc", "-o",
                                          "jsonpath={range .items[*]}{.reason}|{.message}{\"\\n\"}{end}")
        #expect(events.contains("Unhealthy|Readiness probe failed: service unhealthy (responded with \"NOT_SERVING\")\n"), "\(events)")
        try server.kubectlOK("delete", "pod", "rpc")
    }

    /// Services over real Pods: the endpoints controller picks the ready Pod, kube-proxy's rules
    /// reach it at the cluster IP, and the cluster DNS names the Service to the pod (a server in a
    /// network namespace of its own, as ServiceTests run).
    @Test func serviceReachesARunningPod() throws {
        let server = try KubeServer(ownNetwork: true)
        defer { Self.cleanUp(server); server.stop() }
        try Self.loadBusybox(server)
        try server.kubectlOK("apply", "-f", "-", stdin: """
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              selector: {app: web}
              ports: [{name: http, port: 80, targetPort: http}]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: web-1, labels: {app: web}}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: httpd
                image: busybox:test
                imagePullPolicy: IfNotPresent
                command: [sh, -c, "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]
                ports: [{name: http, containerPort: 8080}]
                readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 1}
            """)
        let waited = try server.kubectl(["wait", "--for=condition=Ready", "pod/web-1", "--timeout=60s"])
        try #require(waited.status == 0, "\(waited.stderr)\n\(server.serverLog)")
        let podIP = try server.kubectlOK("get", "pod", "web-1", "-o", "jsonpath={.status.podIP}")
        #expect(try Self.eventually(20) {
            try server.kubectlOK("get", "endpoints", "web", "-o", "jsonpath={.subsets[0].addresses[0].ip}") == podIP
        }, "\((try? server.kubectl(["get", "endpoints", "web", "-o", "yaml"]))?.stdout ?? "")")
        let ip = try server.kubectlOK("get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}")
        #expect(try Self.eventually(20) {
            try sh(server.inNetwork + ["curl", "-s", "--max-time", "2", "http://\(ip)/"]).stdout == "web-1\n"
        }, "the cluster IP \(ip) did not lead to the pod")
        // From inside the pod: the Service's name through its resolv.conf (the cluster DNS), short
        // (the search path) and in full.
        let uid = try server.kubectlOK("get", "pod", "web-1", "-o", "jsonpath={.metadata.uid}")
        let resolv = try Self.berth(server, ["exec", "k8s_httpd_web-1_default_\(uid)_0", "cat", "/etc/resolv.conf"]).stdout
        #expect(resolv.contains("nameserver 10.96.0.10") && resolv.contains("search default.svc.cluster.local svc.cluster.local cluster.local"), "\(resolv)")
        for name in ["web", "web.default.svc.cluster.local"] {
            let looked = try Self.berth(server, ["exec", "k8s_httpd_web-1_default_\(uid)_0", "nslookup", name])
            #expect(looked.stdout.contains("Address: \(ip)"), "\(name): \(looked.stdout)\(looked.stderr)")
        }
        try server.kubectlOK("delete", "pod", "web-1")
        try server.kubectlOK("delete", "svc", "web")
        #expect(try Self.podContainers(server).isEmpty)
    }
}
