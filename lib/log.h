/* SPDX-License-Identifier: Apache-2.0 */
/* Diagnostics on stderr, filtered by the verbosity chosen with -v/-q. The
 * SPANK plugin redirects them to Slurm's log through launch_log_set_sink. */
#ifndef LAUNCH_LOG_H
#define LAUNCH_LOG_H

enum launch_log_level { LAUNCH_LOG_ERROR = 0, LAUNCH_LOG_WARN = 1, LAUNCH_LOG_INFO = 2, LAUNCH_LOG_DEBUG = 3 };

void launch_log_set_level(int level);
int launch_log_level(void);
typedef void (*launch_log_sink)(int level, const char *msg);
void launch_log_set_sink(launch_log_sink sink);
void launch_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define launch_warn(...) launch_log(LAUNCH_LOG_WARN, __VA_ARGS__)
#define launch_info(...) launch_log(LAUNCH_LOG_INFO, __VA_ARGS__)
#define launch_debug(...) launch_log(LAUNCH_LOG_DEBUG, __VA_ARGS__)

#endif
