import CLinuxSys
import ContainerSpec
import Dockerfile
import Glibc
import ImageStore
import LinuxSys
import OCI

extension Builder {
    // MARK: - RUN

    /// What a RUN's cache key covers: the command, and everything that can change what it does.
    func runDescription(_ run: RunInstruction, result: StageResult, scope: StageScope) throws(BuildError) -> String {
        var parts = ["RUN"] + runArgv(run, shell: result.config.shell)
        parts.append("env=" + scope.runEnvironment.joined(separator: "\u{1}"))
        parts.append("user=" + result.config.user)
        parts.append("workdir=" + result.config.workingDir)
        parts.append("network=" + (run.network?.rawValue ?? "default"))
        for mount in run.mounts {
            var text = "mount=\(mount.type.rawValue):\(mount.target ?? ""):\(mount.source ?? ""):\(mount.from ?? ""):\(mount.id ?? "")"
            if mount.type == .bind, mount.from == nil {
                text += ":" + (try context.contentDigest([cleanContextPath(mount.source ?? "")]))
            } else if mount.type == .bind, let from = mount.from {
                text += ":" + (stageKey(from) ?? from)
            }
            parts.append(text)
        }
        return parts.joined(separator: "\0")
    }

    /// The argv a RUN executes. A shell-form RUN that is only heredocs (`RUN <<EOF`) runs the
    /// heredoc as the shell's script, as BuildKit does.
    func runArgv(_ run: RunInstruction, shell: [String]) -> [String] {
        switch run.command {
        case .exec(let argv):
            return argv
        case .shell(let line):
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if let doc = run.heredocs.first, run.heredocs.count == 1, words.count == 1, words[0].hasPrefix("<<") {
                return shell + [heredocBody(doc)]
            }
            return shell + [run.shellScript ?? line]
        }
    }

    func heredocBody(_ doc: Heredoc) -> String {
        guard doc.chomp else { return doc.rawContent }
        return doc.rawContent.split(separator: "\n", omittingEmptySubsequences: false)
            .map { String($0.drop(while: { $0 == "\t" })) }.joined(separator: "\n")
    }

    func commandText(_ run: RunInstruction, shell: [String]) -> String {
        switch run.command {
        case .exec(let argv): return "[" + argv.map { "\"\($0)\"" }.joined(separator: " ") + "]"
        case .shell: return runArgv(run, shell: shell).joined(separator: " ")
        }
    }

