#!/usr/bin/env bash
# A private Open vSwitch (ovsdb-server + ovs-vswitchd) in one folder, without systemd
# (recipes/environment.md, Recipe B).
#
#   scripts/ovs-sandbox.sh start DIR [--netns NAME]
#                                      creates DIR if needed, starts both daemons, waits until ovs-vsctl
#                                      answers, prints the exports: eval "$(scripts/ovs-sandbox.sh start DIR)"
#   scripts/ovs-sandbox.sh stop DIR    asks each daemon to exit (by its pidfile's PID), waits for it to go,
#                                      then SIGTERM/SIGKILL by PID as a fallback
#   scripts/ovs-sandbox.sh env DIR     prints the exports
#
# start on a running sandbox says so and exits 0; stop on a stopped one too. stop keeps conf.db and the logs
# (a later start reuses the database); remove DIR yourself when done. Nothing outside DIR is touched, except the
# tap devices the userspace datapath makes for the sandbox's bridges, which `exit --cleanup` removes, a lock,
# and with --netns the namespace.
#
# Only one ovs-vswitchd per network namespace can use the userspace datapath (its devices, ovs-netdev and one
# per bridge, live in the namespace it runs in), so start takes a lock for the namespace before it starts
# ovs-vswitchd and stop releases it: a second sandbox in the same namespace waits (up to LABWIRE_SANDBOX_WAIT
# seconds, default 900) until the first one stops. The lock is the folder
# $LABWIRE_LOCK_DIR/labwire-ovs-userspace[-NAME].lock (default /tmp/...); a lock whose sandbox is no longer
# running (its ovs-vswitchd gone for more than 30 s) is stale and taken over.
#
# --netns NAME runs both daemons in network namespace NAME (`ip netns exec`), made
# (with its loopback up) when it does not exist and then deleted again by stop. start without --netns on a
# sandbox that runs in a namespace says it is running, as for one on the host. Sandboxes in different
# namespaces run side by side, even with the same bridge names, and do not wait for each other. The exports
# then include LABWIRE_OVS_NETNS=NAME (on the host: unset LABWIRE_OVS_NETNS), which makes labwire's ovs
# backend run its host-side programs (ip, tcpdump, QEMU, ...) in the namespace too (`labwire --ovs-netns
# NAME`). stop needs no --netns: the sandbox's
# folder remembers its namespace. (LABWIRE_OVS_NETNS in the environment, as an earlier eval of the exports
# leaves it, does not choose the namespace of a new sandbox: only --netns does.)
# Messages go to standard error; standard output carries only the exports.
set -euo pipefail

MARKER=.labwire-ovs-sandbox
DAEMONS=(ovsdb-server ovs-vswitchd)

die() {
  echo "ovs-sandbox: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start DIR [--netns NAME] | stop DIR | env DIR" >&2
  exit 2
}

# The absolute path of $1, which need not exist yet.
absolute() {
  case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$PWD" "$1" ;;
  esac
}

print_env() {
  local v ns
  for v in OVS_RUNDIR OVS_DBDIR OVS_LOGDIR OVS_SYSCONFDIR; do
    printf 'export %s=%q\n' "$v" "$1"
  done
  ns=$(marker_get "$1" netns)
  # on the host: no namespace left over from an earlier eval of another sandbox's exports
  if [[ -z $ns ]]; then echo "unset LABWIRE_OVS_NETNS"; else printf 'export LABWIRE_OVS_NETNS=%q\n' "$ns"; fi
}

# The value of KEY in sandbox $1's marker file, or nothing.
marker_get() {
  sed -n "s/^$2=//p" "$1/$MARKER" 2>/dev/null | tail -n 1
}

# Runs a command in the sandbox's namespace (NETNS), or here without one.
in_ns() {
  if [[ -n $NETNS ]]; then
    ip netns exec "$NETNS" "$@"
  else
    "$@"
  fi
}

