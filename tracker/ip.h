/* ip: client addresses as jejak keeps them: parsed, anonymized, printed, matched to CIDRs.
 *
 * An ip_addr is a plain value (no pointers): copy it freely. IPv4-mapped IPv6 addresses
 * (::ffff:a.b.c.d, what a dual-stack socket reports for IPv4 clients) always become IPv4, so
 * that one client has one form. ip_anonymize() is applied before anything is stored: an
 * IPv4 address keeps its /24, an IPv6 address its /48. CIDRs list trusted proxies and
 * excluded networks.
 *
 * Memory: nothing allocates; callers pass the output buffers.
 */
#ifndef JEJAK_TRACKER_IP_H
#define JEJAK_TRACKER_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest text accepted by ip_parse() and written by ip_format(), NUL included. */
enum { IP_TEXT_MAX = 46 };

typedef struct {
    uint8_t family;   /* 0 = none, 4 or 6 */
    uint8_t addr[16]; /* network order; IPv4 in addr[0..3], the rest zero */
} ip_addr;

/* Address of an AF_INET or AF_INET6 socket address. Returns 0, or -1 for another family or
 * NULL (out->family = 0). */
int ip_from_sockaddr(const struct sockaddr *sa, ip_addr *out);

/* Text IPv4 (dotted quad) or IPv6, nothing around it. Returns 0, or -1 (out->family = 0). */
int ip_parse(const char *s, ip_addr *out);

/* IPv4: last octet zeroed; IPv6: kept to /48 (bytes 6..15 zeroed); family 0: unchanged. */
void ip_anonymize(ip_addr *a);

/* Text form (inet_ntop) into out; family 0 gives "". Returns 0, or -1 if it does not fit
 * (IP_TEXT_MAX bytes always do) or the family is unknown (out is then "" when outlen > 0). */
int ip_format(const ip_addr *a, char *out, size_t outlen);

typedef struct {
    ip_addr net; /* host bits beyond the prefix are zero */
    unsigned prefix;
} ip_cidr;

/* "10.0.0.0/8", "2001:db8::/32"; a bare address is /32 or /128. Host bits beyond the prefix
 * are masked off. A mapped "::ffff:a.b.c.d/n" with n >= 96 becomes the IPv4 /(n-96).
 * Returns 0, or -1 on junk or a prefix beyond 32 / 128. */
int ip_cidr_parse(const char *s, ip_cidr *out);

/* Whether a lies in c; false when the families differ or either is 0. */
bool ip_cidr_match(const ip_cidr *c, const ip_addr *a);

#endif
