#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Self-test of cluster.sh: start a single-node Slurm in a temporary
# directory, run jobs as the unprivileged test user (srun, sbatch --wait,
# MPI hello worlds with MPICH over PMI-2 and Open MPI over PMIx), restart
# slurmd, stop the cluster, and check that no daemon is left and /etc/slurm
# is as before. Run as root: `sh tests/slurm/selftest.sh`. Prints PASS, FAIL,
# SKIP or INFO per check; exits 1 if any check failed.
#
# Needs the packages cluster.sh lists; the MPI checks are skipped when
# mpicc.mpich / mpicc.openmpi / libpmix2 are not installed. A check that
# runs `srun` looks at the output, not only the status: srun can exit 0
# when a step fails to launch.
#
# Environment: LAUNCH_TEST_USER (default launchtest), SLURM_SELFTEST_TMPDIR
# (default /var/tmp; must be searchable by everyone), SLURM_SELFTEST_KEEP=1
# keeps the directory (logs) afterwards.

set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/cluster.sh"

FAILED=0
NCHECK=0
say() { printf '%s\n' "$*"; }
pass() {
	NCHECK=$((NCHECK + 1))
	say "PASS: $*"
}
fail() {
	NCHECK=$((NCHECK + 1))
	FAILED=$((FAILED + 1))
	say "FAIL: $*"
}
skip() { say "SKIP: $*"; }
info() { say "INFO: $*"; }
now_ms() { date +%s%3N; }
indent() { sed 's/^/    | /'; }

[ "$(id -u)" = 0 ] || {
	say "FAIL: selftest.sh must run as root"
	exit 1
}
U=${LAUNCH_TEST_USER:-launchtest}
id -u "$U" >/dev/null 2>&1 || {
	say "FAIL: test user $U does not exist (run ci/setup-machine.sh)"
	exit 1
}

D=$(mktemp -d "${SLURM_SELFTEST_TMPDIR:-/var/tmp}/launch-slurm.XXXXXX") || exit 1
chmod 0755 "$D"
C=$D/cluster
W=$D/work
mkdir -p "$W" && chown "$U:$(id -g "$U")" "$W" && chmod 0755 "$W"

cleanup() {
	trap - EXIT INT TERM HUP
	slurm_stop "$C" >/dev/null 2>&1
	if [ "${SLURM_SELFTEST_KEEP:-0}" = 1 ]; then
		say "kept $D"
	else
		rm -rf "$D"
	fi
}
trap 'cleanup; exit $FAILED_RC' EXIT
FAILED_RC=1
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# urun CMD...: run CMD as the test user (60 s at most) in $W; sets rc, out
# (stdout) and err (stderr).
urun() {
	out=$(cd "$W" && slurm_as_user timeout 60 "$@" 2>"$D/err")
	rc=$?
	err=$(cat "$D/err")
}

show() {
	say "    command: $*"
	say "    status: $rc"
	[ -z "$out" ] || printf '%s\n' "$out" | head -n 20 | indent
	[ -z "$err" ] || printf '%s\n' "$err" | head -n 20 | indent
}

# The /etc/slurm files cluster.sh replaces, to compare after the stop.
etc_state() {
	for f in $SLURM_CLUSTER_FILES; do
		if [ -e "/etc/slurm/$f" ]; then
			printf '%s %s\n' "$f" "$(stat -c '%a %U %G' "/etc/slurm/$f") $(sha256sum <"/etc/slurm/$f")"
		else
			printf '%s absent\n' "$f"
		fi
	done
}

# Live Slurm daemons or step daemons on this machine, and any process that
# carries the marker of cluster $1.
leftovers() {
	for n in slurmctld slurmd slurmstepd slurmscriptd; do
		_slurm_running_named "$n"
	done
	_slurm_marked "$1"
	p=$(_slurm_pid "$1" munged)
	if _slurm_alive "$p" munged "$1"; then echo "$p"; fi
}

# The test user's job tasks this test starts (sleep 600/601 and batch
# scripts), as "PID ARGS" lines.
user_tasks() {
	ps -o pid=,args= -u "$U" | grep -E 'sleep 60[01]|slurm_script' | grep -v grep
	return 0
}

