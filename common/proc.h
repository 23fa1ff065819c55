/* proc: process set-up shared by every daemon that holds keys.
 *
 * No core dumps and not dumpable (keys live in this process's memory; docs/RELIABILITY.md T22), and
 * SIGPIPE ignored; signal handlers that only set a flag are installed for stop (SIGINT,
 * SIGTERM) and, optionally, reload (SIGHUP). Whatever umask it was started with, nothing a
 * daemon creates (views, journals, endpoint files, sockets) is open to other users: group
 * read at most (0640 files, 0750 directories).
 */
#ifndef TACNET_PROC_H
#define TACNET_PROC_H

/* Harden the process and install ON_STOP (and ON_HUP when not NULL). */
void proc_daemon_setup(void (*on_stop)(int), void (*on_hup)(int));

/* Narrow the umask to at least 027 (a stricter one is kept). Called by proc_daemon_setup, and
 * by the `tacnet` command, which writes keys, rosters and backups. */
void proc_umask_private(void);

#endif
