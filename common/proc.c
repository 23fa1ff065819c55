/* proc: hardening and signal set-up for daemons. */
#include "proc.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

void proc_daemon_setup(void (*on_stop)(int), void (*on_hup)(int))
{
    struct rlimit no_core = { 0, 0 };
    setrlimit(RLIMIT_CORE, &no_core);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (on_hup) {
        sa.sa_handler = on_hup;
        sigaction(SIGHUP, &sa, NULL);
    }
    signal(SIGPIPE, SIG_IGN);
    proc_umask_private();
}

void proc_umask_private(void)
{
    mode_t old = umask(0);
    umask(old | S_IWGRP | S_IRWXO);
}
