/*
 * node/exit.h: the exit node (not in Nebula; the `exit:` section).
 *
 * Client (exit.via): the exit's routes live in a routing table of their
 * own (routes.c puts them there); two policy rules make the kernel use
 * it for everything but our own UDP socket's packets, which carry the
 * firewall mark exit.fwmark: at exit.priority, "lookup main
 * suppress_prefixlength 0" (every route of the main table but its
 * default route still wins), at exit.priority + 1, "not fwmark M lookup
 * T".  So the tunnels' own datagrams, to peers and lighthouses, keep the
 * main table's default route and never loop into the tunnel (the cause
 * of Nebula issue #280), as wg-quick does for WireGuard.
 *
 * Server (exit.serve): IPv4 forwarding on (put back as it was at stop),
 * and with exit.masquerade, an nftables table that masquerades what
 * comes from the overlay network and leaves by another interface, made
 * by nft(8) and deleted at stop.
 *
 * Owns: the rules, the nftables table, the saved forwarding setting.
 * Calls lib/tun (rules) and nft.
 */
#ifndef NODE_EXIT_H
#define NODE_EXIT_H

struct node_cfg;
struct exitnode;

/* Set up what cfg asks for, as the TUN device named dev (NULL: none)
 * needs it.  0, or an error (logged; what was made is undone by
 * exitnode_free). */
int exitnode_start(const struct node_cfg *cfg, const char *dev,
    struct exitnode **out);
/* Undo everything; NULL-safe. */
void exitnode_free(struct exitnode *x);

#endif
