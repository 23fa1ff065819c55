/* fault: named crash points for the reliability tests (docs/RELIABILITY.md T01-T03).
 *
 * FAULT_POINT("broker.after_commit") kills the process with SIGKILL when the environment variable
 * TACNET_FAULT names that point (optionally "name:N" to fire on the N-th pass), so a test can
 * place a crash at each step of publish, journal, deliver, apply and ack. Unarmed, a point costs
 * one predictable branch. Builds with -DTACNET_NO_FAULT compile the points out entirely.
 * Every point is also recorded in TACNET_FAULT_LOG (when set) so a sweep can prove it reached
 * each point in the source.
 *
 * FAULT_SKIP("agency.skip_own_deliver") is true for the first N passes when TACNET_FAULT_SKIP
 * names it ("name:N", N defaulting to 1): a test makes a message look lost in transit at that
 * point, to hold a window open that real timing opens only now and then. Unarmed it is false at
 * the cost of one branch; with -DTACNET_NO_FAULT it is the constant 0.
 */
#ifndef TACNET_FAULT_H
#define TACNET_FAULT_H

void fault_point(const char *name);
extern int fault_armed; /* -1 unknown, 0 no, 1 yes */
int fault_skip(const char *name);
extern int fault_skip_armed; /* -1 unknown, 0 no, 1 yes */

#ifdef TACNET_NO_FAULT
#define FAULT_POINT(name) ((void)0)
#define FAULT_SKIP(name)  0
#else
#define FAULT_SKIP(name) (fault_skip_armed != 0 && fault_skip(name))
#define FAULT_POINT(name)      \
    do {                       \
        if (fault_armed != 0)  \
            fault_point(name); \
    } while (0)
#endif

#endif
