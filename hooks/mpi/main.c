/* SPDX-License-Identifier: Apache-2.0 */
/* launch-hook-mpi: the MPI hook program (see mpi.h and README.md). An OCI
 * hook: the state on standard input, the configuration in its environment
 * (hook.env of its hook file), no arguments. On failure it prints one line
 * and exits 1, which stops the container. */
#include <stdio.h>
#include <unistd.h>

#include "error.h"
#include "mpi.h"

extern char **environ;

int main(void)
{
	struct launch_error *err = NULL;
	if (launch_mpi_hook(environ, STDIN_FILENO, &err) < 0) {
		fprintf(stderr, "launch-hook-mpi: %s\n", err ? err->msg : "failed");
		launch_error_free(err);
		return 1;
	}
	return 0;
}
