/* names: lowercase enum names from the generated protobuf-c descriptors. */
#include "names.h"
#include "agencies.h"
#include "err.h"
#include "wire.pb-c.h"

#include <ctype.h>
#include <string.h>

/* Lowercased copies, built on first use per descriptor value. Enums here are small (< 64
 * values) and the cache is per process; the daemons are single-threaded. */
#define NAMES_MAX_ENUMS  16
#define NAMES_MAX_VALUES 64

static struct {
    const ProtobufCEnumDescriptor *desc;
    char names[NAMES_MAX_VALUES][40];
} s_cache[NAMES_MAX_ENUMS];

const char *names_enum(const ProtobufCEnumDescriptor *desc, int value)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(desc, value);
    if (!v)
        /* An agency the roster declares under an id the enum does not name. */
        return desc == &tacnet__agency__descriptor && value > 0 ? agencies_name((uint32_t)value)
                                                                : NULL;
    if (value < 0 || value >= NAMES_MAX_VALUES)
        return v->name;
    for (int i = 0; i < NAMES_MAX_ENUMS; i++) {
        if (s_cache[i].desc && s_cache[i].desc != desc)
            continue;
        s_cache[i].desc = desc;
        char *out = s_cache[i].names[value];
        if (!out[0]) {
            size_t n = strlen(v->name);
            if (n >= sizeof(s_cache[i].names[value]))
                n = sizeof(s_cache[i].names[value]) - 1;
            for (size_t j = 0; j < n; j++)
                out[j] = (char)tolower((unsigned char)v->name[j]);
            out[n] = 0;
        }
        return out;
    }
    return v->name;
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
