#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A throw-away Slurm cluster on this machine, for testing the SPANK plugin
# (spank_launch.so) with a real srun/sbatch: one node (this host), or with
# LAUNCH_TEST_NODES=N several nodes n1..nN, each a slurmd in network, UTS
# and mount namespaces of its own (see "several nodes" below). Run as root.
#
# Debian 12 packages it needs:
#   slurmctld slurmd slurm-client munge      (the cluster)
#   iproute2                                 (several nodes: bridge, veths)
#   libslurm-dev                             (spank.h, to build the plugin)
#   libpmix2                                 (optional: srun --mpi=pmix)
#   mpich libmpich-dev openmpi-bin libopenmpi-dev  (optional: MPI tests)
#
# As a command:
#   sh cluster.sh start DIR [PLUGSTACK]   PLUGSTACK: a plugstack.conf file, or
#                                         one line for it, e.g.
#                                         "required /usr/lib/x86_64-linux-gnu/slurm-wlm/spank_launch.so"
#                                         (a failed start stops what it started)
#   sh cluster.sh stop DIR
#   sh cluster.sh restart-slurmd DIR [NODE...]
#   sh cluster.sh status DIR
#   sh cluster.sh nodes DIR               the node names, one per line
#   sh cluster.sh exec DIR NODE CMD...    run CMD as root on node NODE
#
# Sourced (POSIX sh; nothing runs at source time; set -u safe):
#   slurm_start DIR [PLUGSTACK_FILE]  start munged, slurmctld, slurmd; returns
#                                     0 once `srun -N1` works for the test user
#                                     (several nodes: `srun -N<all>`, each node
#                                     answering with its own hostname), 1 (with
#                                     the daemon logs on stderr) if not.
#                                     After a failure, call slurm_stop DIR.
#   slurm_stop DIR                    stop what slurm_start DIR started (its
#                                     pids only), restore /etc/slurm. Safe to
#                                     call twice, or after a failed start.
#   slurm_restart_slurmd DIR [NODE...] restart slurmd only (after rebuilding
#                                     a SPANK plugin: slurmd loads it at
#                                     start); of the named nodes, default all
#   slurm_status DIR                  pids and sinfo
#   slurm_nodes DIR                   the node names, one per line
#   slurm_node_pid DIR NODE           the pid of NODE's slurmd, if it runs
#   slurm_node_procs DIR [NODE]       every process on NODE (default: on any
#                                     node), by its network namespace
#   slurm_node_exec DIR NODE CMD...   CMD as root in NODE's namespaces
#   slurm_as_user CMD...              run CMD as the test user, clean env
#   slurm_logs DIR                    the tail of every daemon log (stderr)
#
# Everything lives under DIR (created if missing; made 0755 since munged and
# the job user must reach files in it, so its parents must be searchable by
# everyone): DIR/munge (socket, key if /etc/munge/munge.key is missing, log,
# pid, seed; owned by munge), DIR/run (pid files), DIR/log, DIR/spool. Outside
# DIR only /etc/slurm/slurm.conf, plugstack.conf and oci.conf are replaced;
# the originals go to DIR/etc-backup and slurm_stop puts them back. No cgroup
# is touched (proctrack/linuxproc, task/none), so no cgroup.conf is written.
# Only one such cluster can run at a time (one /etc/slurm, fixed ports):
# slurm_start refuses when a slurmctld or slurmd already runs.
#
# Several nodes add, under DIR: net/ (tag, subnet and node names of what
# the start made) and nodes/nK/ (tmp/: the node's /tmp; spool/: its slurmd
# spool directory; netns: the bind mount that holds its network namespace),
# per-node pid files and logs (run/slurmd-nK.pid, log/slurmd-nK.log); and
# outside DIR a bridge ltTAGb and veths ltTAGvK. slurm_stop kills every
# process left on a node, then removes the veths, the bridge and the mounts.
# DIR must not be below /tmp or /dev/shm, which each node has its own of.
#
# Environment:
#   LAUNCH_TEST_NODES    number of nodes (default 1: this host, no namespace)
#   SLURM_CLUSTER_SUBNET with several nodes, the private /24 of the bridge
#                        as A.B.C (default: 10.X.Y from a CRC of DIR)
#   LAUNCH_TEST_USER     the unprivileged user whose srun proves the cluster
#                        works (default launchtest)
#   SLURM_CLUSTER_CPUS   CPUs to declare for each node (default: the real count
#                        from `slurmd -C`; more is allowed: config_overrides)
#   SLURM_CLUSTER_DEBUG  SlurmctldDebug/SlurmdDebug (default info; slurm_info()
#                        from a plugin shows at info, slurm_debug() at debug)
#   SLURM_CLUSTER_OCI_CONF an oci.conf to install (Slurm's own --container);
#                        without it the cluster has none
#   SLURM_CLUSTER_TIMEOUT seconds to wait for the node to be idle (default 60;
#                        srun then gets at most 15 s)
#   SLURM_CLUSTER_SHARED paths (space-separated) that every node sees as the
#                        host does although they are below /tmp, which each
#                        node has its own of: the build tree and test images
#                        of a checkout under /tmp (a cluster's shared storage)
#   SLURM_CLUSTER_MUNGE_KEY  munge key (default /etc/munge/munge.key, which the
#                        munge package creates; if it is missing, a new key is
#                        made in DIR/munge/munge.key)
#
# Each daemon is started with SLURM_CLUSTER_SH_DIR=DIR in its environment,
# which slurm_stop checks (with the name) before it signals a recorded pid.
# A slurmstepd left behind by a killed or crashed slurmd (its environment is
# overwritten by its process title) is found by its working directory
# (DIR/log) or its open DIR/log/slurmd.log (slurmd-nK.log), and killed with
# its tasks; on a node, by its network namespace too.

SLURM_CLUSTER_ETC=/etc/slurm
SLURM_CLUSTER_FILES="slurm.conf plugstack.conf oci.conf"

_slurm_say() { printf 'cluster.sh: %s\n' "$*" >&2; }

_slurm_now_ms() { date +%s%3N; }

# _slurm_wait SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
_slurm_wait() {
	_sw_end=$(($(_slurm_now_ms) + $1 * 1000))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(_slurm_now_ms)" -lt "$_sw_end" ] || return 1
		sleep 0.1
	done
	return 0
}

