// Child processes and thread names for the health checker. GNU-only calls (closefrom,
// pthread_setname_np) and the pidfd_open system call need a real translation unit.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "CLinuxNet.h"

extern char **environ;

int clinuxnet_spawn_in_group(const char *file, char *const argv[]) {
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_t actions;
    int r = posix_spawnattr_init(&attributes);
    if (r != 0) { errno = r; return -1; }
    r = posix_spawn_file_actions_init(&actions);
    if (r != 0) { posix_spawnattr_destroy(&attributes); errno = r; return -1; }

    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    r = posix_spawnattr_setflags(&attributes, flags);
    if (r == 0) r = posix_spawnattr_setpgroup(&attributes, 0);
    if (r == 0) r = posix_spawnattr_setsigmask(&attributes, &none);
    if (r == 0) r = posix_spawnattr_setsigdefault(&attributes, &all);
    if (r == 0) r = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (r == 0) r = posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    if (r == 0) r = posix_spawn_file_actions_adddup2(&actions, 1, 2);
    // Descriptors lvsd opened without O_CLOEXEC (the packet socket, the control socket) must
    // not leak into a check script.
    if (r == 0) r = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    pid_t pid = -1;
    if (r == 0) r = posix_spawnp(&pid, file, &actions, &attributes, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (r != 0) { errno = r; return -1; }
    return pid;
}

int clinuxnet_pidfd_open(int pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int clinuxnet_set_thread_name(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}
