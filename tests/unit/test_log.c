/* log: lines carry a syslog priority when stderr is journald's stream, and a timestamp
 * otherwise. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* Run FN with stderr sent to a fresh file; its contents into OUT. JOURNAL (1: JOURNAL_STREAM
 * names that file, 0: names something else) decides what log_open sees. */
static void s_capture(int journal, void (*fn)(void), char *out, size_t cap)
{
    char path[] = "/tmp/tacnet-log-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    struct stat st;
    fstat(fd, &st);
    char js[64];
    snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino + (journal ? 0 : 1));
    setenv("JOURNAL_STREAM", js, 1);
    fn();
    unsetenv("JOURNAL_STREAM");
    dup2(saved, STDERR_FILENO);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, out, cap - 1);
    out[n > 0 ? n : 0] = 0;
    close(fd);
    unlink(path);
}

static void s_lines(void)
{
    log_open("test", LOG_LVL_DEBUG);
    log_warn("journal commit failed: %s", "E_STORE");
    log_debug("queued %s", "concern");
    log_error("stopped");
    log_open("test", LOG_LVL_INFO);
}

Test(log, under_journald_each_line_starts_with_its_syslog_priority)
{
    char out[1024];
    s_capture(1, s_lines, out, sizeof(out));
    cr_assert_str_eq(out,
                     "<4>W journal commit failed: E_STORE\n<7>D queued concern\n<3>E stopped\n");
}

Test(log, elsewhere_a_line_starts_with_the_time_and_the_process)
{
    char out[1024];
    s_capture(0, s_lines, out, sizeof(out));
    cr_assert_eq(out[0], '2', "%s", out);
    cr_assert(strstr(out, "Z test[") && strstr(out, "] W journal commit failed: E_STORE\n"), "%s",
              out);
    cr_assert_null(strstr(out, "<4>"), "%s", out);
}

static void s_quiet(void)
{
    log_open("test", LOG_LVL_WARN);
    log_info("connected");
    log_debug("queued concern");
    log_warn("disk nearly full");
    log_open("test", LOG_LVL_INFO);
}

Test(log, below_the_threshold_nothing_is_written)
{
    char out[256];
    s_capture(1, s_quiet, out, sizeof(out));
    cr_assert_str_eq(out, "<4>W disk nearly full\n");
}
