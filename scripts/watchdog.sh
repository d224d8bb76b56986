# Sourced by test.sh: run a step with a deadline that cannot hang.
#
# A FUSE server that hangs, or one stuck exiting while a file on its own
# mount is still open, blocks its process (and anything that touches the
# mount) beyond the reach of SIGKILL. `timeout` alone cannot end that; aborting
# the FUSE connection through fusectl can. So a step that overruns prints what
# was stuck, aborts every FUSE connection, kills its process group and fails,
# instead of silently eating the whole CI budget.

fusectl=/sys/fs/fuse/connections

ensure_fusectl() {
  if [ "$(id -u)" = 0 ] && [ -d "$fusectl" ] && ! grep -q " $fusectl fusectl " /proc/mounts; then
    mount -t fusectl fusectl "$fusectl" 2>/dev/null || true
  fi
}

# stuck_report prints processes, their kernel stacks where blocked, and the
# FUSE mounts still present.
stuck_report() {
  echo "---- processes"
  ps -eo pid,ppid,pgid,stat,wchan:30,etime,args --sort=pid | grep -v ' \[' || true
  for pid in $(ps -eo pid=,stat= | awk '$2 ~ /D/ {print $1}'); do
    echo "---- kernel stack of blocked pid $pid ($(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null))"
    cat /proc/$pid/stack 2>/dev/null || true
  done
  echo "---- fuse mounts"
  awk '$3 == "fuse" || $3 ~ /^fuse\./' /proc/mounts
}

# abort_fuse ends the FUSE connections made since the step began (those not
# in $1, the list of connections before it) and lazily detaches their
# mounts, so that processes blocked on a dead or hung server return with
# errors. Other FUSE mounts of the machine are left alone.
abort_fuse() {
  local before=" $1 " c
  for c in "$fusectl"/*; do
    [ -e "$c/abort" ] || continue
    case "$before" in *" ${c##*/} "*) continue ;; esac
    echo 1 > "$c/abort" 2>/dev/null || true
    awk -v dev="0:${c##*/}" '$3 == dev {print $5}' /proc/self/mountinfo | while read -r m; do
      umount -l "$m" 2>/dev/null || true
    done
  done
}

# step NAME SECONDS CMD...: runs CMD in its own process group; fails the run
# with a report if it has not finished after SECONDS.
step() {
  local name=$1 limit=$2
  shift 2
  echo "== $name (limit ${limit}s)"
  local start=$SECONDS flag before
  flag=$(mktemp)
  before=$(ls "$fusectl" 2>/dev/null | tr '\n' ' ')
  setsid "$@" &
  local pid=$!
  (
    for ((i = 0; i < limit; i++)); do
      sleep 1
      [ -s "$flag" ] && exit 0
    done
    echo "!! $name still running after ${limit}s: reporting, aborting FUSE connections, killing it" >&2
    echo timeout > "$flag"
    stuck_report >&2
    abort_fuse "$before"
    kill -KILL -- "-$pid" 2>/dev/null || true
    sleep 5
    abort_fuse "$before"
  ) &
  local watcher=$!
  local rc=0
  wait "$pid" || rc=$?
  [ -s "$flag" ] || echo done > "$flag"
  wait "$watcher" 2>/dev/null || true
  if grep -q timeout "$flag"; then rc=124; fi
  rm -f "$flag"
  echo "== $name: exit $rc after $((SECONDS - start))s"
  if [ "$rc" != 0 ]; then
    exit "$rc"
  fi
}