# mpi_check NAME EXPECTED_N CMD...: CMD prints "rank R of N sum S" for every
# rank; checks that every rank 0..N-1 reported the right size and sum.
mpi_check() {
	_name=$1 _n=$2
	shift 2
	urun "$@"
	_sum=$((_n * (_n - 1) / 2))
	_want=$(r=0; while [ $r -lt "$_n" ]; do
		echo "rank $r of $_n sum $_sum"
		r=$((r + 1))
	done)
	_got=$(printf '%s\n' "$out" | grep '^rank ' | sort -k2,2n)
	if [ "$rc" = 0 ] && [ "$_got" = "$_want" ]; then
		pass "$_name: $*"
		return 0
	fi
	fail "$_name: $*"
	show "$@"
	return 1
}

before=$(etc_state)
say "# selftest: dir $D, user $U, slurm $(slurmd -V 2>/dev/null)"

# ---- a failed start (a required plugin that does not exist) ---------------
printf 'required /nonexistent/spank_selftest.so\n' >"$D/bad-plugstack.conf"
if SLURM_CLUSTER_TIMEOUT=5 slurm_start "$D/bad" "$D/bad-plugstack.conf" >"$D/bad.log" 2>&1; then
	fail "slurm_start with a missing required plugin succeeded"
else
	if grep -q 'Failed to load plugin /nonexistent/spank_selftest.so' "$D/bad.log"; then
		pass "slurm_start with a missing required plugin fails and shows the slurmd log"
	else
		fail "slurm_start with a missing required plugin: no slurmd log in its error"
		indent <"$D/bad.log" | tail -n 20
	fi
fi
slurm_stop "$D/bad" >"$D/bad-stop.log" 2>&1 && slurm_stop "$D/bad" >>"$D/bad-stop.log" 2>&1
rc=$?
left=$(leftovers "$D/bad" | tr '\n' ' ')
if [ "$rc" = 0 ] && [ -z "$left" ] && [ "$(etc_state)" = "$before" ]; then
	pass "slurm_stop twice after a failed start: nothing left, /etc/slurm restored"
else
	fail "slurm_stop after a failed start: rc $rc, left [$left]"
	indent <"$D/bad-stop.log"
fi

# ---- start ------------------------------------------------------------------
t0=$(now_ms)
if slurm_start "$C" >"$D/start.log" 2>&1; then
	pass "slurm_start ($(($(now_ms) - t0)) ms)"
else
	fail "slurm_start"
	indent <"$D/start.log"
	exit 1
fi
slurm_status "$C" | indent

# ---- jobs as the test user --------------------------------------------------
urun srun -N1 hostname
if [ "$rc" = 0 ] && [ "$out" = "$(hostname)" ]; then
	pass "srun -N1 hostname: $out"
else
	fail "srun -N1 hostname"
	show srun -N1 hostname
fi

urun srun -n 8 --overcommit /bin/true
if [ "$rc" = 0 ] && [ -z "$err" ]; then
	pass "srun -n 8 --overcommit /bin/true"
else
	fail "srun -n 8 --overcommit /bin/true"
	show srun -n 8 --overcommit /bin/true
fi

urun srun -n 32 --overcommit printenv SLURM_PROCID
got=$(printf '%s\n' "$out" | sort -n | tr '\n' ' ')
want=$(seq 0 31 | tr '\n' ' ')
if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then
	pass "srun -n 32 --overcommit: 32 tasks, SLURM_PROCID 0..31"
else
	fail "srun -n 32 --overcommit printenv SLURM_PROCID"
	show srun -n 32 --overcommit printenv SLURM_PROCID
fi

cat >"$W/job.sh" <<'EOF'
#!/bin/sh
#SBATCH -n 2
echo "job $SLURM_JOB_ID on $(hostname) as $(id -un)" >"$SLURM_SUBMIT_DIR/result.txt"
srun -n 2 printenv SLURM_PROCID | sort -n >>"$SLURM_SUBMIT_DIR/result.txt"
echo batch-stdout
EOF
chown "$U" "$W/job.sh"
chmod 0755 "$W/job.sh"
t0=$(now_ms)
urun sbatch --wait -o "$W/job.out" "$W/job.sh"
ms=$(($(now_ms) - t0))
res=$(cat "$W/result.txt" 2>/dev/null)
owner=$(stat -c %U "$W/result.txt" 2>/dev/null)
case $res in
"job "*" on $(hostname) as $U
0
1")
	if [ "$rc" = 0 ] && [ "$owner" = "$U" ] && [ "$(cat "$W/job.out")" = batch-stdout ]; then
		pass "sbatch --wait ($ms ms): job wrote $W/result.txt as $U, srun in the batch step works"
	else
		fail "sbatch --wait: rc $rc, owner $owner, job.out [$(cat "$W/job.out" 2>/dev/null)]"
		show sbatch --wait
	fi
	;;
