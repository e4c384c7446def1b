// bpf(2) commands for the AF_XDP backend (see CLinuxNet.h). Each fills a zeroed union
// bpf_attr: the kernel rejects non-zero bytes past the fields a command reads.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include "CLinuxNet.h"

static int clinuxnet_bpf(int cmd, union bpf_attr *attr) {
    return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

int clinuxnet_bpf_map_create(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
                             uint32_t flags, const char *name) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.map_type = type;
    attr.key_size = key_size;
    attr.value_size = value_size;
    attr.max_entries = max_entries;
    attr.map_flags = flags;
    if (name) strncpy(attr.map_name, name, sizeof(attr.map_name) - 1);
    return clinuxnet_bpf(BPF_MAP_CREATE, &attr);
}

int clinuxnet_bpf_map_update(int map_fd, const void *key, const void *value, uint64_t flags) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.map_fd = (uint32_t)map_fd;
    attr.key = (uint64_t)(uintptr_t)key;
    attr.value = (uint64_t)(uintptr_t)value;
    attr.flags = flags;
    return clinuxnet_bpf(BPF_MAP_UPDATE_ELEM, &attr);
}

int clinuxnet_bpf_map_delete(int map_fd, const void *key) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.map_fd = (uint32_t)map_fd;
    attr.key = (uint64_t)(uintptr_t)key;
    return clinuxnet_bpf(BPF_MAP_DELETE_ELEM, &attr);
}

int clinuxnet_bpf_prog_load_xdp(const uint64_t *instructions, uint32_t count, const char *license,
                                char *log, uint32_t log_size) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_XDP;
    attr.insns = (uint64_t)(uintptr_t)instructions;
    attr.insn_cnt = count;
    attr.license = (uint64_t)(uintptr_t)license;
    strncpy(attr.prog_name, "lvsd_xdp", sizeof(attr.prog_name) - 1);
    if (log && log_size > 0) log[0] = 0;
    int fd = clinuxnet_bpf(BPF_PROG_LOAD, &attr);
    if (fd >= 0 || !log || log_size == 0) return fd;
    // Load again with the verifier's log on, so the error can say why.
    int saved = errno;
    attr.log_buf = (uint64_t)(uintptr_t)log;
    attr.log_size = log_size;
    attr.log_level = 1;
    fd = clinuxnet_bpf(BPF_PROG_LOAD, &attr);
    if (fd >= 0) return fd;
    errno = saved;
    return -1;
}

int clinuxnet_bpf_link_create_xdp(int prog_fd, int ifindex, uint32_t flags) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.link_create.prog_fd = (uint32_t)prog_fd;
    attr.link_create.target_ifindex = (uint32_t)ifindex;
    attr.link_create.attach_type = BPF_XDP;
    attr.link_create.flags = flags;
    return clinuxnet_bpf(BPF_LINK_CREATE, &attr);
}

int clinuxnet_bpf_prog_test_run_xdp(int prog_fd, const void *data, uint32_t size, uint32_t rx_queue_index,
                                    uint32_t *retval) {
    struct xdp_md context;
    memset(&context, 0, sizeof(context));
    context.data_end = size;
    context.rx_queue_index = rx_queue_index;
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.test.prog_fd = (uint32_t)prog_fd;
    attr.test.data_in = (uint64_t)(uintptr_t)data;
    attr.test.data_size_in = size;
    attr.test.ctx_in = (uint64_t)(uintptr_t)&context;
    attr.test.ctx_size_in = sizeof(context);
    attr.test.repeat = 1;
    if (clinuxnet_bpf(BPF_PROG_TEST_RUN, &attr) != 0) return -1;
    *retval = attr.test.retval;
    return 0;
}

int clinuxnet_rx_queue_count(const char *ifname) {
    char path[128];
    snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
    DIR *dir = opendir(path);
    if (!dir) return 1;
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (strncmp(entry->d_name, "rx-", 3) == 0) count++;
    }
    closedir(dir);
    return count > 0 ? count : 1;
}
