#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A throw-away single-node Slurm cluster on this machine, for testing the
# SPANK plugin (spank_launch.so) with a real srun/sbatch. Run as root.
#
# Debian 12 packages it needs:
#   slurmctld slurmd slurm-client munge      (the cluster)
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
#   sh cluster.sh restart-slurmd DIR
#   sh cluster.sh status DIR
#
# Sourced (POSIX sh; nothing runs at source time; set -u safe):
#   slurm_start DIR [PLUGSTACK_FILE]  start munged, slurmctld, slurmd; returns
#                                     0 once `srun -N1` works for the test user,
#                                     1 (with the daemon logs on stderr) if not.
#                                     After a failure, call slurm_stop DIR.
#   slurm_stop DIR                    stop what slurm_start DIR started (its
#                                     pids only), restore /etc/slurm. Safe to
#                                     call twice, or after a failed start.
#   slurm_restart_slurmd DIR          restart slurmd only (after rebuilding a
#                                     SPANK plugin: slurmd loads it at start)
#   slurm_status DIR                  pids and sinfo
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
# Environment:
#   LAUNCH_TEST_USER     the unprivileged user whose srun proves the cluster
#                        works (default launchtest)
#   SLURM_CLUSTER_CPUS   CPUs to declare for the node (default: the real count
#                        from `slurmd -C`; more is allowed: config_overrides)
#   SLURM_CLUSTER_DEBUG  SlurmctldDebug/SlurmdDebug (default info; slurm_info()
#                        from a plugin shows at info, slurm_debug() at debug)
#   SLURM_CLUSTER_OCI_CONF an oci.conf to install (Slurm's own --container);
#                        without it the cluster has none
#   SLURM_CLUSTER_TIMEOUT seconds to wait for the node to be idle (default 60;
#                        srun then gets at most 15 s)
#   SLURM_CLUSTER_MUNGE_KEY  munge key (default /etc/munge/munge.key, which the
#                        munge package creates; if it is missing, a new key is
#                        made in DIR/munge/munge.key)
#
# Each daemon is started with SLURM_CLUSTER_SH_DIR=DIR in its environment,
# which slurm_stop checks (with the name) before it signals a recorded pid.
# A slurmstepd left behind by a killed or crashed slurmd (its environment is
# overwritten by its process title) is found by its working directory
# (DIR/log) or its open DIR/log/slurmd.log, and killed with its tasks.

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

# _slurm_alive PID NAME DIR: PID is a live process named NAME (comm) that
# carries SLURM_CLUSTER_SH_DIR=DIR, i.e. one we started for DIR.
_slurm_alive() {
	[ -n "$1" ] && [ -r "/proc/$1/comm" ] || return 1
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] || return 1
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
		_slurm_say "$_d_name failed to start: $* (see $_d_dir/log/$_d_name.out)"
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

# _slurm_node_line: `slurmd -C` for this node, renamed and addressed.
_slurm_node_line() {
	_n_host=$(hostname -s)
	_n_line=$(slurmd -C 2>/dev/null | head -n 1)
	case $_n_line in
	NodeName=*) ;;
	*) return 1 ;;
	esac
	_n_line=$(printf '%s\n' "$_n_line" | sed -e "s/^NodeName=[^ ]*/NodeName=$_n_host NodeAddr=127.0.0.1/")
	if [ -n "${SLURM_CLUSTER_CPUS:-}" ]; then
		# Declare CPUs only (slurm derives one socket/core layout from it).
		_n_line=$(printf '%s\n' "$_n_line" | sed -e "s/ CPUs=[0-9]*/ CPUs=$SLURM_CLUSTER_CPUS/" \
			-e 's/ Boards=[0-9]*//' -e 's/ SocketsPerBoard=[0-9]*//' \
			-e 's/ CoresPerSocket=[0-9]*//' -e 's/ ThreadsPerCore=[0-9]*//')
	fi
	printf '%s State=UNKNOWN\n' "$_n_line"
}