*)
	fail "sbatch --wait: result [$res]"
	show sbatch --wait -o "$W/job.out" "$W/job.sh"
	;;
esac

# ---- MPI ----------------------------------------------------------------------
urun srun --mpi=list
mpilist=$(printf '%s\n%s\n' "$out" "$err")
types=$(printf '%s\n' "$mpilist" | awk '/plugin types are/ { on = 1; next } on && /^[ \t]+[a-z]/ { print $1 } /specific/ { on = 0 }' | tr '\n' ' ')
if [ -n "$types" ]; then
	pass "srun --mpi=list: $types"
	printf '%s\n' "$mpilist" | indent
else
	fail "srun --mpi=list"
	show srun --mpi=list
fi
has() { case " $types " in *" $1 "*) return 0 ;; esac; return 1; }
pmix_lib=no
if grep -q 'can not load PMIx library' "$C/log/slurmd.log"; then
	info "slurmd: $(grep -m1 'can not load PMIx library' "$C/log/slurmd.log")"
elif has pmix; then
	pmix_lib=yes
fi

cat >"$W/hello.c" <<'EOF'
#include <mpi.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	int rank, size, sum = -1;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	printf("rank %d of %d sum %d\n", rank, size, sum);
	MPI_Finalize();
	return 0;
}
EOF
chown "$U" "$W/hello.c"

if ! command -v mpicc.mpich >/dev/null 2>&1; then
	skip "MPICH: mpicc.mpich not installed (apt-get install mpich libmpich-dev)"
elif ! has pmi2; then
	fail "MPICH: this Slurm offers no pmi2 plugin"
else
	urun mpicc.mpich -o hello-mpich hello.c
	if [ "$rc" != 0 ]; then
		fail "MPICH: mpicc.mpich -o hello-mpich hello.c"
		show mpicc.mpich
	else
		mpi_check "MPICH over PMI-2" 2 srun --mpi=pmi2 -n 2 ./hello-mpich
		mpi_check "MPICH over PMI-2, overcommitted" 8 srun --mpi=pmi2 -n 8 --overcommit ./hello-mpich
		# Without a PMI the ranks do not find each other: N singletons.
		urun srun --mpi=none -n 2 ./hello-mpich
		info "MPICH with --mpi=none (rc $rc): $(printf '%s' "$out" | tr '\n' ';')"
	fi
fi

if ! command -v mpicc.openmpi >/dev/null 2>&1; then
	skip "Open MPI: mpicc.openmpi not installed (apt-get install openmpi-bin libopenmpi-dev)"
elif [ "$pmix_lib" != yes ]; then
	skip "Open MPI: the pmix plugin is not usable (apt-get install libpmix2, then restart slurmd)"
else
	urun mpicc.openmpi -o hello-ompi hello.c
	if [ "$rc" != 0 ]; then
		fail "Open MPI: mpicc.openmpi -o hello-ompi hello.c"
		show mpicc.openmpi
	else
		mpi_check "Open MPI over PMIx" 2 srun --mpi=pmix -n 2 ./hello-ompi
		mpi_check "Open MPI over PMIx, overcommitted" 8 srun --mpi=pmix -n 8 --overcommit ./hello-ompi
		# Debian's Open MPI has no PMI-1/2 client: this is expected to fail.
		urun srun --mpi=pmi2 -n 2 ./hello-ompi
		info "Open MPI with --mpi=pmi2 (rc $rc): $(printf '%s\n' "$err" | grep -m1 'not built with' | sed 's/^ *//' | cut -c1-120)"
		# The MPICH binary under PMIx: no PMI it speaks, N singletons.
		if [ -x "$W/hello-mpich" ]; then
			urun srun --mpi=pmix -n 2 ./hello-mpich
			info "MPICH with --mpi=pmix (rc $rc): $(printf '%s' "$out" | tr '\n' ';')"
		fi
	fi
