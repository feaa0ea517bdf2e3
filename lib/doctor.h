/* SPDX-License-Identifier: Apache-2.0 */
/* Node checks behind `launch doctor`: what `launch run` needs from the
 * kernel and the system, each with the command that fixes it. */
#ifndef LAUNCH_DOCTOR_H
#define LAUNCH_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

enum launch_check_status { LAUNCH_CHECK_OK, LAUNCH_CHECK_INFO, LAUNCH_CHECK_WARN, LAUNCH_CHECK_FAIL };

struct launch_check {
	const char *name;
	enum launch_check_status status;
	bool required; /* FAIL here means `launch run` cannot work */
	char *detail;
	char *fix;
};

struct launch_checks {
	struct launch_check *v;
	size_t n;
};

void launch_doctor_run(const struct launch_config *c, const char *config_error, struct launch_checks *out);
bool launch_doctor_ok(const struct launch_checks *cs);
void launch_checks_clear(struct launch_checks *cs);
const char *launch_check_status_name(enum launch_check_status s);

#endif
