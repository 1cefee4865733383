/*
 * node/nodelog.c: Nebula's fields about peers and tunnels (nodelog.h).
 */
#include <string.h>

#include "cert.h"
#include "nodelog.h"
#include "tunnel.h"
#include "udp.h"

void
nodelog_tunnel(struct log_ev *ev, const struct tunnel *t)
{
	log_ev_ip4(ev, "vpnIp", t->vpn_ip);
	log_ev_str(ev, "certName", t->name); /* sanitised when made */
}

void
nodelog_where(struct log_ev *ev, const struct tunnel *t)
{
	if (t->relayed)
		log_ev_ip4(ev, "relay", t->relays[0]);
	else
		nodelog_udp(ev, "udpAddr", &t->remote);
}

void
nodelog_cert(struct log_ev *ev, const struct cert *c)
{
	char fp[CERT_FP_HEXLEN], issuer[2 * 64 + 1];

	log_ev_peer(ev, "certName", c->name.s, c->name.len);
	if (cert_fingerprint_hex(c, fp) == 0)
		log_ev_str(ev, "fingerprint", fp);
	/* a verified certificate's issuer is its CA's fingerprint */
	if (c->issuer_len <= 64) {
		hex_encode(c->issuer, c->issuer_len, issuer);
		log_ev_str(ev, "issuer", issuer);
	}
}

void
nodelog_udp(struct log_ev *ev, const char *key, const struct udp_addr *a)
{
	log_ev_udp(ev, key, a->ip, a->port);
}

void
nodelog_handshake(struct log_ev *ev, int stage)
{
	log_ev_obj(ev, "handshake");
	log_ev_i64(ev, "stage", stage);
	log_ev_str(ev, "style", NODELOG_HS_STYLE);
	log_ev_close(ev);
}

void
nodelog_check(struct log_ev *ev, const char *state, const char *method)
{
	log_ev_obj(ev, "tunnelCheck");
	log_ev_str(ev, "state", state);
	log_ev_str(ev, "method", method);
	log_ev_close(ev);
}
