#!/usr/bin/env bash
# A single-node SLURM cluster on this machine (controller + compute), for lessons and tests.
#   slurm/local-cluster.sh start    apply the Ansible SLURM role to this machine (install munge + SLURM with apt,
#                                   render slurm.conf, start the daemons): ansible-playbook -i
#                                   infra/ansible/inventory/local.yml infra/ansible/slurm.yml. Without ansible-playbook
#                                   (or with IC_NO_ANSIBLE=1) the same steps run from this script.
#   slurm/local-cluster.sh stop     stop slurmd, slurmctld, munged (only the ones it finds)
#   slurm/local-cluster.sh status   munge/slurmctld/slurmd state and `sinfo`
#   slurm/local-cluster.sh render DIR   write DIR/slurm.conf with this script's renderer only (no root, nothing started)
# Idempotent: running start twice leaves one set of daemons. Prints what it did.
# Exit 3: SLURM cannot be installed or started here (not root, no apt); the message says why.
# ONE template, two renderers that agree: Ansible's `template` and the sed below, both from slurm/slurm.conf.template.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEMPLATE="$HERE/slurm.conf.template"
ANSIBLE_DIR="$(cd "$HERE/../infra/ansible" 2>/dev/null && pwd || true)"
CONF_DIR="${SLURM_CONF_DIR:-/etc/slurm}"
PARTITION="${IC_SLURM_PARTITION:-}"
say() { echo "[local-cluster] $*"; }
die3() { echo "[local-cluster] cannot run SLURM here: $*" >&2; exit 3; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

partition() {  # the partition from settings.ini via the one reader (infinitecontext.infra); fallback 'gpu'
  if [ -n "$PARTITION" ]; then echo "$PARTITION"; return; fi
  local py; for py in "$HERE/../.venv/bin/python" python3; do
    if p=$(cd "$HERE/.." && "$py" -c 'from infinitecontext.infra import load_settings; print(load_settings().cluster.partition or "gpu")' 2>/dev/null); then echo "$p"; return; fi
  done; echo gpu
}

install_if_missing() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then return; fi
  [ "$(id -u)" = 0 ] || die3 "slurmctld/slurmd/munged are not installed and this is not root (run as root, or install slurm-wlm munge)"
  command -v apt-get >/dev/null || die3 "slurmctld/slurmd/munged are not installed and there is no apt-get here"
  say "installing slurm-wlm munge with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die3 "apt-get update failed"
  apt-get install -y -qq slurm-wlm munge >/dev/null || die3 "apt-get install slurm-wlm munge failed"
}

