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
#include <linux/if_xdp.h>
#include <linux/if_link.h>
#include <linux/bpf.h>

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


// ---- AF_XDP and eBPF (the AF_XDP backend). bpf(2) has no glibc wrapper and union bpf_attr
// does not import usefully into Swift, so each command lvsd uses is one small function here.

/// Loads a u32 ring index with acquire ordering (the other side's stores to the descriptors it
/// published are visible after it).
static inline uint32_t clinuxnet_load_acquire_u32(const uint32_t *p) {
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/// Stores a u32 ring index with release ordering (our descriptor stores are visible before it).
static inline void clinuxnet_store_release_u32(uint32_t *p, uint32_t v) {
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/// errno's symbolic name ("EOPNOTSUPP"), for log lines an operator greps for.
const char *clinuxnet_errno_name(int e);

/// BPF_MAP_CREATE. Returns the map's fd or -1 with errno.
int clinuxnet_bpf_map_create(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
                             uint32_t flags, const char *name);
/// BPF_MAP_UPDATE_ELEM / BPF_MAP_DELETE_ELEM. 0 or -1 with errno.
int clinuxnet_bpf_map_update(int map_fd, const void *key, const void *value, uint64_t flags);
int clinuxnet_bpf_map_delete(int map_fd, const void *key);
/// BPF_PROG_LOAD of an XDP program of `count` 8-byte instructions. On failure (-1, errno) the
/// verifier's log is in `log` (NUL-terminated, at most `log_size` bytes).
int clinuxnet_bpf_prog_load_xdp(const uint64_t *instructions, uint32_t count, const char *license,
                                char *log, uint32_t log_size);
/// BPF_LINK_CREATE with attach type BPF_XDP on `ifindex` (`flags`: XDP_FLAGS_DRV_MODE or
/// XDP_FLAGS_SKB_MODE). The link lives as long as its fd: the program detaches when the
/// process exits, however it exits. Returns the link's fd or -1 with errno.
int clinuxnet_bpf_link_create_xdp(int prog_fd, int ifindex, uint32_t flags);
/// BPF_PROG_TEST_RUN: runs the program once on `data` (`rx_queue_index` in its xdp_md) and
/// stores its return value in `retval`. 0 or -1 with errno.
int clinuxnet_bpf_prog_test_run_xdp(int prog_fd, const void *data, uint32_t size, uint32_t rx_queue_index,
                                    uint32_t *retval);
/// The number of receive queues of an interface (the rx-N entries of
/// /sys/class/net/NAME/queues), at least 1.
int clinuxnet_rx_queue_count(const char *ifname);

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
