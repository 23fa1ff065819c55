/* apijson: an API reply's JSON, lists at the top level (see apijson.h). */
#include "apijson.h"
#include "err.h"
#include "pbjson.h"
#include "pbjson_schema.h"

#include <string.h>

/* The results that are lists: their fields move up to the reply. None of their field names is
 * one of ApiReply's own (id, code, reason, findings) or "error" / "next": test_pbjson_schema
 * checks each against the descriptors. */
static const char *const s_lists[] = { "cases", "follow", "outbox", "holds", "tokens", "users" };

json_t *apijson_reply(const Tacnet__ApiReply *reply)
{
    json_t *j = pbjson_from_message(&reply->base);
    if (reply->code != 0)
        json_object_set_new(j, "error", json_string(tacnet_errname(reply->code)));
    for (size_t i = 0; i < sizeof(s_lists) / sizeof(s_lists[0]); i++) {
        json_t *inner = json_object_get(j, s_lists[i]);
        if (!json_is_object(inner))
            continue;
        json_incref(inner);
        json_object_del(j, s_lists[i]);
        const char *k;
        json_t *v;
        json_object_foreach(inner, k, v) json_object_set(j, k, v);
        /* An empty list is still the answer: say so rather than leave the key out. */
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(
            &tacnet__api_reply__descriptor, s_lists[i]);
        const ProtobufCMessageDescriptor *d = f ? f->descriptor : NULL;
        if (d && d->n_fields && d->fields[0].label == PROTOBUF_C_LABEL_REPEATED &&
            !json_object_get(j, d->fields[0].name))
            json_object_set_new(j, d->fields[0].name, json_array());
        json_decref(inner);
        break;
    }
    return j;
}

json_t *apijson_reply_schema(json_t *defs, const char *prefix)
{
    json_t *ref = pbjson_schema_add(defs, &tacnet__api_reply__descriptor, prefix);
    json_t *reply = json_object_get(defs, tacnet__api_reply__descriptor.name);
    json_t *props = json_object_get(reply, "properties");
    json_object_set_new(props, "error",
                        json_pack("{s:s, s:s}", "type", "string", "description",
                                  "the refusal's name (E_AUTH, E_FIELD, ...); absent on success"));
    for (size_t i = 0; i < sizeof(s_lists) / sizeof(s_lists[0]); i++) {
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(
            &tacnet__api_reply__descriptor, s_lists[i]);
        if (!f)
            continue;
        const ProtobufCMessageDescriptor *d = f->descriptor;
        json_decref(pbjson_schema_add(defs, d, prefix));
        json_t *inner = json_object_get(json_object_get(defs, d->name), "properties");
        json_object_del(props, s_lists[i]);
        const char *k;
        json_t *v;
        json_object_foreach(inner, k, v) json_object_set(props, k, v);
    }
    return ref;
}