render() {  # plain {{ name }} substitution of the shared template, with the values of infra/ansible/inventory/local.yml
  local host cpus mem out
  host="$(hostname -s)"; cpus="$(nproc)"
  mem=$(( $(awk '/MemTotal/{print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
  out="$(mktemp)"
  sed -e "s|{{ slurm_cluster_name }}|ic-local|" -e "s|{{ slurm_control_host }}|$host|" \
      -e "s|{{ slurm_control_addr }}|127.0.0.1|" -e "s|{{ slurm_user }}|root|" \
      -e "s|{{ slurm_state_dir }}|/var/spool/slurm|" -e "s|{{ slurm_run_dir }}|/run/slurm|" \
      -e "s|{{ slurm_log_dir }}|/var/log/slurm|" -e "s|{{ slurm_proctrack_type }}|proctrack/linuxproc|" \
      -e "s|{{ slurm_task_plugin }}|task/none|" -e "s|{{ slurm_gres_types }}|gpu|" \
      -e "s|{{ slurm_node_names }}|$host|" -e "s|{{ slurm_node_addrs }}|127.0.0.1|" \
      -e "s|{{ slurm_node_cpus }}|$cpus|" -e "s|{{ slurm_node_mem_mb }}|$mem|" -e "s|{{ slurm_node_gres }}||" \
      -e "s|{{ slurm_partition }}|$(partition)|" "$TEMPLATE" > "$out"
  if grep -q '{{' "$out"; then echo "unrendered placeholder in $TEMPLATE:" >&2; grep '{{' "$out" >&2; exit 1; fi
  if [ "${1:-}" = only ]; then install -m 0644 "$out" "$CONF_DIR/slurm.conf"; rm -f "$out"; return; fi
  mkdir -p "$CONF_DIR" /var/spool/slurm/slurmctld /var/spool/slurm/slurmd /run/slurm /var/log/slurm
  if ! cmp -s "$out" "$CONF_DIR/slurm.conf"; then
    install -m 0644 "$out" "$CONF_DIR/slurm.conf"; say "wrote $CONF_DIR/slurm.conf"; CONF_CHANGED=1
  else say "$CONF_DIR/slurm.conf unchanged"; fi
  rm -f "$out"
}

start_munge() {
  if [ ! -s /etc/munge/munge.key ]; then
    if command -v mungekey >/dev/null; then mungekey -c -f -k /etc/munge/munge.key; else dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 2>/dev/null; fi
    chown munge:munge /etc/munge/munge.key 2>/dev/null || true; chmod 0400 /etc/munge/munge.key; say "created /etc/munge/munge.key"
  fi
  mkdir -p /run/munge; chown munge:munge /run/munge 2>/dev/null || true
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then say "munged already running"; return; fi
  if id munge >/dev/null 2>&1; then runuser -u munge -- /usr/sbin/munged; else /usr/sbin/munged --force; fi
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && { say "started munged"; return; }; sleep 0.1; done
  die3 "munged did not start"
}

ansible_playbook() {  # the repository venv's ansible-playbook, else one on PATH; nothing if there is none
  if [ -n "${IC_NO_ANSIBLE:-}" ] || [ -z "$ANSIBLE_DIR" ]; then return; fi
  if [ -x "$HERE/../.venv/bin/ansible-playbook" ]; then echo "$HERE/../.venv/bin/ansible-playbook"; return; fi
  command -v ansible-playbook || true
}

start() {
  local ap; ap="$(ansible_playbook)"
  if [ -n "$ap" ]; then start_ansible "$ap"; else start_script; fi
}

start_ansible() {  # the one code path a real cluster uses too: the Ansible role, here with connection local
  local ap="$1" extra=()
  [ "$(id -u)" = 0 ] || die3 "starting munged/slurmctld/slurmd needs root (the Ansible role installs packages and writes /etc/slurm)"
  if ! { command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; }; then
    command -v apt-get >/dev/null || die3 "slurmctld/slurmd/munged are not installed and there is no apt-get here"
  fi
  if [ -n "${SLURM_CONF_DIR:-}" ]; then extra+=(-e "slurm_conf_dir=$SLURM_CONF_DIR"); fi
  say "applying the SLURM role: $ap -i infra/ansible/inventory/local.yml infra/ansible/slurm.yml"
  if ! PATH="$(dirname "$ap"):$PATH" ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_NOCOLOR=1 \
       "$ap" -i "$ANSIBLE_DIR/inventory/local.yml" "$ANSIBLE_DIR/slurm.yml" -e "slurm_partition=$(partition)" "${extra[@]}"; then
    echo "[local-cluster] the Ansible SLURM role failed (output above); logs: /var/log/slurm/slurmctld.log, slurmd.log" >&2; exit 1
  fi
  sinfo
}

start_script() {  # the same steps without Ansible
  install_if_missing
  [ "$(id -u)" = 0 ] || die3 "starting slurmctld/slurmd needs root"
  CONF_CHANGED=0; render; start_munge
  if [ "$CONF_CHANGED" = 1 ] && { pid_alive /run/slurm/slurmctld.pid || pid_alive /run/slurm/slurmd.pid; }; then
    say "configuration changed: restarting daemons"; stop_slurm; fi
  if pid_alive /run/slurm/slurmctld.pid; then say "slurmctld already running"; else slurmctld && say "started slurmctld"; fi
  if pid_alive /run/slurm/slurmd.pid; then say "slurmd already running"; else slurmd && say "started slurmd"; fi
  local node; node="$(hostname -s)"
  for _ in $(seq 60); do
    st=$(sinfo -h -n "$node" -o %t 2>/dev/null || true)
    case "$st" in idle*|mix*|alloc*) say "node $node is $st"; sinfo; return 0;; down*|drain*) scontrol update nodename="$node" state=resume 2>/dev/null || true;; esac
    sleep 0.5
  done
  echo "[local-cluster] node $node did not become idle; see /var/log/slurm/slurmctld.log and slurmd.log" >&2; sinfo >&2 || true; exit 1
}

stop_one() {  # stop_one NAME PIDFILE
  if pid_alive "$2"; then local p; p=$(cat "$2"); kill "$p"; for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; say "stopped $1 ($p)"; else say "$1 not running"; fi
}
stop_slurm() { stop_one slurmd /run/slurm/slurmd.pid; stop_one slurmctld /run/slurm/slurmctld.pid; }
stop() {
  stop_slurm
  if [ -f /run/munge/munged.pid ] && kill -0 "$(cat /run/munge/munged.pid)" 2>/dev/null; then stop_one munged /run/munge/munged.pid; else say "munged not running"; fi
}

status() {
  local rc=0
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then say "munged: running"; else say "munged: stopped"; rc=1; fi
  if pid_alive /run/slurm/slurmctld.pid; then say "slurmctld: running ($(cat /run/slurm/slurmctld.pid))"; else say "slurmctld: stopped"; rc=1; fi
  if pid_alive /run/slurm/slurmd.pid; then say "slurmd: running ($(cat /run/slurm/slurmd.pid))"; else say "slurmd: stopped"; rc=1; fi
  [ $rc = 0 ] && sinfo; return $rc
}

case "${1:-}" in
  start) start ;; stop) stop ;; status) status ;;
  render) [ -n "${2:-}" ] || { echo "usage: $0 render DIR" >&2; exit 2; }; mkdir -p "$2"; CONF_DIR="$2" render only ;;
  *) echo "usage: $0 start|stop|status|render DIR" >&2; exit 2 ;;
esac