_slurm_write_conf() {
	_c_dir=$1
	_c_node=$(_slurm_node_line) || {
		_slurm_say "slurmd -C printed no node line"
		return 1
	}
	_c_host=$(hostname -s)
	_c_dbg=${SLURM_CLUSTER_DEBUG:-info}
	_c_tmp=$SLURM_CLUSTER_ETC/.slurm.conf.cluster-sh.$$
	cat >"$_c_tmp" <<EOF || return 1
# Written by tests/slurm/cluster.sh for $_c_dir; slurm_stop restores the
# original (saved in $_c_dir/etc-backup).
ClusterName=launchtest
MailProg=/bin/true
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$_c_dir/munge/munge.socket.2
StateSaveLocation=$_c_dir/spool/slurmctld
SlurmdSpoolDir=$_c_dir/spool/slurmd
SlurmctldPidFile=$_c_dir/run/slurmctld.pid
SlurmdPidFile=$_c_dir/run/slurmd.pid
SlurmctldLogFile=$_c_dir/log/slurmctld.log
SlurmdLogFile=$_c_dir/log/slurmd.log
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
PartitionName=debug Nodes=$_c_host Default=YES MaxTime=UNLIMITED State=UP
EOF
	chmod 0644 "$_c_tmp" && mv -f "$_c_tmp" "$SLURM_CLUSTER_ETC/slurm.conf"
}

# _slurm_srun_works: `srun -N1` as the test user runs its command (stdout is
# checked, not the status: srun can exit 0 when the step did not start; and
# an optional plugin that fails to load writes to stderr yet the step runs).
_slurm_srun_works() {
	_w_out=$(slurm_as_user timeout 20 srun -N1 echo cluster-sh-ok 2>/dev/null)
	[ "$_w_out" = cluster-sh-ok ]
}

# _slurm_srun_wait: retry _slurm_srun_works for up to 15 s; on failure, say
# what srun printed.
_slurm_srun_wait() {
	_sr_to=${SLURM_CLUSTER_TIMEOUT:-60}
	[ "$_sr_to" -le 15 ] || _sr_to=15
	_slurm_wait "$_sr_to" _slurm_srun_works && return 0
	_slurm_say "srun -N1 as $(_slurm_user) does not work (${_sr_to}s): $(slurm_as_user timeout 20 srun -N1 echo cluster-sh-ok 2>&1 | tr '\n' ' ')"
	return 1
}

_slurm_node_idle() {
	[ "$(sinfo -h -N -n "$(hostname -s)" -o %T 2>/dev/null)" = idle ]
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
	for _c in slurmctld slurmd; do
		_o=$(_slurm_running_named "$_c" | tr '\n' ' ')
		if [ -n "$_o" ]; then
			_slurm_say "a $_c already runs (pid $_o): stop it first (slurm_stop DIR for the DIR that started it)"
			return 1
		fi
	done
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
	_slurm_start_daemon "$_dir" slurmd "$_dir/run/slurmd.pid" slurmd || {
		slurm_logs "$_dir"
		return 1
	}
	_to=${SLURM_CLUSTER_TIMEOUT:-60}
	if ! _slurm_wait "$_to" _slurm_node_idle; then
		_slurm_say "node $(hostname -s) not idle after ${_to}s: $(sinfo -N -o '%N %T %E' 2>&1 | tr '\n' ' ')"
		slurm_logs "$_dir"
		return 1
	fi
	if ! _slurm_srun_wait; then
		slurm_logs "$_dir"
		return 1
	fi
	_slurm_say "cluster up in $(($(_slurm_now_ms) - _t0)) ms (dir $_dir)"
	return 0
}

