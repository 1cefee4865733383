/* lib/certfmt.c: print a certificate as nebula-cert 1.6.1 does. */
#include <stdlib.h>

#include "certfmt.h"
#include "err.h"
#include "gotime.h"

static void
hex(struct sbuf *b, const uint8_t *p, size_t len)
{
	char *h = malloc(2 * len + 1);

	if (h == NULL) {
		b->bad = true;
		return;
	}
	hex_encode(p, len, h);
	sbuf_add(b, h, 2 * len);
	free(h);
}

static void
text_nets(struct sbuf *b, const char *label, const struct ip4net *n,
    size_t count)
{
	char buf[IP4NET_STRLEN];
	size_t i;

	if (count == 0) {
		sbuf_printf(b, "\t\t%s: []\n", label);
		return;
	}
	sbuf_printf(b, "\t\t%s: [\n", label);
	for (i = 0; i < count; i++) {
		ip4net_format(&n[i], buf);
		sbuf_printf(b, "\t\t\t%s\n", buf);
	}
	sbuf_puts(b, "\t\t]\n");
}

int
certfmt_text(struct sbuf *b, const struct cert *c)
{
	char nb[64], na[64], fp[CERT_FP_HEXLEN];
	size_t i;
	int r;

	if ((r = go_format_time(c->not_before, nb, sizeof(nb))) != 0 ||
	    (r = go_format_time(c->not_after, na, sizeof(na))) != 0 ||
	    (r = cert_fingerprint_hex(c, fp)) != 0)
		return r;
	sbuf_puts(b, "NebulaCertificate {\n\tDetails {\n\t\tName: ");
	sbuf_add(b, c->name.s != NULL ? c->name.s : "", c->name.len);
	sbuf_puts(b, "\n");
	text_nets(b, "Ips", c->ips, c->nips);
	text_nets(b, "Subnets", c->subnets, c->nsubnets);
	if (c->ngroups == 0) {
		sbuf_puts(b, "\t\tGroups: []\n");
	} else {
		sbuf_puts(b, "\t\tGroups: [\n");
		for (i = 0; i < c->ngroups; i++) {
			sbuf_puts(b, "\t\t\t\"");
			sbuf_add(b, c->groups[i].s, c->groups[i].len);
			sbuf_puts(b, "\"\n");
		}
		sbuf_puts(b, "\t\t]\n");
	}
	sbuf_printf(b, "\t\tNot before: %s\n\t\tNot After: %s\n", nb, na);
	sbuf_printf(b, "\t\tIs CA: %s\n\t\tIssuer: ",
	    c->is_ca ? "true" : "false");
	hex(b, c->issuer, c->issuer_len);
	sbuf_puts(b, "\n\t\tPublic key: ");
	hex(b, c->pubkey, c->pubkey_len);
	sbuf_printf(b, "\n\t}\n\tFingerprint: %s\n\tSignature: ", fp);
	hex(b, c->sig, c->sig_len);
	sbuf_puts(b, "\n}");
	return sbuf_ok(b) ? 0 : VPN_ERR_NOMEM;
}

static void
json_nets(struct sbuf *b, const struct ip4net *n, size_t count)
{
	char buf[IP4NET_STRLEN];
	size_t i;

	sbuf_puts(b, "[");
	for (i = 0; i < count; i++) {
		ip4net_format(&n[i], buf);
		sbuf_printf(b, "%s\"%s\"", i > 0 ? "," : "", buf);
	}
	sbuf_puts(b, "]");
}

int
certfmt_json(struct sbuf *b, const struct cert *c)
{
	char nb[64], na[64], fp[CERT_FP_HEXLEN];
	size_t i;
	int r;

	if ((r = go_format_rfc3339(c->not_before, nb, sizeof(nb))) != 0 ||
	    (r = go_format_rfc3339(c->not_after, na, sizeof(na))) != 0 ||
	    (r = cert_fingerprint_hex(c, fp)) != 0)
		return r;
	sbuf_puts(b, "{\"details\":{\"groups\":[");
	for (i = 0; i < c->ngroups; i++) {
		if (i > 0)
			sbuf_puts(b, ",");
		sbuf_json_str(b, c->groups[i].s, c->groups[i].len);
	}
	sbuf_puts(b, "],\"ips\":");
	json_nets(b, c->ips, c->nips);
	sbuf_printf(b, ",\"isCa\":%s,\"issuer\":\"",
	    c->is_ca ? "true" : "false");
	hex(b, c->issuer, c->issuer_len);
	sbuf_puts(b, "\",\"name\":");
	sbuf_json_str(b, c->name.s != NULL ? c->name.s : "", c->name.len);
	sbuf_printf(b, ",\"notAfter\":\"%s\",\"notBefore\":\"%s\"", na, nb);
	sbuf_puts(b, ",\"publicKey\":\"");
	hex(b, c->pubkey, c->pubkey_len);
	sbuf_puts(b, "\",\"subnets\":");
	json_nets(b, c->subnets, c->nsubnets);
	sbuf_printf(b, "},\"fingerprint\":\"%s\",\"signature\":\"", fp);
	hex(b, c->sig, c->sig_len);
	sbuf_puts(b, "\"}");
	return sbuf_ok(b) ? 0 : VPN_ERR_NOMEM;
}
