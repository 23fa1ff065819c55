/* Replays every committed fuzz corpus (tests/fuzz/corpus/<target>/) through its decoder, so a
 * crasher once found stays fixed (docs/RELIABILITY.md T11). `make SANITIZE=address,undefined
 * test` runs this under ASan+UBSan too. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_targets.h"

/* Feed every file of the target's corpus to it; returns how many there were. */
static size_t s_replay(const char *name)
{
    fuzz_fn fn = NULL;
    for (size_t i = 0; i < fuzz_n_targets; i++)
        if (strcmp(fuzz_targets[i].name, name) == 0)
            fn = fuzz_targets[i].fn;
    cr_assert_not_null(fn, "no fuzz target %s", name);
    const char *src = getenv("TACNET_SRC");
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", src && *src ? src : ".", name);
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "no corpus at %s", dir);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[1400];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        cr_assert_not_null(f, "%s", path);
        uint8_t *buf = malloc(1 << 20);
        size_t len = fread(buf, 1, 1 << 20, f);
        fclose(f);
        cr_assert_eq(fn(buf, len), 0, "%s", path);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

#define REPLAY(target)                                         \
    Test(fuzz_corpus, target##_corpus_replays_cleanly)         \
    {                                                          \
        size_t n = s_replay(#target);                          \
        cr_assert_gt(n, 0, "the %s corpus is empty", #target); \
    }

REPLAY(header)
REPLAY(ctl)
REPLAY(body)
REPLAY(policy_text)
REPLAY(roster)
REPLAY(api_request)
REPLAY(cfg)
REPLAY(intake)
REPLAY(merkle)
REPLAY(frame)

Test(fuzz_corpus, every_target_has_a_committed_corpus)
{
    for (size_t i = 0; i < fuzz_n_targets; i++)
        cr_assert_gt(s_replay(fuzz_targets[i].name), 0, "%s", fuzz_targets[i].name);
}
