/*
 * lib/certfmt.h: nebula-cert print's two output forms, byte for byte:
 * the text block of NebulaCertificate.String() and the JSON of
 * MarshalJSON (keys sorted, Go's escaping, local time zone).
 */
#ifndef VPN_CERTFMT_H
#define VPN_CERTFMT_H

#include "cert.h"
#include "sbuf.h"

/* Append the text form (without the trailing newline print adds). */
int certfmt_text(struct sbuf *b, const struct cert *c);
/* Append the JSON object (without the trailing newline). */
int certfmt_json(struct sbuf *b, const struct cert *c);

#endif
