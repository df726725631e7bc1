// The few Linux interfaces Swift cannot call directly: variadic functions, macros,
// and syscalls that glibc 2.36 has no wrapper for. No policy lives here.
#ifndef CLINUXSYS_H
#define CLINUXSYS_H

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sysmacros.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <sys/file.h>
#include <sys/uio.h>
#include <sys/ioctl.h>
#include <sys/un.h>
#include <sys/personality.h>
#include <linux/sched.h>
#include <linux/magic.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <linux/bpf.h>
#include <sched.h>
#include <grp.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <termios.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <seccomp.h>

// Constants glibc hides behind _GNU_SOURCE, which Swift's Glibc module is built without.
static const int BERTH_O_PATH = 010000000;
static const int BERTH_ST_NODEV = 4;
static const int BERTH_ST_NOEXEC = 8;
static const int BERTH_ST_NOATIME = 1024;
static const int BERTH_ST_NODIRATIME = 2048;
static const int BERTH_ST_RELATIME = 4096;
static const int BERTH_CLONE_NEWTIME = 0x00000080;
static const int BERTH_AT_EMPTY_PATH = 0x1000;
static const int BERTH_AT_RECURSIVE = 0x8000;
static const int BERTH_CLOSE_RANGE_CLOEXEC = 4;
static const int BERTH_NR_SCMP_ERROR = __NR_SCMP_ERROR;
static const short BERTH_POSIX_SPAWN_SETSID = 0x80;

// The supervisor's event sources (GNU extensions).
int berth_pipe2(int fds[2], int flags);
int berth_accept4(int fd, int flags);
// A close-on-exec, non-blocking signalfd for the signals in `mask` (the caller blocks them).
int berth_signalfd(const sigset_t *mask);
// Reads every pending siginfo from a non-blocking signalfd; returns how many were read.
int berth_drain_signalfd(int fd);
// A close-on-exec, non-blocking eventfd (cgroup v1 memory.oom_control notifications).
int berth_eventfd(void);
// A close-on-exec, non-blocking inotify instance watching `path` for modifications (cgroup v2
// memory.events); -1 with errno on failure.
int berth_inotify_modify(const char *path);
// Reads whatever is pending on a non-blocking eventfd or inotify fd; returns the bytes read.
int berth_drain_fd(int fd);

// fork() with namespace flags: the child continues on a copy of the caller's stack, like fork().
pid_t berth_clone(unsigned long flags);

int berth_setns(int fd, int nstype);
int berth_unshare(int flags);
/// Sets the interface `name` of the calling thread's network namespace up (SIOCSIFFLAGS).
int berth_interface_up(const char *name);
int berth_setresuid(uid_t uid);
int berth_setresgid(gid_t gid);
// keyctl(KEYCTL_JOIN_SESSION_KEYRING, name): a fresh session keyring for the container.
long berth_join_session_keyring(const char *name);
int berth_pivot_root(const char *new_root, const char *put_old);
int berth_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);
int berth_close_range(unsigned int first, unsigned int last, unsigned int flags);

// Capabilities as 64-bit masks, through capget/capset version 3.
int berth_capget(uint64_t *effective, uint64_t *permitted, uint64_t *inheritable);
int berth_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable);
int berth_cap_last_cap(void);

int berth_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);
int berth_ioctl_int(int fd, unsigned long request, int value);
int berth_ioctl_ptr(int fd, unsigned long request, void *arg);
int berth_fcntl_int(int fd, int cmd, int value);
int berth_open(const char *path, int flags, mode_t mode);
int berth_openat(int dirfd, const char *path, int flags, mode_t mode);

// The new mount API (Linux 5.2+): file-descriptor based, so no path can be swapped underneath.
int berth_fsopen(const char *fsname, unsigned int flags);
int berth_fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux);
int berth_fsmount(int fd, unsigned int flags, unsigned int attr_flags);
int berth_open_tree(int dirfd, const char *path, unsigned int flags);
int berth_move_mount(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path, unsigned int flags);
int berth_mount_setattr(int dirfd, const char *path, unsigned int flags, uint64_t attr_set, uint64_t attr_clr,
                        uint64_t propagation, uint64_t userns_fd);

int berth_pidfd_open(pid_t pid, unsigned int flags);
int berth_pidfd_send_signal(int pidfd, int sig);

dev_t berth_makedev(unsigned int major, unsigned int minor);
unsigned int berth_major(dev_t dev);
unsigned int berth_minor(dev_t dev);

int berth_wifexited(int status);
int berth_wexitstatus(int status);
int berth_wifsignaled(int status);
int berth_wtermsig(int status);

// Sends one fd over a unix socket with SCM_RIGHTS (console socket, seccomp listener).
int berth_send_fd(int sock, int fd, const char *payload, size_t len);
int berth_recv_fd(int sock, char *payload, size_t len);
// One message and, if it carried one, an fd (else *fd = -1). Returns the payload length or -1.
long berth_recv_msg(int sock, char *payload, size_t len, int *fd);
// A connected SOCK_STREAM unix socket (close-on-exec) to `path`, or -1 with errno.
int berth_connect_unix(const char *path);
// A listening unix stream socket at `path` (close-on-exec, non-blocking).
int berth_listen_unix(const char *path, int backlog);

