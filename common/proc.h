/* proc: process set-up shared by every daemon that holds keys.
 *
 * No core dumps and not dumpable (keys live in this process's memory; docs/RELIABILITY.md T22), and
 * SIGPIPE ignored; signal handlers that only set a flag are installed for stop (SIGINT,
 * SIGTERM) and, optionally, reload (SIGHUP).
 */
#ifndef TACNET_PROC_H
#define TACNET_PROC_H

/* Harden the process and install ON_STOP (and ON_HUP when not NULL). */
void proc_daemon_setup(void (*on_stop)(int), void (*on_hup)(int));

#endif
