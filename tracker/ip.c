/* ip: address parsing, anonymization, formatting and CIDR matching.
 *
 * Thin wrappers over inet_pton/inet_ntop with the one policy that matters for jejak:
 * IPv4-mapped IPv6 is folded to IPv4 everywhere, so that anonymization, exclusion lists
 * and proxy trust see a single form of each client.
 */
#include "tracker/ip.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void set_v6(ip_addr *out, const uint8_t b[16])
{
    memset(out, 0, sizeof *out);
    if (memcmp(b, mapped_prefix, sizeof mapped_prefix) == 0) {
        out->family = 4;
        memcpy(out->addr, b + 12, 4);
    } else {
        out->family = 6;
        memcpy(out->addr, b, 16);
    }
}

static void set_v4(ip_addr *out, const uint8_t b[4])
{
    memset(out, 0, sizeof *out);
    out->family = 4;
    memcpy(out->addr, b, 4);
}

int ip_from_sockaddr(const struct sockaddr *sa, ip_addr *out)
{
    if (out == NULL)
        return -1;
    memset(out, 0, sizeof *out);
    if (sa == NULL)
        return -1;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in sin;
        memcpy(&sin, sa, sizeof sin); /* sa may be a misaligned sockaddr_storage view */
        set_v4(out, (const uint8_t *)&sin.sin_addr);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, sa, sizeof sin6);
        set_v6(out, sin6.sin6_addr.s6_addr);
        return 0;
    }
    return -1;
}

int ip_parse(const char *s, ip_addr *out)
{
    if (out == NULL)
        return -1;
    memset(out, 0, sizeof *out);
    if (s == NULL || strnlen(s, IP_TEXT_MAX) >= IP_TEXT_MAX)
        return -1;
    uint8_t b[16];
    if (inet_pton(AF_INET, s, b) == 1) {
        set_v4(out, b);
        return 0;
    }
    if (inet_pton(AF_INET6, s, b) == 1) {
        set_v6(out, b);
        return 0;
    }
    return -1;
}

void ip_anonymize(ip_addr *a)
{
    if (a == NULL)
        return;
    if (a->family == 4)
        memset(a->addr + 3, 0, sizeof a->addr - 3);
    else if (a->family == 6)
        memset(a->addr + 6, 0, sizeof a->addr - 6);
}

int ip_format(const ip_addr *a, char *out, size_t outlen)
{
    if (out == NULL || outlen == 0 || outlen > (size_t)0x7fffffff)
        return -1;
    out[0] = '\0';
    if (a == NULL)
        return -1;
    if (a->family == 0)
        return 0;
    int af = a->family == 4 ? AF_INET : a->family == 6 ? AF_INET6 : -1;
    if (af < 0 || inet_ntop(af, a->addr, out, (socklen_t)outlen) == NULL) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

static void mask_host_bits(ip_addr *a, unsigned prefix)
{
    size_t bytes = a->family == 4 ? 4 : 16;
    for (size_t i = 0; i < bytes; i++) {
        unsigned first_bit = (unsigned)i * 8;
        if (first_bit >= prefix)
            a->addr[i] = 0;
        else if (prefix - first_bit < 8)
            a->addr[i] &= (uint8_t)(0xff << (8 - (prefix - first_bit)));
    }
}

int ip_cidr_parse(const char *s, ip_cidr *out)
{
    if (out == NULL)
        return -1;
    memset(out, 0, sizeof *out);
    if (s == NULL)
        return -1;
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    char text[IP_TEXT_MAX];
    if (alen == 0 || alen >= sizeof text)
        return -1;
    memcpy(text, s, alen);
    text[alen] = '\0';
    ip_addr a;
    if (ip_parse(text, &a) != 0)
        return -1;

    bool v6_text = memchr(text, ':', alen) != NULL;
    unsigned max = v6_text ? 128 : 32;
    unsigned prefix = max;
    if (slash != NULL) {
        const char *p = slash + 1;
        size_t digits = 0;
        prefix = 0;
        for (; *p >= '0' && *p <= '9' && digits < 4; p++, digits++)
            prefix = prefix * 10 + (unsigned)(*p - '0');
        /* No leading zeros: "/08" is more likely a typo than a /8. */
        if (digits == 0 || *p != '\0' || prefix > max || (slash[1] == '0' && digits > 1))
            return -1;
    }
    if (v6_text && a.family == 4) {
        /* A mapped prefix shorter than /96 would cover more than IPv4 space. */
        if (prefix < 96)
            return -1;
        prefix -= 96;
    }
    mask_host_bits(&a, prefix);
    out->net = a;
    out->prefix = prefix;
    return 0;
}

bool ip_cidr_match(const ip_cidr *c, const ip_addr *a)
{
    if (c == NULL || a == NULL || a->family == 0 || c->net.family != a->family)
        return false;
    unsigned max = a->family == 4 ? 32 : 128;
    unsigned prefix = c->prefix > max ? max : c->prefix;
    size_t whole = prefix / 8;
    if (memcmp(c->net.addr, a->addr, whole) != 0)
        return false;
    unsigned rest = prefix % 8;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (c->net.addr[whole] & mask) == (a->addr[whole] & mask);
}