fi

# ---- restart slurmd ----------------------------------------------------------------
old=$(_slurm_pid "$C" slurmd)
t0=$(now_ms)
if slurm_restart_slurmd "$C" >"$D/restart.log" 2>&1; then
	new=$(_slurm_pid "$C" slurmd)
	urun srun -N1 echo after-restart
	if [ "$new" != "$old" ] && [ "$out" = after-restart ]; then
		pass "slurm_restart_slurmd ($(($(now_ms) - t0)) ms): slurmd pid $old -> $new, srun works"
	else
		fail "slurm_restart_slurmd: pid $old -> $new"
		show srun -N1 echo after-restart
	fi
else
	fail "slurm_restart_slurmd"
	indent <"$D/restart.log"
fi

# ---- stop with work still running ------------------------------------------------
urun sbatch -o /dev/null --wrap 'sleep 600'
slurm_as_user sh -c 'cd "$1" && exec timeout 600 srun -N1 --overcommit sleep 601' sh "$W" \
	>/dev/null 2>&1 </dev/null &
srun_bg=$!
_slurm_wait 30 eval '[ "$(squeue -h -t R -o %A | wc -l)" = 2 ]' ||
	info "not both jobs running before the stop: $(squeue -h 2>&1 | tr '\n' ';')"
t0=$(now_ms)
if slurm_stop "$C" >"$D/stop.log" 2>&1; then
	pass "slurm_stop with a batch job and an srun step running ($(($(now_ms) - t0)) ms)"
else
	fail "slurm_stop"
	indent <"$D/stop.log"
fi
# the background srun loses its controller and exits
_slurm_wait 30 eval '! kill -0 $srun_bg' || kill -KILL "$srun_bg" 2>/dev/null
wait "$srun_bg" 2>/dev/null
if _slurm_wait 5 eval '[ -z "$(leftovers "$C")" ]'; then
	pass "no slurmctld, slurmd, slurmstepd or our munged left"
else
	fail "left running after slurm_stop: $(for p in $(leftovers "$C"); do printf '%s:%s ' "$p" "$(cat "/proc/$p/comm" 2>/dev/null)"; done)"
fi
tasks=$(user_tasks)
if [ -z "$tasks" ]; then
	pass "no job task of $U left"
else
	fail "job tasks left: $tasks"
fi

# ---- slurmd dies (a crashing plugin) with a job running ---------------------
C2=$D/cluster2
if slurm_start "$C2" >"$D/start2.log" 2>&1; then
	urun sbatch -o /dev/null --wrap 'sleep 600'
	_slurm_wait 30 eval '[ -n "$(squeue -h -t R -o %A)" ]' ||
		info "the job did not start: $(squeue -h 2>&1 | tr '\n' ';')"
	kill -KILL "$(_slurm_pid "$C2" slurmd)"
	if slurm_stop "$C2" >"$D/stop3.log" 2>&1 &&
		_slurm_wait 5 eval '[ -z "$(leftovers "$C2")$(user_tasks)" ]'; then
		pass "slurm_stop after slurmd was killed with a job running: step daemon and tasks killed"
	else
		fail "slurm_stop after slurmd was killed: left $(leftovers "$C2" | tr '\n' ' ') tasks [$(user_tasks)]"
		indent <"$D/stop3.log"
	fi
else
	fail "slurm_start (second cluster)"
	indent <"$D/start2.log"
fi

if [ "$(etc_state)" = "$before" ]; then
	pass "/etc/slurm restored"
else
	fail "/etc/slurm not restored"
	printf 'before:\n%s\nafter:\n%s\n' "$before" "$(etc_state)" | indent
fi
if slurm_stop "$C" >"$D/stop2.log" 2>&1 && [ "$(etc_state)" = "$before" ]; then
	pass "slurm_stop a second time"
else
	fail "slurm_stop a second time"
	indent <"$D/stop2.log"
fi

if [ "$FAILED" -gt 0 ]; then
	say "selftest: $FAILED of $NCHECK checks FAILED"
	FAILED_RC=1
else
	say "selftest: all $NCHECK checks passed"
	FAILED_RC=0
fi
exit $FAILED_RC
