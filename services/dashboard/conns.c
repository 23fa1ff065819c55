/* conns: a deadline for requests still being read, and room made for new connections (see
 * conns.h). */
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
    int cut;        /* shut down already: once is enough */
    int headers;    /* this request's headers are whole */
    int served;     /* a response was sent: a kept-alive connection */
    uint64_t bytes; /* of this request's body so far */
    uint64_t since_ms;
    struct s_conn *prev, *next;
} s_conn_t;

struct dashboard_conns {
    uint32_t headers_ms, deadline_ms;
    size_t high;
    s_conn_t *head;
    size_t n, n_cut, n_shed;
};

dashboard_conns_t *dashboard_conns_new(uint32_t headers_ms, uint32_t deadline_ms, size_t high)
{
    dashboard_conns_t *self = xcalloc(1, sizeof(*self));
    self->headers_ms = headers_ms;
    self->deadline_ms = deadline_ms;
    self->high = high;
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

static void s_cut(dashboard_conns_t *self, s_conn_t *c)
{
    shutdown(c->fd, SHUT_RDWR);
    c->cut = 1;
    self->n_cut++;
}

/* Whether A has sent less than B, for longer: headers not yet whole before a body, fewer body
 * bytes before more, then the older. */
static int s_worse(const s_conn_t *a, const s_conn_t *b)
{
    if (a->headers != b->headers)
        return !a->headers;
    if (a->bytes != b->bytes)
        return a->bytes < b->bytes;
    return a->since_ms < b->since_ms;
}

/* Past the high mark: shut down the reading connection that has sent the least for the longest
 * (never NEWCOMER, never one being answered), so that NEWCOMER and those after it find room. */
static void s_make_room(dashboard_conns_t *self, const s_conn_t *newcomer)
{
    if (self->n - self->n_cut <= self->high)
        return;
    s_conn_t *victim = NULL;
    for (s_conn_t *c = self->head; c; c = c->next)
        if (c != newcomer && !c->answering && !c->cut && c->fd >= 0 &&
            (!victim || s_worse(c, victim)))
            victim = c;
    if (victim) {
        s_cut(self, victim);
        self->n_shed++;
    }
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
        s_make_room(self, c);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        s_conn_t *c = *socket_context;
        if (c->prev)
            c->prev->next = c->next;
        else
            self->head = c->next;
        if (c->next)
            c->next->prev = c->prev;
        self->n--;
        self->n_cut -= c->cut;
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

void dashboard_conns_headers(struct MHD_Connection *con)
{
    s_conn_t *c = s_of(con);
    if (c)
        c->headers = 1;
}

void dashboard_conns_received(struct MHD_Connection *con, size_t n)
{
    s_conn_t *c = s_of(con);
    if (c)
        c->bytes += n;
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
        c->served = 1;
        c->headers = 0;
        c->bytes = 0;
        c->since_ms = clock_mono_ms();
    }
}

size_t dashboard_conns_sweep(dashboard_conns_t *self, uint64_t now_ms)
{
    size_t n = 0;
    for (s_conn_t *c = self->head; c; c = c->next) {
        if (c->answering || c->cut || c->fd < 0)
            continue;
        /* A first request's headers have the shorter deadline; a kept-alive connection waiting
         * for its next request is left to the idle timeout and the longer one. */
        uint64_t deadline = !c->headers && !c->served ? self->headers_ms : self->deadline_ms;
        if (now_ms - c->since_ms < deadline)
            continue;
        s_cut(self, c);
        n++;
    }
    return n;
}

size_t dashboard_conns_open(const dashboard_conns_t *self)
{
    return self->n;
}

size_t dashboard_conns_shed(const dashboard_conns_t *self)
{
    return self->n_shed;
}
