// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mempowerd-workload: a scriptable memory user for the VM scenarios.
 *
 * Allocates anonymous memory in chunks under a NUMA policy, fills it with a
 * pattern derived from a seed, verifies it, frees part of it, pins pages
 * (vmsplice into a pipe kept open) and reports where its pages landed
 * (node, PFN, memory block). Commands come from -e arguments and/or stdin,
 * one a line; every command prints exactly one result line that starts
 * with the command's name, or "error <command>: <reason>".
 */

#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <numa.h>
#include <numaif.h>

#define MIB (1024ULL * 1024ULL)
#define PFN_MASK ((1ULL << 55) - 1)
#define PAGEMAP_PRESENT (1ULL << 63)

enum policy {
        POLICY_DEFAULT,
        POLICY_BIND,
        POLICY_PREFERRED,
        POLICY_INTERLEAVE,
};

struct chunk {
        uint8_t *addr;
        size_t len;
        uint64_t offset; /* position in the pattern stream */
};

struct pinpipe {
        int fd[2];
        size_t pages;
        size_t capacity;
};

struct workload {
        enum policy policy;
        struct bitmask *nodes;
        size_t chunk_bytes;
        uint64_t seed;
        bool mlock;
        int thp; /* -1 leave, 0 never, 1 always */

        struct chunk *chunks;
        size_t n_chunks;
        uint64_t next_offset;

        struct pinpipe *pipes;
        size_t n_pipes;
        size_t pinned_pages;

        size_t page_size;
        uint64_t block_bytes;
        uint64_t committed_bytes; /* commit: mapped, not touched */
};

static volatile sig_atomic_t got_usr1, got_term;

static void on_signal(int sig) {
        if (sig == SIGUSR1)
                got_usr1 = 1;
        else
                got_term = 1;
}

static uint64_t splitmix64(uint64_t x) {
        x += 0x9e3779b97f4a7c15ULL;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
        return x ^ (x >> 31);
}

static uint64_t pattern_word(const struct workload *w, uint64_t offset) {
        return splitmix64(w->seed ^ offset);
}

