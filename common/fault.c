/* fault: crash points armed by the environment. */
#include "fault.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fault_armed = -1;
static const char *s_point;
static long s_after = 1;
static const char *s_log;

static void s_record(const char *name)
{
    int fd = open(s_log, O_WRONLY | O_APPEND | O_CREAT, 0600);
    if (fd < 0)
        return;
    char line[128];
    int n = snprintf(line, sizeof(line), "%s\n", name);
    if (n > 0 && write(fd, line, (size_t)n) < 0) {
        /* best effort: the sweep notices a point it never saw */
    }
    close(fd);
}

/* The N of a "name:N" SPEC (NULL allowed), or DEFAULT_N when it has none. */
static long s_spec_count(const char *spec, long default_n)
{
    const char *colon = spec ? strchr(spec, ':') : NULL;
    return colon ? strtol(colon + 1, NULL, 10) : default_n;
}

/* Whether the "name[:N]" SPEC names NAME. */
static int s_spec_names(const char *spec, const char *name)
{
    size_t n = strcspn(spec, ":");
    return strlen(name) == n && strncmp(name, spec, n) == 0;
}

void fault_point(const char *name)
{
    if (fault_armed < 0) {
        s_point = getenv("TACNET_FAULT");
        s_log = getenv("TACNET_FAULT_LOG");
        fault_armed = (s_point && *s_point) || (s_log && *s_log);
        s_after = s_spec_count(s_point, s_after);
        if (!fault_armed)
            return;
    }
    if (s_log && *s_log)
        s_record(name);
    if (!s_point)
        return;
    if (s_spec_names(s_point, name) && --s_after <= 0)
        kill(getpid(), SIGKILL);
}

int fault_skip_armed = -1;
static const char *s_skip;
static long s_skips = 1;

int fault_skip(const char *name)
{
    if (fault_skip_armed < 0) {
        s_skip = getenv("TACNET_FAULT_SKIP");
        fault_skip_armed = s_skip && *s_skip;
        if (!fault_skip_armed)
            return 0;
        s_skips = s_spec_count(s_skip, s_skips);
    }
    if (s_skips <= 0 || !s_spec_names(s_skip, name))
        return 0;
    s_skips--;
    return 1;
}
