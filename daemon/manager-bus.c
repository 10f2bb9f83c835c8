/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "manager-bus.h"

int manager_bus_setup(Manager *m)
{
        return 0;
}

void manager_bus_close(Manager *m)
{
}

void manager_bus_emit_block_state(Manager *m, uint32_t index, BlockState state)
{
}

void manager_bus_emit_evacuation_failed(Manager *m, uint32_t index, const char *reason)
{
}

void manager_bus_flush_properties(Manager *m)
{
}
