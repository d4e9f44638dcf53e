#!/usr/bin/env bash
# lab.sh -- a lab of N real Debian 12 hosts on this machine for the lab and end-to-end tests of provision
# (test/lab/lab.ts drives it from mocha):
# each host is a systemd-nspawn container booted with systemd as PID 1 (--boot), on its own root
# filesystem (an overlayfs upper layer over one debootstrap base), in its own network namespace with
# its own address 10.77.0.(i+1) on a bridge, running sshd with a root authorized key.
#
#   lab.sh image            build the base root fs (debootstrap) if missing; `up` does this too
#   lab.sh up N             start hosts h1..hN (stops any above N); writes inventory.ini + known_hosts
#   lab.sh down             stop every host (by PID), unmount, delete netns, bridge, apt proxy
#   lab.sh status           hosts, PIDs, addresses, systemd state, memory
#   lab.sh ssh I [CMD...]   ssh root@h<I> (interactive without CMD)
#   lab.sh restart I        power host I off and boot it again (its disk and address are kept)
#   lab.sh fault I MODE     network fault on host I, applied in its netns:
#                             drop        blackhole every packet from outside (connects and sessions hang)
#                             reject      refuse: TCP reset / ICMP unreachable (connects fail at once)
#                             loss PCT    drop PCT% of incoming packets at random
#                             delay MS    add MS ms to every packet entering the host (NFQUEUE +
#                                         nfqdelay.py: this kernel has no sch_netem)
#                             rate KBIT   limit the host's outgoing bandwidth (tbf)
#                             clear       remove every fault
#   lab.sh destroy          down, then delete the base image and caches
#
# Addresses: bridge lab77br = 10.77.0.1/24 on this machine (the controller), host i = 10.77.0.(i+1).
# The hosts have NO default route: nothing from 10.77.0.0/24 is routed out of this machine. Their apt
# reaches the Debian mirror only through aptproxy.py on 10.77.0.1 (a port the kernel picks), which forwards only
# to the mirror URIs in this machine's /etc/apt/sources.list* and caches .deb files.
#
# Faults live in the host's own netns (nft table inet labfault, tc root qdisc, one iptables NFQUEUE rule):
# a playbook that flushes the host's firewall ruleset also removes them.
# Only PIDs recorded in $LAB_DIR/run are ever signalled, after checking their command line.
set -euo pipefail

# On disk, not tmpfs: the base (~270 MB) is built once and kept between runs.
LAB_DIR=${LAB_DIR:-/var/tmp/provision-lab}
# A second lab beside another: its own LAB_DIR (or LAB_BASE to share the base image), LAB_NET, LAB_BR, LAB_PREFIX.
LAB_NET=${LAB_NET:-10.77.0}          # /24, used only on $LAB_BR and inside the hosts' netns (keep it within 10.77.0.0/16)
LAB_BR=${LAB_BR:-lab77br}
LAB_PREFIX=${LAB_PREFIX:-lab77}      # netns, machine and cgroup $LAB_PREFIX-hI; veth v$LAB_PREFIX-hI cut to 15 bytes
LAB_SUITE=${LAB_SUITE:-bookworm}
LAB_BOOT_TIMEOUT=${LAB_BOOT_TIMEOUT:-180}
# Each host's writable layer: tmpfs (default; RAM = what the host changed, deleted at once at `down`)
# or disk (under $LAB_DIR/hosts; deleting it is slow on a disk mounted with `discard`).
LAB_UPPER=${LAB_UPPER:-tmpfs}
LAB_UPPER_SIZE=${LAB_UPPER_SIZE:-4g}
BASE=${LAB_BASE:-$LAB_DIR/base}
RUN=$LAB_DIR/run
HOSTS=$LAB_DIR/hosts
KEY=$LAB_DIR/keys/id_ed25519
KNOWN=$LAB_DIR/known_hosts
INV=$LAB_DIR/inventory.ini
NSPAWN=/usr/bin/systemd-nspawn
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROXY_PY=${LAB_PROXY_PY:-$HERE/aptproxy.py}

