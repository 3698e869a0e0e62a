#!/bin/sh
# host_limit.sh VMSIM TRACE: replay TRACE under a 1 GiB address-space
# limit; a machine the host cannot hold must be the trace's error: exit
# status 2 and a message saying so.
err=$( (ulimit -v 1048576 && exec "$1" replay "$2") 2>&1 >/dev/null)
rc=$?
if [ "$rc" -ne 2 ]; then
    echo "exit status $rc, want 2: $err" >&2
    exit 1
fi
case "$err" in
*"system: the host cannot hold this machine"*) exit 0 ;;
*) echo "unexpected message: $err" >&2; exit 1 ;;
esac
