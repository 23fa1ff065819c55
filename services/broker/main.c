/* tacnet-broker: parse flags, load the config, run the broker. Logic lives in broker.c, the
 * config table in config.c. */
#include "broker.h"
#include "replicate.h"
#include "standby.h"
#include "version.h"
#include "wire.h"
#include "broker/config.h"
#include "cfg.h"
#include "err.h"
#include "log.h"
#include "proc.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static void s_on_stop(int sig)
{
    (void)sig;
    broker_stop_flag = 1;
}

static void s_on_hup(int sig)
{
    (void)sig;
    broker_reload_flag = 1;
}

/* Exit status of a broker that lost its lease or met another broker's append: a supervisor
 * restarts it, and it comes back as a standby. */
#define S_EXIT_FENCED 3

/* With [replication] on: follow the stream as a standby until the lease is ours. Returns 0 to
 * go on serving (*REPL set), -1 for a clean stop (a signal), or an exit status. */
static int s_standby(broker_config_t *bc, replicate_t **repl)
{
    char why[512] = "";
    int err = 0;
    if (!bc->repl_nats || !*bc->repl_nats)
        return 0;
    if (!(*repl = replicate_new(bc, &err, why, sizeof(why)))) {
        log_error("cannot start: %s (%s)", why, tacnet_errname(err));
        return 1;
    }
    err = standby_run(bc, *repl, why, sizeof(why));
    if (err == TACNET_EINTR)
        return -1;
    if (err != 0) {
        log_error("standby stops: %s (%s)", why, tacnet_errname(err));
        return err == TACNET_EFENCED ? S_EXIT_FENCED : 1;
    }
    bc->repl = *repl;
    return 0;
}

static int s_usage(void)
{
    fprintf(stderr, "usage: tacnet-broker --config FILE\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("tacnet-broker (tacnet %s, wire schema %d)\n", TACNET_VERSION, WIRE_SCHEMA_VERSION);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc)
            path = argv[++i];
        else
            return s_usage();
    }
    if (!path)
        return s_usage();

    char why[512] = "";
    int err = 0;
    broker_config_t bc;
    cfg_t *cfg = broker_config_load(path, &bc, &err, why, sizeof(why));
    if (!cfg) {
        fprintf(stderr, "tacnet-broker: %s (%s)\n", why, tacnet_errname(err));
        return 1;
    }
    enum log_level level = LOG_LVL_INFO;
    if (log_level_parse(cfg_str(cfg, "log", "level"), &level) != 0) {
        fprintf(stderr, "tacnet-broker: %s: [log] level must be debug, info, warn or error\n",
                path);
        cfg_destroy(&cfg);
        return 1;
    }
    log_open("broker", level);
    proc_daemon_setup(s_on_stop, s_on_hup);

    replicate_t *repl = NULL;
    int status = s_standby(&bc, &repl);
    if (status != 0) {
        replicate_destroy(&repl);
        cfg_destroy(&cfg);
        return status < 0 ? 0 : status;
    }
    broker_t *broker = broker_new(&bc, &err, why, sizeof(why));
    if (!broker) {
        log_error("cannot start: %s (%s)", why, tacnet_errname(err));
        replicate_destroy(&repl);
        cfg_destroy(&cfg);
        return err == TACNET_EFENCED ? S_EXIT_FENCED : 1;
    }
    int rc = broker_run(broker);
    broker_destroy(&broker);
    replicate_destroy(&repl);
    cfg_destroy(&cfg);
    return rc == 0 ? 0 : rc == TACNET_EFENCED ? S_EXIT_FENCED : 1;
}