_slurm_user() { printf '%s' "${LAUNCH_TEST_USER:-launchtest}"; }

slurm_as_user() {
	_sa_u=$(_slurm_user)
	_sa_home=$(getent passwd "$_sa_u" | cut -d: -f6)
	env -i HOME="${_sa_home:-/nonexistent}" USER="$_sa_u" LOGNAME="$_sa_u" \
		PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
		${LAUNCH_TEST_ID:+LAUNCH_TEST_ID="$LAUNCH_TEST_ID"} \
		setpriv --reuid="$_sa_u" --regid="$(id -g "$_sa_u")" --init-groups -- "$@"
}

# _slurm_abs DIR: DIR as an absolute path (DIR need not exist yet).
_slurm_abs() {
	case $1 in
	/*) printf '%s' "$1" ;;
	*) printf '%s/%s' "$(pwd)" "$1" ;;
	esac
}

# _slurm_alive PID NAME DIR: PID is a live process named NAME (comm; for
# slurmd-n1, the slurmd of node n1, slurmd) that carries
# SLURM_CLUSTER_SH_DIR=DIR, i.e. one we started for DIR.
_slurm_alive() {
	[ -n "$1" ] && [ -r "/proc/$1/comm" ] || return 1
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = "${2%%-*}" ] || return 1
	_st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$_st" ] && [ "$_st" != Z ] && [ "$_st" != X ] || return 1
	tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | grep -qxF "SLURM_CLUSTER_SH_DIR=$3"
}

# _slurm_marked DIR: pids of live processes carrying SLURM_CLUSTER_SH_DIR=DIR.
_slurm_marked() {
	grep -lzxsF "SLURM_CLUSTER_SH_DIR=$1" /proc/[0-9]*/environ 2>/dev/null |
		sed 's|/proc/\([0-9]*\)/environ|\1|' | while read -r _p; do
		[ "$_p" = "$$" ] && continue
		_st=$(sed 's/.*) //' "/proc/$_p/stat" 2>/dev/null | cut -d' ' -f1)
		[ -n "$_st" ] && [ "$_st" != Z ] && [ "$_st" != X ] && echo "$_p"
	done
	return 0
}

# _slurm_running_named NAME: pids of live (not zombie) processes named NAME.
_slurm_running_named() {
	for _p in $(pgrep -x "$1" 2>/dev/null); do
		_st=$(sed 's/.*) //' "/proc/$_p/stat" 2>/dev/null | cut -d' ' -f1)
		[ -n "$_st" ] && [ "$_st" != Z ] && [ "$_st" != X ] && echo "$_p"
	done
	return 0
}

# _slurm_pid DIR NAME: the pid slurm_start recorded for daemon NAME.
_slurm_pid() {
	cat "$1/pids/$2" 2>/dev/null || :
}

# _slurm_kill DIR NAME SECONDS: SIGTERM daemon NAME if it is ours, wait up
# to SECONDS for it to exit, then SIGKILL. Forgets the pid.
_slurm_kill() {
	_k_pid=$(_slurm_pid "$1" "$2")
	if _slurm_alive "$_k_pid" "$2" "$1"; then
		kill -TERM "$_k_pid" 2>/dev/null || :
		if ! _slurm_wait "$3" eval "! _slurm_alive $_k_pid $2 '$1'"; then
			_slurm_say "$2 (pid $_k_pid) still runs ${3}s after SIGTERM: SIGKILL"
			kill -KILL "$_k_pid" 2>/dev/null || :
			_slurm_wait 5 eval "! _slurm_alive $_k_pid $2 '$1'" || :
		fi
	fi
	rm -f "$1/pids/$2"
}

# _slurm_start_daemon DIR NAME PIDFILE CMD...: run CMD (which daemonizes and
# writes PIDFILE), then record the pid in DIR/pids/NAME.
_slurm_start_daemon() {
	_d_dir=$1 _d_name=$2 _d_pf=$3
	shift 3
	rm -f "$_d_pf"
	if ! env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C SLURM_CLUSTER_SH_DIR="$_d_dir" "$@" \
		>>"$_d_dir/log/$_d_name.out" 2>&1 </dev/null; then
		_slurm_say "$_d_name failed to start: $(printf '%s' "$*" | tr '\n' ' ') (see $_d_dir/log/$_d_name.out)"
		return 1
	fi
	if ! _slurm_wait 15 test -s "$_d_pf"; then
		_slurm_say "$_d_name wrote no pid file $_d_pf"
		return 1
	fi
	_d_pid=$(cat "$_d_pf")
	if ! _slurm_wait 2 _slurm_alive "$_d_pid" "$_d_name" "$_d_dir"; then
		_slurm_say "$_d_name (pid $_d_pid from $_d_pf) is not running"
		return 1
	fi
	echo "$_d_pid" >"$_d_dir/pids/$_d_name"
}

