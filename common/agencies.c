/* agencies: the process-wide table of the roster's agencies, and the rules an entry obeys. */
#include "agencies.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "wire.pb-c.h"

#define AGENCIES_NAME_MAX  32
#define AGENCIES_TITLE_MAX 64
#define S_STR(x)           #x
#define S_XSTR(x)          S_STR(x)

static struct {
    uint32_t id;
    char name[AGENCIES_NAME_MAX];
    char title[AGENCIES_TITLE_MAX];
} s_table[AGENCIES_MAX];
static size_t s_n;

static const char *const s_profiles[] = { "camhs", "school", "health_visiting", "social_care",
                                          "generic" };

void agencies_register(Tacnet__AgencyEntry *const *entries, size_t n)
{
    s_n = 0;
    for (size_t i = 0; i < n && s_n < AGENCIES_MAX; i++) {
        s_table[s_n].id = entries[i]->id;
        snprintf(s_table[s_n].name, sizeof(s_table[s_n].name), "%s", entries[i]->name);
        snprintf(s_table[s_n].title, sizeof(s_table[s_n].title), "%s", entries[i]->title);
        s_n++;
    }
}

static int s_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n < 2 || n >= AGENCIES_NAME_MAX || !islower((unsigned char)name[0]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)name[i]) && !isdigit((unsigned char)name[i]) && name[i] != '_')
            return 0;
    return 1;
}

/* The enum value whose lowercase name is NAME, or -1. */
static int s_enum_by_name(const char *name)
{
    char up[AGENCIES_NAME_MAX];
    size_t n = strlen(name);
    if (n >= sizeof(up))
        return -1;
    for (size_t i = 0; i <= n; i++)
        up[i] = (char)toupper((unsigned char)name[i]);
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value_by_name(&tacnet__agency__descriptor, up);
    return v ? v->value : -1;
}

static int s_profile_ok(const char *profile, const char *name, uint32_t id)
{
    if (id >= AGENCIES_EXTRA_FIRST)
        return strcmp(profile, "generic") == 0;
    for (size_t i = 0; i < sizeof(s_profiles) / sizeof(s_profiles[0]); i++)
        if (strcmp(profile, s_profiles[i]) == 0)
            return strcmp(profile, "generic") == 0 || strcmp(profile, name) == 0;
    return 0;
}

/* What is wrong with entry E on its own, or NULL. */
static const char *s_entry_fault(const Tacnet__AgencyEntry *e)
{
    if (!e->name || !s_name_ok(e->name))
        return "name must be 2 to 31 lowercase letters, digits or '_', starting with a letter";
    int named = s_enum_by_name(e->name);
    if (named >= 0 && (uint32_t)named != e->id)
        return "a name the protocol reserves must keep its own id (camhs 1, school 2, "
               "health_visiting 3, social_care 4)";
    if (e->id == TACNET__AGENCY__PARTNERSHIP || e->id == TACNET__AGENCY__BROKER ||
        e->id == TACNET__AGENCY__AGENCY_UNKNOWN)
        return "id 0, 5 (the partnership contact) and 15 (the broker) are not agencies' ids";
    if (named < 0 && (e->id < AGENCIES_EXTRA_FIRST || e->id > AGENCIES_EXTRA_LAST))
        return "an agency the protocol does not name takes an id from " S_XSTR(
            AGENCIES_EXTRA_FIRST) " to " S_XSTR(AGENCIES_EXTRA_LAST);
    if (!e->title || !e->title[0] || strlen(e->title) >= AGENCIES_TITLE_MAX)
        return "title must be 1 to 63 characters";
    for (size_t j = 0; j < e->n_classes; j++)
        if (!protobuf_c_enum_descriptor_get_value(&tacnet__sensitivity__descriptor,
                                                  e->classes[j]) ||
            e->classes[j] == TACNET__SENSITIVITY__SENSITIVITY_UNKNOWN)
            return "classes are routine, health, safeguarding";
    if (e->profile && !s_profile_ok(e->profile, e->name, e->id))
        return "profile must be the agency's own name (camhs, school, health_visiting, "
               "social_care) or generic, and generic for every other agency";
    return NULL;
}

int agencies_check(Tacnet__AgencyEntry *const *entries, size_t n, char *why, size_t whylen)
{
    if (n > AGENCIES_MAX) {
        snprintf(why, whylen, "%zu agencies; at most %d", n, AGENCIES_MAX);
        return TACNET_ECONFIG;
    }
    for (size_t i = 0; i < n; i++) {
        const Tacnet__AgencyEntry *e = entries[i];
        const char *fault = s_entry_fault(e);
        for (size_t j = 0; !fault && j < i; j++) {
            if (strcmp(entries[j]->name, e->name) == 0)
                fault = "the name is given twice";
            else if (entries[j]->id == e->id)
                fault = "the id is given to another agency";
        }
        if (fault) {
            snprintf(why, whylen, "agency %s (id %u): %s", e->name ? e->name : "?", e->id, fault);
            return TACNET_ECONFIG;
        }
    }
    return 0;
}

int agencies_known(uint32_t id)
{
    if (id != TACNET__AGENCY__AGENCY_UNKNOWN &&
        protobuf_c_enum_descriptor_get_value(&tacnet__agency__descriptor, (int)id))
        return 1;
    return agencies_name(id) != NULL;
}

const char *agencies_name(uint32_t id)
{
    for (size_t i = 0; i < s_n; i++)
        if (s_table[i].id == id)
            return s_table[i].name;
    return NULL;
}

const char *agencies_title(uint32_t id)
{
    for (size_t i = 0; i < s_n; i++)
        if (s_table[i].id == id)
            return s_table[i].title;
    return NULL;
}

int agencies_find(const char *name, uint32_t *id)
{
    char low[AGENCIES_NAME_MAX];
    size_t n = strlen(name);
    if (n >= sizeof(low))
        return TACNET_ENOTFOUND;
    for (size_t i = 0; i <= n; i++)
        low[i] = name[i] == '-' ? '_' : (char)tolower((unsigned char)name[i]);
    for (size_t i = 0; i < s_n; i++) {
        if (strcmp(s_table[i].name, low) == 0) {
            *id = s_table[i].id;
            return 0;
        }
    }
    return TACNET_ENOTFOUND;
}

size_t agencies_list(uint32_t *ids, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < s_n && k < cap; i++)
        ids[k++] = s_table[i].id;
    return k;
}
