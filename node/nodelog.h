/*
 * node/nodelog.h: the fields Nebula 1.6.1 puts on its log lines about a
 * peer, a tunnel or a handshake, under its names (vpnIp, certName,
 * udpAddr, handshake...), so that our lines read as its do.  The lines
 * and their fields are listed in cairn(8), LOGGING.
 */
#ifndef NODE_NODELOG_H
#define NODE_NODELOG_H

#include <stdint.h>

#include "log.h"

struct cert;
struct tunnel;
struct udp_addr;

/* The handshake's style (Nebula's only one): "ix_psk0". */
#define NODELOG_HS_STYLE "ix_psk0"

/* vpnIp and certName, as Nebula's HostInfo.logger(). */
void nodelog_tunnel(struct log_ev *ev, const struct tunnel *t);
/* Where the peer is: udpAddr, or relay (the relay's VPN IP). */
void nodelog_where(struct log_ev *ev, const struct tunnel *t);
/* certName (sanitised), fingerprint and issuer of a peer certificate. */
void nodelog_cert(struct log_ev *ev, const struct cert *c);
/* A UDP address under key: "10.0.0.2:4242", {"ip":..,"port":..}. */
void nodelog_udp(struct log_ev *ev, const char *key, const struct udp_addr *a);
/* handshake={stage, style}. */
void nodelog_handshake(struct log_ev *ev, int stage);
/* tunnelCheck={method, state} (Nebula's "Tunnel status"). */
void nodelog_check(struct log_ev *ev, const char *state, const char *method);

#endif
