/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The org.mempowerd1.Manager D-Bus interface of the daemon. */

#include <stdint.h>
#include <stdio.h>

#include "manager.h"

/* Connect to the system bus, publish the object and take the name. */
int manager_bus_setup(Manager *m);
void manager_bus_close(Manager *m);
/* Emit BlockOffline/BlockOnline for a block whose state changed. */
void manager_bus_emit_block_state(Manager *m, uint32_t index, BlockState state);
/* Emit EvacuationFailed with a reason. */
void manager_bus_emit_evacuation_failed(Manager *m, uint32_t index, const char *reason);
/* Emit PropertiesChanged for what changed since the last call (end of a tick). */
void manager_bus_flush_properties(Manager *m);
/* --bus-introspect: the introspection XML of the object (interface NULL or
 * "" or MEMPOWERD_BUS_INTERFACE), or the interfaces one a line ("list"),
 * without a bus. -ENOENT for an interface it does not have. */
int manager_bus_introspect(Manager *m, const char *interface, FILE *out);
