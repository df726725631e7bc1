#define _GNU_SOURCE
#include <malloc.h>
#include "clinuxsys.h"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <string.h>
#include <stdarg.h>
#include <errno.h>
#include <sys/signalfd.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/sendfile.h>
#include <link.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

pid_t berth_clone(unsigned long flags) {
    return (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
}

int berth_setns(int fd, int nstype) { return setns(fd, nstype); }

int berth_interface_up(const char *name) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    int rc = ioctl(fd, SIOCGIFFLAGS, &request);
    if (rc == 0 && !(request.ifr_flags & IFF_UP)) {
        request.ifr_flags |= IFF_UP;
        rc = ioctl(fd, SIOCSIFFLAGS, &request);
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}
int berth_unshare(int flags) { return unshare(flags); }
int berth_setresuid(uid_t uid) { return setresuid(uid, uid, uid); }
int berth_setresgid(gid_t gid) { return setresgid(gid, gid, gid); }

long berth_join_session_keyring(const char *name) { return syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, name, 0, 0, 0); }

int berth_pivot_root(const char *new_root, const char *put_old) {
    return (int)syscall(SYS_pivot_root, new_root, put_old);
}

int berth_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = flags;
    how.mode = mode;
    how.resolve = resolve;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int berth_close_range(unsigned int first, unsigned int last, unsigned int flags) {
    return (int)syscall(SYS_close_range, first, last, flags);
}

int berth_capget(uint64_t *effective, uint64_t *permitted, uint64_t *inheritable) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    int rc = (int)syscall(SYS_capget, &header, data);
    if (rc != 0) return rc;
    *effective = (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
    *permitted = (uint64_t)data[0].permitted | ((uint64_t)data[1].permitted << 32);
    *inheritable = (uint64_t)data[0].inheritable | ((uint64_t)data[1].inheritable << 32);
    return 0;
}

int berth_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    data[0].effective = (uint32_t)effective;
    data[1].effective = (uint32_t)(effective >> 32);
    data[0].permitted = (uint32_t)permitted;
    data[1].permitted = (uint32_t)(permitted >> 32);
    data[0].inheritable = (uint32_t)inheritable;
    data[1].inheritable = (uint32_t)(inheritable >> 32);
    return (int)syscall(SYS_capset, &header, data);
}

int berth_cap_last_cap(void) {
    int last = 40;
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[16] = {0};
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n > 0) {
            int value = 0;
            for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++) value = value * 10 + (buf[i] - '0');
            last = value;
        }
        close(fd);
    }
    return last;
}

int berth_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5) {
    return prctl(option, a2, a3, a4, a5);
}

int berth_ioctl_int(int fd, unsigned long request, int value) { return ioctl(fd, request, value); }
int berth_ioctl_ptr(int fd, unsigned long request, void *arg) { return ioctl(fd, request, arg); }
int berth_fcntl_int(int fd, int cmd, int value) { return fcntl(fd, cmd, value); }
int berth_open(const char *path, int flags, mode_t mode) { return open(path, flags, mode); }
int berth_openat(int dirfd, const char *path, int flags, mode_t mode) { return openat(dirfd, path, flags, mode); }

int berth_fsopen(const char *fsname, unsigned int flags) { return (int)syscall(SYS_fsopen, fsname, flags); }
int berth_fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux) {
    return (int)syscall(SYS_fsconfig, fd, cmd, key, value, aux);
}
int berth_fsmount(int fd, unsigned int flags, unsigned int attr_flags) {
    return (int)syscall(SYS_fsmount, fd, flags, attr_flags);
}
int berth_open_tree(int dirfd, const char *path, unsigned int flags) {
    return (int)syscall(SYS_open_tree, dirfd, path, flags);
}
int berth_move_mount(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path, unsigned int flags) {
    return (int)syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags);
}
int berth_mount_setattr(int dirfd, const char *path, unsigned int flags, uint64_t attr_set, uint64_t attr_clr,
                        uint64_t propagation, uint64_t userns_fd) {
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = attr_set;
    attr.attr_clr = attr_clr;
    attr.propagation = propagation;
    attr.userns_fd = userns_fd;
    return (int)syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof attr);
}

int berth_pidfd_open(pid_t pid, unsigned int flags) { return (int)syscall(SYS_pidfd_open, pid, flags); }
int berth_pidfd_send_signal(int pidfd, int sig) { return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0); }

dev_t berth_makedev(unsigned int major, unsigned int minor) { return makedev(major, minor); }
unsigned int berth_major(dev_t dev) { return major(dev); }
unsigned int berth_minor(dev_t dev) { return minor(dev); }

int berth_wifexited(int status) { return WIFEXITED(status); }
int berth_wexitstatus(int status) { return WEXITSTATUS(status); }
int berth_wifsignaled(int status) { return WIFSIGNALED(status); }
int berth_wtermsig(int status) { return WTERMSIG(status); }

int berth_send_fd(int sock, int fd, const char *payload, size_t len) {
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec iov = { (void *)payload, len };
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    return (int)sendmsg(sock, &msg, 0);
}

