/* log: timestamped, levelled lines on stderr. */
#include "log.h"
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum log_level log_threshold = LOG_LVL_INFO;
static char s_ident[32] = "tacnet";
static int s_journal; /* stderr is journald's stream: prefix each line with its priority */

/* Whether stderr is the stream journald gave this service: JOURNAL_STREAM names its device and
 * inode ("dev:ino"), so a redirected stderr (a file, a pipe to a test) is never mistaken for it. */
static int s_stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) != 0)
        return 0;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_open(const char *ident, enum log_level threshold)
{
    snprintf(s_ident, sizeof(s_ident), "%s", ident ? ident : "tacnet");
    log_threshold = threshold;
    s_journal = s_stderr_is_journal();
}

int log_level_parse(const char *s, enum log_level *out)
{
    static const char *names[] = { "debug", "info", "warn", "error" };
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return TACNET_EINVAL;
}

void log_write(enum log_level lvl, const char *fmt, ...)
{
    static const char letters[] = "DIWE";
    /* syslog priorities (debug 7, info 6, warning 4, err 3): `journalctl -p` filters on them. */
    static const char priorities[] = "7643";
    char line[1024];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n;
    if (s_journal) /* journald stamps the time and the process itself */
        n = snprintf(line, sizeof(line), "<%c>%c ", priorities[lvl & 3], letters[lvl & 3]);
    else
        n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s[%d] %c ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(tv.tv_usec / 1000), s_ident, (int)getpid(), letters[lvl & 3]);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(line))
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    /* One write per line so lines from several processes sharing a log do not interleave. */
    size_t len = strnlen(line, sizeof(line) - 2);
    line[len++] = '\n';
    if (write(STDERR_FILENO, line, len) < 0) {
        /* nowhere left to report it */
    }
}
