/* log: one line per event on stderr (journald collects it under systemd).
 *
 * Line shape: `2026-11-22T08:55:10.915Z broker[11641] W journal commit failed: E_STORE`. When
 * stderr is journald's own stream (JOURNAL_STREAM matches it), a line starts with its syslog
 * priority instead of the time (`<4>W journal commit failed: E_STORE`), so `journalctl -p
 * warning` filters. Info is for what an operator follows (connections, a summary per batch or
 * import, sweeps); a line per event is debug.
 * The only module in libtacnet that writes anything; it is called by services, and by one other
 * common module: store.c warns when it cannot give back a partial file extension (nothing to
 * return to a caller, who has its own error already). Never log keys, nonces, plaintext bodies or free text: log msg_ids (hex),
 * kinds, sizes and error names.
 */
#ifndef TACNET_LOG_H
#define TACNET_LOG_H

enum log_level { LOG_LVL_DEBUG = 0, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

extern enum log_level log_threshold;

/* Set the ident (copied, at most 31 bytes) and threshold. Safe to call again. */
void log_open(const char *ident, enum log_level threshold);

/* Parse "debug", "info", "warn" or "error". Returns 0 or TACNET_EINVAL. */
int log_level_parse(const char *s, enum log_level *out);

void log_write(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The macros skip evaluating their arguments below the threshold. */
#define log_msg(lvl, ...)                  \
    do {                                   \
        if ((lvl) >= log_threshold)        \
            log_write((lvl), __VA_ARGS__); \
    } while (0)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)

#endif
