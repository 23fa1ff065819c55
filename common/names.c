/* names: lowercase enum names from the generated protobuf-c descriptors. */
#include "names.h"
#include "agencies.h"
#include "err.h"
#include "wire.pb-c.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

/* Lowercased copies, built on first use per enum and kept for the life of the process (the
 * pointers handed out stay valid). One entry per enum type used, however many the protos
 * define: a fixed number of entries once sent every enum past it out in upper case, so the
 * same stored event read differently after a restart. */
#define NAMES_MAX_VALUES 64

typedef struct names_entry {
    const ProtobufCEnumDescriptor *desc;
    struct names_entry *next;
    char names[NAMES_MAX_VALUES][40];
} names_entry_t;

/* Published whole (release) and never changed after: lookups read the list without the lock,
 * which only orders the first use of an enum. */
static _Atomic(names_entry_t *) s_entries;
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;

static names_entry_t *s_find(const ProtobufCEnumDescriptor *desc)
{
    names_entry_t *e = atomic_load_explicit(&s_entries, memory_order_acquire);
    while (e && e->desc != desc)
        e = e->next;
    return e;
}

/* DESC's entry, made with every value's lowercase name on first use. */
static const names_entry_t *s_entry(const ProtobufCEnumDescriptor *desc)
{
    names_entry_t *e = s_find(desc);
    if (e)
        return e;
    pthread_mutex_lock(&s_lock);
    if (!(e = s_find(desc))) {
        e = xcalloc(1, sizeof(*e));
        e->desc = desc;
        for (unsigned i = 0; i < desc->n_values; i++) {
            const ProtobufCEnumValue *v = &desc->values[i];
            if (v->value < 0 || v->value >= NAMES_MAX_VALUES)
                continue;
            char *out = e->names[v->value];
            size_t n = strlen(v->name);
            if (n >= sizeof(e->names[0]))
                n = sizeof(e->names[0]) - 1;
            for (size_t j = 0; j < n; j++)
                out[j] = (char)tolower((unsigned char)v->name[j]);
            out[n] = 0;
        }
        e->next = atomic_load_explicit(&s_entries, memory_order_relaxed);
        atomic_store_explicit(&s_entries, e, memory_order_release);
    }
    pthread_mutex_unlock(&s_lock);
    return e;
}

const char *names_enum(const ProtobufCEnumDescriptor *desc, int value)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(desc, value);
    if (!v)
        /* An agency the roster declares under an id the enum does not name. */
        return desc == &tacnet__agency__descriptor && value > 0 ? agencies_name((uint32_t)value)
                                                                : NULL;
    if (value < 0 || value >= NAMES_MAX_VALUES || strlen(v->name) >= 40)
        return v->name; /* no enum of ours has such a value or name (test_kinds checks) */
    return s_entry(desc)->names[value];
}

int names_enum_parse(const ProtobufCEnumDescriptor *desc, const char *name, int *value)
{
    char up[64];
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof(up))
        return TACNET_EENUM;
    for (size_t i = 0; i <= n; i++)
        up[i] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(desc, up);
    uint32_t id;
    if (!v && desc == &tacnet__agency__descriptor && agencies_find(name, &id) == 0) {
        *value = (int)id;
        return 0;
    }
    if (!v)
        return TACNET_EENUM;
    *value = v->value;
    return 0;
}

const char *names_agency(uint32_t agency)
{
    const char *s = names_enum(&tacnet__agency__descriptor, (int)agency);
    return s ? s : "?";
}

const char *names_kind(uint32_t kind)
{
    const char *s = names_enum(&tacnet__event_kind__descriptor, (int)kind);
    return s ? s : "?";
}

const char *names_sensitivity(uint32_t s)
{
    const char *n = names_enum(&tacnet__sensitivity__descriptor, (int)s);
    return n ? n : "?";
}
