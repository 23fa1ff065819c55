/* conns: a deadline for requests still being read (see conns.h). */
#include "conns.h"
#include "clock.h"
#include "err.h"

#include <stdlib.h>
#include <sys/socket.h>

typedef struct s_conn {
    struct dashboard_conns *owner;
    struct MHD_Connection *con;
    int fd;
    int answering;
    int cut; /* shut down already: once is enough */
    uint64_t since_ms;
    struct s_conn *prev, *next;
} s_conn_t;

struct dashboard_conns {
    uint32_t deadline_ms;
    s_conn_t *head;
    size_t n;
};

dashboard_conns_t *dashboard_conns_new(uint32_t deadline_ms)
{
    dashboard_conns_t *self = xcalloc(1, sizeof(*self));
    self->deadline_ms = deadline_ms;
    return self;
}

void dashboard_conns_destroy(dashboard_conns_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    dashboard_conns_t *self = *self_p;
    while (self->head) { /* the server stopped without telling us: forget them */
        s_conn_t *c = self->head;
        self->head = c->next;
        free(c);
    }
    free(self);
    *self_p = NULL;
}

void dashboard_conns_notify(void *cls, struct MHD_Connection *con, void **socket_context,
                            enum MHD_ConnectionNotificationCode toe)
{
    dashboard_conns_t *self = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fi =
            MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);
        s_conn_t *c = xcalloc(1, sizeof(*c));
        c->owner = self;
        c->con = con;
        c->fd = fi ? fi->connect_fd : -1;
        c->since_ms = clock_mono_ms();
        c->next = self->head;
        if (self->head)
            self->head->prev = c;
        self->head = c;
        self->n++;
        *socket_context = c;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        s_conn_t *c = *socket_context;
        if (c->prev)
            c->prev->next = c->next;
        else
            self->head = c->next;
        if (c->next)
            c->next->prev = c->prev;
        self->n--;
        free(c);
        *socket_context = NULL;
    }
}

static s_conn_t *s_of(struct MHD_Connection *con)
{
    const union MHD_ConnectionInfo *i =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return i ? i->socket_context : NULL;
}

void dashboard_conns_answering(struct MHD_Connection *con)
{
    s_conn_t *c = s_of(con);
    if (c)
        c->answering = 1;
}

void dashboard_conns_reading(struct MHD_Connection *con)
{
    s_conn_t *c = s_of(con);
    if (c) {
        c->answering = 0;
        c->since_ms = clock_mono_ms();
    }
}

size_t dashboard_conns_sweep(dashboard_conns_t *self, uint64_t now_ms)
{
    size_t n = 0;
    for (s_conn_t *c = self->head; c; c = c->next) {
        if (c->answering || c->cut || c->fd < 0 || now_ms - c->since_ms < self->deadline_ms)
            continue;
        shutdown(c->fd, SHUT_RDWR);
        c->cut = 1;
        n++;
    }
    return n;
}

size_t dashboard_conns_open(const dashboard_conns_t *self)
{
    return self->n;
}
