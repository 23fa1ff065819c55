/* kin: who each name in a case's identity register is to the child. See kin.h. */
#include "casework/kin.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "err.h"

static const char *const s_names[KIN_COUNT] = {
    [KIN_UNKNOWN] = "unknown", [KIN_CHILD] = "child", [KIN_MOTHER] = "mother",
    [KIN_FATHER] = "father",   [KIN_CARER] = "carer", [KIN_GRANDPARENT] = "grandparent",
    [KIN_SIBLING] = "sibling", [KIN_OTHER] = "other",
};

const char *kin_role_name(kin_role_t role)
{
    return (unsigned)role < KIN_COUNT ? s_names[role] : NULL;
}

/* The relationship spelt by WORD (LEN bytes), or KIN_UNKNOWN when it names none. */
static kin_role_t s_lookup(const char *word, size_t len)
{
    for (int r = KIN_CHILD; r < KIN_COUNT; r++)
        if (strlen(s_names[r]) == len && strncasecmp(s_names[r], word, len) == 0)
            return (kin_role_t)r;
    return KIN_UNKNOWN;
}

size_t kin_name_len(const char *text, size_t len)
{
    const char *colon = text ? memchr(text, ':', len) : NULL;
    if (!colon)
        return len;
    const char *n = colon + 1, *end = text + len;
    while (n < end && (*n == ' ' || *n == '\t'))
        n++;
    return (size_t)(end - n);
}

int kin_parse(const char *text, kin_role_t *role, const char **name)
{
    if (!text || !role || !name)
        return TACNET_EINVAL;
    if (strchr(text, KIN_MARK))
        return TACNET_EFIELD;
    const char *colon = strchr(text, ':');
    *role = KIN_UNKNOWN;
    *name = text;
    if (!colon)
        return 0;
    const char *w = text, *e = colon;
    while (w < e && (*w == ' ' || *w == '\t'))
        w++;
    while (e > w && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    /* A colon with no relationship before it is refused, not taken as part of a name: a
     * mistyped "chlid:" registered whole would leave the real name unprotected. */
    if ((*role = s_lookup(w, (size_t)(e - w))) == KIN_UNKNOWN)
        return TACNET_EFIELD;
    const char *n = colon + 1;
    while (*n == ' ' || *n == '\t')
        n++;
    if (!*n)
        return TACNET_EFIELD;
    *name = n;
    return 0;
}

size_t kin_entry_encode(kin_role_t role, const char *name, char *out, size_t cap)
{
    if ((unsigned)role >= KIN_COUNT || !name || !out)
        return 0;
    int n = role == KIN_UNKNOWN
                ? snprintf(out, cap, "%s", name)
                : snprintf(out, cap, "%c%s%c%s", KIN_MARK, s_names[role], KIN_MARK, name);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

void kin_entry_decode(const char *entry, kin_role_t *role, const char **name)
{
    *role = KIN_UNKNOWN;
    *name = entry;
    if (entry[0] != KIN_MARK)
        return;
    const char *end = strchr(entry + 1, KIN_MARK);
    if (!end) {
        *name = entry + 1; /* damaged: keep the text, so it is still checked for */
        return;
    }
    *role = s_lookup(entry + 1, (size_t)(end - entry - 1));
    *name = end + 1;
}

size_t kin_merge_bound(size_t oldlen, char *const *texts, size_t n)
{
    size_t b = oldlen;
    for (size_t i = 0; i < n; i++)
        b += strlen(texts[i]) + KIN_ENTRY_EXTRA + 1;
    return b;
}

/* The relationship the last of TEXTS naming NAME gives it (KIN_UNKNOWN: none gives one). */
static kin_role_t s_given(char *const *texts, size_t n, const char *name)
{
    kin_role_t role = KIN_UNKNOWN, r;
    const char *nm;
    for (size_t i = 0; i < n; i++)
        if (kin_parse(texts[i], &r, &nm) == 0 && r != KIN_UNKNOWN && strcmp(nm, name) == 0)
            role = r;
    return role;
}

/* Does the register LIST (LEN bytes of NUL-terminated entries) hold NAME? */
static int s_has(const uint8_t *list, size_t len, const char *name)
{
    for (size_t off = 0; off < len;) {
        const char *entry = (const char *)list + off;
        size_t l = strnlen(entry, len - off);
        kin_role_t r;
        const char *have;
        if (l < len - off) {
            kin_entry_decode(entry, &r, &have);
            if (strcmp(have, name) == 0)
                return 1;
        }
        off += l + 1;
    }
    return 0;
}

int kin_merge(const uint8_t *old, size_t oldlen, char *const *texts, size_t n, uint8_t *out,
              size_t cap, size_t *outlen)
{
    if ((!old && oldlen) || (!texts && n) || !out || !outlen ||
        cap < kin_merge_bound(oldlen, texts, n))
        return TACNET_EINVAL;
    kin_role_t role, given;
    const char *name;
    for (size_t i = 0; i < n; i++)
        if (kin_parse(texts[i], &role, &name) != 0)
            return TACNET_EFIELD;
    size_t at = 0;
    for (size_t off = 0; off < oldlen;) {
        const char *entry = (const char *)old + off;
        size_t l = strnlen(entry, oldlen - off);
        if (l == oldlen - off)
            break; /* a torn last entry: nothing can be read from it */
        kin_entry_decode(entry, &role, &name);
        if ((given = s_given(texts, n, name)) != KIN_UNKNOWN)
            role = given;
        at += kin_entry_encode(role, name, (char *)out + at, cap - at) + 1;
        off += l + 1;
    }
    for (size_t i = 0; i < n; i++) {
        (void)kin_parse(texts[i], &role, &name);
        if (s_has(out, at, name))
            continue;
        at += kin_entry_encode(s_given(texts, n, name), name, (char *)out + at, cap - at) + 1;
    }
    *outlen = at;
    return 0;
}
