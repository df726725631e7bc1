/// What Debian's dockerd 20.10 shows in inspect's Config for containers the docker CLI 28 made
/// (`docker FLAGS busybox true`, stdin /dev/null), read with `template`: AttachStdin,
/// AttachStdout, AttachStderr, OpenStdin, StdinOnce, Tty. The same flags to `berth` must show the
/// same, and so must `berth serve` for the docker CLI's bodies.
public enum AttachFields {
    public static let template = "{{.Config.AttachStdin}} {{.Config.AttachStdout}} {{.Config.AttachStderr}} "
        + "{{.Config.OpenStdin}} {{.Config.StdinOnce}} {{.Config.Tty}}"

    public static let observed: [(flags: [String], shown: String)] = [
        (["create"], "false true true false false false"),
        (["create", "-i"], "true true true true true false"),
        (["create", "-t"], "false true true false false true"),
        (["create", "-it"], "true true true true true true"),
        (["create", "-a", "stdout"], "false true false false false false"),
        (["create", "-a", "stdin"], "true false false false false false"),
        (["create", "-a", "stderr"], "false false true false false false"),
        (["create", "-a", "stdin", "-a", "stdout"], "true true false false false false"),
        (["create", "-i", "-a", "stdout"], "true true false true true false"),
        (["run", "-d"], "false false false false false false"),
        (["run", "-di"], "false false false true false false"),
        (["run", "-dt"], "false false false false false true"),
        (["run", "-dit"], "false false false true false true"),
        (["run"], "false true true false false false"),
        (["run", "-i"], "true true true true true false"),
        (["run", "-a", "stdout"], "false true false false false false"),
        (["run", "-a", "stderr"], "false false true false false false"),
        (["run", "-i", "-a", "stdout"], "true true false true true false"),
        (["run", "-a", "stdin"], "true false false false false false"),
    ]
}
