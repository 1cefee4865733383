/*
 * test/unit/simnet.h: a simulated UDP network for the in-process tests,
 * behind node/io.h's UDP operation table, as Nebula's e2e package runs
 * its nodes over a fake UDP and a router.  Any IPv4 address and port can
 * be an endpoint; a datagram sent is queued for the endpoint it is
 * addressed to (or lost when there is none), and the endpoint's eventfd
 * wakes the event loop.  The test can make the network lose datagrams (a
 * filter) and put an endpoint behind a NAT that maps it to a public
 * address and
 * lets in only what comes from where it has sent to (an address- and
 * port-restricted cone, the kind that hole punching is for).
 *
 * Single-threaded: everything runs on the test's event loop.
 */
#ifndef TEST_SIMNET_H
#define TEST_SIMNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io.h"

struct simnet;

/* Looks at each datagram as it leaves its sender, before its NAT; true
 * loses it (and opens no mapping).  from: the sender's address as the
 * network will see it. */
typedef bool (*sim_filter)(void *arg, const struct udp_addr *from,
    const struct udp_addr *to, const uint8_t *p, size_t len);

struct simnet *simnet_new(void);
/* Every endpoint must be closed (by its node) first. */
void simnet_free(struct simnet *s);
void simnet_set_filter(struct simnet *s, sim_filter fn, void *arg);

/* An endpoint at addr (127.0.0.0/8 or any other IPv4 address); NULL
 * when the address is taken.  The node that gets it closes it. */
struct io_udp *simnet_open(struct simnet *s, const struct udp_addr *addr);
/* Behind a NAT from now on: it is seen from outside as pub, and only
 * datagrams from an address it has sent to since get in. */
void simnet_nat(struct io_udp *u, const struct udp_addr *pub);
/* The socket buffer sizes a reload last set (0 before any), which change
 * nothing here. */
void simnet_buffers(const struct io_udp *u, int *rcvbuf, int *sndbuf);

/* Datagrams delivered, dropped by the filter, and sent to no one or
 * refused by a NAT. */
struct simnet_counts {
	uint64_t delivered, filtered, unreachable, nat_refused;
};
const struct simnet_counts *simnet_counts(const struct simnet *s);

#endif