    /// Runs the command in a container on an overlay of the stage's layers; the upper directory
    /// becomes the layer. The container is `berth-runtime run` (the Runtime library's front end)
    /// in a process of its own: this one has threads, and a container is forked single-threaded.
    func run(_ run: RunInstruction, result: StageResult, scope: StageScope, step: BuildStep) throws -> CommittedLayer {
        let workspace = try BuildWorkspace(runRoot: runRoot)
        defer { workspace.remove() }
        let upper: String, work: String
        do {
            upper = try images.snapshots.prepare()
            work = try images.snapshots.prepare()
        } catch { throw BuildError("prepare the layer directory", error) }
        defer { images.snapshots.abandon(work) }
        var committed = false
        defer { if !committed { images.snapshots.abandon(upper) } }
        let rootfs = workspace.path + "/rootfs"
        try workspace.mountOverlay(lower: result.layers.map { images.snapshots.path($0.diffID) },
                                   upper: upper, work: work, at: rootfs)

        var options = RunOptions()
        options.entrypoint = runArgv(run, shell: result.config.shell)
        options.env = scope.runEnvironment
        if !options.env.contains(where: { $0.hasPrefix("PATH=") }) {
            options.env.insert("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", at: 0)
        }
        options.workingDir = result.config.workingDir.isEmpty ? nil : result.config.workingDir
        options.user = result.config.user.isEmpty ? nil : result.config.user
        // RUN bind sources as detached mount trees, handed to the runtime as fds 3, 4 …
        var trees: [Int32] = []
        defer { for fd in trees { FS.close(fd) } }
        for mount in run.mounts {
            options.mounts.append(try runMount(mount, workspace: workspace, result: result, trees: &trees))
        }
        let id = workspace.id
        var etcFiles: [String: String] = [:]
        var network: BuildStepNetwork?
        defer { network?.release() }
        switch try stepNetwork(run) {
        case .none:
            options.network = .none
        case .host:
            options.network = .host
            etcFiles["/etc/resolv.conf"] = "/etc/resolv.conf"
            etcFiles["/etc/hosts"] = "/etc/hosts"
        case .default:
            options.network = .default
            do { network = try networks.attach(stepID: id, hostname: Self.stepHostname) } catch {
                throw BuildError("RUN: \(error.message)")
            }
            etcFiles = network?.etcFiles ?? [:]
        }
        let input = SpecInput(containerID: id, image: nil, options: options, rootfs: rootfs, etcFiles: etcFiles,
                              cgroupsPath: "/berth-build/\(id)", networkNamespacePath: network?.netns)
        var spec: Spec
        do { spec = try SpecBuilder.build(input) } catch { throw BuildError(error.message) }
        spec.hostname = Self.stepHostname
        // Mount points the image lacks are made for the run and taken out of the layer after it,
        // so a RUN's layer holds only what the command changed.
        let made = try workspace.makeMountPoints(spec, in: rootfs)
        do {
            try FS.writeFileAtomically(workspace.path + "/config.json", try JSONTreeEncoder.encode(spec), mode: 0o600)
        } catch { throw BuildError("write the step's config.json", error) }
        progress.running(step, container: id)
        let status = try workspace.runContainer(id: id, handing: trees) { line in self.progress.output(step, line) }
        workspace.unmount(rootfs)
        workspace.removeMountPoints(made, from: upper)
        // What a RUN writes into a VOLUME is lost, as in Docker's legacy builder (each RUN gets
        // the volume as an anonymous volume of its own).
        for volume in result.config.volumes {
            let inUpper = upper + FS.clean(volume.hasPrefix("/") ? volume : "/" + volume)
            guard let status = try? FS.lstat(inUpper), FS.isDirectory(status) else { continue }
            for name in (try? FS.list(path: inUpper)) ?? [] { FS.removeAll(inUpper + "/" + name) }
        }
        guard status == 0 else {
            let argv = options.entrypoint ?? []
            throw BuildError("process \"\(argv.joined(separator: " "))\" did not complete successfully: exit code: \(status)",
                             command: argv, exitCode: Int(status))
        }
        let layer = try images.commitLayer(directory: upper)
        committed = true
        return layer
    }

    /// BuildKit's hostname for RUN steps.
    static let stepHostname = "buildkitsandbox"

    /// The network a RUN step gets: its own `--network`, else the build's. The host's network
    /// only when the user asked for it on the command line: a Dockerfile alone must not be able
    /// to reach the host's loopback services.
    func stepNetwork(_ run: RunInstruction) throws(BuildError) -> RunNetworkMode {
        switch run.network ?? options.network {
        case .host where run.network == .host && !(options.allowHostNetwork || options.network == .host):
            throw BuildError("RUN --network=host: network.host is not allowed; run the build with --network host or --allow network.host")
        case let mode:
            return mode
        }
    }

    /// A `RUN --mount` as the container's mount.
    func runMount(_ mount: RunMount, workspace: BuildWorkspace, result: StageResult, trees: inout [Int32]) throws -> MountRequest {
        guard let target = mount.target, !target.isEmpty else { throw BuildError("--mount: the target is required") }
        let absolute = target.hasPrefix("/") ? target : resolveWorkdir(target, current: result.config.workingDir)
        switch mount.type {
        case .cache:
            let directory = cache.mountDirectory(mount.id ?? absolute)
            if !FS.exists(directory) {
                do { try FS.mkdirAll(directory, mode: mode_t(mount.mode ?? 0o755)) } catch { throw BuildError("create the cache mount", error) }
                _ = chown(directory, mount.uid ?? 0, mount.gid ?? 0)
            }
            return MountRequest(kind: .bind, source: directory, target: absolute, readOnly: false)
        case .tmpfs:
            var options: [String] = []
            if let size = mount.size { options.append("size=\(size)") }
            return MountRequest(kind: .tmpfs, source: nil, target: absolute, options: options)
        case .bind:
            let source = cleanContextPath(mount.source ?? "")
            if let from = mount.from {
                let view = try readOnlyView(of: from, workspace: workspace)
                return MountRequest(kind: .bind, source: try detachedSource(view, source, what: "--mount from=\(from)", trees: &trees),
                                    target: absolute, readOnly: true)
            }
            // The context is mounted read-only: a build must not change the files it was given.
            return MountRequest(kind: .bind, source: try detachedSource(context.root, source, what: "--mount source in the context", trees: &trees),
                                target: absolute, readOnly: true)
        case .secret, .ssh:
            throw BuildError("--mount=type=\(mount.type.rawValue) is not supported yet")
        }
    }

