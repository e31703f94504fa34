/* SPDX-License-Identifier: GPL-2.0 */
/* Logging: pr_err/pr_warn/pr_info/pr_debug to stderr, with a global level. */
#ifndef XWGP_LOG_H
#define XWGP_LOG_H

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_level;

__attribute__((format(printf, 2, 3))) void log_msg(enum log_level level, const char *fmt, ...);

#define pr_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Route libbpf's own messages through log_msg (warnings always, debug at -v). */
void log_setup_libbpf(void);

#endif
