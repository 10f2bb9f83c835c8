# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# A private system bus for the bus and fault suites and the daemon-cpu
# benchmark: dbus-daemon with the system bus's default policy plus
# mempowerd's own (conf/org.mempowerd1.conf), so that, as on a real machine,
# only root owns org.mempowerd1 and calls its control methods, and anyone
# reads it.
#
#   private_bus_start DIR POLICY   start it, its socket in DIR; exports
#                                  DBUS_SYSTEM_BUS_ADDRESS and sets
#                                  private_bus_pid. Returns 1 when it did not
#                                  start (dbus-daemon's errors: DIR/bus.log).
#   private_bus_stop               stop it (nothing when not started)

private_bus_pid=""

private_bus_start() {
        local dir=$1 policy=$2 out
        cat >"$dir/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path=$dir/system_bus_socket</listen>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
  <include>$policy</include>
</busconfig>
EOF
        out=$(dbus-daemon --config-file="$dir/bus.conf" --fork --print-address=1 --print-pid=1 \
                2>"$dir/bus.log") || return 1
        { read -r DBUS_SYSTEM_BUS_ADDRESS && read -r private_bus_pid; } <<<"$out"
        export DBUS_SYSTEM_BUS_ADDRESS
}

private_bus_stop() {
        [ -z "$private_bus_pid" ] || kill -TERM "$private_bus_pid" 2>/dev/null || true
        private_bus_pid=""
}