slurm_logs() {
	_l_dir=$(_slurm_abs "$1")
	for _l in "$_l_dir"/munge/munged.log "$_l_dir"/log/*; do
		[ -s "$_l" ] || continue
		printf '\n----- %s (last 40 lines) -----\n' "$_l" >&2
		tail -n 40 "$_l" >&2
	done
}

# _slurm_backup_etc DIR: save the /etc/slurm files we replace (once per DIR).
_slurm_backup_etc() {
	_b=$1/etc-backup
	[ -e "$_b/.complete" ] && return 0
	mkdir -p "$_b" || return 1
	mkdir -p "$SLURM_CLUSTER_ETC" || return 1
	for _f in $SLURM_CLUSTER_FILES; do
		rm -f "$_b/$_f" "$_b/$_f.absent"
		if [ -e "$SLURM_CLUSTER_ETC/$_f" ] || [ -L "$SLURM_CLUSTER_ETC/$_f" ]; then
			cp -a "$SLURM_CLUSTER_ETC/$_f" "$_b/$_f" || return 1
		else
			: >"$_b/$_f.absent"
		fi
	done
	: >"$_b/.complete"
}

_slurm_restore_etc() {
	_b=$1/etc-backup
	[ -e "$_b/.complete" ] || {
		rm -rf "$_b"
		return 0
	}
	for _f in $SLURM_CLUSTER_FILES; do
		if [ -e "$_b/$_f.absent" ]; then
			rm -f "$SLURM_CLUSTER_ETC/$_f"
		elif [ -e "$_b/$_f" ] || [ -L "$_b/$_f" ]; then
			rm -f "$SLURM_CLUSTER_ETC/$_f"
			cp -a "$_b/$_f" "$SLURM_CLUSTER_ETC/$_f" || return 1
		fi
	done
	rm -rf "$_b"
}

# ---- several nodes on this machine -------------------------------------------
# With LAUNCH_TEST_NODES=N (N >= 2) slurm_start makes nodes n1..nN. Node nK
# is a network namespace whose eth0 (SUBNET.(10+K)/24) is one end of a veth
# pair; the other end is on a bridge in the root namespace (SUBNET.1/24,
# where slurmctld and the test's srun are reached). Its slurmd runs in that
# network namespace and in new UTS and mount namespaces (_slurm_node_start):
# hostname nK, and a /tmp, /dev/shm and slurmd spool directory of its own,
# as on a real node. munged, slurmctld, /etc/slurm, homes and every other
# path stay shared (munge's socket too: unix sockets ignore network
# namespaces).
#
# Names come from a CRC of DIR, so that two clusters never share one, and a
# start refuses names or a subnet that exist: bridge ltTAGb, veths ltTAGvK
# (TAG: 6 hex digits); subnet 10.(200 + CRC % 50).(CRC / 50 % 256) unless
# SLURM_CLUSTER_SUBNET=A.B.C says. Each network namespace is held by a bind
# mount on DIR/nodes/nK/netns (not `ip netns add`, which leaves a /run/netns
# mount behind), so nothing is made outside DIR but the bridge and the veths.
# What a start makes is written to DIR/net before it is made: slurm_stop
# removes exactly that, also after a failed start.

# _slurm_node_names DIR: the nodes of a cluster of several nodes (n1 n2 ...
# on one line), nothing for a single-node cluster.
_slurm_node_names() {
	cat "$1/net/nodes" 2>/dev/null || :
}

_slurm_node_addr() {
	printf '%s.%s' "$(cat "$1/net/subnet")" "$((10 + ${2#n}))"
}

# _slurm_nodes_wanted: LAUNCH_TEST_NODES (default 1), checked.
_slurm_nodes_wanted() {
	_nw=${LAUNCH_TEST_NODES:-1}
	case $_nw in
	'' | *[!0-9]* | 0*)
		_slurm_say "LAUNCH_TEST_NODES must be a number of nodes from 1 to 64, not '$_nw'"
		return 1
		;;
	esac
	if [ "$_nw" -gt 64 ]; then
		_slurm_say "LAUNCH_TEST_NODES=$_nw: at most 64 nodes"
		return 1
	fi
	printf '%s' "$_nw"
}

# _slurm_netns_ino DIR NODE: the inode of node NODE's network namespace (as
# /proc/PID/ns/net shows it), if its bind mount is there.
_slurm_netns_ino() {
	_ni_f=$1/nodes/$2/netns
	awk -v f="$_ni_f" '$5 == f { found = 1 } END { exit !found }' /proc/self/mountinfo || return 0
	stat -L -c %i "$_ni_f" 2>/dev/null || :
}

# _slurm_node_procs DIR [NODE]: live processes in the network namespace of
# NODE (default: of any node): its slurmd, step daemons, tasks, containers.
_slurm_node_procs() {
	_np_inos=$(for _np_n in ${2:-$(_slurm_node_names "$1")}; do
		_slurm_netns_ino "$1" "$_np_n"
	done)
	[ -n "$_np_inos" ] || return 0
	find /proc/[0-9]*/ns/net -maxdepth 0 -printf '%p %l\n' 2>/dev/null |
		awk -v inos=" $(printf '%s' "$_np_inos" | tr '\n' ' ') " '{
			ino = $2; gsub(/[^0-9]/, "", ino)
			if (ino != "" && index(inos, " " ino " ")) { split($1, f, "/"); print f[3] }
		}' | while read -r _np_p; do
		_st=$(sed 's/.*) //' "/proc/$_np_p/stat" 2>/dev/null | cut -d' ' -f1)
		[ -n "$_st" ] && [ "$_st" != Z ] && [ "$_st" != X ] && echo "$_np_p"
	done
	return 0
}

# _slurm_net_check TAG SUBNET: nothing on this machine uses the names or
# the addresses a cluster with TAG and SUBNET would take.
_slurm_net_check() {
	_nc_links=$(ip -o link show 2>/dev/null | cut -d: -f2 | sed 's/@.*//; s/ //g' | grep "^lt${1}[bv]")
	if [ -n "$_nc_links" ]; then
		_slurm_say "network devices $(printf '%s ' "$_nc_links" | tr '\n' ' ')exist already: a cluster in this DIR runs, or was not stopped (sh cluster.sh stop DIR)"
		return 1
	fi
	_nc_used=$(
		ip -4 -o addr show | awk -v p="$2." 'index($4, p) == 1 { print $4 }'
		ip -4 route show root "$2.0/24"
		ip -4 route show match "$2.0/24" | grep -v '^default'
		grep -s '^nameserver' /etc/resolv.conf | grep -F " $2."
	)
	if [ -n "$_nc_used" ]; then
		_slurm_say "$2.0/24 is in use on this machine ($(printf '%s' "$_nc_used" | tr '\n' ' ')): set SLURM_CLUSTER_SUBNET=A.B.C to a free private /24"
		return 1
	fi
}

# _slurm_net_plan DIR: the tag and subnet of a cluster in DIR, in
# _slurm_net_tag and _slurm_net_subnet, once checked to be free.
_slurm_net_plan() {
	_np_crc=$(printf '%s' "$1" | cksum | cut -d' ' -f1)
	_slurm_net_tag=$(printf '%06x' $((_np_crc % 16777216)))
	_slurm_net_subnet=${SLURM_CLUSTER_SUBNET:-10.$((200 + _np_crc % 50)).$((_np_crc / 50 % 256))}
	if ! printf '%s\n' "$_slurm_net_subnet" |
		grep -Eqx '(10|192\.168|172\.(1[6-9]|2[0-9]|3[01]))(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){1,2}' ||
		[ "$(printf '%s' "$_slurm_net_subnet" | tr -cd . | wc -c)" != 2 ]; then
		_slurm_say "SLURM_CLUSTER_SUBNET=$_slurm_net_subnet: expected the first three numbers of a private /24 (10.A.B, 172.16-31.A, 192.168.A)"
		return 1
	fi
	_slurm_net_check "$_slurm_net_tag" "$_slurm_net_subnet"
}