int berth_recv_fd(int sock, char *payload, size_t len) {
    int fd;
    if (berth_recv_msg(sock, payload, len, &fd) < 0) return -1;
    if (fd < 0) errno = EBADMSG;
    return fd;
}

static long bpf_call(int cmd, union bpf_attr *attr) {
    return syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

int berth_bpf_prog_load_cgroup_device(const void *insns, unsigned int count, char *log, unsigned int log_size) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)insns;
    attr.insn_cnt = count;
    attr.license = (uint64_t)(uintptr_t)"GPL";
    if (log != NULL && log_size > 0) {
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = log_size;
        attr.log_level = 1;
    }
    return (int)bpf_call(BPF_PROG_LOAD, &attr);
}

int berth_bpf_prog_attach(int prog_fd, int cgroup_fd, unsigned int attach_type, unsigned int flags) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.target_fd = cgroup_fd;
    attr.attach_bpf_fd = prog_fd;
    attr.attach_type = attach_type;
    attr.attach_flags = flags;
    return (int)bpf_call(BPF_PROG_ATTACH, &attr);
}

int berth_bpf_prog_query(int cgroup_fd, unsigned int attach_type, unsigned int *prog_ids, unsigned int *count) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.query.target_fd = cgroup_fd;
    attr.query.attach_type = attach_type;
    attr.query.prog_ids = (uint64_t)(uintptr_t)prog_ids;
    attr.query.prog_cnt = *count;
    int rc = (int)bpf_call(BPF_PROG_QUERY, &attr);
    *count = attr.query.prog_cnt;
    return rc;
}

int berth_bpf_prog_get_fd_by_id(unsigned int id) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_id = id;
    return (int)bpf_call(BPF_PROG_GET_FD_BY_ID, &attr);
}

int berth_bpf_prog_detach(int prog_fd, int cgroup_fd, unsigned int attach_type) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.target_fd = cgroup_fd;
    attr.attach_bpf_fd = prog_fd;
    attr.attach_type = attach_type;
    return (int)bpf_call(BPF_PROG_DETACH, &attr);
}

int berth_connect_unix(const char *path) {
    struct sockaddr_un address;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof address.sun_path) { errno = ENAMETOOLONG; return -1; }
    strcpy(address.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int berth_listen_unix(const char *path, int backlog) {
    struct sockaddr_un address;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof address.sun_path) { errno = ENAMETOOLONG; return -1; }
    strcpy(address.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || listen(fd, backlog) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int berth_pty_unlock(int master) {
    int unlock = 0;
    return ioctl(master, TIOCSPTLCK, &unlock);
}

int berth_pty_peer(int master, int flags) {
    return ioctl(master, TIOCGPTPEER, flags);
}

int berth_set_controlling_tty(int fd) {
    return ioctl(fd, TIOCSCTTY, 0);
}

int berth_set_winsize(int fd, unsigned short rows, unsigned short cols) {
    struct winsize size;
    memset(&size, 0, sizeof size);
    size.ws_row = rows;
    size.ws_col = cols;
    return ioctl(fd, TIOCSWINSZ, &size);
}

int berth_get_winsize(int fd, unsigned short *rows, unsigned short *cols) {
    struct winsize size;
    if (ioctl(fd, TIOCGWINSZ, &size) != 0) return -1;
    *rows = size.ws_row;
    *cols = size.ws_col;
    return 0;
}

int berth_make_raw(int fd, struct termios *saved) {
    if (tcgetattr(fd, saved) != 0) return -1;
    struct termios raw = *saved;
    cfmakeraw(&raw);
    return tcsetattr(fd, TCSANOW, &raw);
}

int berth_restore_termios(int fd, const struct termios *saved) {
    return tcsetattr(fd, TCSANOW, saved);
}

int berth_bind_fd(int source_fd, int target_fd) {
    int tree = (int)syscall(SYS_open_tree, source_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (tree < 0) return -1;
    int result = (int)syscall(SYS_move_mount, tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    int saved = errno;
    close(tree);
    errno = saved;
    return result;
}

int berth_clone_tree(int fd, int recursive) {
    return (int)syscall(SYS_open_tree, fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0));
}

int berth_attach_tree(int tree, int target_fd) {
    return (int)syscall(SYS_move_mount, tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

long berth_recv_msg(int sock, char *payload, size_t len, int *fd) {
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec iov = { payload, len };
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    *fd = -1;
    ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) return -1;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    if (cmsg != NULL && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
        memcpy(fd, CMSG_DATA(cmsg), sizeof(int));
    }
    return (long)n;
}

int berth_ioprio_set(int io_class, int priority) {
    // IOPRIO_WHO_PROCESS (1), this process (0); the class sits above 13 bits of data.
    return (int)syscall(SYS_ioprio_set, 1, 0, (io_class << 13) | priority);
}

struct berth_sched_attr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
};

int berth_sched_setattr(unsigned int policy, unsigned long long flags, int nice, unsigned int priority,
                        unsigned long long runtime, unsigned long long deadline, unsigned long long period) {
    struct berth_sched_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.sched_policy = policy;
    attr.sched_flags = flags;
    attr.sched_nice = nice;
    attr.sched_priority = priority;
    attr.sched_runtime = runtime;
    attr.sched_deadline = deadline;
    attr.sched_period = period;
    return (int)syscall(SYS_sched_setattr, 0, &attr, 0);
}

int berth_set_affinity(const int *cpus, int count) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < count; i++) {
        if (cpus[i] < 0 || cpus[i] >= CPU_SETSIZE) { errno = EINVAL; return -1; }
        CPU_SET(cpus[i], &set);
    }
    return sched_setaffinity(0, sizeof set, &set);
}

long berth_set_mempolicy(int mode, const unsigned long *nodes, unsigned long maxnode) {
    return syscall(SYS_set_mempolicy, mode, nodes, maxnode);
}

int berth_bind_idmapped(const char *source, int recursive, int userns_fd, int target_fd) {
    unsigned int flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
    int tree = (int)syscall(SYS_open_tree, AT_FDCWD, source, flags);
    if (tree < 0) return -1;
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = (uint64_t)userns_fd;
    int result = (int)syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr);
    if (result == 0) {
        result = (int)syscall(SYS_move_mount, tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    }
    int saved = errno;
    close(tree);
    errno = saved;
    return result;
}

int berth_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
int berth_accept4(int fd, int flags) { return accept4(fd, NULL, NULL, flags); }
int berth_signalfd(const sigset_t *mask) { return signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK); }
int berth_drain_signalfd(int fd) {
    struct signalfd_siginfo info;
    int count = 0;
    while (read(fd, &info, sizeof info) == (ssize_t)sizeof info) count++;
    return count;
}

