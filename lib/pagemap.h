/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Page location: which (pid, virtual address) map the pages of a PFN range
 * (a memory block). Walks <procfs>/PID/maps and <procfs>/PID/pagemap of every
 * process, all relative to a procfs root fd, so tests use a fake tree.
 *
 * Pagemap entries: bit 63 present, bits 0-54 PFN. The PFN reads 0 unless the
 * opener of pagemap had CAP_SYS_ADMIN; that is detected and reported as
 * -EPERM rather than as "nothing found".
 *
 * With an open /proc/kpageflags (or a saved copy indexed the same way), the
 * locator reports a THP or other large folio once, by the address of its
 * head, and drops the zero page (KPF_ZERO_PAGE). A tail page is left out when
 * the virtual page before it maps the PFN before it (same folio, already
 * reported). A tail without that is reported too: when the pages before it
 * in the same VMA map the preceding PFNs back to the folio's head, by the
 * head's address even if the head lies outside the range; otherwise (a
 * PTE-mapped piece of a folio) by its own address: any address in a folio
 * makes move_pages move the whole folio. The range's flag words are read
 * once, before the walk; a page that changes meanwhile may be reported
 * twice or by a tail address, which move_pages tolerates.
 * Without kpageflags every present page is reported, zero page included:
 * move_pages answers -EFAULT for the zero page and -EBUSY for the tails of a
 * folio that moved with its head.
 *
 * Cost: pagemap is read (8 bytes per virtual page, in reads of up to
 * PAGEMAP_CHUNK_ENTRIES) only where pages are present. With PAGEMAP_SCAN
 * (Linux 6.7) the kernel lists each VMA's present ranges first, so the walk
 * grows with what is resident, not with the mapped address space. Without
 * it, a sparse process (statm: address space over 4 times the resident set
 * and 64 MiB larger) is read through smaps, and VMAs with no Rss are
 * skipped; a VMA with anything resident is read whole. Other processes read
 * every page of every VMA, as PAGEMAP_LOCATE_FULL_WALK does for all
 * (bench/locate-bench compares the three). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One line of /proc/PID/maps:
 *   start-end perms offset major:minor inode [path]
 * path points into the parsed line and is not NUL-terminated: use path_len.
 * path is NULL when the mapping has no name (anonymous memory). */
typedef struct MapsEntry {
        uint64_t start;
        uint64_t end;  /* exclusive */
        char perms[5]; /* "rw-p", NUL-terminated */
        uint64_t offset;
        uint32_t dev_major;
        uint32_t dev_minor;
        uint64_t inode;
        const char *path;
        size_t path_len; /* without the " (deleted)" suffix */
        bool deleted;    /* the path ended in " (deleted)" */
} MapsEntry;

/* Parse one maps line (ending at '\n' or NUL). Pure: no I/O, no allocation,
 * safe on any input. Returns 0, or -EINVAL for a line that is not a maps
 * line (ret untouched). */
int maps_parse_line(const char *line, MapsEntry *ret);

/* Whether a mapping can hold migratable pages as far as its name tells:
 * false for the kernel's special mappings ([vdso], [vvar], [vvar_vclock],
 * [vsyscall], [uprobes]). VM_IO/VM_PFNMAP mappings cannot be recognised from
 * maps; move_pages answers -EFAULT for their pages. */
bool maps_entry_is_migratable(const MapsEntry *e);

typedef struct PageLocation {
        pid_t pid;
        uint32_t pages; /* pages of the range it maps from addr on: 1, or the folio's
                         * pages the walk saw mapped in a row */
        uint64_t addr;  /* virtual address of the page (of the head for a folio) */
} PageLocation;

/* Result of a walk: items sorted by pid, then address, without duplicates. */
typedef struct PageLocations {
        PageLocation *items;
        size_t n_items;
        size_t n_allocated;

        uint64_t processes_scanned; /* PID directories whose maps were read */
        uint64_t processes_gone;    /* exited or unmapped during the walk */
        uint64_t processes_denied;  /* maps or pagemap not readable (EACCES) */
        uint64_t pages_found;       /* == n_items */
        uint64_t pagemap_bytes;     /* bytes of pagemap read */
        uint64_t pagemap_scans;     /* PAGEMAP_SCAN calls made */
        uint64_t processes_smaps;   /* processes walked through smaps (sparse, no PAGEMAP_SCAN) */
        uint64_t vmas_skipped;      /* VMAs smaps showed with nothing resident */
} PageLocations;

/* Frees the items and resets all counters. Takes NULL. */
void page_locations_free(PageLocations *l);

static inline uint64_t page_locations_skipped(const PageLocations *l)
{
        return l->processes_gone + l->processes_denied;
}

typedef enum PagemapLocateFlags {
        PAGEMAP_LOCATE_SKIP_SELF = 1 << 0, /* do not report the caller's own pages */
        PAGEMAP_LOCATE_NO_SCAN = 1 << 1,   /* as if the kernel had no PAGEMAP_SCAN */
        PAGEMAP_LOCATE_FULL_WALK = 1 << 2, /* read every virtual page (no PAGEMAP_SCAN,
                                            * no smaps): the reference for tests and
                                            * benchmarks */
} PagemapLocateFlags;

/* Entries read from pagemap with one pread at most (512 KiB). */
#define PAGEMAP_CHUNK_ENTRIES (64u * 1024u)

/* Find every mapped page of [start_pfn, start_pfn + count) in all processes
 * below procfs_fd (numeric directories only). kpageflags_fd is an open
 * kpageflags file, or -1.
 *
 * Processes that vanish (ENOENT/ESRCH, or a VMA that reads short) are
 * skipped and counted in processes_gone; processes whose maps or pagemap may
 * not be read (EACCES/EPERM at open) are counted in processes_denied.
 *
 * Returns the number of pages found and fills *ret (overwritten, free it
 * with page_locations_free()); or -EPERM when pagemap hides PFNs from the
 * caller (no CAP_SYS_ADMIN: then every process would read as empty),
 * -ENOMEM, -EINVAL for an empty or overflowing range, or -errno of the
 * procfs directory or kpageflags read. ret is untouched on failure. */
int pagemap_locate_range(int procfs_fd, int kpageflags_fd, uint64_t start_pfn, uint64_t count,
                         unsigned flags, PageLocations *ret);

/* The same, only in the processes of user owner (the owner of
 * procfs_fd/PID); (uid_t)-1: every process. */
int pagemap_locate_range_of(int procfs_fd, int kpageflags_fd, uint64_t start_pfn, uint64_t count,
                            unsigned flags, uid_t owner, PageLocations *ret);

/* The same for one process, appending to acc (items in walk order; counters
 * processes_scanned and pagemap_bytes updated). kpageflags_fd as above; its
 * flag words for the range are read on each call. Returns the number of
 * pages appended, or -ENOENT/-ESRCH (gone), -EACCES (denied), -EPERM (PFNs
 * hidden: all present pages read PFN 0), -ENOMEM. acc is unchanged on
 * failure. */
int pagemap_locate_pid(int procfs_fd, pid_t pid, int kpageflags_fd, uint64_t start_pfn,
                       uint64_t count, unsigned flags, PageLocations *acc);
