/*
 * lib/tun.h: the Linux TUN device (IFF_TUN | IFF_NO_PI): create it, give
 * it the overlay address, MTU and queue length, bring it up, add routes.
 *
 * With offload, the device is opened with IFF_VNET_HDR and told
 * (TUNSETOFFLOAD) that we take TCP segmentation and checksums: every
 * packet then crosses the descriptor behind a virtio-net header, and the
 * kernel hands over TCP super-segments of up to 64 KiB (lib/offload.h
 * cuts them).  Without it, one plain IPv4 packet per read and write.
 */
#ifndef VPN_TUN_H
#define VPN_TUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "offload.h"

struct tun;

/*
 * Create (or attach to) the device: name may be "" for the kernel's
 * choice.  addr/mask are the overlay address and network (host order
 * uint32).  0 or VPN_ERR_SYS with errbuf saying which step failed.
 */
int tun_open(const char *name, int mtu, int txqlen, uint32_t addr,
    uint32_t mask, bool offload, struct tun **out, char *errbuf, size_t errlen);
/* A device made of a descriptor the caller opened: a datagram socket or
 * pipe whose reads and writes are whole IPv4 packets, non-blocking (the
 * in-process tests' fake TUN).  No offload, no routes; tun_close closes
 * fd.  0 or VPN_ERR_NOMEM. */
int tun_from_fd(int fd, const char *name, struct tun **out);
/* Whether packets carry a virtio-net header (offload asked for and the
 * kernel agreed). */
bool tun_offload(const struct tun *t);
/* A route through the device; mtu 0 = the device MTU; metric >= 0.  An
 * equal route (destination and metric) already there is replaced. */
int tun_add_route(struct tun *t, uint32_t dst, uint32_t mask, int mtu,
    int metric, char *errbuf, size_t errlen);
/* Remove such a route (dst/mask/metric through the device); one that is
 * not there is not an error. */
int tun_del_route(struct tun *t, uint32_t dst, uint32_t mask, int metric,
    char *errbuf, size_t errlen);
/* Add (replacing an equal one) or delete a route through the device in
 * routing table `table` (0: main). */
int tun_route_table(struct tun *t, bool add, uint32_t table, uint32_t dst,
    uint32_t mask, int mtu, int metric, char *errbuf, size_t errlen);
/* Add or delete an IPv4 policy routing rule: at priority prio, look up
 * table; only for firewall mark `mark` when not 0 (all but it with
 * invert); suppress >= 0: "suppress_prefixlength" suppress.  Adding one
 * that exists, or deleting one that does not, is not an error. */
int tun_rule(bool add, uint32_t prio, uint32_t table, uint32_t mark,
    bool invert, int suppress, char *errbuf, size_t errlen);
/* The overlay network's own route (made by the kernel when the address
 * was set) given an MTU: for a device whose MTU is larger. */
int tun_set_net_mtu(struct tun *t, uint32_t addr, uint32_t mask, int mtu,
    char *errbuf, size_t errlen);
/* The device's MTU, changed while it runs. */
int tun_set_mtu(struct tun *t, int mtu, char *errbuf, size_t errlen);
/* Its transmit queue length (packets), likewise. */
int tun_set_txqlen(struct tun *t, int txqlen, char *errbuf, size_t errlen);
int tun_fd(const struct tun *t);
/*
 * One packet into buf (cap bytes; OFFLOAD_MAX with offload): its length,
 * 0 when nothing is waiting, -1 on error (errno).  h is its virtio-net
 * header, all zero without offload.
 */
ssize_t tun_read(struct tun *t, uint8_t *buf, size_t cap, struct vnet_hdr *h);
/* One complete packet (a zero header goes first with offload). */
ssize_t tun_write(struct tun *t, const uint8_t *pkt, size_t len);
/* With offload: iov[0] is the virtio-net header. */
ssize_t tun_writev(struct tun *t, const struct iovec *iov, int iovcnt);
const char *tun_name(const struct tun *t);
void tun_close(struct tun *t); /* NULL-safe; the kernel removes the device */

#endif