# _slurm_net_up DIR N: the bridge, and the network namespaces of nodes
# n1..nN, with the names and subnet of _slurm_net_plan.
_slurm_net_up() {
	_nu_tag=$_slurm_net_tag
	_nu_net=$_slurm_net_subnet
	_nu_br=lt${_nu_tag}b
	mkdir -p "$1/net" "$1/nodes" && chmod 0755 "$1/nodes" || return 1
	echo "$_nu_tag" >"$1/net/tag" && echo "$_nu_net" >"$1/net/subnet" &&
		seq -f 'n%g' "$2" | paste -s -d ' ' >"$1/net/nodes" || return 1
	if ! { ip link add "$_nu_br" type bridge && ip addr add "$_nu_net.1/24" dev "$_nu_br" &&
		ip link set "$_nu_br" up; }; then
		_slurm_say "cannot make the bridge $_nu_br ($_nu_net.1/24)"
		return 1
	fi
	for _nu_n in $(_slurm_node_names "$1"); do
		_nu_d=$1/nodes/$_nu_n
		_nu_v=lt${_nu_tag}v${_nu_n#n}
		mkdir -p "$_nu_d/tmp" "$_nu_d/spool" && chmod 1777 "$_nu_d/tmp" && chmod 0755 "$_nu_d" "$_nu_d/spool" &&
			: >"$_nu_d/netns" || return 1
		# shellcheck disable=SC2016
		if ! { unshare --net="$_nu_d/netns" true &&
			ip link add "$_nu_v" type veth peer name eth0 netns "$_nu_d/netns" &&
			ip link set "$_nu_v" master "$_nu_br" up &&
			nsenter --net="$_nu_d/netns" sh -c 'ip link set lo up && ip addr add "$1/24" dev eth0 && ip link set eth0 up' \
				sh "$(_slurm_node_addr "$1" "$_nu_n")"; }; then
			_slurm_say "cannot make the network of node $_nu_n (namespace $_nu_d/netns, veth $_nu_v)"
			return 1
		fi
	done
}

# _slurm_net_down DIR: remove what _slurm_net_up made (once no process is
# left in the namespaces); false if some of it stays.
_slurm_net_down() {
	[ -d "$1/net" ] || return 0
	_nd_tag=$(cat "$1/net/tag" 2>/dev/null)
	for _nd_n in $(_slurm_node_names "$1"); do
		_nd_v=lt${_nd_tag}v${_nd_n#n}
		if [ -n "$_nd_tag" ] && ip link show dev "$_nd_v" >/dev/null 2>&1; then
			ip link del "$_nd_v" || :
		fi
		_nd_f=$1/nodes/$_nd_n/netns
		while awk -v f="$_nd_f" '$5 == f { found = 1 } END { exit !found }' /proc/self/mountinfo; do
			umount "$_nd_f" || break
		done
		rm -f "$_nd_f"
	done
	if [ -n "$_nd_tag" ] && ip link show dev "lt${_nd_tag}b" >/dev/null 2>&1; then
		ip link del "lt${_nd_tag}b" || :
	fi
	_nd_left=$(
		[ -z "$_nd_tag" ] || ip -o link show | cut -d: -f2 | sed 's/@.*//; s/ //g' | grep "^lt${_nd_tag}[bv]"
		awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo
	)
	if [ -n "$_nd_left" ]; then
		_slurm_say "left after the network was taken down: $(printf '%s' "$_nd_left" | tr '\n' ' ')"
		return 1
	fi
	rm -rf "$1/net"
}

# The start of a node's slurmd, in its new UTS and mount namespaces (sh -c
# script; $1 node, $2 its directory, $3 the spool path of slurm.conf, $4 the
# shared paths). Private propagation: nothing mounted here shows elsewhere,
# and all of it goes with the namespace when the node's last process ends.
# A shared path below /tmp (a build tree, test images: on a real cluster,
# software and images live on a shared file system) is bound into the
# node's /tmp at the same place before that /tmp takes over.
# shellcheck disable=SC2016
_SLURM_NODE_BOOT='hostname "$1" &&
for p in $4; do
	case $p in
	/tmp/?*) mkdir -p "$2/tmp/${p#/tmp/}" && mount --bind "$p" "$2/tmp/${p#/tmp/}" || exit 1 ;;
	esac
done &&
mount --rbind "$2/tmp" /tmp &&
mount --bind "$2/spool" "$3" &&
mount -t tmpfs -o nosuid,nodev,mode=1777 shm /dev/shm &&
exec slurmd -N "$1"'

# _slurm_node_start DIR NODE: start node NODE's slurmd. `nsenter --net`, not
# `ip netns exec`: the latter mounts a new /sys, which hides
# /sys/fs/cgroup, and slurmd then fails ("No filesystem mounted on
# /sys/fs/cgroup").
_slurm_node_start() {
	_ns_d=$1/nodes/$2
	# kept for a restart of the node's slurmd
	[ -n "${SLURM_CLUSTER_SHARED:-}" ] && printf '%s\n' "$SLURM_CLUSTER_SHARED" >"$1/shared"
	_ns_shared=$(cat "$1/shared" 2>/dev/null || :)
	_slurm_start_daemon "$1" "slurmd-$2" "$1/run/slurmd-$2.pid" \
		nsenter --net="$_ns_d/netns" unshare --uts --mount --propagation private \
		sh -c "$_SLURM_NODE_BOOT" sh "$2" "$_ns_d" "$1/spool/slurmd" "$_ns_shared"
}

# _slurm_slurmds DIR: the names under which slurm_start records the slurmds
# of DIR (slurmd, or slurmd-n1 slurmd-n2 ...).
_slurm_slurmds() {
	_ss_names=$(_slurm_node_names "$1")
	if [ -z "$_ss_names" ]; then
		echo slurmd
		return 0
	fi
	for _ss_n in $_ss_names; do printf 'slurmd-%s ' "$_ss_n"; done
	echo
}

# slurm_nodes DIR: the node names of the cluster in DIR, one per line.
slurm_nodes() {
	_sn_dir=$(_slurm_abs "${1:?usage: slurm_nodes DIR}")
	_sn_names=$(_slurm_node_names "$_sn_dir")
	if [ -n "$_sn_names" ]; then
		printf '%s\n' "$_sn_names" | tr ' ' '\n'
	else
		hostname -s
	fi
}

# slurm_node_pid DIR NODE: the pid of NODE's slurmd, if it runs.
slurm_node_pid() {
	_sp_dir=$(_slurm_abs "${1:?usage: slurm_node_pid DIR NODE}")
	_sp_pid=$(_slurm_pid "$_sp_dir" "slurmd-${2:?usage: slurm_node_pid DIR NODE}")
	_slurm_alive "$_sp_pid" slurmd "$_sp_dir" && echo "$_sp_pid"
}

# slurm_node_procs DIR [NODE]: every live process of NODE (or of all nodes),
# found by its network namespace.
slurm_node_procs() {
	_slurm_node_procs "$(_slurm_abs "${1:?usage: slurm_node_procs DIR [NODE]}")" "${2:-}"
}

# slurm_node_exec DIR NODE CMD...: run CMD as root on NODE (in the network,
# UTS and mount namespaces of its slurmd).
slurm_node_exec() {
	_se_dir=$(_slurm_abs "${1:?usage: slurm_node_exec DIR NODE CMD...}")
	_se_pid=$(slurm_node_pid "$_se_dir" "${2:?usage: slurm_node_exec DIR NODE CMD...}") || {
		_slurm_say "the slurmd of node $2 does not run"
		return 1
	}
	shift 2
	nsenter -t "$_se_pid" -n -u -m -- "$@"
}

# _slurm_node_line [NAME ADDR]: `slurmd -C` for this machine, renamed and
# addressed (default: this host's short name at 127.0.0.1).
_slurm_node_line() {
	_n_host=${1:-$(hostname -s)}
	_n_addr=${2:-127.0.0.1}
	_n_line=$(slurmd -C 2>/dev/null | head -n 1)
	case $_n_line in
	NodeName=*) ;;
	*) return 1 ;;
	esac
	_n_line=$(printf '%s\n' "$_n_line" | sed -e "s/^NodeName=[^ ]*/NodeName=$_n_host NodeAddr=$_n_addr/")
	if [ -n "${SLURM_CLUSTER_CPUS:-}" ]; then
		# Declare CPUs only (slurm derives one socket/core layout from it).
		_n_line=$(printf '%s\n' "$_n_line" | sed -e "s/ CPUs=[0-9]*/ CPUs=$SLURM_CLUSTER_CPUS/" \
			-e 's/ Boards=[0-9]*//' -e 's/ SocketsPerBoard=[0-9]*//' \
			-e 's/ CoresPerSocket=[0-9]*//' -e 's/ ThreadsPerCore=[0-9]*//')
	fi
	printf '%s State=UNKNOWN\n' "$_n_line"
}

