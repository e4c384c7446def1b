// GNU-only calls for CLinuxNet. They need _GNU_SOURCE in a real translation unit.
#define _GNU_SOURCE
#include <sched.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <string.h>
#include "CLinuxNet.h"

_Static_assert(sizeof(clinuxnet_mmsghdr) == sizeof(struct mmsghdr), "mmsghdr layout twin");
_Static_assert(offsetof(clinuxnet_mmsghdr, msg_len) == offsetof(struct mmsghdr, msg_len), "mmsghdr layout twin");

int clinuxnet_sendmmsg(int fd, clinuxnet_mmsghdr *msgs, unsigned int count, int flags) {
    return sendmmsg(fd, (struct mmsghdr *)msgs, count, flags);
}

int clinuxnet_ioctl_ifreq(int fd, unsigned long request, struct ifreq *ifr) {
    return ioctl(fd, request, ifr);
}

int clinuxnet_pin_current_thread(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

int clinuxnet_allowed_cpus(int *out, int capacity) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
    int n = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && n < capacity; cpu++) {
        if (CPU_ISSET(cpu, &set)) out[n++] = cpu;
    }
    return n;
}

int clinuxnet_accept_cloexec(int fd) {
    return accept4(fd, NULL, NULL, SOCK_CLOEXEC);
}

long clinuxnet_peer_uid(int fd) {
    struct ucred credentials;
    socklen_t length = sizeof(credentials);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
    return (long)credentials.uid;
}

int clinuxnet_eventfd(void) {
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

const char *clinuxnet_errno_name(int e) {
    const char *name = strerrorname_np(e);
    return name ? name : "unknown errno";
}
