/* web_identity: the family's names on the case page (see web.h). The names themselves are never
 * shown, echoed or logged: the page says how many are registered, prompts for them when there
 * are none, and takes new ones in a small form that only writes. */
#include "web_internal.h"
#include "casework/intake.h"
#include "casework/kin.h"
#include "err.h"
#include "policy.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Names taken from one form: more is a paste of something else. */
#define IDENTITY_FORM_MAX 24

void dashboard_web_identity_section(dashboard_web_t *w, const char *ref)
{
    dashboard_buf_t *b = &w->body;
    size_t n = 0;
    int rc = agency_identity_count(w->agency, (const uint8_t *)ref, strlen(ref), &n);
    const char *added = dashboard_kv_get(w->query, "names");
    dashboard_buf_puts(b, "<section id=\"family-names\" aria-labelledby=\"family-names-h\">"
                          "<h2 id=\"family-names-h\">Family names</h2>");
    if (added && strcmp(added, "added") == 0)
        dashboard_buf_puts(b, "<p class=\"ok\" role=\"status\">Names registered.</p>");
    if (rc != 0)
        dashboard_buf_printf(b, "<p>The register cannot be read (<code>%s</code>).</p>",
                             tacnet_errname(rc));
    else if (n == 0)
        dashboard_buf_puts(b, "<div class=\"refusal\" role=\"note\"><p><strong>No family names "
                              "are registered for this case.</strong> Add the child's, the "
                              "parents' and carers' and the siblings' names as your own records "
                              "hold them: every event naming them, in any form, is then refused "
                              "before it is sent.</p></div>");
    else
        dashboard_buf_printf(b,
                             "<p>%zu name%s registered. They stay in this agency's daemon, "
                             "are never sent and are not shown here.</p>",
                             n, n == 1 ? "" : "s");
    dashboard_buf_printf(b,
                         "<form method=\"post\" action=\"/cases/%s/identity\" class=\"card\">"
                         "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                         "<label for=\"names\">Names to register, one per line, each "
                         "after who the person is to the child if you know it "
                         "(<kbd>child: </kbd>, <kbd>mother: </kbd>, <kbd>father: </kbd>, "
                         "<kbd>carer: </kbd>, <kbd>grandparent: </kbd>, <kbd>sibling: </kbd>, "
                         "<kbd>other: </kbd>)</label>"
                         "<textarea id=\"names\" name=\"names\" rows=\"3\" autocomplete=\"off\" "
                         "spellcheck=\"false\"></textarea>"
                         "<button type=\"submit\">Register names</button></form></section>",
                         ref, w->user->csrf);
}

/* One line of the form as a name: trimmed, UTF-8 without control characters, the name itself
 * (after the relationship, "grandparent: ", when one leads) 1 to INTAKE_NAME_MAX bytes: the
 * limit is on the name typed, not on the word the form asks for in front of it. Returns the
 * trimmed length, 0 for a blank line, -1 for a bad one. */
static long s_name(const char *line, size_t len, const char **start)
{
    while (len && (*line == ' ' || *line == '\t')) {
        line++;
        len--;
    }
    while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
        len--;
    *start = line;
    if (len == 0)
        return 0;
    if (kin_name_len(line, len) > INTAKE_NAME_MAX || !intake_utf8_valid(line, len))
        return -1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            return -1;
    return (long)len;
}

/* The form's names into NAMES (heap copies; *N of them). Returns 0 or TACNET_EFIELD with *BAD
 * the number of the line at fault (0: no name given at all; (size_t)-1: too many names). */
static int s_names(const char *text, char **names, size_t *n, size_t *bad)
{
    *n = 0;
    *bad = 0;
    size_t line = 0;
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n'), *start;
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        long l = s_name(p, len, &start);
        line++;
        if (l < 0 || (l > 0 && *n == IDENTITY_FORM_MAX)) {
            *bad = l < 0 ? line : (size_t)-1; /* (size_t)-1: too many */
            return TACNET_EFIELD;
        }
        if (l > 0) {
            names[*n] = xmalloc((size_t)l + 1);
            memcpy(names[*n], start, (size_t)l);
            names[(*n)++][l] = '\0';
        }
        p = nl ? nl + 1 : NULL;
    }
    return *n ? 0 : TACNET_EFIELD;
}

void dashboard_web_identity_post(dashboard_web_t *w, const char *ref)
{
    char actor[48];
    char *names[IDENTITY_FORM_MAX];
    size_t n = 0;
    dashboard_web_actor(w->user, actor, sizeof(actor));
    /* Only a case this agency holds, read (and audited) as the case page reads it. */
    Tacnet__ApiReply reply = TACNET__API_REPLY__INIT;
    int rc = dashboard_web_case_read(w->agency, actor, ref, &reply);
    agency_reply_free(&reply);
    if (rc != 0) {
        dashboard_web_error(w, rc == TACNET_ENOTFOUND ? 404 : 503, rc,
                            rc == TACNET_ENOTFOUND ? "this agency holds no case with that reference"
                                                   : tacnet_strerror(rc));
        return;
    }
    size_t bad = 0;
    rc = s_names(dashboard_kv_get(w->form, "names"), names, &n, &bad);
    int parsed = rc == 0;
    if (rc == 0)
        rc = agency_identity_add(w->agency, (const uint8_t *)ref, strlen(ref), names, n);
    for (size_t i = 0; i < n; i++) {
        sodium_memzero(names[i], strlen(names[i]));
        free(names[i]);
    }
    dashboard_web_audit(w->agency, actor, "identity.register", ref, rc);
    if (rc == TACNET_EFIELD) {
        /* Said here, with the form again and the way back to the case: the names typed are
         * not shown again (never echoed), only which line was wrong. */
        char why[320];
        if (bad == (size_t)-1)
            snprintf(why, sizeof(why), "at most %d names at once; nothing was registered",
                     IDENTITY_FORM_MAX);
        else if (parsed)
            snprintf(why, sizeof(why),
                     "a name is after a word that is not one of child:, mother:, father:, "
                     "carer:, grandparent:, sibling: or other: (write other: for anyone else); "
                     "nothing was registered");
        else if (bad)
            snprintf(why, sizeof(why),
                     "line %zu is not a name: at most 100 characters of text, after child:, "
                     "mother:, father:, carer:, grandparent:, sibling: or other: if at all; "
                     "nothing was registered",
                     bad);
        else
            snprintf(why, sizeof(why), "no name was given; nothing was registered");
        w->status = 422;
        dashboard_web_head(w, "Names not registered", NULL);
        dashboard_buf_puts(&w->body, "<h1>Names not registered</h1><div class=\"refusal\" "
                                     "role=\"alert\"><p><code>E_FIELD</code> ");
        dashboard_web_text(&w->body, why);
        dashboard_buf_puts(&w->body, "</p></div>");
        dashboard_web_identity_section(w, ref);
        dashboard_buf_printf(&w->body, "<p><a href=\"/cases/%s\">Back to %s</a></p>", ref, ref);
        dashboard_web_foot(w);
        return;
    }
    if (rc != 0) {
        dashboard_web_error(w, 503, rc, tacnet_strerror(rc));
        return;
    }
    w->status = 303;
    snprintf(w->location, sizeof(w->location), "/cases/%s?names=added#family-names", ref);
}