# _slurm_write_conf DIR: slurm.conf for one node (this host), or for the
# nodes of _slurm_net_up (DIR/net), each at its address on the bridge with
# its pid and log file named by %n; all of them use the same spool path,
# which each node's mount namespace makes its own (see _slurm_node_start).
_slurm_write_conf() {
	_c_dir=$1
	_c_host=$(hostname -s)
	_c_ctl=localhost
	_c_pid=$_c_dir/run/slurmd.pid
	_c_log=$_c_dir/log/slurmd.log
	_c_part=$_c_host
	if [ -n "$(_slurm_node_names "$_c_dir")" ]; then
		_c_net=$(cat "$_c_dir/net/subnet") || return 1
		_c_ctl="$_c_host($_c_net.1)"
		_c_pid=$_c_dir/run/slurmd-%n.pid
		_c_log=$_c_dir/log/slurmd-%n.log
		_c_part=$(_slurm_node_names "$_c_dir" | tr ' ' ',')
		_c_node=$(for _c_n in $(_slurm_node_names "$_c_dir"); do
			_slurm_node_line "$_c_n" "$(_slurm_node_addr "$_c_dir" "$_c_n")" || exit 1
		done)
	else
		_c_node=$(_slurm_node_line)
	fi || {
		_slurm_say "slurmd -C printed no node line"
		return 1
	}
	_c_dbg=${SLURM_CLUSTER_DEBUG:-info}
	_c_tmp=$SLURM_CLUSTER_ETC/.slurm.conf.cluster-sh.$$
	cat >"$_c_tmp" <<EOF || return 1
# Written by tests/slurm/cluster.sh for $_c_dir; slurm_stop restores the
# original (saved in $_c_dir/etc-backup).
ClusterName=launchtest
MailProg=/bin/true
SlurmctldHost=$_c_ctl
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$_c_dir/munge/munge.socket.2
StateSaveLocation=$_c_dir/spool/slurmctld
SlurmdSpoolDir=$_c_dir/spool/slurmd
SlurmctldPidFile=$_c_dir/run/slurmctld.pid
SlurmdPidFile=$_c_pid
SlurmctldLogFile=$_c_dir/log/slurmctld.log
SlurmdLogFile=$_c_log
SlurmctldDebug=$_c_dbg
SlurmdDebug=$_c_dbg
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=5
SchedulerParameters=batch_sched_delay=0
${SLURM_CLUSTER_CPUS:+SlurmdParameters=config_overrides}
$_c_node
PartitionName=debug Nodes=$_c_part Default=YES MaxTime=UNLIMITED State=UP
EOF
	chmod 0644 "$_c_tmp" && mv -f "$_c_tmp" "$SLURM_CLUSTER_ETC/slurm.conf"
}

# _slurm_srun_works DIR: `srun -N1` as the test user runs its command
# (stdout is checked, not the status: srun can exit 0 when the step did not
# start; and an optional plugin that fails to load writes to stderr yet the
# step runs). With several nodes, `srun -N<all>`, and each node must
# answer with its own hostname.
_slurm_srun_works() {
	_w_names=$(_slurm_node_names "$1")
	if [ -z "$_w_names" ]; then
		_w_out=$(slurm_as_user timeout 20 srun -N1 echo cluster-sh-ok 2>/dev/null)
		[ "$_w_out" = cluster-sh-ok ]
		return
	fi
	# shellcheck disable=SC2016
	_w_out=$(slurm_as_user timeout 20 srun -N"$(printf '%s' "$_w_names" | wc -w)" \
		sh -c 'echo "cluster-sh-ok $(hostname)"' 2>/dev/null | sort)
	[ "$_w_out" = "$(printf '%s\n' "$_w_names" | tr ' ' '\n' | sed 's/^/cluster-sh-ok /' | sort)" ]
}