    /// The key of a stage named by `--from`, when it is one of this build's stages.
    func stageKey(_ name: String) -> String? {
        stageIndex(name).flatMap { results[$0]?.key }
    }

    func stageIndex(_ name: String) -> Int? {
        guard let plan = currentPlan else { return nil }
        if let stage = plan.stages.first(where: { $0.name == name.lowercased() }) { return stage.index }
        if let number = Int(name), plan.stages.indices.contains(number) { return number }
        return nil
    }

    /// A read-only overlay of a stage's (or an image's) layers inside the workspace, for COPY
    /// --from and RUN --mount from=.
    func readOnlyView(of name: String, workspace: BuildWorkspace) throws -> String {
        let layers: [CommittedLayer]
        if let index = stageIndex(name) {
            guard let stage = results[index] else { throw BuildError("stage \(name) is not built yet") }
            layers = stage.layers
        } else {
            let image = try image(name)
            do { layers = try images.committedLayers(image) } catch { throw BuildError("layers of \(name)", error) }
        }
        return try workspace.mountReadOnly(layers.map { images.snapshots.path($0.diffID) })
    }

    /// `source` resolved inside `root` and cloned as a detached mount tree, named for the runtime as
    /// the fd it will have (`/proc/self/fd/N`, N = 3, 4 … in the order of `trees`). mount(2) would
    /// resolve a path again on the host, after the check: a context's name swapped for a symlink
    /// meanwhile would redirect it. The tree is what was checked, whatever the name says later.
    func detachedSource(_ root: String, _ source: String, what: String, trees: inout [Int32]) throws(BuildError) -> String {
        let rootFD: Int32
        do { rootFD = try FS.open(root, BERTH_O_PATH | O_DIRECTORY | O_CLOEXEC) } catch { throw BuildError(what, error) }
        defer { FS.close(rootFD) }
        do {
            let fd = try InRoot(rootFD: rootFD, rootPath: root).openContained(source)
            defer { FS.close(fd) }
            let clone = try sys("open_tree", "\(what): \(source)") { berth_clone_tree(fd, 1) }
            defer { FS.close(clone) }
            // Above the numbers the runtime gets them as, so handing them over cannot overwrite one.
            let tree = try sys("dup", "\(what): \(source)") { fcntl(clone, F_DUPFD_CLOEXEC, 64) }
            trees.append(tree)
            return "/proc/self/fd/\(2 + trees.count)"
        } catch {
            throw BuildError("\(what): \(source.isEmpty ? "." : source)", error)
        }
    }

    /// `source` resolved inside `root` (its symlinks taken as if `root` were `/`): mount(2) resolves
    /// a path on the host, so a stage's `hostroot -> /` must not name the host's `/`.
    func resolveInside(_ root: String, _ source: String, what: String) throws(BuildError) -> String {
        let rootFD: Int32
        do { rootFD = try FS.open(root, BERTH_O_PATH | O_DIRECTORY | O_CLOEXEC) } catch { throw BuildError(what, error) }
        defer { FS.close(rootFD) }
        do { return try InRoot(rootFD: rootFD, rootPath: root).resolvedHostPath(source) } catch {
            throw BuildError("\(what): \(source.isEmpty ? "." : source)", error)
        }
    }
}
