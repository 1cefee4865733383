/*
 * lib/err.h: error codes shared by every module.
 *
 * Functions return 0 on success or one of the negative VPN_ERR_* values
 * below; vpn_strerror() gives the text.  Where the text is Nebula's, it is
 * Nebula 1.6.1's exact wording, so that scripts that grep for it keep
 * working.  VPN_ERR_SYS means "see errno".
 */
#ifndef VPN_ERR_H
#define VPN_ERR_H

#include <stddef.h>

enum vpn_err {
	VPN_OK = 0,
	VPN_ERR_SYS = -1,
	VPN_ERR_NOMEM = -2,
	VPN_ERR_INVAL = -3,
	VPN_ERR_RANGE = -4,
	VPN_ERR_CRYPTO = -5,
	VPN_ERR_TRUNCATED = -6,
	VPN_ERR_TRAILING = -7,

	/* protobuf */
	VPN_ERR_PB_WIRETYPE = -20,
	VPN_ERR_PB_VARINT = -21,
	VPN_ERR_PB_FIELD = -22,
	VPN_ERR_PB_UTF8 = -23,
	VPN_ERR_PB_DEPTH = -24,

	/* PEM */
	VPN_ERR_PEM_NONE = -30,
	VPN_ERR_PEM_TYPE = -31, /* generic: a block of the wrong type */
	VPN_ERR_BANNER_CERT = -32,
	VPN_ERR_BANNER_X25519_PRIV = -33,
	VPN_ERR_BANNER_X25519_PUB = -34,
	VPN_ERR_BANNER_ED25519_PRIV = -35,
	VPN_ERR_BANNER_ED25519_PUB = -36,
	VPN_ERR_KEYLEN_X25519_PRIV = -37,
	VPN_ERR_KEYLEN_X25519_PUB = -38,
	VPN_ERR_KEYLEN_ED25519_PRIV = -39,
	VPN_ERR_KEYLEN_ED25519_PUB = -40,

	/* certificate decoding */
	VPN_ERR_CERT_EMPTY = -50,
	VPN_ERR_CERT_NO_DETAILS = -51,
	VPN_ERR_CERT_ODD_IPS = -52,
	VPN_ERR_CERT_ODD_SUBNETS = -53,
	VPN_ERR_CERT_SHORT_KEY = -54,
	VPN_ERR_CERT_TOO_LARGE = -55,

	/* certificate verification, in Nebula's order */
	VPN_ERR_CERT_BLOCKED = -60,
	VPN_ERR_CERT_NO_ISSUER = -61,
	VPN_ERR_CERT_UNKNOWN_CA = -62,
	VPN_ERR_CERT_ROOT_EXPIRED = -63,
	VPN_ERR_CERT_EXPIRED = -64,
	VPN_ERR_CERT_SIGNATURE = -65,
	VPN_ERR_CERT_EXPIRES_AFTER_CA = -66,
	VPN_ERR_CERT_VALID_BEFORE_CA = -67,
	VPN_ERR_CERT_GROUP_NOT_IN_CA = -68,
	VPN_ERR_CERT_IP_NOT_IN_CA = -69,
	VPN_ERR_CERT_SUBNET_NOT_IN_CA = -70,
	VPN_ERR_CERT_NOT_CA = -71,
	VPN_ERR_CERT_NOT_SELF_SIGNED = -72,
	VPN_ERR_CERT_KEY_MISMATCH = -73,
	VPN_ERR_POOL_ALL_EXPIRED = -74,
	VPN_ERR_POOL_EMPTY = -75,

	/* encrypted keys */
	VPN_ERR_KEY_FORMAT = -80,
	VPN_ERR_KEY_PASSPHRASE = -81,
};

/* The text for an error code; never NULL. */
const char *vpn_strerror(int err);

#endif
