/// Docker 28's default seccomp profile, built into the binary as dockerd builds it in: a container
/// is never run unfiltered because a distribution file is missing, and the filter does not change
/// with whatever containers-common version the host has.
///
/// Docker's design: refuse every syscall with EPERM unless a rule below allows it. Most rules allow
/// unconditionally; the rest depend on the container's bounding capabilities (a syscall the kernel
/// already gates on a capability is allowed exactly when the container holds it), on the
/// architecture, on the kernel version, or on argument values. `converted(architecture:kernel:
/// capabilities:)` applies those conditions as Docker does.
extension SeccompProfile {
    public static let dockerDefault = SeccompProfile(
        defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: DockerDefault.eperm,
        archMap: DockerDefault.archMap, syscalls: DockerDefault.rules)
}

/// The pieces of `SeccompProfile.dockerDefault`.
private enum DockerDefault {
    static let eperm: UInt32 = 1
    static let enosys: UInt32 = 38
    static let afVsock: UInt64 = 40
    static let cloneNamespaceFlags: UInt64 = 0x0002_0000 /* NEWNS */ | 0x0200_0000 /* NEWCGROUP */
        | 0x0400_0000 /* NEWUTS */ | 0x0800_0000 /* NEWIPC */ | 0x1000_0000 /* NEWUSER */
        | 0x2000_0000 /* NEWPID */ | 0x4000_0000 /* NEWNET */

