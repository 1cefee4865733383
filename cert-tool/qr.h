/* cert-tool/qr.h: nebula-cert's -out-qr, a QR code of a PEM as a PNG. */
#ifndef VPN_QR_H
#define VPN_QR_H

#include <stddef.h>
#include <stdint.h>

/* A PNG image of the QR code (level M, 5-pixel modules, 4-module quiet zone)
 * of text[0..len).  0: *png is malloc'd (caller frees), *pnglen its size.
 * VPN_ERR_RANGE if the text does not fit in a QR code; VPN_ERR_NOMEM. */
int qr_png(const char *text, size_t len, uint8_t **png, size_t *pnglen);

#endif
