/* lib/err.c: texts for VPN_ERR_* codes. */
#include <errno.h>
#include <string.h>

#include "err.h"

const char *
vpn_strerror(int err)
{
	switch ((enum vpn_err)err) {
	case VPN_OK:
		return "success";
	case VPN_ERR_SYS:
		return strerror(errno);
	case VPN_ERR_NOMEM:
		return "out of memory";
	case VPN_ERR_INVAL:
		return "invalid argument";
	case VPN_ERR_RANGE:
		return "value out of range";
	case VPN_ERR_CRYPTO:
		return "cryptographic operation failed";
	case VPN_ERR_TRUNCATED:
		return "input is truncated";
	case VPN_ERR_TRAILING:
		return "unexpected trailing bytes";
	case VPN_ERR_PB_WIRETYPE:
		return "proto: invalid wire type";
	case VPN_ERR_PB_VARINT:
		return "proto: invalid varint";
	case VPN_ERR_PB_FIELD:
		return "proto: invalid field number";
	case VPN_ERR_PB_UTF8:
		return "proto: string field contains invalid UTF-8";
	case VPN_ERR_PB_DEPTH:
		return "proto: message nested too deeply";
	case VPN_ERR_PEM_NONE:
		return "input did not contain a valid PEM encoded block";
	case VPN_ERR_PEM_TYPE:
		return "PEM block has an unexpected type";
	case VPN_ERR_BANNER_CERT:
		return "bytes did not contain a proper nebula certificate banner";
	case VPN_ERR_BANNER_X25519_PRIV:
		return "bytes did not contain a proper nebula X25519 private key "
		       "banner";
	case VPN_ERR_BANNER_X25519_PUB:
		return "bytes did not contain a proper nebula X25519 public key "
		       "banner";
	case VPN_ERR_BANNER_ED25519_PRIV:
		return "bytes did not contain a proper nebula Ed25519 private key "
		       "banner";
	case VPN_ERR_BANNER_ED25519_PUB:
		return "bytes did not contain a proper nebula Ed25519 public key "
		       "banner";
	case VPN_ERR_KEYLEN_X25519_PRIV:
		return "key was not 32 bytes, is invalid X25519 private key";
	case VPN_ERR_KEYLEN_X25519_PUB:
		return "key was not 32 bytes, is invalid X25519 public key";
	case VPN_ERR_KEYLEN_ED25519_PRIV:
		return "key was not 64 bytes, is invalid ed25519 private key";
	case VPN_ERR_KEYLEN_ED25519_PUB:
		return "key was not 32 bytes, is invalid ed25519 public key";
	case VPN_ERR_CERT_EMPTY:
		return "nil byte array";
	case VPN_ERR_CERT_NO_DETAILS:
		return "encoded Details was nil";
	case VPN_ERR_CERT_ODD_IPS:
		return "encoded IPs should be in pairs, an odd number was found";
	case VPN_ERR_CERT_ODD_SUBNETS:
		return "encoded Subnets should be in pairs, an odd number was "
		       "found";
	case VPN_ERR_CERT_SHORT_KEY:
		return "Public key was fewer than 32 bytes";
	case VPN_ERR_CERT_TOO_LARGE:
		return "certificate is too large";
	case VPN_ERR_CERT_BLOCKED:
		return "certificate has been blocked";
	case VPN_ERR_CERT_NO_ISSUER:
		return "no issuer in certificate";
	case VPN_ERR_CERT_UNKNOWN_CA:
		return "could not find ca for the certificate";
	case VPN_ERR_CERT_ROOT_EXPIRED:
		return "root certificate is expired";
	case VPN_ERR_CERT_EXPIRED:
		return "certificate is expired";
	case VPN_ERR_CERT_SIGNATURE:
		return "certificate signature did not match";
	case VPN_ERR_CERT_EXPIRES_AFTER_CA:
		return "certificate expires after signing certificate";
	case VPN_ERR_CERT_VALID_BEFORE_CA:
		return "certificate is valid before the signing certificate";
	case VPN_ERR_CERT_GROUP_NOT_IN_CA:
		return "certificate contained a group not present on the signing "
		       "ca";
	case VPN_ERR_CERT_IP_NOT_IN_CA:
		return "certificate contained an ip assignment outside the "
		       "limitations of the signing ca";
	case VPN_ERR_CERT_SUBNET_NOT_IN_CA:
		return "certificate contained a subnet assignment outside the "
		       "limitations of the signing ca";
	case VPN_ERR_CERT_NOT_CA:
		return "certificate is not a CA";
	case VPN_ERR_CERT_NOT_SELF_SIGNED:
		return "certificate is not self-signed";
	case VPN_ERR_CERT_KEY_MISMATCH:
		return "public key in cert and private key supplied don't match";
	case VPN_ERR_POOL_ALL_EXPIRED:
		return "no valid CA certificates present";
	case VPN_ERR_POOL_EMPTY:
		return "no CA certificates present";
	case VPN_ERR_KEY_FORMAT:
		return "encrypted key is malformed or uses an unknown format";
	case VPN_ERR_KEY_PASSPHRASE:
		return "wrong passphrase, or the encrypted key was altered";
	}
	return "unknown error";
}
