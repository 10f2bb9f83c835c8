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
 * or why not). */
#define MEMPOWERD_BLOCK_SIGNATURE "(uissbtttttbs)"
#define MEMPOWERD_BLOCKS_SIGNATURE "a" MEMPOWERD_BLOCK_SIGNATURE

/* ListDomains() returns one struct per power domain, lowest block first:
 * name (s: "node1", "PNP0C80:00", "region@0x100000000", "memory32"), kind
 * (s: node, device, region, block), source (s: "acpi", "dax", "cxl", a
 * driver, or the kind), node (i, -1: several), first block (u), blocks (u),
 * online (u), offline (u), used and movable bytes in its online blocks (t),
 * eligible (b: it would be emptied from here), action (s: "offline",
 * "evacuate", "offlined", or why not), watts (d: its estimated saving when
 * offline whole), saving (b: offline whole by mempowerd now). */
#define MEMPOWERD_DOMAIN_SIGNATURE "(sssiuuuuttbsdb)"
#define MEMPOWERD_DOMAINS_SIGNATURE "a" MEMPOWERD_DOMAIN_SIGNATURE

/* State property values: Pause() wins over DryRun. */
#define MEMPOWERD_STATE_RUNNING "running"
#define MEMPOWERD_STATE_PAUSED  "paused"
#define MEMPOWERD_STATE_DRY_RUN "dry-run"
