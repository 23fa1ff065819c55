/* tacnet_cases: an agency system's smallest integration in C. Lists the cases the agency's
 * daemon holds (reference, initials, lead, open escalations) through libtacnet-client.
 *
 *   cc tacnet_cases.c $(pkg-config --cflags --libs tacnet-client) -o tacnet_cases
 *   ./tacnet_cases /var/lib/tacnet/school        (the daemon's data_dir: its api.sock is there)
 *
 * Exit status: 0 listed, 1 the daemon refused (its error name and reason on stderr), 2 no
 * daemon answered. */
#include <stdio.h>
#include <tacnet/client.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DATA_DIR | ipc://PATH\n", argv[0]);
        return 2;
    }
    int err = 0;
    tn_client_t *c = tn_client_new(argv[1], &err);
    if (!c) {
        fprintf(stderr, "cannot reach the daemon at %s: %s\n", argv[1], tacnet_strerror(err));
        return 2;
    }
    Tacnet__ApiReply *reply = NULL;
    int rc = tn_client_cases(c, &reply, 5000);
    int status = 0;
    if (!reply) {
        fprintf(stderr, "no answer: %s\n", tacnet_strerror(rc));
        status = 2;
    } else if (reply->code != 0) {
        fprintf(stderr, "refused: %s: %s\n", tacnet_errname(reply->code),
                reply->reason ? reply->reason : "");
        status = 1;
    } else {
        for (size_t i = 0; reply->cases && i < reply->cases->n_cases; i++) {
            const Tacnet__CaseSummary *s = reply->cases->cases[i];
            printf("%.*s %.*s open escalations %u\n", (int)s->case_ref.len,
                   (const char *)s->case_ref.data, (int)s->initials.len,
                   (const char *)s->initials.data,
                   s->has_open_escalations ? s->open_escalations : 0);
        }
    }
    tn_client_reply_free(&reply);
    tn_client_destroy(&c);
    return status;
}