need_binaries() {
  local b missing=()
  for b in ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl ovs-appctl; do
    command -v "$b" >/dev/null 2>&1 || missing+=("$b")
  done
  ((${#missing[@]} == 0)) && return 0
  local list verb=is
  list=$(printf '%s, ' "${missing[@]}")
  ((${#missing[@]} > 1)) && verb=are
  die "Cannot start Open vSwitch as ${list%, } $verb not on PATH; install openvswitch-switch (apt-get install openvswitch-switch)."
}

# The PID of daemon $2 of sandbox $1 when it is running, else nothing (a stale pidfile, or a PID reused by
# another program, counts as not running).
running_pid() {
  local file="$1/$2.pid" pid comm
  [[ -f $file ]] || return 0
  pid=$(tr -dc '0-9' <"$file")
  [[ -n $pid ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
  # /proc/PID/comm is cut to 15 characters: "ovs-vswitchd" and "ovsdb-server" both fit
  [[ $comm == "$2" ]] || return 0
  printf '%s\n' "$pid"
}

NETNS=
LOCK=

# Sets LOCK for namespace $1 (empty: the host's).
set_lock() {
  LOCK=${LABWIRE_LOCK_DIR:-/tmp}/labwire-ovs-userspace${1:+-$1}.lock
}

# The sandbox folder that holds the userspace-datapath lock, or nothing.
lock_owner() {
  cat "$LOCK/owner" 2>/dev/null || true
}

# Takes the userspace-datapath lock of the namespace (LOCK) for sandbox $1, waiting while another running sandbox holds it.
take_lock() {
  local dir=$1 owner waited=0 limit=${LABWIRE_SANDBOX_WAIT:-900} said=0 age
  for (( ; ; )); do
    if mkdir "$LOCK" 2>/dev/null; then
      printf '%s\n' "$dir" >"$LOCK/owner"
      return 0
    fi
    owner=$(lock_owner)
    [[ $owner == "$dir" ]] && return 0
    age=$(($(date +%s) - $(stat -c %Y "$LOCK" 2>/dev/null || date +%s)))
    # stale: its sandbox's ovs-vswitchd is gone, and it is not one being started right now
    if [[ -z $owner || -z $(running_pid "$owner" ovs-vswitchd) ]] && ((age > 30)); then
      echo "ovs-sandbox: taking over the userspace-datapath lock of ${owner:-an unknown sandbox} (not running)" >&2
      rm -rf "$LOCK"
      continue
    fi
    if ((waited >= limit)); then
      die "Cannot start Open vSwitch in $dir as the sandbox in $owner holds the userspace datapath (waited ${limit} s); stop it with: $0 stop $owner"
    fi
    ((said)) || echo "ovs-sandbox: waiting for the sandbox in $owner to stop (only one Open vSwitch per network namespace can use the userspace datapath)" >&2
    said=1
    sleep 1
    waited=$((waited + 1))
  done
}

# Releases the lock if sandbox $1 holds it.
release_lock() {
  [[ $(lock_owner) == "$1" ]] && rm -rf "$LOCK"
  return 0
}

schema() {
  local s
  for s in "${OVS_SCHEMA:-}" /usr/share/openvswitch/vswitch.ovsschema /usr/local/share/openvswitch/vswitch.ovsschema; do
    [[ -n $s && -f $s ]] && {
      printf '%s\n' "$s"
      return 0
    }
  done
  die "Cannot start Open vSwitch as its database schema (vswitch.ovsschema) is missing; install openvswitch-switch (apt-get install openvswitch-switch)."
}

log_tail() {
  [[ -f $1 ]] && tail -n 5 "$1" | sed 's/^/  /' >&2
  return 0
}

# A network namespace name that ip accepts and that is safe in a file name.
valid_netns() {
  [[ $1 =~ ^[A-Za-z0-9_.-]+$ && $1 != . && $1 != .. ]]
}

cmd_start() {
  local dir=$1 netns=$2 created=0 db_pid sw_pid i made_netns=0 old running
  need_binaries
  if [[ -e $dir && ! -d $dir ]]; then
    die "Cannot start Open vSwitch in $dir as it is not a folder."
  fi
  if [[ -d $dir && ! -f $dir/$MARKER ]] && [[ -n $(ls -A "$dir") ]]; then
    die "Cannot start Open vSwitch in $dir as the folder is in use (not empty and not made by ovs-sandbox.sh); give an empty or new folder."
  fi
  if [[ ! -d $dir ]]; then
    mkdir -p "$dir"
    created=1
  fi
  [[ -f $dir/$MARKER ]] || printf 'created_dir=%s\n' "$created" >"$dir/$MARKER"
  old=$(marker_get "$dir" netns)
  running=$(running_pid "$dir" ovs-vswitchd)$(running_pid "$dir" ovsdb-server)
  # a running sandbox started without --netns stays where it runs
  [[ -z $netns && -n $running ]] && netns=$old
  if [[ $old != "$netns" && -n $running ]]; then
    die "Cannot start Open vSwitch in $dir in network namespace ${netns:-of the host} as it runs in ${old:-the host namespace} already; stop it first: $0 stop $dir"
  fi
  if [[ -n $netns ]]; then
    if [[ ! -e /run/netns/$netns ]]; then
      ip netns add "$netns" || die "Cannot start Open vSwitch in network namespace $netns as it cannot be made (ip netns add $netns failed)."
      made_netns=1
    elif [[ $old == "$netns" && $(marker_get "$dir" made_netns) == 1 ]]; then
      made_netns=1
    fi
    ip -n "$netns" link set dev lo up
    sed -i '/^netns=/d; /^made_netns=/d' "$dir/$MARKER"
    printf 'netns=%s\nmade_netns=%s\n' "$netns" "$made_netns" >>"$dir/$MARKER"
  else
    sed -i '/^netns=/d; /^made_netns=/d' "$dir/$MARKER"
  fi
  NETNS=$netns
  set_lock "$netns"
  export OVS_RUNDIR=$dir OVS_DBDIR=$dir OVS_LOGDIR=$dir OVS_SYSCONFDIR=$dir

  db_pid=$(running_pid "$dir" ovsdb-server)
  sw_pid=$(running_pid "$dir" ovs-vswitchd)
  if [[ -n $db_pid && -n $sw_pid ]]; then
    echo "ovs-sandbox: already running in $dir (ovsdb-server $db_pid, ovs-vswitchd $sw_pid)" >&2
    print_env "$dir"
    return 0
  fi

  if [[ -z $sw_pid ]]; then
    take_lock "$dir"
    if in_ns test -e /sys/class/net/ovs-netdev; then
      local where="the host's network namespace"
      [[ -z $NETNS ]] || where="network namespace $NETNS"
      echo "ovs-sandbox: warning: another Open vSwitch in $where uses the userspace datapath (ovs-netdev exists); netdev bridges of this one will fail" >&2
    fi
  fi
  if [[ ! -f $dir/conf.db ]]; then
    ovsdb-tool create "$dir/conf.db" "$(schema)" >&2
  fi
  if [[ -z $db_pid ]]; then
    rm -f "$dir/ovsdb-server.pid" "$dir/db.sock"
    in_ns ovsdb-server "$dir/conf.db" --remote="punix:$dir/db.sock" --pidfile="$dir/ovsdb-server.pid" \
      --detach --no-chdir --log-file="$dir/ovsdb-server.log" -vconsole:off ||
      {
        log_tail "$dir/ovsdb-server.log"
        die "Cannot start ovsdb-server in $dir; its log is $dir/ovsdb-server.log."
      }
    ovs-vsctl --db="unix:$dir/db.sock" --timeout=5 --no-wait init
  fi
  if [[ -z $sw_pid ]]; then
    rm -f "$dir/ovs-vswitchd.pid"
    in_ns ovs-vswitchd "unix:$dir/db.sock" --pidfile="$dir/ovs-vswitchd.pid" --detach --no-chdir \
      --log-file="$dir/ovs-vswitchd.log" -vconsole:off ||
      {
        log_tail "$dir/ovs-vswitchd.log"
        release_lock "$dir"
        die "Cannot start ovs-vswitchd in $dir; its log is $dir/ovs-vswitchd.log."
      }
  fi
  for ((i = 0; i < 100; i++)); do
    if ovs-vsctl --db="unix:$dir/db.sock" --timeout=5 show >/dev/null 2>&1 &&
      [[ -n $(running_pid "$dir" ovs-vswitchd) ]]; then
      echo "ovs-sandbox: started in $dir${NETNS:+ in network namespace $NETNS} (ovsdb-server $(running_pid "$dir" ovsdb-server), ovs-vswitchd $(running_pid "$dir" ovs-vswitchd))" >&2
      print_env "$dir"
      return 0
    fi
    sleep 0.1
  done
  log_tail "$dir/ovs-vswitchd.log"
  [[ -z $(running_pid "$dir" ovs-vswitchd) ]] && release_lock "$dir"
  die "Cannot start Open vSwitch in $dir as ovs-vsctl got no answer within 10 s; its logs are in $dir."
}

# Waits up to $2 tenths of a second for PID $1 to be gone; fails if it is still there.
wait_gone() {
  local i
  for ((i = 0; i < $2; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  ! kill -0 "$1" 2>/dev/null
}

stop_daemon() {
  local dir=$1 name=$2 pid
  pid=$(running_pid "$dir" "$name")
  if [[ -z $pid ]]; then
    return 1
  fi
  local extra=()
  [[ $name == ovs-vswitchd ]] && extra=(--cleanup) # removes the datapath's tap devices from the host
  ovs-appctl --timeout=5 -t "$dir/$name.$pid.ctl" exit "${extra[@]}" >/dev/null 2>&1 || true
  if ! wait_gone "$pid" 100; then
    echo "ovs-sandbox: $name ($pid) did not exit; sending SIGTERM" >&2
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" 30; then
      echo "ovs-sandbox: $name ($pid) did not exit; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone "$pid" 30 || die "Cannot stop $name (PID $pid) of $dir."
    fi
  fi
  # what a daemon that did not exit cleanly leaves behind
  rm -f "$dir/$name.pid" "$dir/$name.$pid.ctl"
  [[ $name == ovsdb-server ]] && rm -f "$dir/db.sock"
  echo "ovs-sandbox: stopped $name ($pid)" >&2
  return 0
}

cmd_stop() {
  local dir=$1 any=0
  [[ -d $dir ]] || {
    echo "ovs-sandbox: nothing to stop in $dir (no such folder)" >&2
    return 0
  }
  [[ -f $dir/$MARKER ]] || die "Cannot stop Open vSwitch in $dir as it is not a folder made by ovs-sandbox.sh."
  NETNS=$(marker_get "$dir" netns)
  set_lock "$NETNS"
  # vswitchd first: it talks to ovsdb-server while it exits
  stop_daemon "$dir" ovs-vswitchd && any=1
  release_lock "$dir"
  stop_daemon "$dir" ovsdb-server && any=1
  ((any)) || echo "ovs-sandbox: not running in $dir" >&2
  if [[ -n $NETNS && $(marker_get "$dir" made_netns) == 1 ]]; then
    if [[ -e /run/netns/$NETNS ]]; then
      ip netns delete "$NETNS" || die "Cannot delete network namespace $NETNS of $dir."
      echo "ovs-sandbox: deleted network namespace $NETNS" >&2
    fi
    sed -i 's/^made_netns=1$/made_netns=0/' "$dir/$MARKER"
  fi
  return 0
}

(($# >= 2)) || usage
cmd=$1 dir=$(absolute "$2")
dir=${dir%/}
[[ -n $dir ]] || usage
shift 2
netns=
while (($# > 0)); do
  case $cmd:$1 in
    start:--netns)
      (($# >= 2)) || usage
      netns=$2
      shift 2
      ;;
    start:--netns=*)
      netns=${1#--netns=}
      shift
      ;;
    *) usage ;;
  esac
done
if [[ -n $netns ]] && ! valid_netns "$netns"; then
  die "Cannot start Open vSwitch in network namespace '$netns' as it is not a namespace name (letters, digits, '.', '_' and '-')."
fi
case $cmd in
  start) cmd_start "$dir" "$netns" ;;
  stop) cmd_stop "$dir" ;;
  env) print_env "$dir" ;;
  *) usage ;;
esac