    /// A 64-bit kernel's filter also covers the compat ABIs its processes can call through.
    static let archMap: [SeccompProfile.ArchMap] = [
        .init(architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]),
        .init(architecture: "SCMP_ARCH_AARCH64", subArchitectures: ["SCMP_ARCH_ARM"]),
        .init(architecture: "SCMP_ARCH_MIPS64", subArchitectures: ["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"]),
        .init(architecture: "SCMP_ARCH_MIPS64N32", subArchitectures: ["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"]),
        .init(architecture: "SCMP_ARCH_MIPSEL64", subArchitectures: ["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"]),
        .init(architecture: "SCMP_ARCH_MIPSEL64N32", subArchitectures: ["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"]),
        .init(architecture: "SCMP_ARCH_S390X", subArchitectures: ["SCMP_ARCH_S390"]),
        .init(architecture: "SCMP_ARCH_RISCV64", subArchitectures: nil),
    ]

    // MARK: Allowed to every container

    /// Processes and threads: start, wait, exit, signal each other, name and restrict themselves.
    static let processes = [
        "execve", "execveat", "exit", "exit_group", "fork", "vfork", "wait4", "waitid", "waitpid",
        "getpid", "getppid", "gettid", "getpgid", "getpgrp", "getsid", "setpgid", "setsid",
        "set_tid_address", "set_robust_list", "get_robust_list", "set_thread_area", "get_thread_area",
        "rseq", "restart_syscall", "prctl", "kill", "tkill", "tgkill", "pidfd_open", "pidfd_send_signal",
        "process_mrelease", "uretprobe",
    ]
    /// Credentials inside the user namespace's limits; the kernel checks CAP_SETUID/CAP_SETGID itself.
    static let credentials = [
        "getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid", "getegid32",
        "getresuid", "getresuid32", "getresgid", "getresgid32", "getgroups", "getgroups32",
        "setuid", "setuid32", "setgid", "setgid32", "setreuid", "setreuid32", "setregid", "setregid32",
        "setresuid", "setresuid32", "setresgid", "setresgid32", "setgroups", "setgroups32",
        "setfsuid", "setfsuid32", "setfsgid", "setfsgid32", "capget", "capset",
    ]
    /// Signal handling within the process.
    static let signals = [
        "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
        "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sigaltstack", "signalfd", "signalfd4",
        "sigprocmask", "sigreturn", "pause",
    ]
    /// The process's own memory (locking is still limited by RLIMIT_MEMLOCK / CAP_IPC_LOCK).
    static let memory = [
        "brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync", "mlock", "mlock2",
        "mlockall", "munlock", "munlockall", "membarrier", "memfd_create", "memfd_secret", "remap_file_pages",
        "pkey_alloc", "pkey_free", "pkey_mprotect", "map_shadow_stack", "mseal", "cachestat",
    ]
    /// Reading and writing open files, the container's own filesystem is its boundary.
    static let fileIO = [
        "open", "openat", "openat2", "creat", "close", "close_range", "read", "readv", "pread64", "preadv",
        "preadv2", "write", "writev", "pwrite64", "pwritev", "pwritev2", "lseek", "_llseek", "dup", "dup2", "dup3",
        "fcntl", "fcntl64", "flock", "fsync", "fdatasync", "sync", "syncfs", "sync_file_range", "fallocate",
        "fadvise64", "fadvise64_64", "readahead", "truncate", "truncate64", "ftruncate", "ftruncate64",
        "copy_file_range", "sendfile", "sendfile64", "splice", "tee", "vmsplice", "ioctl",
    ]
    /// Names and metadata in the filesystem (permission checks are the kernel's as usual).
    static let filesystem = [
        "stat", "stat64", "lstat", "lstat64", "fstat", "fstat64", "fstatat64", "newfstatat", "statx", "statfs",
        "statfs64", "fstatfs", "fstatfs64", "access", "faccessat", "faccessat2", "chmod", "fchmod", "fchmodat",
        "fchmodat2", "chown", "chown32", "fchown", "fchown32", "fchownat", "lchown", "lchown32", "utime", "utimes",
        "utimensat", "utimensat_time64", "futimesat", "link", "linkat", "symlink", "symlinkat", "unlink",
        "unlinkat", "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir", "mknod", "mknodat", "readlink",
        "readlinkat", "getcwd", "chdir", "fchdir", "getdents", "getdents64", "name_to_handle_at", "statmount",
        "listmount",
    ]
    /// Extended attributes (trusted.* and security.* still need capabilities in the kernel).
    static let xattrs = [
        "getxattr", "lgetxattr", "fgetxattr", "getxattrat", "setxattr", "lsetxattr", "fsetxattr", "setxattrat",
        "listxattr", "llistxattr", "flistxattr", "listxattrat", "removexattr", "lremovexattr", "fremovexattr",
        "removexattrat",
    ]
    /// Waiting for file descriptors, events and futexes.
    static let waiting = [
        "select", "_newselect", "pselect6", "pselect6_time64", "poll", "ppoll", "ppoll_time64", "epoll_create",
        "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait", "epoll_wait_old", "epoll_pwait",
        "epoll_pwait2", "eventfd", "eventfd2", "inotify_init", "inotify_init1", "inotify_add_watch",
        "inotify_rm_watch", "fanotify_mark", "futex", "futex_time64", "futex_waitv", "futex_wake", "futex_wait",
        "futex_requeue",
    ]
    /// Reading clocks, sleeping, timers; adjtimex reads the clock (setting it needs CAP_SYS_TIME).
    static let time = [
        "time", "gettimeofday", "clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64",
        "clock_nanosleep", "clock_nanosleep_time64", "nanosleep", "alarm", "getitimer", "setitimer",
        "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
        "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
        "timerfd_settime64", "adjtimex", "clock_adjtime", "clock_adjtime64",
    ]
    /// Linux AIO; io_uring is not here (its submissions bypass seccomp: refused since Docker 25).
    static let asyncIO = [
        "io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
    ]
    /// Using sockets (creating one is the `socket` rule below; socketcall cannot be filtered by family).
    static let sockets = [
        "accept", "accept4", "bind", "connect", "listen", "getpeername", "getsockname", "getsockopt",
        "setsockopt", "recv", "recvfrom", "recvmsg", "recvmmsg", "recvmmsg_time64", "send", "sendto", "sendmsg",
        "sendmmsg", "shutdown", "socketpair", "socketcall",
    ]
    /// Pipes and SysV/POSIX IPC, confined by the container's IPC namespace.
    static let ipc = [
        "pipe", "pipe2", "ipc", "msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget", "semop", "semtimedop",
        "semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget", "mq_getsetattr", "mq_notify", "mq_open",
        "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink",
    ]
    /// Scheduling and priorities (raising them needs CAP_SYS_NICE in the kernel).
    static let scheduling = [
        "sched_getaffinity", "sched_setaffinity", "sched_getattr", "sched_setattr", "sched_getparam",
        "sched_setparam", "sched_getscheduler", "sched_setscheduler", "sched_get_priority_max",
        "sched_get_priority_min", "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_yield",
        "getpriority", "setpriority", "ioprio_get", "ioprio_set",
    ]
    /// System facts, resource limits and randomness; a process may sandbox itself further.
    static let system = [
        "uname", "sysinfo", "times", "getrusage", "getrlimit", "setrlimit", "ugetrlimit", "prlimit64", "umask",
        "getcpu", "getrandom", "riscv_hwprobe", "seccomp", "landlock_add_rule", "landlock_create_ruleset",
        "landlock_restrict_self",
    ]

    // MARK: Allowed when the container holds the capability the kernel checks

    /// Mounts, namespaces, host names, BPF, perf, quotas, LSM attributes: CAP_SYS_ADMIN's domain.
    static let sysAdmin = [
        "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie",
        "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr", "mount", "mount_setattr", "move_mount",
        "open_tree", "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns",
        "syslog", "umount", "umount2", "unshare",
    ]
    /// Inspecting other processes: kcmp, pidfd_getfd, process_vm_*, ptrace.
    static let sysPtrace = ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"]

    static func allow(_ names: [String], args: [SeccompProfile.Arg]? = nil, includes: SeccompProfile.Filter? = nil,
                      excludes: SeccompProfile.Filter? = nil) -> SeccompProfile.Rule {
        SeccompProfile.Rule(names: names, action: "SCMP_ACT_ALLOW", args: args, includes: includes, excludes: excludes)
    }
    static func withCapability(_ names: [String], _ capability: String) -> SeccompProfile.Rule {
        allow(names, includes: SeccompProfile.Filter(caps: [capability]))
    }
    static func onArchitectures(_ names: [String], _ arches: [String]) -> SeccompProfile.Rule {
        allow(names, includes: SeccompProfile.Filter(arches: arches))
    }
    static func firstArgument(_ op: String, _ value: UInt64, index: UInt32 = 0) -> [SeccompProfile.Arg] {
        [SeccompProfile.Arg(index: index, value: value, op: op)]
    }

    static let rules: [SeccompProfile.Rule] = [
        allow(processes + credentials + signals + memory + fileIO + filesystem + xattrs + waiting + time + asyncIO
              + sockets + ipc + scheduling + system),
        // Tracing one's own children is safe once the kernel (4.8) no longer lets ptrace bypass seccomp.
        allow(["process_vm_readv", "process_vm_writev", "ptrace"], includes: SeccompProfile.Filter(minKernel: "4.8")),
        // Every socket family but AF_VSOCK, which would reach the host or its VMs.
        allow(["socket"], args: firstArgument("SCMP_CMP_NE", afVsock)),
        // personality: only Linux (0), Linux32 (8), UNAME26 (0x20000), both (0x20008) and the query (0xffffffff).
        allow(["personality"], args: firstArgument("SCMP_CMP_EQ", 0)),
        allow(["personality"], args: firstArgument("SCMP_CMP_EQ", 0x0008)),
        allow(["personality"], args: firstArgument("SCMP_CMP_EQ", 0x2_0000)),
        allow(["personality"], args: firstArgument("SCMP_CMP_EQ", 0x2_0008)),
        allow(["personality"], args: firstArgument("SCMP_CMP_EQ", 0xffff_ffff)),
        // Architecture-specific variants of allowed calls.
        onArchitectures(["sync_file_range2", "swapcontext"], ["ppc64le"]),
        onArchitectures(["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"],
                        ["arm", "arm64"]),
        onArchitectures(["arch_prctl"], ["amd64", "x32"]),
        onArchitectures(["modify_ldt"], ["amd64", "x32", "x86"]),
        onArchitectures(["s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"], ["s390", "s390x"]),
        onArchitectures(["riscv_flush_icache"], ["riscv64"]),
        // Opening by file handle escapes the mount namespace (the "shocker" breakout).
        withCapability(["open_by_handle_at"], "CAP_DAC_READ_SEARCH"),
        withCapability(sysAdmin, "CAP_SYS_ADMIN"),
        // Without CAP_SYS_ADMIN, clone may create threads and processes but no namespaces (the flags
        // are the first argument, the second on s390).
        allow(["clone"], args: firstArgument("SCMP_CMP_MASKED_EQ", cloneNamespaceFlags),
              excludes: SeccompProfile.Filter(arches: ["s390", "s390x"], caps: ["CAP_SYS_ADMIN"])),
        allow(["clone"], args: firstArgument("SCMP_CMP_MASKED_EQ", cloneNamespaceFlags, index: 1),
              includes: SeccompProfile.Filter(arches: ["s390", "s390x"]), excludes: SeccompProfile.Filter(caps: ["CAP_SYS_ADMIN"])),
        // clone3's flags sit behind a pointer seccomp cannot read: ENOSYS, so libc falls back to clone.
        SeccompProfile.Rule(names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: enosys,
                            excludes: SeccompProfile.Filter(caps: ["CAP_SYS_ADMIN"])),
        withCapability(["reboot"], "CAP_SYS_BOOT"),
        withCapability(["chroot"], "CAP_SYS_CHROOT"),
        withCapability(["delete_module", "init_module", "finit_module"], "CAP_SYS_MODULE"),
        withCapability(["acct"], "CAP_SYS_PACCT"),
        withCapability(sysPtrace, "CAP_SYS_PTRACE"),
        withCapability(["iopl", "ioperm"], "CAP_SYS_RAWIO"),
        withCapability(["settimeofday", "stime", "clock_settime", "clock_settime64"], "CAP_SYS_TIME"),
        withCapability(["vhangup"], "CAP_SYS_TTY_CONFIG"),
        // NUMA memory policy, which can starve other workloads' nodes.
        withCapability(["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"], "CAP_SYS_NICE"),
        withCapability(["syslog"], "CAP_SYSLOG"),
        withCapability(["bpf"], "CAP_BPF"),
        withCapability(["perf_event_open"], "CAP_PERFMON"),
    ]
}
