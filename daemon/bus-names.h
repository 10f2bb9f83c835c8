/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The D-Bus names of mempowerd, shared by the daemon and mempowerctl. The
 * bus policy (conf/org.mempowerd1.conf) and the unit's BusName= spell the
 * same strings. */

#define MEMPOWERD_BUS_NAME      "org.mempowerd1"
#define MEMPOWERD_BUS_PATH      "/org/mempowerd1"
#define MEMPOWERD_BUS_INTERFACE "org.mempowerd1.Manager"

/* Reload() with a configuration that does not parse; the message says
 * PATH:LINE: reason. */
#define MEMPOWERD_ERROR_BAD_CONFIG "org.mempowerd1.BadConfiguration"

/* ListBlocks() returns one struct per memory block, lowest index first:
 * index (u), node (i, -1: none), state (s), zones (s), counted (b: the usage
 * below comes from a count), pages (t, per block), free, movable, unmovable,
 * hugetlb (t, pages), offlinable (b), intent (s: what the daemon would do,
 * or why not), start address (t, bytes), unknown and no-page pages (t),
 * owned (b: offline because mempowerd took it offline), power domain (s, ""
 * none). */
#define MEMPOWERD_BLOCK_SIGNATURE "(uissbtttttbstttbs)"
#define MEMPOWERD_BLOCKS_SIGNATURE "a" MEMPOWERD_BLOCK_SIGNATURE

/* ListDomains() returns one struct per power domain, lowest block first:
 * name (s: "node1", "PNP0C80:00", "region@0x100000000", "memory32"), kind
 * (s: node, device, region, block), source (s: "acpi", "dax", "cxl", a
 * driver, or the kind), node (i, -1: several), first block (u), blocks (u),
 * online (u), offline (u), used and movable bytes in its online blocks (t),
 * eligible (b: it would be emptied from here), action (s: "offline",
 * "evacuate", "offlined", or why not), watts (d: its estimated saving when
 * offline whole), saving (b: offline whole by mempowerd now), last block (u). */
#define MEMPOWERD_DOMAIN_SIGNATURE "(sssiuuuuttbsdbu)"
#define MEMPOWERD_DOMAINS_SIGNATURE "a" MEMPOWERD_DOMAIN_SIGNATURE

/* ExplainBlock(u index) answers what holds a memory block, looked at now:
 *  - a{sv} about the block: Index (u), State, Zones, Domain, Action,
 *    LastFailure (s), Node (i), PageSize, SizeBytes, StartAddress,
 *    FreeBytes, MovableBytes, UnmovableBytes, UnknownBytes, HugetlbBytes
 *    (t: from a count made for the answer, or the daemon's last one for an
 *    offline block), Counted, Owned, Held (b: waiting for its usage to
 *    change after the kernel refused it), FailedAttempts (u),
 *    NextTryUSec, LastFailureAgoUSec (t: from now; 0 none), Looked (b: the
 *    pages and processes were looked at), LookError (s), ProcessesScanned,
 *    ProcessesDenied, HoldersBytes (t), RangesTotal, HoldersTotal (u),
 *    OwnProcessesOnly (b: only the caller's processes were looked at);
 *  - its unmovable, unknown and hugetlb pages as ranges: first PFN,
 *    pages, the kpageflags bits that group them (t), class and flag names
 *    (s), at most 64; for root only (physical addresses, as kpageflags);
 *  - the processes that map its pages, largest first: pid, uid (u),
 *    command, systemd unit, cgroup (s), bytes of the block mapped (t); for
 *    a caller other than root only its own processes are looked at. */
#define MEMPOWERD_EXPLAIN_RANGE_SIGNATURE  "(tttss)"
#define MEMPOWERD_EXPLAIN_HOLDER_SIGNATURE "(uussst)"
#define MEMPOWERD_EXPLAIN_SIGNATURE                                                                \
        "a{sv}a" MEMPOWERD_EXPLAIN_RANGE_SIGNATURE "a" MEMPOWERD_EXPLAIN_HOLDER_SIGNATURE
#define MEMPOWERD_ERROR_NO_SUCH_BLOCK "org.mempowerd1.NoSuchBlock"

/* State property values: Pause() wins over DryRun. */
#define MEMPOWERD_STATE_RUNNING "running"
#define MEMPOWERD_STATE_PAUSED  "paused"
#define MEMPOWERD_STATE_DRY_RUN "dry-run"