# _slurm_srun_wait DIR: retry _slurm_srun_works for up to 15 s; on failure,
# say what srun printed.
_slurm_srun_wait() {
	_sr_to=${SLURM_CLUSTER_TIMEOUT:-60}
	[ "$_sr_to" -le 15 ] || _sr_to=15
	_slurm_wait "$_sr_to" _slurm_srun_works "$1" && return 0
	_sr_n=$(_slurm_node_names "$1" | wc -w)
	[ "$_sr_n" -gt 0 ] || _sr_n=1
	# shellcheck disable=SC2016
	_slurm_say "srun -N$_sr_n as $(_slurm_user) does not work (${_sr_to}s): $(slurm_as_user timeout 20 srun -N"$_sr_n" \
		sh -c 'echo "cluster-sh-ok $(hostname)"' 2>&1 | tr '\n' ' ')"
	return 1
}

# _slurm_idle DIR: every node of the cluster is idle.
_slurm_idle() {
	_i_names=$(_slurm_node_names "$1")
	if [ -z "$_i_names" ]; then
		[ "$(sinfo -h -N -n "$(hostname -s)" -o %T 2>/dev/null)" = idle ]
		return
	fi
	[ "$(sinfo -h -N -o '%N %T' 2>/dev/null | sort)" = "$(printf '%s\n' "$_i_names" | tr ' ' '\n' | sed 's/$/ idle/' | sort)" ]
}

_slurm_munge_works() {
	munge -n --socket="$1/munge/munge.socket.2" | unmunge --socket="$1/munge/munge.socket.2" >/dev/null
}

