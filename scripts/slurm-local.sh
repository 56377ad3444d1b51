#!/usr/bin/env bash
# A one-node Slurm cluster on localhost, for dtemu's Slurm tests and for trying the Slurm launcher
# on a laptop. Uses Debian's slurm-wlm and munge (installed with apt-get when missing and root).
#
#   scripts/slurm-local.sh start    # writes the config, starts munged, slurmctld, slurmd; waits for an idle node
#   scripts/slurm-local.sh status   # exit 0 when the node is up, 1 otherwise
#   scripts/slurm-local.sh stop     # cancels jobs, stops what start started
#   scripts/slurm-local.sh env      # prints `export SLURM_CONF=...` for your shell
#
# Everything lives in a private directory ($DTEMU_SLURM_DIR, default /tmp/dtemu-slurm): slurm.conf,
# state, spool, logs, pid files. Nothing under /etc is written. Clients (sbatch, srun, sinfo) find
# the cluster through SLURM_CONF=$DTEMU_SLURM_DIR/slurm.conf. Safe to run twice: `start` on a
# running cluster only checks it; `stop` on a stopped one does nothing.
set -euo pipefail

DIR="${DTEMU_SLURM_DIR:-/tmp/dtemu-slurm}"
CONF="$DIR/slurm.conf"
PARTITION="${DTEMU_SLURM_PARTITION:-debug}"
CTLD_PORT="${DTEMU_SLURMCTLD_PORT:-6817}"
SLURMD_PORT="${DTEMU_SLURMD_PORT:-6818}"
export SLURM_CONF="$CONF"

die() { echo "slurm-local: $*" >&2; exit 1; }
say() { echo "slurm-local: $*" >&2; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

ensure_packages() {
  local missing=()
  command -v slurmctld >/dev/null 2>&1 || [ -x /usr/sbin/slurmctld ] || missing+=(slurm-wlm)
  command -v munged >/dev/null 2>&1 || [ -x /usr/sbin/munged ] || missing+=(munge)
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = "0" ] || die "missing ${missing[*]}: install them (apt-get install slurm-wlm munge) or run this as root"
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get to install them"
  say "installing ${missing[*]} with apt-get"
  # Another apt-get may hold the lock (CI images install several packages): wait for it.
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null \
    || { apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null; } \
    || die "apt-get install ${missing[*]} failed"
}

write_conf() {
  local node cpus mem
  node="$(hostname -s)"
  # slurmd -C reports this node's real CPUs and RealMemory (MB); slurmd refuses a node
  # configured with more than it has.
  local line
  line="$(/usr/sbin/slurmd -C | head -n 1)"
  cpus="$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$line")"
  mem="$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$line")"
  [ -n "$cpus" ] && [ -n "$mem" ] || die "cannot read the node's CPUs and memory from 'slurmd -C' ($line)"
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
  cat >"$CONF.tmp" <<EOF
# Written by dtemu scripts/slurm-local.sh: a one-node cluster on localhost.
ClusterName=dtemu-local
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/slurmd-%n
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
# No cgroups in containers and CI: track processes by parent pid, bind nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=300
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
# FORCE:8 lets up to 8 jobs share a core, so 4+ tasks fit on a 2-core machine.
PartitionName=$PARTITION Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8
EOF
  mv "$CONF.tmp" "$CONF"
}

start_munge() {
  # One munged per machine; reuse a running one (ours or the system's).
  if alive /run/munge/munged.pid && [ -S /run/munge/munge.socket.2 ]; then return 0; fi
  [ -f /etc/munge/munge.key ] || {
    if command -v mungekey >/dev/null 2>&1; then mungekey --create --keyfile=/etc/munge/munge.key; else
      dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; fi
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
  }
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  if command -v runuser >/dev/null 2>&1; then runuser -u munge -- /usr/sbin/munged; else su -s /bin/sh munge -c /usr/sbin/munged; fi
  touch "$DIR/munged.ours"
  for _ in $(seq 1 50); do [ -S /run/munge/munge.socket.2 ] && return 0; sleep 0.1; done
  die "munged did not start (see /var/log/munge/munged.log)"
}

node_state() { sinfo -h -N -p "$PARTITION" -o '%T' 2>/dev/null | head -n 1; }

cmd_status() {
  if alive "$DIR/slurmctld.pid" && alive "$DIR/slurmd.pid"; then
    local st
    st="$(node_state)"
    echo "slurm-local: slurmctld $(cat "$DIR/slurmctld.pid"), slurmd $(cat "$DIR/slurmd.pid"), node ${st:-unknown}, SLURM_CONF=$CONF"
    case "$st" in idle* | mixed* | allocated*) return 0 ;; *) return 1 ;; esac
  fi
  echo "slurm-local: not running (SLURM_CONF=$CONF)"
  return 1
}

cmd_start() {
  if alive "$DIR/slurmctld.pid" && alive "$DIR/slurmd.pid"; then
    wait_idle
    say "already running; SLURM_CONF=$CONF"
    return 0
  fi
  [ "$(id -u)" = "0" ] || die "start needs root (SlurmUser=root, munged runs as user munge)"
  ensure_packages
  mkdir -p "$DIR"
  # A half-started cluster (one daemon died): stop what is left, then start clean.
  stop_daemons
  write_conf
  start_munge
  # -c: start without the jobs of an earlier session (this is a throw-away test cluster).
  /usr/sbin/slurmctld -c -f "$CONF" || die "slurmctld did not start (see $DIR/log/slurmctld.log)"
  /usr/sbin/slurmd -f "$CONF" || die "slurmd did not start (see $DIR/log/slurmd.log)"
  wait_idle
  say "up: partition $PARTITION on $(hostname -s); export SLURM_CONF=$CONF"
}

wait_idle() {
  local st=""
  for _ in $(seq 1 120); do
    st="$(node_state)"
    case "$st" in idle* | mixed* | allocated*) return 0 ;; esac
    # A node left down/drained by an earlier session: resume it.
    case "$st" in down* | drain*) scontrol update NodeName="$(hostname -s)" State=RESUME >/dev/null 2>&1 || true ;; esac
    sleep 0.25
  done
  die "the node did not become idle within 30 s (state '${st:-none}'; see $DIR/log/slurmctld.log and slurmd.log)"
}

stop_pid() {
  local f="$1" pid
  alive "$f" || { rm -f "$f"; return 0; }
  pid="$(cat "$f")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || { rm -f "$f"; return 0; }; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$f"
}

stop_daemons() {
  stop_pid "$DIR/slurmd.pid"
  stop_pid "$DIR/slurmctld.pid"
}

cmd_stop() {
  if alive "$DIR/slurmctld.pid"; then
    # Cancel every job so no job step (and no process it started) outlives the cluster.
    scancel --full --quiet --partition="$PARTITION" 2>/dev/null || true
    for _ in $(seq 1 50); do
      [ -z "$(squeue -h -p "$PARTITION" -o %i 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
  stop_daemons
  if [ -f "$DIR/munged.ours" ]; then
    # munged writes its pid file; stop only the daemon this script started.
    stop_pid /run/munge/munged.pid
    rm -f "$DIR/munged.ours"
  fi
  say "stopped"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