die() { echo "lab.sh: $*" >&2; exit 1; }
log() { echo "lab.sh: $*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

ip_of() { echo "$LAB_NET.$(($1 + 1))"; }
ns_of() { echo "$LAB_PREFIX-h$1"; }
veth_of() { local v="v$LAB_PREFIX-h$1"; echo "${v:0:15}"; }

SSH_OPTS=(-i "$KEY" -o BatchMode=yes -o UserKnownHostsFile="$KNOWN" -o StrictHostKeyChecking=yes
          -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=5 -o LogLevel=ERROR)

need() {
  local missing=() c
  for c in debootstrap systemd-nspawn ip ssh ssh-keygen python3 nft iptables tc mountpoint; do
    command -v "$c" >/dev/null || missing+=("$c")
  done
  ((${#missing[@]} == 0)) || die "missing commands: ${missing[*]} (.ci/run installs them: apt-get install -y \"systemd-container=\$(dpkg-query -W -f='\${Version}' systemd)\" debootstrap nftables iptables iproute2 openssh-client python3)"
  [[ $(id -u) == 0 ]] || die "must run as root"
}

# The mirror URL this machine's apt uses, for debootstrap (first http URI of a /debian archive).
mirror_url() {
  local u
  u=$(grep -hE '^\s*(URIs:|deb\s)' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
      grep -oE 'http://[^ ]+' | grep -E '/debian/?$' | head -n1) || true
  [[ -n $u ]] || die "no http:// Debian mirror found in /etc/apt/sources.list*"
  echo "${u%/}"
}

# ---------------------------------------------------------------- base image
image() {
  need
  if [[ -f $BASE/.lab-ready ]]; then return 0; fi
  local mirror t0 build=$LAB_DIR/base-build
  mirror=$(mirror_url)
  mkdir -p "$LAB_DIR/logs"
  if [[ ! -x $build/usr/bin/apt-get || ! -f $build/.debootstrap-done ]]; then
    rm -rf "$build"
    log "debootstrap $LAB_SUITE from $mirror (a few minutes)"
    t0=$(now)
    debootstrap --variant=minbase \
      --include=systemd-sysv,dbus,openssh-server,python3,sudo,iproute2,iputils-ping,procps,less \
      "$LAB_SUITE" "$build" "$mirror" >"$LAB_DIR/logs/debootstrap.log" 2>&1 ||
      die "debootstrap failed: see $LAB_DIR/logs/debootstrap.log"
    touch "$build/.debootstrap-done"
    log "debootstrap took $(elapsed "$t0") s"
  fi
  customize "$build"
  rm -rf "$BASE"
  mv "$build" "$BASE"
  touch "$BASE/.lab-ready"
  log "base image ready: $BASE ($(du -sh "$BASE" | cut -f1))"
}

customize() {
  local r=$1 f
  # apt: the same sources as this machine (same mirror URL), reached through the lab's proxy.
  rm -f "$r/etc/apt/sources.list"
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    # only files that name nothing but http:// URIs (what the proxy forwards)
    if grep -qE '^\s*(URIs:|deb)' "$f" && ! grep -hE '^\s*(URIs:|deb\s)' "$f" | grep -qE 'https://'; then
      mkdir -p "$r/etc/apt/sources.list.d"
      if [[ $f == /etc/apt/sources.list ]]; then cp "$f" "$r/etc/apt/sources.list"
      else cp "$f" "$r/etc/apt/sources.list.d/$(basename "$f")"; fi
    fi
  done
  # this machine's validity settings for its mirror (a dated snapshot's Release may be past Valid-Until)
  for f in /etc/apt/apt.conf.d/*; do
    grep -qs 'Check-Valid-Until' "$f" && cp "$f" "$r/etc/apt/apt.conf.d/"
  done
  # the proxy's address is written into each host at `up` (its port is chosen when the proxy starts)
  rm -f "$r/etc/apt/apt.conf.d/01lab-proxy"
  # sshd: root by key only; one host key per host, written at `up`
  rm -f "$r"/etc/ssh/ssh_host_*
  mkdir -p "$r/etc/ssh/sshd_config.d"
  cat >"$r/etc/ssh/sshd_config.d/lab.conf" <<'EOF'
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
MaxStartups 100:30:200
MaxSessions 100
EOF
  # a fresh identity per host (machine-id written at `up`)
  : >"$r/etc/machine-id"
  rm -f "$r/var/lib/dbus/machine-id"
  # quiet, small hosts: no timers that run apt behind a test's back, no gettys, volatile journal
  for u in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \
           man-db.timer console-getty.service getty@tty1.service systemd-networkd-wait-online.service; do
    ln -sf /dev/null "$r/etc/systemd/system/$u"
  done
  mkdir -p "$r/etc/systemd/journald.conf.d"
  printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=16M\n' >"$r/etc/systemd/journald.conf.d/lab.conf"
  # ssh.service must be enabled (openssh-server's postinst does it; make sure)
  mkdir -p "$r/etc/systemd/system/multi-user.target.wants"
  ln -sf /lib/systemd/system/ssh.service "$r/etc/systemd/system/multi-user.target.wants/ssh.service"
  echo "LANG=C.UTF-8" >"$r/etc/default/locale"
  rm -rf "$r/var/cache/apt/archives/"*.deb
}

# ---------------------------------------------------------------- shared pieces
ensure_key() {
  mkdir -p "$LAB_DIR/keys" "$RUN" "$HOSTS"
  chmod 700 "$LAB_DIR/keys"
  [[ -f $KEY ]] || ssh-keygen -q -t ed25519 -N '' -C lab-controller -f "$KEY"
}

ensure_bridge() {
  if ! ip link show "$LAB_BR" >/dev/null 2>&1; then
    ip link add "$LAB_BR" type bridge
    echo 1 >/proc/sys/net/ipv6/conf/$LAB_BR/disable_ipv6 2>/dev/null || true
    ip addr add "$LAB_NET.1/24" dev "$LAB_BR"
    ip link set "$LAB_BR" up
  fi
}

pid_alive_as() {  # PID WORD: PID alive and its command line contains WORD
  local pid=$1 word=$2
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | grep -qF -- "$word"
}

proxy_port() { cat "$RUN/proxy.port" 2>/dev/null || true; }

ensure_proxy() {
  local pid i
  pid=$(cat "$RUN/proxy.pid" 2>/dev/null || true)
  if pid_alive_as "$pid" "aptproxy.py $LAB_NET.1" && [[ -n $(proxy_port) ]]; then return 0; fi
  mkdir -p "$LAB_DIR/cache/proxy" "$LAB_DIR/logs"
  rm -f "$RUN/proxy.port"
  # port 0: the kernel picks a free one; the proxy writes it to proxy.port once it listens
  setsid python3 "$PROXY_PY" "$LAB_NET.1" 0 "$LAB_DIR/cache/proxy" "$RUN/proxy.port" \
    >>"$LAB_DIR/logs/aptproxy.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$RUN/proxy.pid"
  for i in $(seq 1 100); do
    [[ -s $RUN/proxy.port ]] && return 0
    [[ -d /proc/$pid ]] || break     # (its command line is this script's until setsid has exec'd python)
    sleep 0.1
  done
  die "apt proxy did not start: see $LAB_DIR/logs/aptproxy.log"
}

# ---------------------------------------------------------------- one host
host_pid() { cat "$RUN/h$1.pid" 2>/dev/null || true; }
host_running() { pid_alive_as "$(host_pid "$1")" "--machine=$(ns_of "$1")"; }

# the container's PID 1 (as seen from here): nspawn's descendant in another PID namespace
leader_of() {
  local npid=$1 c mine
  mine=$(readlink /proc/self/ns/pid)
  for c in $(ps -o pid= --ppid "$npid" 2>/dev/null) $(for p in $(ps -o pid= --ppid "$npid" 2>/dev/null); do ps -o pid= --ppid "$p"; done); do
    [[ $(readlink /proc/"$c"/ns/pid 2>/dev/null) != "$mine" ]] && { echo "$c"; return 0; }
  done
  return 1
}

start_host() {
  local i=$1 name=h$1 ns veth ip dir root
  ns=$(ns_of "$i"); veth=$(veth_of "$i"); ip=$(ip_of "$i"); dir=$HOSTS/$name; root=$dir/root
  if host_running "$i"; then rm -f "$dir/started"; return 0; fi
  stop_host "$i" >/dev/null 2>&1 || true     # leftovers of a crashed run
  mkdir -p "$dir/rw" "$root" "$dir/keys"
  if [[ $LAB_UPPER == tmpfs ]]; then mount -t tmpfs -o "size=$LAB_UPPER_SIZE,mode=755" "$ns-rw" "$dir/rw"; fi
  mkdir -p "$dir/rw/upper" "$dir/rw/work"
  mount -t overlay "$ns" -o "lowerdir=$BASE,upperdir=$dir/rw/upper,workdir=$dir/rw/work" "$root"
  # identity: hostname, machine-id, host key, root's authorized key
  echo "$name" >"$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$name" >"$root/etc/hosts"
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$root/etc/machine-id"; echo >>"$root/etc/machine-id"
  ssh-keygen -q -t ed25519 -N '' -C "root@$name" -f "$root/etc/ssh/ssh_host_ed25519_key"
  cp "$root/etc/ssh/ssh_host_ed25519_key.pub" "$dir/keys/host_ed25519.pub"
  install -d -m 700 "$root/root/.ssh"
  install -m 600 "$KEY.pub" "$root/root/.ssh/authorized_keys"
  cat >"$root/etc/apt/apt.conf.d/01lab-proxy" <<EOF
// lab.sh: the hosts have no route out; apt goes through the lab's mirror-only proxy
Acquire::http::Proxy "http://$LAB_NET.1:$(proxy_port)/";
Acquire::https::Proxy "DIRECT";
Acquire::Languages "none";
Acquire::Retries "3";
EOF
  # network: own netns, veth into the bridge, address, no default route
  ip netns add "$ns"
  ip link add "$veth" type veth peer name eth0 netns "$ns"
  ip link set "$veth" master "$LAB_BR" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$ip/24" dev eth0
  ip -n "$ns" link set eth0 up
  boot_host "$i"
}

# Boots host I's mounted root: systemd as PID 1; SIGTERM to nspawn powers the container off cleanly.
boot_host() {
  local i=$1 name=h$1 ns dir root
  ns=$(ns_of "$i"); dir=$HOSTS/$name; root=$dir/root
  local unitopts=(--register=no --keep-unit)
  [[ -d /run/systemd/system ]] && unitopts=(--register=no)  # a systemd host: nspawn gets its own scope
  (
    # No systemd here: nspawn would put every container's payload in the cgroup it runs in (the same
    # for all), so give each its own, in the named systemd hierarchy and the unified one.
    [[ -d /run/systemd/system ]] || cg_enter "$i"
    exec setsid "$NSPAWN" --quiet --boot --directory="$root" --machine="$ns" --hostname="$name" \
      --network-namespace-path="/run/netns/$ns" "${unitopts[@]}" --console=read-only \
      --resolv-conf=off --timezone=off --link-journal=no --private-users=no
  ) >>"$dir/console.log" 2>&1 </dev/null &
  local pid=$! t
  echo "$pid" >"$RUN/h$i.pid"
  now >"$dir/started"
  # until the subshell has exec'd nspawn, its command line is this script's: wait_host would take it for dead
  for t in $(seq 1 50); do pid_alive_as "$pid" "--machine=$ns" && return 0; [[ -d /proc/$pid ]] || break; sleep 0.1; done
  log "h$i: nspawn did not start; console:"; tail -20 "$dir/console.log" >&2
  return 1
}

CG_HIER=(/sys/fs/cgroup/systemd /sys/fs/cgroup/unified)
cg_enter() {  # I: move this (sub)shell into cgroup $LAB_PREFIX/hI of the systemd hierarchies
  local h
  for h in "${CG_HIER[@]}"; do
    [[ -f $h/cgroup.procs ]] || continue
    mkdir -p "$h/$LAB_PREFIX/h$1"
    echo "$BASHPID" >"$h/$LAB_PREFIX/h$1/cgroup.procs"
  done
}
cg_remove() {  # I: remove that cgroup tree (empty once the container is gone)
  local h
  for h in "${CG_HIER[@]}"; do
    [[ -d $h/$LAB_PREFIX/h$1 ]] || continue
    find "$h/$LAB_PREFIX/h$1" -depth -type d -exec rmdir {} + 2>/dev/null || true
    rmdir "$h/$LAB_PREFIX" 2>/dev/null || true
  done
}

wait_host() {  # I: until sshd answers and systemd has finished booting
  local i=$1 ip t0 st deadline
  ip=$(ip_of "$i"); t0=$(cat "$HOSTS/h$i/started" 2>/dev/null || true); deadline=$(($(date +%s) + LAB_BOOT_TIMEOUT))
  while (($(date +%s) < deadline)); do
    host_running "$i" || { log "h$i: nspawn exited; console:"; tail -20 "$HOSTS/h$i/console.log" >&2; return 1; }
    if st=$(ssh "${SSH_OPTS[@]}" -o ConnectTimeout=2 "root@$ip" 'systemctl is-system-running --wait' 2>/dev/null) ||
       [[ $st == degraded ]]; then
      if [[ -n $t0 ]]; then echo "h$i $ip $st boot=$(elapsed "$t0")s"; else echo "h$i $ip $st (was running)"; fi
      return 0
    fi
    sleep 0.5
  done
  log "h$i: not up after ${LAB_BOOT_TIMEOUT}s; console:"; tail -20 "$HOSTS/h$i/console.log" >&2
  return 1
}

stop_host() {
  local i=$1 pid leader ns dir t
  ns=$(ns_of "$i"); dir=$HOSTS/h$i
  delay_stop "$i"
  pid=$(host_pid "$i")
  if pid_alive_as "$pid" "--machine=$ns"; then
    leader=$(leader_of "$pid" || true)
    local t0; t0=$(now)
    kill -TERM "$pid" 2>/dev/null || true               # nspawn: clean poweroff of the container
    for t in $(seq 1 60); do pid_alive_as "$pid" "--machine=$ns" || break; sleep 0.5; done
    pid_alive_as "$pid" "--machine=$ns" || log "h$i: powered off in $(elapsed "$t0") s"
    if pid_alive_as "$pid" "--machine=$ns"; then
      log "h$i: no clean poweroff in 30 s; killing its PID namespace (leader $leader)"
      [[ -n $leader ]] && kill -KILL "$leader" 2>/dev/null || true
      for t in $(seq 1 20); do pid_alive_as "$pid" "--machine=$ns" || break; sleep 0.5; done
      pid_alive_as "$pid" "--machine=$ns" && kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$RUN/h$i.pid"
  local m
  for m in "$dir/root" "$dir/rw"; do
    if mountpoint -q "$m" 2>/dev/null; then
      umount "$m" 2>/dev/null || { sleep 1; umount "$m"; }
    fi
  done
  ip netns del "$ns" 2>/dev/null || true
  ip link del "$(veth_of "$i")" 2>/dev/null || true
  cg_remove "$i"
  rmdir "/run/systemd/nspawn/propagate/$ns" 2>/dev/null || true   # nspawn won't rm it off tmpfs
  if [[ -f $dir/console.log ]]; then mv -f "$dir/console.log" "$LAB_DIR/logs/h$i.console.log"; fi
  rm -rf "$dir"
}

known_ids() {  # the host numbers that have state here
  { ls "$RUN" 2>/dev/null | sed -n 's/^h\([0-9]*\)\.pid$/\1/p'
    ls "$HOSTS" 2>/dev/null | sed -n 's/^h\([0-9]*\)$/\1/p'
    ip netns list 2>/dev/null | sed -n "s/^$LAB_PREFIX-h\([0-9]*\).*/\1/p"; } | sort -n | uniq
}

write_inventory() {
  local n=$1 i
  : >"$KNOWN.tmp"
  for i in $(seq 1 "$n"); do
    echo "$(ip_of "$i") $(cut -d' ' -f1-2 "$HOSTS/h$i/keys/host_ed25519.pub")" >>"$KNOWN.tmp"
  done
  mv "$KNOWN.tmp" "$KNOWN"
  {
    echo "# written by lab.sh up $n: real hosts (systemd-nspawn, systemd as PID 1), root by key."
    echo "#   provision run PLAYBOOK -i $INV --known-hosts $KNOWN"
    echo "#   ansible-playbook -i $INV PLAYBOOK"
    echo "[lab]"
    for i in $(seq 1 "$n"); do echo "h$i ansible_host=$(ip_of "$i")"; done
    echo
    echo "[web:children]"
    echo "lab"
    echo
    echo "[lab:vars]"
    echo "ansible_user=root"
    echo "ansible_ssh_private_key_file=$KEY"
    echo "ansible_ssh_common_args='-o UserKnownHostsFile=$KNOWN -o GlobalKnownHostsFile=/dev/null'"
    echo "ansible_python_interpreter=/usr/bin/python3"
  } >"$INV"
}

# ---------------------------------------------------------------- commands
cmd_up() {
  local n=${1:-} i t0 fails=0
  [[ $n =~ ^[0-9]+$ && $n -ge 1 && $n -le 200 ]] || die "usage: lab.sh up N (1..200)"
  image
  t0=$(now)
  ensure_key; ensure_bridge; ensure_proxy
  for i in $(known_ids); do ((i > n)) && stop_host "$i"; done
  for i in $(seq 1 "$n"); do start_host "$i"; done
  write_inventory "$n"          # known_hosts first: the readiness check verifies host keys
  for i in $(seq 1 "$n"); do wait_host "$i" || fails=$((fails + 1)); done
  log "$n host(s) up in $(elapsed "$t0") s ($fails failed); inventory: $INV, known_hosts: $KNOWN"
  ((fails == 0))
}

cmd_down() {
  local i pid
  for i in $(known_ids); do   # ask every host to power off at once; stop_host then waits for each
    pid=$(host_pid "$i")
    pid_alive_as "$pid" "--machine=$(ns_of "$i")" && kill -TERM "$pid" 2>/dev/null || true
  done
  for i in $(known_ids); do stop_host "$i"; done
  pid=$(cat "$RUN/proxy.pid" 2>/dev/null || true)
  if pid_alive_as "$pid" "aptproxy.py"; then kill -TERM "$pid"; fi
  rm -f "$RUN/proxy.pid" "$RUN/proxy.port"
  if ip link show "$LAB_BR" >/dev/null 2>&1; then ip link del "$LAB_BR"; fi
  rm -f "$INV" "$KNOWN"
  # nspawn's own state folders on this machine, once empty
  rmdir /run/systemd/nspawn/propagate /run/systemd/nspawn/locks /run/systemd/nspawn 2>/dev/null || true
  log "down: no hosts, no bridge, no proxy"
}

# Powers host I off (as `poweroff` would) and boots it again on the same disk and address: what a
# reboot of a real machine keeps (files, enabled units) survives; what it loses (processes) does not.
cmd_restart() {
  local i=${1:-} pid t
  [[ $i =~ ^[0-9]+$ ]] || die "usage: lab.sh restart I"
  host_running "$i" || die "h$i is not running"
  pid=$(host_pid "$i")
  kill -TERM "$pid"
  for t in $(seq 1 120); do pid_alive_as "$pid" "--machine=$(ns_of "$i")" || break; sleep 0.5; done
  pid_alive_as "$pid" "--machine=$(ns_of "$i")" && die "h$i did not power off in 60 s"
  cg_remove "$i"
  rmdir "/run/systemd/nspawn/propagate/$(ns_of "$i")" 2>/dev/null || true
  boot_host "$i"
  now >"$HOSTS/h$i/started"
  wait_host "$i"
}

cmd_status() {
  local i pid leader ip state mem any=0
  printf '%-4s %-11s %-8s %-8s %-10s %s\n' HOST ADDRESS NSPAWN PID1 SYSTEMD 'MEM_MB(PSS/RSS)'
  for i in $(known_ids); do
    any=1; ip=$(ip_of "$i"); pid=$(host_pid "$i"); leader='-'; state='-'; mem='-'
    if host_running "$i"; then
      leader=$(leader_of "$pid" || echo '?')
      state=$(ssh "${SSH_OPTS[@]}" -o ConnectTimeout=2 "root@$ip" systemctl is-system-running 2>/dev/null || true)
      [[ -n $state ]] || state=unreachable
      mem=$(pidns_rss_mb "$leader")
    else
      pid="dead"
    fi
    printf '%-4s %-11s %-8s %-8s %-10s %s\n' "h$i" "$ip" "$pid" "$leader" "$state" "$mem"
  done
  ((any)) || echo "(no hosts)"
  pid=$(cat "$RUN/proxy.pid" 2>/dev/null || true)
  if pid_alive_as "$pid" aptproxy.py; then echo "apt proxy: pid $pid on $LAB_NET.1:$(proxy_port)"; else echo "apt proxy: not running"; fi
  ip -br addr show "$LAB_BR" 2>/dev/null || echo "bridge $LAB_BR: absent"
}

pidns_rss_mb() {  # "PSS/RSS" (MB), summed over the processes in LEADER's PID namespace
  local leader=$1 ns
  [[ $leader =~ ^[0-9]+$ ]] || { echo '?'; return; }
  ns=$(readlink /proc/"$leader"/ns/pid 2>/dev/null) || { echo '?'; return; }
  local rss=0 pss=0 n=0 p r q
  for p in /proc/[0-9]*; do
    [[ $(readlink "$p/ns/pid" 2>/dev/null) == "$ns" ]] || continue
    r=$(awk '/^VmRSS:/{print $2}' "$p/status" 2>/dev/null || true)
    q=$(awk '/^Pss:/{print $2}' "$p/smaps_rollup" 2>/dev/null || true)
    rss=$((rss + ${r:-0})); pss=$((pss + ${q:-0})); n=$((n + 1))
  done
  echo "$((pss / 1024))/$((rss / 1024)) ($n procs)"
}

cmd_ssh() {
  local i=${1:-}
  [[ $i =~ ^[0-9]+$ ]] || die "usage: lab.sh ssh I [CMD...]"
  shift
  if (($# == 0)); then exec ssh "${SSH_OPTS[@]/BatchMode=yes/BatchMode=no}" -t "root@$(ip_of "$i")"; fi
  exec ssh "${SSH_OPTS[@]}" "root@$(ip_of "$i")" "$@"
}

cmd_fault() {
  local i=${1:-} mode=${2:-} arg=${3:-} ns
  [[ $i =~ ^[0-9]+$ ]] || die "usage: lab.sh fault I drop|reject|loss PCT|delay MS|rate KBIT|clear"
  ns=$(ns_of "$i")
  ip netns list | grep -q "^$ns\b" || die "no host h$i"
  nsx() { ip netns exec "$ns" "$@"; }
  fault_clear() {
    nsx nft delete table inet labfault 2>/dev/null || true
    nsx tc qdisc del dev eth0 root 2>/dev/null || true
    delay_stop "$i"
  }
  fault_table() {
    nsx nft add table inet labfault
    nsx nft add chain inet labfault in '{ type filter hook input priority -10 ; policy accept ; }'
  }
  case $mode in
    clear) fault_clear ;;
    drop) fault_clear; fault_table; nsx nft add rule inet labfault in iifname eth0 drop ;;
    reject) fault_clear; fault_table
      nsx nft add rule inet labfault in iifname eth0 meta l4proto tcp reject with tcp reset
      nsx nft add rule inet labfault in iifname eth0 reject ;;
    loss) [[ $arg =~ ^[0-9]+$ && $arg -le 100 ]] || die "loss PCT (0..100)"
      fault_clear; fault_table
      nsx nft add rule inet labfault in iifname eth0 numgen random mod 100 '<' "$arg" drop ;;
    rate) [[ $arg =~ ^[0-9]+$ && $arg -ge 8 ]] || die "rate KBIT (>= 8)"
      nsx tc qdisc del dev eth0 root 2>/dev/null || true
      nsx tc qdisc add dev eth0 root tbf rate "${arg}kbit" burst 4kb latency 400ms ;;
    delay) [[ $arg =~ ^[0-9]+$ && $arg -ge 1 && $arg -le 60000 ]] || die "delay MS (1..60000)"
      # no sch_netem in this kernel (CONFIG_NET_SCH_NETEM is not set): hold packets in userspace
      fault_clear
      nsx iptables -w -I INPUT -i eth0 -j NFQUEUE --queue-num "$NFQ_NUM" --queue-bypass
      ( exec ip netns exec "$ns" setsid python3 "$HERE/nfqdelay.py" "$NFQ_NUM" "$arg" ) \
        >"$LAB_DIR/logs/h$i.delay.log" 2>&1 </dev/null &
      echo $! >"$RUN/h$i.delay.pid"
      local t
      for t in $(seq 1 100); do grep -qs 'nfqdelay: queue' "$LAB_DIR/logs/h$i.delay.log" && break; sleep 0.1; done
      grep -qs 'nfqdelay: queue' "$LAB_DIR/logs/h$i.delay.log" || { delay_stop "$i"; die "delayer did not start: $(cat "$LAB_DIR/logs/h$i.delay.log")"; } ;;
    *) die "usage: lab.sh fault I drop|reject|loss PCT|delay MS|rate KBIT|clear" ;;
  esac
  echo "h$i: fault ${mode}${arg:+ $arg}"
}