static double now_s(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fill_chunk(const struct workload *w, struct chunk *c) {
        uint64_t *p = (uint64_t *) c->addr;

        for (size_t i = 0; i < c->len / 8; i++)
                p[i] = pattern_word(w, c->offset + i * 8);
}

static uint64_t verify_chunk(const struct workload *w, const struct chunk *c) {
        const uint64_t *p = (const uint64_t *) c->addr;
        uint64_t wrong = 0;

        for (size_t i = 0; i < c->len / 8; i++) {
                uint64_t diff = p[i] ^ pattern_word(w, c->offset + i * 8);

                if (diff == 0)
                        continue;
                for (int b = 0; b < 8; b++)
                        if ((diff >> (8 * b)) & 0xff)
                                wrong++;
        }
        return wrong;
}

static int apply_policy(const struct workload *w, void *addr, size_t len) {
        int mode;

        switch (w->policy) {
        case POLICY_DEFAULT:
                return 0;
        case POLICY_BIND:
                mode = MPOL_BIND;
                break;
        case POLICY_PREFERRED:
                mode = MPOL_PREFERRED;
                break;
        case POLICY_INTERLEAVE:
                mode = MPOL_INTERLEAVE;
                break;
        default:
                return -EINVAL;
        }
        if (mbind(addr, len, mode, w->nodes->maskp, w->nodes->size + 1, 0) < 0)
                return -errno;
        return 0;
}

static int alloc_chunk(struct workload *w, size_t len) {
        struct chunk *n;
        void *addr;
        int r;

        n = realloc(w->chunks, (w->n_chunks + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        w->chunks = n;

        addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (addr == MAP_FAILED)
                return -errno;
        if (w->thp >= 0)
                (void) madvise(addr, len, w->thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
        r = apply_policy(w, addr, len);
        if (r < 0) {
                munmap(addr, len);
                return r;
        }

        n[w->n_chunks] = (struct chunk) { .addr = addr, .len = len, .offset = w->next_offset };
        fill_chunk(w, &n[w->n_chunks]);
        if (w->mlock && mlock(addr, len) < 0) {
                r = -errno;
                munmap(addr, len);
                return r;
        }
        w->next_offset += len;
        w->n_chunks++;
        return 0;
}

static uint64_t total_bytes(const struct workload *w) {
        uint64_t t = 0;

        for (size_t i = 0; i < w->n_chunks; i++)
                t += w->chunks[i].len;
        return t;
}

static int parse_u64(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;

        if (!s || !*s)
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 0);
        if (errno || *end || s[0] == '-')
                return -EINVAL;
        *ret = v;
        return 0;
}

static int cmd_alloc(struct workload *w, const char *arg) {
        uint64_t mib, bytes, done = 0;
        double t0 = now_s();
        int r;

        if (parse_u64(arg, &mib) < 0 || mib == 0) {
                printf("error alloc: need a size in MiB\n");
                return -EINVAL;
        }
        bytes = mib * MIB;
        while (done < bytes) {
                size_t len = bytes - done < w->chunk_bytes ? bytes - done : w->chunk_bytes;

                r = alloc_chunk(w, len);
                if (r < 0) {
                        printf("error alloc: after %" PRIu64 " bytes: %s\n", done, strerror(-r));
                        return r;
                }
                done += len;
        }
        printf("alloc bytes=%" PRIu64 " total_bytes=%" PRIu64 " chunks=%zu seconds=%.2f\n", done,
               total_bytes(w), w->n_chunks, now_s() - t0);
        return 0;
}

/* Commit MIB without touching it: a private writable mapping the kernel
 * charges to Committed_AS (vm.overcommit_memory=2 refuses it beyond
 * CommitLimit). Kept until exit; "commit bytes=N" or "error commit: ...". */
static int cmd_commit(struct workload *w, const char *arg) {
        uint64_t mib;
        void *addr;

        if (parse_u64(arg, &mib) < 0 || mib == 0) {
                printf("error commit: need a size in MiB\n");
                return -EINVAL;
        }
        addr = mmap(NULL, mib * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (addr == MAP_FAILED) {
                int e = errno;

                printf("error commit: %" PRIu64 " MiB: %s\n", mib, strerror(e));
                return -e;
        }
        w->committed_bytes += mib * MIB;
        printf("commit bytes=%" PRIu64 " committed_bytes=%" PRIu64 "\n", (uint64_t)(mib * MIB),
               w->committed_bytes);
        return 0;
}

static int cmd_verify(struct workload *w) {
        uint64_t wrong = 0, checked = 0;
        double t0 = now_s();

        for (size_t i = 0; i < w->n_chunks; i++) {
                wrong += verify_chunk(w, &w->chunks[i]);
                checked += w->chunks[i].len;
        }
        printf("verify wrong_bytes=%" PRIu64 " checked_bytes=%" PRIu64 " seconds=%.2f\n", wrong,
               checked, now_s() - t0);
        return wrong ? 1 : 0;
}

/* Frees whole chunks from the oldest on until at least 'bytes' went. */
static void free_bytes(struct workload *w, uint64_t bytes, uint64_t *ret_freed) {
        uint64_t freed = 0;
        size_t k = 0;

        while (k < w->n_chunks && freed < bytes) {
                munmap(w->chunks[k].addr, w->chunks[k].len);
                freed += w->chunks[k].len;
                k++;
        }
        memmove(w->chunks, w->chunks + k, (w->n_chunks - k) * sizeof(*w->chunks));
        w->n_chunks -= k;
        *ret_freed = freed;
}

static int cmd_free(struct workload *w, const char *cmd, const char *arg) {
        uint64_t v, bytes, freed;

        if (parse_u64(arg, &v) < 0) {
                printf("error %s: need a number\n", cmd);
                return -EINVAL;
        }
        if (strcmp(cmd, "free-part") == 0) {
                if (v > 100) {
                        printf("error free-part: percentage above 100\n");
                        return -EINVAL;
                }
                bytes = total_bytes(w) * v / 100;
        } else
                bytes = v * MIB;
        free_bytes(w, bytes, &freed);
        printf("%s freed_bytes=%" PRIu64 " total_bytes=%" PRIu64 " chunks=%zu\n", cmd, freed,
               total_bytes(w), w->n_chunks);
        return 0;
}

static int cmd_corrupt(struct workload *w, const char *arg) {
        uint64_t n, done = 0;

        if (parse_u64(arg, &n) < 0) {
                printf("error corrupt: need a byte count\n");
                return -EINVAL;
        }
        for (size_t i = 0; i < w->n_chunks && done < n; i++)
                for (size_t off = 0; off < w->chunks[i].len && done < n; off += 4097) {
                        w->chunks[i].addr[off] ^= 0x5a;
                        done++;
                }
        printf("corrupt bytes=%" PRIu64 "\n", done);
        return 0;
}

static int add_pipe(struct workload *w) {
        struct pinpipe *n, *p;
        int sz;

        n = realloc(w->pipes, (w->n_pipes + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        w->pipes = n;
        p = &n[w->n_pipes];
        if (pipe2(p->fd, O_CLOEXEC) < 0)
                return -errno;
        /* Root may grow a pipe beyond pipe-max-size; fall back to what we get. */
        (void) fcntl(p->fd[1], F_SETPIPE_SZ, 1 << 20);
        sz = fcntl(p->fd[1], F_GETPIPE_SZ);
        p->capacity = sz > 0 ? (size_t) sz / w->page_size : 16;
        p->pages = 0;
        w->n_pipes++;
        return 0;
}

struct block_count {
        uint64_t block;
        uint64_t pages;
};

static int block_count_add(struct block_count **counts, size_t *n, uint64_t block) {
        struct block_count *c;
        size_t j;

        for (j = 0; j < *n; j++)
                if ((*counts)[j].block == block) {
                        (*counts)[j].pages++;
                        return 0;
                }
        c = realloc(*counts, (*n + 1) * sizeof(*c));
        if (!c)
                return -ENOMEM;
        c[*n] = (struct block_count) { .block = block, .pages = 1 };
        *counts = c;
        (*n)++;
        return 0;
}

/* "B:N,B:N" sorted by block index, for people and for scripts. */
static void block_counts_print(struct block_count *counts, size_t n) {
        for (size_t a = 0; a < n; a++)
                for (size_t b = a + 1; b < n; b++)
                        if (counts[b].block < counts[a].block) {
                                struct block_count t = counts[a];

                                counts[a] = counts[b];
                                counts[b] = t;
                        }
        for (size_t a = 0; a < n; a++)
                printf("%s%" PRIu64 ":%" PRIu64, a ? "," : "", counts[a].block, counts[a].pages);
}

/* PFN of one mapped page from /proc/self/pagemap; 0 when unknown (not
 * present, or PFNs hidden without CAP_SYS_ADMIN). */
static uint64_t page_pfn(int pagemap_fd, const struct workload *w, const void *addr) {
        uint64_t e;
        off_t off = (off_t) ((uintptr_t) addr / w->page_size * 8);

        if (pagemap_fd < 0 || pread(pagemap_fd, &e, 8, off) != 8 || !(e & PAGEMAP_PRESENT))
                return 0;
        return e & PFN_MASK;
}

/* Pins pages: each one is vmspliced into a pipe that stays open, so the
 * page holds an extra reference and migration (and offlining) fails. */
static int cmd_pin(struct workload *w, const char *arg) {
        uint64_t n, stride = 1, done = 0, page = 0;
        struct block_count *counts = NULL;
        size_t n_counts = 0;
        char *space;
        char buf[64];
        int r = 0, pagemap_fd;

        snprintf(buf, sizeof(buf), "%s", arg ? arg : "");
        space = strchr(buf, ' ');
        if (space) {
                *space = 0;
                if (parse_u64(space + 1, &stride) < 0 || stride == 0) {
                        printf("error pin: bad stride\n");
                        return -EINVAL;
                }
        }
        if (parse_u64(buf, &n) < 0) {
                printf("error pin: need a page count\n");
                return -EINVAL;
        }
        pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
        for (size_t i = 0; i < w->n_chunks && done < n; i++) {
                for (size_t off = 0; off < w->chunks[i].len && done < n; off += w->page_size, page++) {
                        struct iovec iov = { .iov_base = w->chunks[i].addr + off, .iov_len = w->page_size };
                        struct pinpipe *p;

                        if (page % stride)
                                continue;
                        if (w->n_pipes == 0 || w->pipes[w->n_pipes - 1].pages >= w->pipes[w->n_pipes - 1].capacity) {
                                r = add_pipe(w);
                                if (r < 0) {
                                        printf("error pin: after %" PRIu64 " pages: pipe: %s\n", done, strerror(-r));
                                        goto out;
                                }
                        }
                        p = &w->pipes[w->n_pipes - 1];
                        if (vmsplice(p->fd[1], &iov, 1, SPLICE_F_NONBLOCK) != (ssize_t) w->page_size) {
                                r = -errno;
                                printf("error pin: after %" PRIu64 " pages: vmsplice: %s\n", done, strerror(-r));
                                goto out;
                        }
                        p->pages++;
                        w->pinned_pages++;
                        done++;
                        uint64_t pfn = page_pfn(pagemap_fd, w, iov.iov_base);
                        if (pfn && block_count_add(&counts, &n_counts, pfn * w->page_size / w->block_bytes) < 0) {
                                r = -ENOMEM;
                                printf("error pin: out of memory\n");
                                goto out;
                        }
                }
        }
        /* blocks= lists the memory blocks holding pinned pages (empty when
         * PFNs are hidden from us). */
        printf("pin pages=%" PRIu64 " pinned_pages=%zu pipes=%zu blocks=", done, w->pinned_pages, w->n_pipes);
        block_counts_print(counts, n_counts);
        printf("\n");
out:
        if (pagemap_fd >= 0)
                close(pagemap_fd);
        free(counts);
        return r;
}

static void unpin_all(struct workload *w) {
        for (size_t i = 0; i < w->n_pipes; i++) {
                close(w->pipes[i].fd[0]);
                close(w->pipes[i].fd[1]);
        }
        free(w->pipes);
        w->pipes = NULL;
        w->n_pipes = 0;
        w->pinned_pages = 0;
}

static int read_block_bytes(uint64_t *ret) {
        char buf[64] = "";
        ssize_t n;
        int fd;

        fd = open("/sys/devices/system/memory/block_size_bytes", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return -EIO;
        buf[n] = 0;
        *ret = strtoull(buf, NULL, 16);
        return *ret ? 0 : -EIO;
}

/* PFNs of our pages from /proc/self/pagemap (needs CAP_SYS_ADMIN, else
 * every PFN reads 0). Prints the range and the pages per memory block. */
static int cmd_pfns(struct workload *w) {
        struct block_count *counts = NULL;
        size_t n_counts = 0;
        uint64_t present = 0, min = UINT64_MAX, max = 0, zero_pfn = 0;
        uint64_t *entries = NULL;
        int fd, r = 0;

        fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                printf("error pfns: /proc/self/pagemap: %s\n", strerror(errno));
                return -errno;
        }
        for (size_t i = 0; i < w->n_chunks; i++) {
                size_t pages = w->chunks[i].len / w->page_size;
                off_t off = (off_t) ((uintptr_t) w->chunks[i].addr / w->page_size * 8);
                uint64_t *e = realloc(entries, pages * 8);

                if (!e) {
                        r = -ENOMEM;
                        goto out;
                }
                entries = e;
                if (pread(fd, entries, pages * 8, off) != (ssize_t) (pages * 8)) {
                        r = -EIO;
                        goto out;
                }
                for (size_t k = 0; k < pages; k++) {
                        uint64_t pfn, block;

                        if (!(entries[k] & PAGEMAP_PRESENT))
                                continue;
                        pfn = entries[k] & PFN_MASK;
                        present++;
                        if (pfn == 0) {
                                zero_pfn++;
                                continue;
                        }
                        if (pfn < min)
                                min = pfn;
                        if (pfn > max)
                                max = pfn;
                        block = pfn * w->page_size / w->block_bytes;
                        if (block_count_add(&counts, &n_counts, block) < 0) {
                                r = -ENOMEM;
                                goto out;
                        }
                }
        }
        if (zero_pfn == present && present > 0) {
                printf("error pfns: pagemap hides PFNs (needs CAP_SYS_ADMIN)\n");
                r = -EPERM;
                goto out;
        }
        printf("pfns present=%" PRIu64 " min=0x%" PRIx64 " max=0x%" PRIx64 " blocks=", present,
               present ? min : 0, max);
        block_counts_print(counts, n_counts);
        printf("\n");
out:
        if (r == -EIO || r == -ENOMEM)
                printf("error pfns: %s\n", strerror(-r));
        free(counts);
        free(entries);
        close(fd);
        return r;
}

/* Every page through move_pages(2) in batches: to node target, or, when
 * target < 0, only asking where each page is. Counts by resulting node. */
static int move_all(struct workload *w, int target, uint64_t per_node[64], uint64_t *absent,
                    uint64_t *other) {
        enum { BATCH = 4096 };
        void *pages[BATCH];
        int status[BATCH], nodes[BATCH];

        for (size_t j = 0; j < BATCH; j++)
                nodes[j] = target;
        for (size_t i = 0; i < w->n_chunks; i++) {
                size_t n = w->chunks[i].len / w->page_size;

                for (size_t k = 0; k < n; k += BATCH) {
                        size_t m = n - k < BATCH ? n - k : BATCH;

                        for (size_t j = 0; j < m; j++) {
                                pages[j] = w->chunks[i].addr + (k + j) * w->page_size;
                                status[j] = -1;
                        }
                        if (numa_move_pages(0, m, pages, target < 0 ? NULL : nodes, status,
                                            target < 0 ? 0 : MPOL_MF_MOVE) < 0)
                                return -errno;
                        for (size_t j = 0; j < m; j++) {
                                if (status[j] >= 0 && status[j] < 64)
                                        per_node[status[j]]++;
                                else if (status[j] == -ENOENT || status[j] == -EFAULT)
                                        (*absent)++;
                                else
                                        (*other)++;
                        }
                }
        }
        return 0;
}

static void print_nodes(const uint64_t per_node[64], uint64_t absent, uint64_t other) {
        int max_node = numa_max_node();

        for (int n = 0; n <= max_node && n < 64; n++)
                printf(" node%d=%" PRIu64, n, per_node[n]);
        printf(" absent=%" PRIu64 " other=%" PRIu64 "\n", absent, other);
}

/* Which node each page is on, from move_pages(2) without moving. */
static int cmd_nodes(struct workload *w) {
        uint64_t per_node[64] = { 0 }, absent = 0, other = 0;
        int r = move_all(w, -1, per_node, &absent, &other);

        if (r < 0) {
                printf("error nodes: move_pages: %s\n", strerror(-r));
                return r;
        }
        printf("nodes");
        print_nodes(per_node, absent, other);
        return 0;
}

/* Move every page to a node with move_pages(2), timed: the rate userspace
 * migration reaches, for comparison with the kernel's offline migration. */
static int cmd_migrate(struct workload *w, const char *arg) {
        uint64_t per_node[64] = { 0 }, absent = 0, other = 0, node;
        struct timespec a, b;
        double secs;
        int r;

        if (parse_u64(arg, &node) < 0 || node > (uint64_t) numa_max_node()) {
                printf("error migrate: need a node number\n");
                return -EINVAL;
        }
        clock_gettime(CLOCK_MONOTONIC, &a);
        r = move_all(w, (int) node, per_node, &absent, &other);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (r < 0) {
                printf("error migrate: move_pages: %s\n", strerror(-r));
                return r;
        }
        secs = (double) (b.tv_sec - a.tv_sec) + (double) (b.tv_nsec - a.tv_nsec) / 1e9;
        printf("migrate seconds=%.3f pages=%" PRIu64 " pages_per_s=%.0f", secs,
               total_bytes(w) / w->page_size, secs > 0 ? (double) (total_bytes(w) / w->page_size) / secs : 0);
        print_nodes(per_node, absent, other);
        return 0;
}

static int cmd_hold(void) {
        sigset_t none;

        sigemptyset(&none);
        got_usr1 = 0;
        while (!got_usr1 && !got_term)
                sigsuspend(&none);
        printf("hold ended_by=%s\n", got_term ? "SIGTERM" : "SIGUSR1");
        return 0;
}

static int cmd_sleep(const char *arg) {
        uint64_t s;

        if (parse_u64(arg, &s) < 0) {
                printf("error sleep: need seconds\n");
                return -EINVAL;
        }
        for (uint64_t i = 0; i < s * 10 && !got_term; i++)
                usleep(100000);
        printf("sleep seconds=%" PRIu64 "\n", s);
        return 0;
}

/* Returns 1 when the program should stop, 0 to go on. The status of
 * the last failing command is kept in *status. */
static int run_command(struct workload *w, char *line, int *status) {
        char *cmd, *arg;
        int r;

        line[strcspn(line, "\r\n")] = 0;
        cmd = line + strspn(line, " \t");
        if (!*cmd || *cmd == '#')
                return 0;
        arg = strchr(cmd, ' ');
        if (arg) {
                *arg++ = 0;
                arg += strspn(arg, " \t");
        }

        if (strcmp(cmd, "alloc") == 0)
                r = cmd_alloc(w, arg);
        else if (strcmp(cmd, "verify") == 0)
                r = cmd_verify(w);
        else if (strcmp(cmd, "commit") == 0)
                r = cmd_commit(w, arg);
        else if (strcmp(cmd, "free") == 0 || strcmp(cmd, "free-part") == 0)
                r = cmd_free(w, cmd, arg);
        else if (strcmp(cmd, "corrupt") == 0)
                r = cmd_corrupt(w, arg);
        else if (strcmp(cmd, "pin") == 0)
                r = cmd_pin(w, arg);
        else if (strcmp(cmd, "unpin") == 0) {
                unpin_all(w);
                printf("unpin\n");
                r = 0;
        } else if (strcmp(cmd, "pfns") == 0)
                r = cmd_pfns(w);
        else if (strcmp(cmd, "nodes") == 0)
                r = cmd_nodes(w);
        else if (strcmp(cmd, "migrate") == 0)
                r = cmd_migrate(w, arg);
        else if (strcmp(cmd, "status") == 0) {
                printf("status total_bytes=%" PRIu64 " chunks=%zu pinned_pages=%zu pid=%d\n",
                       total_bytes(w), w->n_chunks, w->pinned_pages, (int) getpid());
                r = 0;
        } else if (strcmp(cmd, "sleep") == 0)
                r = cmd_sleep(arg);
        else if (strcmp(cmd, "hold") == 0)
                r = cmd_hold();
        else if (strcmp(cmd, "exit") == 0 || strcmp(cmd, "quit") == 0) {
                printf("exit\n");
                return 1;
        } else {
                printf("error %s: unknown command\n", cmd);
                r = -EINVAL;
        }
        if (r != 0)
                *status = 1;
        return got_term ? 1 : 0;
}

static void help(const char *prog) {
        printf("usage: %s [OPTIONS]\n"
               "\n"
               "Allocates memory under a NUMA policy, fills it with a seeded pattern and\n"
               "runs commands on it: those given with -e, then those read from stdin (one\n"
               "a line) unless -e was given without --stdin. Each command prints one line\n"
               "starting with its name, or \"error NAME: reason\".\n"
               "\n"
               "Options:\n"
               "  -p, --policy P       default | bind | preferred | interleave (default: default)\n"
               "  -n, --nodes LIST     nodes for the policy, e.g. 1 or 0-1 (default: all)\n"
               "  -s, --size MIB       allocate MIB at start (same as -e 'alloc MIB' first)\n"
               "  -c, --chunk MIB      allocation unit, freed as a whole (default 16)\n"
               "      --seed N         pattern seed (default 1)\n"
               "      --thp MODE       always | never | default: madvise for transparent huge pages\n"
               "      --mlock          mlock every chunk\n"
               "  -e, --exec CMD       run CMD (repeatable)\n"
               "      --stdin          read stdin after the -e commands\n"
               "  -h, --help           this text\n"
               "\n"
               "Commands:\n"
               "  alloc MIB            allocate, touch and fill MIB more\n"
               "  commit MIB           map MIB more without touching it (Committed_AS)\n"
               "  verify               check the pattern: verify wrong_bytes=W checked_bytes=C\n"
               "  free MIB             free the oldest chunks, at least MIB\n"
               "  free-part PCT        free the oldest chunks, at least PCT%% of the total\n"
               "  pin N [STRIDE]       pin N pages (every STRIDE-th) by vmsplicing them into pipes\n"
               "  unpin                close the pipes\n"
               "  pfns                 PFN range and pages per memory block (root)\n"
               "  nodes                pages per NUMA node\n"
               "  migrate NODE         move every page to NODE with move_pages, timed\n"
               "  status               bytes held, chunks, pinned pages, pid\n"
               "  corrupt N            flip N bytes (to test verify)\n"
               "  sleep S              sleep S seconds\n"
               "  hold                 wait for SIGUSR1 (SIGTERM ends the program)\n"
               "  exit                 free everything and exit\n"
               "\n"
               "Exit status: 0, or 1 if a command failed or verify found wrong bytes.\n",
               prog);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "policy", required_argument, NULL, 'p' }, { "nodes", required_argument, NULL, 'n' },
                { "size", required_argument, NULL, 's' },   { "chunk", required_argument, NULL, 'c' },
                { "seed", required_argument, NULL, 'S' },   { "thp", required_argument, NULL, 'T' },
                { "mlock", no_argument, NULL, 'm' },        { "exec", required_argument, NULL, 'e' },
                { "stdin", no_argument, NULL, 'I' },        { "help", no_argument, NULL, 'h' },
                {},
        };
        struct workload w = { .policy = POLICY_DEFAULT, .chunk_bytes = 16 * MIB, .seed = 1, .thp = -1 };
        const char *nodes_arg = NULL;
        char **execs = NULL;
        size_t n_execs = 0;
        bool use_stdin = false;
        uint64_t size_mib = 0, v;
        struct sigaction sa = { .sa_handler = on_signal };
        char *line = NULL;
        size_t cap = 0;
        int opt, status = 0;

        while ((opt = getopt_long(argc, argv, "p:n:s:c:e:h", options, NULL)) >= 0) {
                switch (opt) {
                case 'p':
                        if (strcmp(optarg, "default") == 0)
                                w.policy = POLICY_DEFAULT;
                        else if (strcmp(optarg, "bind") == 0)
                                w.policy = POLICY_BIND;
                        else if (strcmp(optarg, "preferred") == 0)
                                w.policy = POLICY_PREFERRED;
                        else if (strcmp(optarg, "interleave") == 0)
                                w.policy = POLICY_INTERLEAVE;
                        else {
                                fprintf(stderr, "unknown policy '%s'\n", optarg);
                                return 2;
                        }
                        break;
                case 'n':
                        nodes_arg = optarg;
                        break;
                case 's':
                        if (parse_u64(optarg, &size_mib) < 0) {
                                fprintf(stderr, "bad size '%s'\n", optarg);
                                return 2;
                        }
                        break;
                case 'c':
                        if (parse_u64(optarg, &v) < 0 || v == 0 || v > 65536) {
                                fprintf(stderr, "bad chunk size '%s'\n", optarg);
                                return 2;
                        }
                        w.chunk_bytes = v * MIB;
                        break;
                case 'S':
                        if (parse_u64(optarg, &w.seed) < 0) {
                                fprintf(stderr, "bad seed '%s'\n", optarg);
                                return 2;
                        }
                        break;
                case 'T':
                        if (strcmp(optarg, "always") == 0)
                                w.thp = 1;
                        else if (strcmp(optarg, "never") == 0)
                                w.thp = 0;
                        else if (strcmp(optarg, "default") == 0)
                                w.thp = -1;
                        else {
                                fprintf(stderr, "bad --thp '%s'\n", optarg);
                                return 2;
                        }
                        break;
                case 'm':
                        w.mlock = true;
                        break;
                case 'e': {
                        char **n = realloc(execs, (n_execs + 1) * sizeof(*n));

                        if (!n)
                                return 2;
                        execs = n;
                        execs[n_execs++] = optarg;
                        break;
                }
                case 'I':
                        use_stdin = true;
                        break;
                case 'h':
                        help(argv[0]);
                        return 0;
                default:
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "unexpected argument '%s' (see --help)\n", argv[optind]);
                return 2;
        }
        if (n_execs == 0)
                use_stdin = true;

        if (numa_available() < 0) {
                fprintf(stderr, "NUMA is not available on this system\n");
                return 2;
        }
        if (nodes_arg) {
                w.nodes = numa_parse_nodestring(nodes_arg);
                if (!w.nodes) {
                        fprintf(stderr, "bad node list '%s'\n", nodes_arg);
                        return 2;
                }
        } else {
                w.nodes = numa_allocate_nodemask();
                copy_bitmask_to_bitmask(numa_all_nodes_ptr, w.nodes);
        }

        w.page_size = (size_t) sysconf(_SC_PAGESIZE);
        if (read_block_bytes(&w.block_bytes) < 0)
                w.block_bytes = 128 * MIB;

        setvbuf(stdout, NULL, _IOLBF, 0);
        sigaction(SIGUSR1, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);

        if (size_mib) {
                char buf[32];

                snprintf(buf, sizeof(buf), "alloc %" PRIu64, size_mib);
                if (run_command(&w, buf, &status))
                        goto done;
        }
        for (size_t i = 0; i < n_execs; i++) {
                char *copy = strdup(execs[i]);
                int stop;

                if (!copy)
                        return 2;
                stop = run_command(&w, copy, &status);
                free(copy);
                if (stop)
                        goto done;
        }
        if (use_stdin)
                while (!got_term && getline(&line, &cap, stdin) >= 0)
                        if (run_command(&w, line, &status))
                                break;
done:
        free(line);
        free(execs);
        unpin_all(&w);
        for (size_t i = 0; i < w.n_chunks; i++)
                munmap(w.chunks[i].addr, w.chunks[i].len);
        free(w.chunks);
        numa_free_nodemask(w.nodes);
        return status;
}
