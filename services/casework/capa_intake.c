/* capa_intake: the CAPA Choice record and a plan's workers from intake columns. See capa_intake.h. */
#include "casework/capa_intake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casework/capa.h"
#include "err.h"

static const intake_name_t s_chosen[] = {
    { "partnership", TACNET__CAPA_CHOSEN__CHOSEN_PARTNERSHIP },
    { "other_service", TACNET__CAPA_CHOSEN__CHOSEN_OTHER_SERVICE },
    { "self_help", TACNET__CAPA_CHOSEN__CHOSEN_SELF_HELP },
    { "nothing_now", TACNET__CAPA_CHOSEN__CHOSEN_NOTHING_NOW },
};

static char *s_dup(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* Record on ROW that column COL is empty although the rest of the Choice record is given. */
static bool s_needed(intake_row_t *row, size_t col, const char *why)
{
    if (intake_row_has(row, col))
        return true; /* present: a bad value has its own error */
    intake_row_error(row, TACNET_EFIELD, "%s is empty (%s)", row->columns[col], why);
    return false;
}

bool capa_intake_read(intake_row_t *row, size_t first, Tacnet__CapaChoice **out)
{
    const char *curious, *opinion, *formulation, *engagement;
    char **alts = NULL;
    size_t n_alts = 0;
    uint32_t chosen = 0;
    *out = NULL;
    bool ok = intake_row_text(row, first + CAPA_INTAKE_CURIOUS, false, &curious);
    ok &= intake_row_text(row, first + CAPA_INTAKE_HONEST_OPINION, false, &opinion);
    ok &= intake_row_text(row, first + CAPA_INTAKE_JOINT_FORMULATION, false, &formulation);
    ok &= intake_row_text(row, first + CAPA_INTAKE_ENGAGEMENT, false, &engagement);
    ok &= intake_row_enum(row, first + CAPA_INTAKE_CHOSEN, false, s_chosen,
                          sizeof(s_chosen) / sizeof(s_chosen[0]), &chosen);
    ok &= intake_row_list(row, first + CAPA_INTAKE_ALTERNATIVES, CAPA_INTAKE_MAX_ALTERNATIVES,
                          &alts, &n_alts);
    bool any = false;
    for (size_t c = CAPA_INTAKE_CURIOUS; c <= CAPA_INTAKE_ENGAGEMENT; c++)
        any |= intake_row_has(row, first + c);
    if (any) {
        ok &= s_needed(row, first + CAPA_INTAKE_JOINT_FORMULATION,
                       "a Choice record says the understanding reached together");
        ok &= s_needed(row, first + CAPA_INTAKE_CHOSEN,
                       "a Choice record says what the family chose: partnership, "
                       "other_service, self_help or nothing_now");
        if (chosen == TACNET__CAPA_CHOSEN__CHOSEN_OTHER_SERVICE)
            ok &= s_needed(row, first + CAPA_INTAKE_ALTERNATIVES,
                           "a choice of other_service lists the alternatives offered");
    }
    if (!ok || !any) {
        intake_list_free(alts, n_alts);
        return ok;
    }
    Tacnet__CapaChoice *c = xmalloc(sizeof(*c));
    tacnet__capa_choice__init(c);
    c->curious = s_dup(curious);
    c->honest_opinion = s_dup(opinion);
    c->joint_formulation = s_dup(formulation);
    c->engagement = s_dup(engagement);
    c->has_chosen = true;
    c->chosen = (Tacnet__CapaChosen)chosen;
    /* The list moves into the message, which frees it with the request. */
    c->alternatives = alts;
    c->n_alternatives = n_alts;
    *out = c;
    return true;
}

/* One worker from TEXT, "INITIALS:role" or, for a specific worker, "INITIALS:role:brings".
 * Returns NULL after recording an error naming column COL (and ITEM, from 1, when a list). */
static Tacnet__CapaWorker *s_worker(intake_row_t *row, size_t col, size_t item, const char *text,
                                    bool specific)
{
    char where[64];
    if (item)
        snprintf(where, sizeof(where), "%s item %zu", row->columns[col], item);
    else
        snprintf(where, sizeof(where), "%s", row->columns[col]);
    const char *c1 = strchr(text, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    const char *role_end = specific ? c2 : (c1 ? c1 + strlen(c1) : NULL);
    if (!c1 || !role_end || role_end == c1 + 1 || (specific && !c2[1]) || (!specific && c2)) {
        intake_row_error(row, TACNET_EFIELD, "%s is not %s", where,
                         specific ? "INITIALS:role:what they bring" : "INITIALS:role");
        return NULL;
    }
    char initials[8] = { 0 };
    size_t il = (size_t)(c1 - text);
    if (il < sizeof(initials))
        memcpy(initials, text, il);
    if (il >= sizeof(initials) || !intake_initials_valid(initials)) {
        intake_row_error(row, TACNET_EFIELD, "%s: the initials are not 2-4 capital letters", where);
        return NULL;
    }
    Tacnet__CapaWorker *w = xmalloc(sizeof(*w));
    tacnet__capa_worker__init(w);
    w->has_initials = true;
    w->initials.len = il;
    w->initials.data = xmalloc(il);
    memcpy(w->initials.data, initials, il);
    size_t rl = (size_t)(role_end - c1 - 1);
    w->role = xmalloc(rl + 1);
    memcpy(w->role, c1 + 1, rl);
    w->role[rl] = '\0';
    if (specific)
        w->brings = xstrdup(c2 + 1);
    return w;
}

bool capa_intake_workers(intake_row_t *row, size_t first, Tacnet__CarePlan *plan)
{
    size_t core_col = first + CAPA_INTAKE_CORE_WORKER;
    size_t spec_col = first + CAPA_INTAKE_SPECIFIC_WORKERS;
    const char *core_text = NULL;
    char **items = NULL;
    size_t n = 0;
    bool ok = intake_row_text(row, core_col, false, &core_text);
    ok &= intake_row_list(row, spec_col, CAPA_MAX_SPECIFIC_WORKERS, &items, &n);
    if (n && !intake_row_has(row, core_col)) {
        intake_row_error(row, TACNET_EFIELD,
                         "%s needs %s (the plan is held by a core worker, never by "
                         "specific workers alone)",
                         row->columns[spec_col], row->columns[core_col]);
        ok = false;
    }
    Tacnet__CapaWorker *core =
        ok && core_text ? s_worker(row, core_col, 0, core_text, false) : NULL;
    ok &= !core_text || core;
    Tacnet__CapaWorker **spec = n ? xmalloc(n * sizeof(*spec)) : NULL;
    size_t got = 0;
    for (size_t i = 0; ok && i < n; i++)
        if ((spec[got] = s_worker(row, spec_col, i + 1, items[i], true)) != NULL)
            got++;
    ok &= got == n;
    intake_list_free(items, n);
    if (!ok) {
        if (core)
            protobuf_c_message_free_unpacked(&core->base, NULL);
        for (size_t i = 0; i < got; i++)
            protobuf_c_message_free_unpacked(&spec[i]->base, NULL);
        free(spec);
        return false;
    }
    plan->core_worker = core;
    plan->specific_workers = spec;
    plan->n_specific_workers = n;
    return true;
}