slurm_start() {
	if [ $# -lt 1 ] || [ -z "$1" ]; then
		_slurm_say "usage: slurm_start DIR [PLUGSTACK_FILE]"
		return 2
	fi
	_dir=$(_slurm_abs "$1")
	_plug=${2:-}
	_t0=$(_slurm_now_ms)
	_slurm_made=
	[ "$(id -u)" = 0 ] || {
		_slurm_say "slurm_start must run as root"
		return 1
	}
	for _c in munged slurmctld slurmd srun sinfo scontrol setpriv; do
		command -v "$_c" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
		command -v "$_c" >/dev/null 2>&1 || {
			_slurm_say "$_c is not installed (apt-get install slurmctld slurmd slurm-client munge)"
			return 1
		}
	done
	_u=$(_slurm_user)
	id -u "$_u" >/dev/null 2>&1 || {
		_slurm_say "test user $_u does not exist (ci/setup-machine.sh creates it)"
		return 1
	}
	if [ -n "$_plug" ] && [ ! -r "$_plug" ]; then
		_slurm_say "plugstack file $_plug is not readable"
		return 1
	fi
	_nn=$(_slurm_nodes_wanted) || return 1
	if [ "$_nn" -gt 1 ]; then
		for _c in ip nsenter unshare hostname; do
			command -v "$_c" >/dev/null 2>&1 || {
				_slurm_say "$_c is not installed (apt-get install iproute2 util-linux hostname)"
				return 1
			}
		done
		case $_dir/ in
		/tmp/* | /dev/shm/*)
			_slurm_say "DIR must not be below /tmp or /dev/shm: each node has its own ($_dir)"
			return 1
			;;
		esac
	fi
	for _c in slurmctld slurmd; do
		_o=$(_slurm_running_named "$_c" | tr '\n' ' ')
		if [ -n "$_o" ]; then
			_slurm_say "a $_c already runs (pid $_o): stop it first (slurm_stop DIR for the DIR that started it)"
			return 1
		fi
	done
	if [ -e "$_dir/net" ]; then
		_slurm_say "$_dir/net exists: the network of an earlier start is still there (sh cluster.sh stop $_dir)"
		return 1
	fi
	if [ "$_nn" -gt 1 ]; then
		_slurm_net_plan "$_dir" || return 1
	fi
	case $_dir in
	*[!A-Za-z0-9/._+-]*)
		_slurm_say "DIR must be a plain path (letters, digits, / . _ + -): $_dir"
		return 1
		;;
	esac
	_s=$_dir/munge/munge.socket.2
	if [ "${#_s}" -gt 100 ]; then
		_slurm_say "DIR is too long for a unix socket path: $_s"
		return 1
	fi
	# from here on, a failure leaves something for slurm_stop
	_slurm_made=1
	mkdir -p "$_dir" && chmod 0755 "$_dir" || return 1
	mkdir -p "$_dir/run" "$_dir/log" "$_dir/pids" "$_dir/spool/slurmctld" "$_dir/spool/slurmd" "$_dir/munge" ||
		return 1
	chmod 0755 "$_dir/run" "$_dir/log" "$_dir/spool" "$_dir/spool/slurmctld" "$_dir/spool/slurmd"
	chown munge:munge "$_dir/munge" && chmod 0755 "$_dir/munge" || return 1
	for _who in munge "$_u"; do
		if ! setpriv --reuid="$_who" --regid="$(id -g "$_who")" --clear-groups test -x "$_dir/munge"; then
			_slurm_say "user $_who cannot reach $_dir (every parent directory must be searchable by others)"
			return 1
		fi
	done

	# munged, with the package's key (or a new one in DIR if it has none)
	_key=${SLURM_CLUSTER_MUNGE_KEY:-/etc/munge/munge.key}
	if [ ! -s "$_key" ]; then
		_key=$_dir/munge/munge.key
		if [ ! -s "$_key" ]; then
			# shellcheck disable=SC2016
			setpriv --reuid=munge --regid=munge --clear-groups \
				mungekey --create --keyfile="$_key" >>"$_dir/log/munged.out" 2>&1 ||
				setpriv --reuid=munge --regid=munge --clear-groups \
					sh -c 'umask 077; dd if=/dev/urandom of="$1" bs=1 count=1024 2>/dev/null' sh "$_key" || {
				_slurm_say "cannot create a munge key in $_key"
				return 1
			}
		fi
	fi
	if ! _slurm_alive "$(_slurm_pid "$_dir" munged)" munged "$_dir"; then
		_slurm_start_daemon "$_dir" munged "$_dir/munge/munged.pid" \
			setpriv --reuid=munge --regid=munge --clear-groups \
			munged --force --socket="$_s" --key-file="$_key" \
			--log-file="$_dir/munge/munged.log" --pid-file="$_dir/munge/munged.pid" \
			--seed-file="$_dir/munge/munged.seed" || {
			slurm_logs "$_dir"
			return 1
		}
	fi
	if ! _slurm_wait 10 _slurm_munge_works "$_dir"; then
		_slurm_say "munge does not work on $_s"
		slurm_logs "$_dir"
		return 1
	fi

	if [ "$_nn" -gt 1 ]; then
		_slurm_net_up "$_dir" "$_nn" || return 1
	fi

	# /etc/slurm
	_slurm_backup_etc "$_dir" || {
		_slurm_say "cannot back up $SLURM_CLUSTER_ETC to $_dir/etc-backup"
		return 1
	}
	_slurm_write_conf "$_dir" || return 1
	_p_tmp=$SLURM_CLUSTER_ETC/.plugstack.conf.cluster-sh.$$
	if [ -n "$_plug" ]; then
		cp "$_plug" "$_p_tmp" || return 1
	else
		: >"$_p_tmp"
	fi
	chmod 0644 "$_p_tmp" && mv -f "$_p_tmp" "$SLURM_CLUSTER_ETC/plugstack.conf" || return 1
	# oci.conf (Slurm's own --container) only when asked for
	rm -f "$SLURM_CLUSTER_ETC/oci.conf"
	if [ -n "${SLURM_CLUSTER_OCI_CONF:-}" ]; then
		install -m 0644 "$SLURM_CLUSTER_OCI_CONF" "$SLURM_CLUSTER_ETC/oci.conf" || return 1
	fi

	# the Slurm daemons; -c: no state from an earlier start (jobs, a node
	# drained by a failed epilog) survives into this one
	_slurm_start_daemon "$_dir" slurmctld "$_dir/run/slurmctld.pid" slurmctld -c || {
		slurm_logs "$_dir"
		return 1
	}
	if [ "$_nn" -gt 1 ]; then
		for _n in $(_slurm_node_names "$_dir"); do
			_slurm_node_start "$_dir" "$_n" || {
				slurm_logs "$_dir"
				return 1
			}
		done
	else
		_slurm_start_daemon "$_dir" slurmd "$_dir/run/slurmd.pid" slurmd || {
			slurm_logs "$_dir"
			return 1
		}
	fi
	_to=${SLURM_CLUSTER_TIMEOUT:-60}
	if ! _slurm_wait "$_to" _slurm_idle "$_dir"; then
		_slurm_say "$(slurm_nodes "$_dir" | tr '\n' ' ')not idle after ${_to}s: $(sinfo -N -o '%N %T %E' 2>&1 | tr '\n' ' ')"
		slurm_logs "$_dir"
		return 1
	fi
	if ! _slurm_srun_wait "$_dir"; then
		slurm_logs "$_dir"
		return 1
	fi
	_slurm_say "cluster of $_nn node(s) up in $(($(_slurm_now_ms) - _t0)) ms (dir $_dir)"
	return 0
}

# slurm_restart_slurmd DIR [NODE...]: restart the slurmd of the named nodes
# (default: all). A node's slurmd comes back in new UTS and mount
# namespaces with the same /tmp, spool and address, like a rebooted node
# that keeps its disk; step daemons its old slurmd left keep the old ones.
slurm_restart_slurmd() {
	_dir=$(_slurm_abs "${1:?usage: slurm_restart_slurmd DIR [NODE...]}")
	shift
	[ -d "$_dir/pids" ] || {
		_slurm_say "no cluster was started in $_dir"
		return 1
	}
	_names=$(_slurm_node_names "$_dir")
	if [ -z "$_names" ]; then
		_slurm_kill "$_dir" slurmd 15
		_slurm_start_daemon "$_dir" slurmd "$_dir/run/slurmd.pid" slurmd || {
			slurm_logs "$_dir"
			return 1
		}
	else
		# shellcheck disable=SC2086
		[ $# -gt 0 ] || set -- $_names
		for _n in "$@"; do
			case " $_names " in
			*" $_n "*) ;;
			*)
				_slurm_say "no node $_n in $_dir (nodes: $_names)"
				return 1
				;;
			esac
		done
		for _n in "$@"; do
			_slurm_kill "$_dir" "slurmd-$_n" 15
			_slurm_node_start "$_dir" "$_n" || {
				slurm_logs "$_dir"
				return 1
			}
		done
	fi
	_to=${SLURM_CLUSTER_TIMEOUT:-60}
	if ! _slurm_wait "$_to" _slurm_idle "$_dir"; then
		_slurm_say "$(slurm_nodes "$_dir" | tr '\n' ' ')not idle ${_to}s after the slurmd restart: $(sinfo -N -o '%N %T %E' 2>&1 | tr '\n' ' ')"
		slurm_logs "$_dir"
		return 1
	fi
	if ! _slurm_srun_wait "$_dir"; then
		slurm_logs "$_dir"
		return 1
	fi
	return 0
}

# _slurm_stepds DIR: live slurmstepd processes of the cluster in DIR. Their
# environment is overwritten by their process title, so they are told by
# their open slurmd log or their working directory (slurmd's, DIR/log).
_slurm_stepds() {
	for _p in $(_slurm_running_named slurmstepd); do
		_cwd=$(readlink "/proc/$_p/cwd" 2>/dev/null) || _cwd=
		case $_cwd/ in
		"$1"/*)
			echo "$_p"
			continue
			;;
		esac
		for _fd in /proc/"$_p"/fd/*; do
			case $(readlink "$_fd" 2>/dev/null) in
			"$1/log/slurmd.log" | "$1"/log/slurmd-n*.log)
				echo "$_p"
				break
				;;
			esac
		done
	done
	return 0
}

# _slurm_descendants PID: every live descendant of PID.
_slurm_descendants() {
	# shellcheck disable=SC2013
	for _c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		echo "$_c"
		_slurm_descendants "$_c"
	done
	return 0
}

slurm_stop() {
	_dir=$(_slurm_abs "${1:?usage: slurm_stop DIR}")
	_stop_rc=0
	_slurmds=$(_slurm_slurmds "$_dir")
	# Cancel what still runs, so that no slurmstepd or task outlives slurmd
	# (only while a slurmd lives; jobs on a node whose slurmd is gone stay
	# completing: no wait for them).
	_up=0 _down=0
	for _s in $_slurmds; do
		if _slurm_alive "$(_slurm_pid "$_dir" "$_s")" slurmd "$_dir"; then
			_up=$((_up + 1))
		else
			_down=$((_down + 1))
		fi
	done
	if _slurm_alive "$(_slurm_pid "$_dir" slurmctld)" slurmctld "$_dir" && [ "$_up" -gt 0 ]; then
		_jobs=$(squeue -h -o %A 2>/dev/null | tr '\n' ' ')
		if [ -n "$_jobs" ]; then
			# shellcheck disable=SC2086
			scancel $_jobs 2>/dev/null || :
			# shellcheck disable=SC2016
			[ "$_down" -gt 0 ] ||
				_slurm_wait 15 eval '[ -z "$(squeue -h -t PD,R,CG,S -o %A 2>/dev/null)" ] && [ -z "$(_slurm_stepds "$_dir")" ]' ||
				_slurm_say "jobs still listed after scancel: $(squeue -h 2>&1 | tr '\n' ' ')"
		fi
	fi
	for _s in $_slurmds; do
		_slurm_kill "$_dir" "$_s" 15
	done
	_slurm_kill "$_dir" slurmctld 15
	# Step daemons that outlived slurmd (slurmd was killed or crashed), with
	# their tasks; anything else that carries our marker, but munged; and
	# whatever still runs on a node (in its network namespace).
	_left=$(
		for _p in $(_slurm_stepds "$_dir"); do
			_slurm_descendants "$_p"
			echo "$_p"
		done
		_slurm_marked "$_dir" | while read -r _p; do
			[ "$(cat "/proc/$_p/comm" 2>/dev/null)" = munged ] || echo "$_p"
		done
		_slurm_node_procs "$_dir"
	)
	_left=$(printf '%s\n' "$_left" | sort -nu | tr '\n' ' ' | sed 's/^ *//; s/ *$//')
	if [ -n "$_left" ]; then
		_slurm_say "killing processes left behind: $(for _p in $_left; do
			printf '%s:%s ' "$_p" "$(cat "/proc/$_p/comm" 2>/dev/null)"
		done)"
		# shellcheck disable=SC2086
		kill -KILL $_left 2>/dev/null || :
	fi
	_slurm_kill "$_dir" munged 10
	if [ -d "$_dir" ]; then
		_slurm_restore_etc "$_dir" || {
			_slurm_say "cannot restore $SLURM_CLUSTER_ETC from $_dir/etc-backup"
			_stop_rc=1
		}
	fi
	# shellcheck disable=SC2016
	if ! _slurm_wait 5 eval '[ -z "$(_slurm_marked "$_dir")$(_slurm_stepds "$_dir")$(_slurm_node_procs "$_dir")" ]'; then
		_slurm_say "still running after stop: $(_slurm_marked "$_dir") $(_slurm_stepds "$_dir") $(_slurm_node_procs "$_dir")"
		_stop_rc=1
	fi
	_slurm_net_down "$_dir" || _stop_rc=1
	return $_stop_rc
}