// Pseudo-terminals. The peer is opened from the master with TIOCGPTPEER, never by path, so no
// path in the container can substitute another device for it (runc CVE-2025-52565).
int berth_pty_unlock(int master);
int berth_pty_peer(int master, int flags);
int berth_set_controlling_tty(int fd);
int berth_set_winsize(int fd, unsigned short rows, unsigned short cols);
int berth_get_winsize(int fd, unsigned short *rows, unsigned short *cols);
// Puts a terminal into raw mode, saving its old settings in `saved` for berth_restore_termios.
int berth_make_raw(int fd, struct termios *saved);
int berth_restore_termios(int fd, const struct termios *saved);

// Scheduling and placement of the container's process (process.ioPriority, scheduler,
// execCPUAffinity; linux.memoryPolicy).
int berth_ioprio_set(int io_class, int priority);
int berth_sched_setattr(unsigned int policy, unsigned long long flags, int nice, unsigned int priority,
                        unsigned long long runtime, unsigned long long deadline, unsigned long long period);
// `cpus` lists cpu numbers; `count` of them.
int berth_set_affinity(const int *cpus, int count);
// `nodes` is a bitmask of `maxnode` bits in unsigned longs.
long berth_set_mempolicy(int mode, const unsigned long *nodes, unsigned long maxnode);

// Mount a file by fd: clone the mount of `source_fd` (OPEN_TREE_CLONE) and attach it on `target_fd`.
int berth_bind_fd(int source_fd, int target_fd);
// A detached copy of the mount tree at `fd` (OPEN_TREE_CLONE; with its submounts if `recursive`),
// close-on-exec. A process in another mount namespace can attach it with berth_attach_tree, where
// mount(2) would refuse a source from a namespace not its own.
int berth_clone_tree(int fd, int recursive);
// Attaches the detached tree `tree` on `target_fd` (move_mount).
int berth_attach_tree(int tree, int target_fd);
// An idmapped bind: clones the mount at `source` (recursively if asked), maps its ids through the
// user namespace `userns_fd`, and attaches it on `target_fd`.
int berth_bind_idmapped(const char *source, int recursive, int userns_fd, int target_fd);

// Installs a classic-BPF seccomp filter of `count` instructions (SECCOMP_SET_MODE_FILTER).
int berth_seccomp_install(unsigned int flags, const void *instructions, unsigned short count);
// An anonymous in-memory file (memfd_create), close-on-exec.
int berth_memfd(const char *name);

// eBPF program load and attach (v2 device control).
int berth_bpf_prog_load_cgroup_device(const void *insns, unsigned int count, char *log, unsigned int log_size);
int berth_bpf_prog_attach(int prog_fd, int cgroup_fd, unsigned int attach_type, unsigned int flags);
int berth_bpf_prog_query(int cgroup_fd, unsigned int attach_type, unsigned int *prog_ids, unsigned int *count);
int berth_bpf_prog_get_fd_by_id(unsigned int id);
int berth_bpf_prog_detach(int prog_fd, int cgroup_fd, unsigned int attach_type);

// Sealed copies of our own binary (runc CVE-2019-5736): see LinuxSys/SealedExecutable.swift.
static const unsigned int BERTH_OPEN_TREE_CLONE = 1;
static const unsigned int BERTH_OPEN_TREE_CLOEXEC = 02000000;
static const uint64_t BERTH_MOUNT_ATTR_RDONLY = 0x1;
static const uint64_t BERTH_MOUNT_ATTR_NOSUID = 0x2;
static const uint64_t BERTH_MOUNT_ATTR_NODEV = 0x4;
static const int BERTH_F_ADD_SEALS = 1033;
static const int BERTH_F_GET_SEALS = 1034;
static const int BERTH_F_SEAL_SEAL = 0x1;
static const int BERTH_F_SEAL_SHRINK = 0x2;
static const int BERTH_F_SEAL_GROW = 0x4;
static const int BERTH_F_SEAL_WRITE = 0x8;
// execveat(fd, "", argv, envp, AT_EMPTY_PATH): runs the file `fd` names; returns only on failure.
int berth_execveat(int fd, char *const argv[], char *const envp[]);
// memfd_create(MFD_CLOEXEC | MFD_ALLOW_SEALING), executable (MFD_EXEC where the kernel has it).
int berth_memfd_sealable(const char *name);
// Copies all of `from` (from offset 0) into `to` with sendfile; 0, or -1 with errno.
int berth_copy_file(int from, int to);
// Extended attributes, called directly (a dlsym lookup finds nothing in a static executable).
// `follow` 0 acts on a final symlink itself (the l* calls). -1 with errno set on failure.
int berth_setxattr(const char *path, const char *name, const void *value, size_t size, int follow);
int berth_fsetxattr(int fd, const char *name, const void *value, size_t size);
long berth_lgetxattr(const char *path, const char *name, void *value, size_t size);
long berth_llistxattr(const char *path, char *list, size_t size);
long berth_fgetxattr(int fd, const char *name, void *value, size_t size);
long berth_flistxattr(int fd, char *list, size_t size);

// The program's own loaded ELF note segments, one call per PT_NOTE (dl_iterate_phdr needs
// _GNU_SOURCE, which Swift's Glibc module is built without); `visit` returns non-zero to stop.
void berth_program_notes(int (*visit)(const void *notes, size_t size, void *context), void *context);

int berth_malloc_arena_max(int count);
int berth_malloc_trim(void);

#endif