slurm_restart_slurmd() {
	_dir=$(_slurm_abs "${1:?usage: slurm_restart_slurmd DIR}")
	[ -d "$_dir/pids" ] || {
		_slurm_say "no cluster was started in $_dir"
		return 1
	}
	_slurm_kill "$_dir" slurmd 15
	_slurm_start_daemon "$_dir" slurmd "$_dir/run/slurmd.pid" slurmd || {
		slurm_logs "$_dir"
		return 1
	}
	_to=${SLURM_CLUSTER_TIMEOUT:-60}
	if ! _slurm_wait "$_to" _slurm_node_idle; then
		_slurm_say "node $(hostname -s) not idle ${_to}s after the slurmd restart: $(sinfo -N -o '%N %T %E' 2>&1 | tr '\n' ' ')"
		slurm_logs "$_dir"
		return 1
	fi
	if ! _slurm_srun_wait; then
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
			if [ "$(readlink "$_fd" 2>/dev/null)" = "$1/log/slurmd.log" ]; then
				echo "$_p"
				break
			fi
		done
	done
	return 0
}

# _slurm_descendants PID: every live descendant of PID.
_slurm_descendants() {
	for _c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		echo "$_c"
		_slurm_descendants "$_c"
	done
	return 0
}

slurm_stop() {
	_dir=$(_slurm_abs "${1:?usage: slurm_stop DIR}")
	_stop_rc=0
	# Cancel what still runs, so that no slurmstepd or task outlives slurmd
	# (only while slurmd lives: without it, jobs stay completing).
	if _slurm_alive "$(_slurm_pid "$_dir" slurmctld)" slurmctld "$_dir" &&
		_slurm_alive "$(_slurm_pid "$_dir" slurmd)" slurmd "$_dir"; then
		_jobs=$(squeue -h -o %A 2>/dev/null | tr '\n' ' ')
		if [ -n "$_jobs" ]; then
			# shellcheck disable=SC2086
			scancel $_jobs 2>/dev/null || :
			_slurm_wait 15 eval '[ -z "$(squeue -h -t PD,R,CG,S -o %A 2>/dev/null)" ] && [ -z "$(_slurm_stepds "$_dir")" ]' ||
				_slurm_say "jobs still listed after scancel: $(squeue -h 2>&1 | tr '\n' ' ')"
		fi
	fi
	_slurm_kill "$_dir" slurmd 15
	_slurm_kill "$_dir" slurmctld 15
	# Step daemons that outlived slurmd (slurmd was killed or crashed), with
	# their tasks; and anything else that carries our marker, but munged.
	_left=$(
		for _p in $(_slurm_stepds "$_dir"); do
			_slurm_descendants "$_p"
			echo "$_p"
		done
		_slurm_marked "$_dir" | while read -r _p; do
			[ "$(cat "/proc/$_p/comm" 2>/dev/null)" = munged ] || echo "$_p"
		done
	)
	_left=$(printf '%s\n' "$_left" | tr '\n' ' ' | sed 's/^ *//; s/ *$//')
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
	if ! _slurm_wait 5 eval '[ -z "$(_slurm_marked "$_dir")$(_slurm_stepds "$_dir")" ]'; then
		_slurm_say "still running after stop: $(_slurm_marked "$_dir") $(_slurm_stepds "$_dir")"
		_stop_rc=1
	fi
	return $_stop_rc
}

slurm_status() {
	_dir=$(_slurm_abs "${1:?usage: slurm_status DIR}")
	_st_rc=0
	for _n in munged slurmctld slurmd; do
		_p=$(_slurm_pid "$_dir" "$_n")
		if _slurm_alive "$_p" "$_n" "$_dir"; then
			printf '%-10s running, pid %s\n' "$_n" "$_p"
		else
			printf '%-10s not running\n' "$_n"
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
		echo "usage: sh cluster.sh start|stop|restart-slurmd|status DIR [PLUGSTACK_FILE_OR_LINE]" >&2
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
			_slurm_say "start failed: stopping what was started"
			slurm_stop "$_m_dir"
			exit 1
		fi
		;;
	stop) slurm_stop "$2" || exit 1 ;;
	restart-slurmd) slurm_restart_slurmd "$2" || exit 1 ;;
	status) slurm_status "$2" || exit 1 ;;
	*)
		echo "usage: sh cluster.sh start|stop|restart-slurmd|status DIR [PLUGSTACK_FILE_OR_LINE]" >&2
		exit 2
		;;
	esac
	exit 0
}

case ${0##*/} in
cluster.sh) _slurm_main "$@" ;;
esac
