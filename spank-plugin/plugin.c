/* SPDX-License-Identifier: Apache-2.0 */
/* Entry points of spank_launch.so: one dispatch on the context (see
 * plugin.h). Only the slurm_spank_* symbols and the plugin's identity are
 * exported (spank_launch.map). */
#define _GNU_SOURCE
#include <stdlib.h>

#include "log.h"
#include "plugin.h"

SPANK_PLUGIN(launch, 1);

/* launch's diagnostics go to Slurm's log */
static void to_slurm(int level, const char *msg)
{
	if (level <= LAUNCH_LOG_ERROR)
		slurm_error("%s", msg);
	else if (level <= LAUNCH_LOG_INFO)
		slurm_info("%s", msg);
	else
		slurm_debug("%s", msg);
}

static const char *process_getenv(void *arg, const char *name)
{
	(void)arg;
	return getenv(name);
}

int slurm_spank_init(spank_t sp, int ac, char **av)
{
	launch_log_set_sink(to_slurm);
	if (plugin_parse_args(ac, av) < 0)
		return -1;
	spank_context_t ctx = spank_context();
	if (ctx == S_CTX_LOCAL || ctx == S_CTX_ALLOCATOR)
		plugin_local_init();
	if (ctx == S_CTX_LOCAL || ctx == S_CTX_ALLOCATOR || ctx == S_CTX_REMOTE)
		return plugin_register_options(sp);
	return 0;
}

int slurm_spank_init_post_opt(spank_t sp, int ac, char **av)
{
	(void)sp, (void)ac, (void)av;
	spank_context_t ctx = spank_context();
	/* in srun, sbatch and salloc a bad option fails before the job exists */
	if (ctx == S_CTX_LOCAL || ctx == S_CTX_ALLOCATOR)
		return plugin_finish_options(process_getenv, NULL);
	return 0;
}

/* srun, once the job exists: the step's image, pinned */
int slurm_spank_local_user_init(spank_t sp, int ac, char **av)
{
	(void)ac, (void)av;
	return spank_context() == S_CTX_LOCAL ? plugin_local_user_init(sp) : 0;
}

int slurm_spank_user_init(spank_t sp, int ac, char **av)
{
	(void)ac, (void)av;
	return spank_remote(sp) ? plugin_user_init(sp) : 0;
}

int slurm_spank_task_init(spank_t sp, int ac, char **av)
{
	(void)ac, (void)av;
	return spank_remote(sp) ? plugin_task_init(sp) : 0;
}

int slurm_spank_task_exit(spank_t sp, int ac, char **av)
{
	(void)ac, (void)av;
	return spank_context() == S_CTX_REMOTE ? plugin_task_exit(sp) : 0;
}

int slurm_spank_exit(spank_t sp, int ac, char **av)
{
	(void)ac, (void)av;
	spank_context_t ctx = spank_context();
	if (ctx == S_CTX_LOCAL || ctx == S_CTX_ALLOCATOR)
		return plugin_local_exit(sp);
	return ctx == S_CTX_REMOTE ? plugin_exit(sp) : 0;
}

/* The job epilog context calls no slurm_spank_init: the plugstack.conf
 * arguments come here. A failure would drain the node: report, go on. */
int slurm_spank_job_epilog(spank_t sp, int ac, char **av)
{
	launch_log_set_sink(to_slurm);
	if (plugin_parse_args(ac, av) < 0)
		return 0;
	return plugin_job_epilog(sp);
}
