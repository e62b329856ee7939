/* headers: the few request header values a click records, reduced to small safe strings.
 *
 * Referer becomes a host ("l.instagram.com"), Accept-Language its first tag ("id-ID"), and
 * the visitor cookie is found by name. Anything unexpected yields "" or -1 rather than a
 * guess: these values end up in reports, so they must be short and plain. The purpose
 * headers say whether a request is a prefetch or a link preview rather than a click.
 *
 * Memory: nothing allocates; callers pass out buffers, always NUL-terminated when
 * outlen > 0. Only the first HDR_SCAN_MAX bytes of a header value are read.
 */
#ifndef JEJAK_TRACKER_HEADERS_H
#define JEJAK_TRACKER_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

enum { HDR_SCAN_MAX = 8192, HDR_HOST_MAX = 253, HDR_LANGUAGE_MAX = 35 };

/* Host of a Referer URL, lowercased, without port or userinfo; "" if none or invalid. Only
 * http, https and android-app referrers yield a host ("android-app://com.instagram.android/"
 * gives "com.instagram.android"). Host characters allowed: [a-z0-9.-_] after lowercasing;
 * anything else, more than HDR_HOST_MAX characters, or a host that does not fit in outlen-1
 * bytes gives "" (a truncated host would be a wrong one). Returns the length. */
size_t hdr_referrer_host(const char *referer, char *out, size_t outlen);

/* First language tag of Accept-Language ("id-ID,id;q=0.9,en;q=0.8" gives "id-ID"), trimmed,
 * at most HDR_LANGUAGE_MAX characters of [A-Za-z0-9-]; "*", invalid, or too long for out
 * gives "". Returns the length. */
size_t hdr_first_language(const char *accept_language, char *out, size_t outlen);

/* Value of cookie name in a Cookie header ("a=1; jv=XYZ; b=2"), copied into out, surrounding
 * double quotes removed; the first occurrence wins. Returns the length, or -1 when absent or
 * longer than outlen-1 (out is then "" when outlen > 0). */
int hdr_cookie(const char *cookie_header, const char *name, char *out, size_t outlen);

/* Whether a request is a speculative fetch (a prefetch, a prerender or a link preview) rather
 * than a visitor following the link, from the value of one purpose header:
 *   Sec-Purpose  a structured-field list: "prefetch", "prefetch;anonymous-client-ip"
 *                (Chrome), "prefetch;prerender" (Chrome prerendering), "prerender";
 *   Purpose      "prefetch" (older Chrome and Safari);
 *   X-Purpose    "preview" (Meta's in-app browsers, Safari's previews), "prefetch";
 *   X-Moz        "prefetch" (Firefox).
 * True when a member of the comma-separated list is, ignoring case, surrounding spaces and
 * its parameters, the token prefetch, prerender or preview; commas inside quoted parameter
 * values separate nothing. NULL, "", or no such member: false. */
bool hdr_is_speculative(const char *value);

#endif