int berth_eventfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }
int berth_inotify_modify(const char *path) {
    int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd < 0) return -1;
    if (inotify_add_watch(fd, path, IN_MODIFY) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}
int berth_drain_fd(int fd) {
    char buffer[4096];
    int total = 0;
    ssize_t n;
    while ((n = read(fd, buffer, sizeof buffer)) > 0) total += (int)n;
    return total;
}

int berth_seccomp_install(unsigned int flags, const void *instructions, unsigned short count) {
    struct sock_fprog program = { .len = count, .filter = (struct sock_filter *)instructions };
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &program);
}

int berth_memfd(const char *name) {
    return (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC);
}

int berth_execveat(int fd, char *const argv[], char *const envp[]) {
    return (int)syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
}

int berth_memfd_sealable(const char *name) {
    // MFD_EXEC (0x10, Linux 6.3) keeps the copy executable when vm.memfd_noexec asks otherwise;
    // older kernels refuse the unknown flag with EINVAL.
    int fd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC | MFD_ALLOW_SEALING | 0x10U);
    if (fd < 0 && errno == EINVAL) fd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    return fd;
}

int berth_copy_file(int from, int to) {
    off_t offset = 0;
    for (;;) {
        ssize_t n = sendfile(to, from, &offset, 1 << 30);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) return 0;
    }
}

#include <sys/xattr.h>

int berth_setxattr(const char *path, const char *name, const void *value, size_t size, int follow) {
    return follow ? setxattr(path, name, value, size, 0) : lsetxattr(path, name, value, size, 0);
}

int berth_fsetxattr(int fd, const char *name, const void *value, size_t size) {
    return fsetxattr(fd, name, value, size, 0);
}

long berth_lgetxattr(const char *path, const char *name, void *value, size_t size) {
    return (long)lgetxattr(path, name, value, size);
}

long berth_llistxattr(const char *path, char *list, size_t size) {
    return (long)llistxattr(path, list, size);
}

long berth_fgetxattr(int fd, const char *name, void *value, size_t size) {
    return (long)fgetxattr(fd, name, value, size);
}

long berth_flistxattr(int fd, char *list, size_t size) {
    return (long)flistxattr(fd, list, size);
}

struct berth_notes_visit {
    int (*visit)(const void *, size_t, void *);
    void *context;
};

static int berth_program_notes_object(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct berth_notes_visit *v = data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type != PT_NOTE) continue;
        if (v->visit((const void *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr), info->dlpi_phdr[i].p_memsz, v->context)) break;
    }
    return 1;  // the first object is the program itself; its libraries are not visited
}

void berth_program_notes(int (*visit)(const void *notes, size_t size, void *context), void *context) {
    struct berth_notes_visit v = { visit, context };
    dl_iterate_phdr(berth_program_notes_object, &v);
}

/* glibc's M_ARENA_MAX: how many malloc arenas threads may spread over (a server with a thread
 * per request would otherwise keep one per thread, and their pages, after a burst). */
int berth_malloc_arena_max(int count) {
    return mallopt(M_ARENA_MAX, count);
}

/* Gives the free pages of every arena back to the kernel. */
int berth_malloc_trim(void) {
    return malloc_trim(0);
}
