// CLinuxNet: the C quarantine of SwiftLVS.
//
// Swift's Glibc module does not carry <linux/if_packet.h>, <linux/if_ether.h>,
// <linux/filter.h> or <linux/virtio_net.h>, and function-like macros never import. This header
// lists those headers and gives every needed macro a prefixed static inline twin. GNU-only
// calls (sendmmsg) live in shim.c because _GNU_SOURCE in a Swift-imported header does not
// expose them (checked: "cannot find 'sendmmsg' in scope").
#ifndef CLINUXNET_H
#define CLINUXNET_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/ioctl.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <linux/if_arp.h>
#include <linux/filter.h>
#include <linux/virtio_net.h>
#include <linux/sockios.h>
#include <linux/ethtool.h>
#include <sys/epoll.h>

/// Size of the virtio-net header that PACKET_VNET_HDR puts in front of every frame.
static const size_t clinuxnet_vnet_hdr_len = sizeof(struct virtio_net_hdr);

/// TPACKET_ALIGN as a function (the macro is function-like and does not import).
static inline size_t clinuxnet_tpacket_align(size_t x) {
    return (x + TPACKET_ALIGNMENT - 1) & ~((size_t)TPACKET_ALIGNMENT - 1);
}

/// Size of the TPACKET_V2 frame header the kernel places before the MAC header.
static inline size_t clinuxnet_tpacket2_hdrlen(void) {
    return clinuxnet_tpacket_align(sizeof(struct tpacket2_hdr)) + sizeof(struct sockaddr_ll);
}

/// Reads tp_status with acquire ordering: the frame's bytes are valid only after the kernel's
/// store of TP_STATUS_USER is visible, so a plain load could see stale frame contents.
static inline uint32_t clinuxnet_tpacket2_status_acquire(const void *frame) {
    const struct tpacket2_hdr *h = (const struct tpacket2_hdr *)frame;
    return __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
}

/// Hands a frame back to the kernel with release ordering, after we are done with its bytes.
static inline void clinuxnet_tpacket2_release(void *frame) {
    struct tpacket2_hdr *h = (struct tpacket2_hdr *)frame;
    __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
}

/// A layout twin of glibc's struct mmsghdr (hidden behind _GNU_SOURCE).
typedef struct {
    struct msghdr msg_hdr;
    unsigned int msg_len;
} clinuxnet_mmsghdr;

/// sendmmsg(2): one syscall for a batch of frames. Returns the number sent or -1 with errno.
int clinuxnet_sendmmsg(int fd, clinuxnet_mmsghdr *msgs, unsigned int count, int flags);

/// ioctl(2) with a struct ifreq (the variadic ioctl does not import into Swift).
int clinuxnet_ioctl_ifreq(int fd, unsigned long request, struct ifreq *ifr);

/// Pins the calling thread to one CPU (CPU_SET is a GNU macro). Returns 0 or an errno value.
int clinuxnet_pin_current_thread(int cpu);
/// The CPUs this process may run on (sched_getaffinity), ascending, at most `capacity` of
/// them into `out`; returns how many, or -1 with errno set. `lvsd --workers auto` counts them.
int clinuxnet_allowed_cpus(int *out, int capacity);

/// A non-blocking, close-on-exec eventfd(2) (sys/eventfd.h is not in Swift's Glibc module).
int clinuxnet_eventfd(void);

/// accept4(2) with SOCK_CLOEXEC (a GNU extension). Returns the new fd or -1 with errno.
int clinuxnet_accept_cloexec(int fd);

/// The peer's user id of a Unix socket (SO_PEERCRED's struct ucred is GNU-only), or -1.
long clinuxnet_peer_uid(int fd);


// ---- Health checks (LVSHealth): child processes and thread names.

/// Starts `file` (searched in PATH when it has no slash, as execvp does) with `argv` (NULL
/// terminated) and the caller's environment, without a shell: in a process group of its own (so
/// a timeout can kill the whole group), with every signal at its default action and none blocked
/// (lvsd blocks SIGTERM/SIGINT/SIGHUP in all its threads, and a child would inherit that mask),
/// standard input, output and error on /dev/null, and no other descriptor open.
/// Returns the child's pid, or -1 with errno.
int clinuxnet_spawn_in_group(const char *file, char *const argv[]);

/// pidfd_open(2) (no glibc wrapper before 2.36, and syscall(2) is variadic): a descriptor that
/// polls readable when the process exits. Returns the fd or -1 with errno (ENOSYS before 5.3).
int clinuxnet_pidfd_open(int pid);

/// Names the calling thread (pthread_setname_np is a GNU extension), at most 15 bytes.
int clinuxnet_set_thread_name(const char *name);

#endif