NFQ_NUM=7
delay_stop() {  # I: stop host I's packet delayer and remove its NFQUEUE rule
  local i=$1 pid ns
  ns=$(ns_of "$i")
  pid=$(cat "$RUN/h$i.delay.pid" 2>/dev/null || true)
  if pid_alive_as "$pid" "nfqdelay.py"; then
    kill -TERM "$pid" 2>/dev/null || true
    local t; for t in $(seq 1 40); do pid_alive_as "$pid" nfqdelay.py || break; sleep 0.25; done
    pid_alive_as "$pid" nfqdelay.py && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN/h$i.delay.pid"
  if ip netns list | grep -q "^$ns\b"; then
    while ip netns exec "$ns" iptables -w -D INPUT -i eth0 -j NFQUEUE --queue-num "$NFQ_NUM" --queue-bypass 2>/dev/null; do :; done
  fi
}

cmd_destroy() {
  cmd_down
  rm -rf "$BASE" "$LAB_DIR/base-build" "$LAB_DIR/cache"
  log "destroyed base image and caches"
}

main() {
  local c=${1:-}
  shift || true
  case $c in
    image) image ;;
    up) need; cmd_up "$@" ;;
    down) cmd_down ;;
    status) cmd_status ;;
    ssh) cmd_ssh "$@" ;;
    restart) cmd_restart "$@" ;;
    fault) cmd_fault "$@" ;;
    destroy) cmd_destroy ;;
    *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2 ;;
  esac
}
main "$@"