slurm_status() {
	_dir=$(_slurm_abs "${1:?usage: slurm_status DIR}")
	_st_rc=0
	for _n in munged slurmctld $(_slurm_slurmds "$_dir"); do
		_p=$(_slurm_pid "$_dir" "$_n")
		_a=
		case $_n in
		slurmd-*) _a=" (node ${_n#slurmd-} at $(_slurm_node_addr "$_dir" "${_n#slurmd-}"))" ;;
		esac
		if _slurm_alive "$_p" "$_n" "$_dir"; then
			printf '%-10s running, pid %s%s\n' "$_n" "$_p" "$_a"
		else
			printf '%-10s not running%s\n' "$_n" "$_a"
			_st_rc=1
		fi
	done
	if [ "$_st_rc" = 0 ]; then
		sinfo
	fi
	return $_st_rc
}

_slurm_main() {
	_cmd=${1:-}
	[ $# -ge 2 ] || {
		echo "usage: sh cluster.sh start|stop|restart-slurmd|status|nodes|exec DIR [PLUGSTACK_FILE_OR_LINE | NODE...]" >&2
		exit 2
	}
	case $_cmd in
	start)
		_m_dir=$(_slurm_abs "$2")
		_m_plug=
		if [ -n "${3:-}" ]; then
			if [ -f "$3" ]; then
				_m_plug=$3
			else
				mkdir -p "$_m_dir" || exit 1
				printf '%s\n' "$3" >"$_m_dir/plugstack.conf" || exit 1
				_m_plug=$_m_dir/plugstack.conf
			fi
		fi
		if ! slurm_start "$_m_dir" "$_m_plug"; then
			# a start refused before it made anything leaves what runs alone
			if [ -n "${_slurm_made:-}" ]; then
				_slurm_say "start failed: stopping what was started"
				slurm_stop "$_m_dir"
			fi
			exit 1
		fi
		;;
	stop) slurm_stop "$2" || exit 1 ;;
	restart-slurmd)
		shift
		slurm_restart_slurmd "$@" || exit 1
		;;
	status) slurm_status "$2" || exit 1 ;;
	nodes) slurm_nodes "$2" || exit 1 ;;
	exec)
		shift
		[ $# -ge 3 ] || {
			echo "usage: sh cluster.sh exec DIR NODE CMD..." >&2
			exit 2
		}
		slurm_node_exec "$@"
		exit
		;;
	*)
		echo "usage: sh cluster.sh start|stop|restart-slurmd|status|nodes|exec DIR [PLUGSTACK_FILE_OR_LINE | NODE...]" >&2
		exit 2
		;;
	esac
	exit 0
}

case ${0##*/} in
cluster.sh) _slurm_main "$@" ;;
esac
