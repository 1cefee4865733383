/*
 * lib/tun.h: the Linux TUN device (IFF_TUN | IFF_NO_PI): create it, give
 * it the overlay address, MTU and queue length, bring it up, add routes.
 * Reading and writing use the descriptor directly (read(2)/write(2) of
 * one IPv4 packet each).
 */
#ifndef VPN_TUN_H
#define VPN_TUN_H

#include <stddef.h>
#include <stdint.h>

struct tun;

/*
 * Create (or attach to) the device: name may be "" for the kernel's
 * choice.  addr/mask are the overlay address and network (host order
 * uint32).  0 or VPN_ERR_SYS with errbuf saying which step failed.
 */
int tun_open(const char *name, int mtu, int txqlen, uint32_t addr,
    uint32_t mask, struct tun **out, char *errbuf, size_t errlen);
/* A route through the device; mtu 0 = the device MTU; metric >= 0. */
int tun_add_route(struct tun *t, uint32_t dst, uint32_t mask, int mtu,
    int metric, char *errbuf, size_t errlen);
int tun_fd(const struct tun *t);
const char *tun_name(const struct tun *t);
void tun_close(struct tun *t); /* NULL-safe; the kernel removes the device */

#endif
