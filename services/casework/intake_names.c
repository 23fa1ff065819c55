/* intake_names: the family's names an intake row carries, gathered per case for the identity
 * register (see intake.h). Names are the most identifying data the daemon handles: they are
 * copied only into the result, wiped when it is freed, and never put in a message. */
#include "casework/intake.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casework/kin.h"
#include "err.h"

const char *const intake_names_columns[INTAKE_NAMES_COLUMNS] = { "child_names",
                                                                 "parent_carer_names",
                                                                 "sibling_names" };

static void s_wipe_free(char *s)
{
    if (!s)
        return;
    sodium_memzero(s, strlen(s));
    free(s);
}

static void s_list_wipe(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        s_wipe_free(list[i]);
    free(list);
}

/* The names entry of case REF in R, added when missing. */
static intake_names_t *s_entry(intake_result_t *r, const char *ref)
{
    for (size_t i = 0; i < r->n_names; i++)
        if (strcmp(r->names[i].case_ref, ref) == 0)
            return &r->names[i];
    r->names = xrealloc(r->names, (r->n_names + 1) * sizeof(*r->names));
    intake_names_t *e = &r->names[r->n_names++];
    memset(e, 0, sizeof(*e));
    memcpy(e->case_ref, ref, strlen(ref) + 1);
    return e;
}

/* Move LIST's names into E, dropping those it holds already; LIST is consumed. */
static void s_merge(intake_names_t *e, char **list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int dup = 0;
        for (size_t k = 0; k < e->n && !dup; k++)
            dup = strcmp(e->names[k], list[i]) == 0;
        if (dup) {
            s_wipe_free(list[i]);
            continue;
        }
        e->names = xrealloc(e->names, (e->n + 1) * sizeof(*e->names));
        e->names[e->n++] = list[i];
    }
    free(list);
}

/* Say ROLE in front of each name of LIST, as the register takes it. */
static void s_prefix(char **list, size_t n, kin_role_t role)
{
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(kin_role_name(role)) + 1 + strlen(list[i]) + 1;
        char *p = xmalloc(l);
        snprintf(p, l, "%s:%s", kin_role_name(role), list[i]);
        s_wipe_free(list[i]);
        list[i] = p;
    }
}

/* Column KIND (0 child_names, 1 parent_carer_names, 2 sibling_names) at COL of ROW. */
static bool s_column(intake_row_t *row, size_t col, size_t kind, const char *ref)
{
    char **list = NULL;
    size_t n = 0;
    if (!intake_row_list(row, col, INTAKE_NAMES_MAX, &list, &n))
        return false;
    for (size_t i = 0; i < n; i++) {
        kin_role_t role;
        const char *name;
        /* The limit is the name's: a parent's relationship in front of it does not count. */
        size_t len = strlen(list[i]);
        if ((kind == 1 ? kin_name_len(list[i], len) : len) > INTAKE_NAME_MAX)
            intake_row_error(row, TACNET_EFIELD, "%s has a name longer than %d bytes",
                             row->columns[col], INTAKE_NAME_MAX);
        else if (kind == 1 && kin_parse(list[i], &role, &name) != 0)
            intake_row_error(row, TACNET_EFIELD,
                             "%s item %zu: the word before ':' is not mother, father, carer, "
                             "grandparent or other (or give the name alone)",
                             row->columns[col], i + 1);
        else
            continue;
        s_list_wipe(list, n);
        return false;
    }
    if (kind != 1)
        s_prefix(list, n, kind == 0 ? KIN_CHILD : KIN_SIBLING);
    if (n)
        s_merge(s_entry(row->result, ref), list, n);
    return true;
}

void intake_names_row(intake_row_t *row, size_t case_col, size_t first)
{
    bool any = false;
    for (size_t c = first; c < first + INTAKE_NAMES_COLUMNS; c++)
        any |= intake_row_has(row, c);
    /* An invalid reference is the row handler's error already; names need a case to go to. */
    if (!any || !intake_case_ref_valid(row->fields[case_col]))
        return;
    for (size_t c = first; c < first + INTAKE_NAMES_COLUMNS; c++)
        if (!s_column(row, c, c - first, row->fields[case_col]))
            return;
}

void intake_names_clear(intake_result_t *r)
{
    for (size_t i = 0; i < r->n_names; i++)
        s_list_wipe(r->names[i].names, r->names[i].n);
    free(r->names);
    r->names = NULL;
    r->n_names = 0;
}
