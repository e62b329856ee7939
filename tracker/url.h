/* url: the two URL jobs of the redirect path.
 *
 * 1. url_check_destination() decides, when a link is created, whether its destination is safe
 *    to put in a Location header: absolute http(s), a plain host, no userinfo (a phishing
 *    trick: "https://bank.example@evil.example/"), no whitespace, control or non-ASCII bytes,
 *    no backslash, well-formed percent escapes, at most URL_DEST_MAX bytes.
 * 2. url_build_location() merges, on every click, the destination's own query, the link's
 *    UTM parameters, the query of the tracking request and the click id into the Location.
 *
 * Memory: nothing here allocates. Callers pass output buffers; URL_LOCATION_MAX is the size
 * the redirect handler uses for the Location buffer. Input strings are only read.
 * Callers cap the number of forwarded parameters (the HTTP layer's parameter cap): building
 * the Location compares every destination key with every forwarded key.
 */
#ifndef JEJAK_TRACKER_URL_H
#define JEJAK_TRACKER_URL_H

#include <stddef.h>

enum { URL_DEST_MAX = 2048, URL_LOCATION_MAX = 4096 };

/* One query parameter, decoded (raw) text. A NULL value is treated as "". */
typedef struct {
    const char *key;
    const char *value;
} url_param;

/* Validate a link destination. Returns 0 if acceptable; else -1 and a human-readable reason
 * naming the problem (byte positions count from 0) written into err, which is always
 * NUL-terminated when errlen > 0. err may be NULL when the reason is not wanted. */
int url_check_destination(const char *dest, char *err, size_t errlen);

/* Percent-encode s: RFC 3986 unreserved characters (ALPHA DIGIT - . _ ~) are kept, every other
 * byte becomes %XX (uppercase hex). Returns the length written (excluding the NUL), or -1 if
 * it does not fit in out (out is then "" when outlen > 0). */
int url_encode(char *out, size_t outlen, const char *s);

/* Build the redirect Location for dest, which must have passed url_check_destination().
 * Output: dest up to its '?' or '#', then '?' and the parameters, then dest's '#fragment'
 * unchanged. Parameters, in this order:
 *   (a) dest's own query parameters, byte for byte, except key "jclid" and keys present in fwd;
 *   (b) each utm param with a non-empty value whose key is neither in dest's query (raw key
 *       text) nor in fwd, value percent-encoded;
 *   (c) each fwd param except key "jclid" and empty keys, key and value percent-encoded;
 *   (d) "jclid=<encoded jclid>" when jclid is neither NULL nor "".
 * No '?' without parameters, no empty "&&". Returns the length (excluding the NUL), or -1 if
 * the result does not fit in outlen or dest holds a space or control byte (out is then "" when
 * outlen > 0). The result never contains CR, LF or any other control byte. */
int url_build_location(char *out, size_t outlen, const char *dest, const url_param *utm,
                       size_t nutm, const url_param *fwd, size_t nfwd, const char *jclid);

#endif
