/* SPDX-License-Identifier: Apache-2.0 */
/* The part of Slurm's API that spank_launch.so takes from the program
 * loading it (slurmstepd, srun, sbatch, salloc), as stubs. Linked with the
 * plugin's objects into spank_launch_linkcheck.so under --no-undefined, so
 * that anything else the plugin leaves undefined (a lib/ function whose
 * file no longer reaches the link) fails the build instead of dlopen on a
 * compute node; tests/unit/test_spank_load.c also loads the real module
 * against them. A Slurm function the plugin starts to call is added here;
 * spank.h checks each signature. Never loaded by Slurm. */
#include <slurm/spank.h>

int spank_remote(spank_t spank)
{
	return 0;
}

spank_context_t spank_context(void)
{
	return S_CTX_ERROR;
}

spank_err_t spank_option_register(spank_t spank, struct spank_option *opt)
{
	return ESPANK_SUCCESS;
}

spank_err_t spank_get_item(spank_t spank, spank_item_t item, ...)
{
	return ESPANK_NOT_AVAIL;
}

spank_err_t spank_getenv(spank_t spank, const char *var, char *buf, int len)
{
	return ESPANK_ENV_NOEXIST;
}

spank_err_t spank_setenv(spank_t spank, const char *var, const char *val, int overwrite)
{
	return ESPANK_SUCCESS;
}

spank_err_t spank_unsetenv(spank_t spank, const char *var)
{
	return ESPANK_SUCCESS;
}

void slurm_info(const char *format, ...) {}

void slurm_error(const char *format, ...) {}

void slurm_debug(const char *format, ...) {}

void slurm_spank_log(const char *format, ...) {}
