/* Tests of tracker/ip: parsing (with IPv4-mapped folding), socket addresses, anonymization
 * known answers, formatting into small buffers, CIDR parsing and matching. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "tracker/ip.h"

/* Parse, optionally anonymize, format: the round trip jejak does for each click. */
static const char *roundtrip(const char *in, bool anon)
{
    static char out[IP_TEXT_MAX];
    ip_addr a;
    if (ip_parse(in, &a) != 0)
        fail_msg("ip_parse(\"%s\") failed", in);
    if (anon)
        ip_anonymize(&a);
    assert_int_equal(ip_format(&a, out, sizeof out), 0);
    return out;
}

static void test_parse_v4(void **state)
{
    (void)state;
    ip_addr a;
    assert_int_equal(ip_parse("192.168.100.123", &a), 0);
    assert_int_equal(a.family, 4);
    const uint8_t want[16] = {192, 168, 100, 123};
    assert_memory_equal(a.addr, want, 16);
    assert_string_equal(roundtrip("0.0.0.0", false), "0.0.0.0");
    assert_string_equal(roundtrip("255.255.255.255", false), "255.255.255.255");
}

static void test_parse_v6(void **state)
{
    (void)state;
    ip_addr a;
    assert_int_equal(ip_parse("2001:db8::1", &a), 0);
    assert_int_equal(a.family, 6);
    const uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    assert_memory_equal(a.addr, want, 16);
    assert_string_equal(roundtrip("2001:DB8:0:0:0:0:0:1", false), "2001:db8::1");
    assert_string_equal(roundtrip("::1", false), "::1");
    assert_string_equal(roundtrip("::", false), "::");
    /* IPv4-mapped becomes IPv4, in both notations */
    assert_int_equal(ip_parse("::ffff:203.0.113.9", &a), 0);
    assert_int_equal(a.family, 4);
    const uint8_t want4[16] = {203, 0, 113, 9};
    assert_memory_equal(a.addr, want4, 16);
    assert_string_equal(roundtrip("::FFFF:cb00:7109", false), "203.0.113.9");
    /* not mapped: IPv4-compatible (deprecated) and NAT64 stay IPv6 */
    assert_int_equal(ip_parse("::203.0.113.9", &a), 0);
    assert_int_equal(a.family, 6);
    assert_int_equal(ip_parse("64:ff9b::203.0.113.9", &a), 0);
    assert_int_equal(a.family, 6);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {"",
                                      " 1.2.3.4",
                                      "1.2.3.4 ",
                                      "1.2.3",
                                      "1.2.3.4.5",
                                      "256.1.1.1",
                                      "1.2.3.-1",
                                      "01.2.3.4",
                                      "0x7f.0.0.1",
                                      "127.1",
                                      "1.2.3.4/8",
                                      "localhost",
                                      "2001:db8::1::2",
                                      "2001:db8:::1",
                                      "fe80::1%eth0",
                                      "[::1]",
                                      "12345::",
                                      "1:2:3:4:5:6:7:8:9",
                                      "0000:0000:0000:0000:0000:0000:0000:0000:0000",
                                      "::ffff:1.2.3.4.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ip_addr a;
        memset(&a, 0xaa, sizeof a);
        if (ip_parse(bad[i], &a) != -1)
            fail_msg("ip_parse accepted \"%s\"", bad[i]);
        assert_int_equal(a.family, 0);
    }
    ip_addr a;
    assert_int_equal(ip_parse(NULL, &a), -1);
    assert_int_equal(a.family, 0);
    assert_int_equal(ip_parse("1.2.3.4", NULL), -1);
}

static void test_anonymize(void **state)
{
    (void)state;
    assert_string_equal(roundtrip("192.168.100.123", true), "192.168.100.0");
    assert_string_equal(roundtrip("2001:db8:85a3:8d3:1319:8a2e:370:7348", true), "2001:db8:85a3::");
    assert_string_equal(roundtrip("10.0.0.255", true), "10.0.0.0");
    assert_string_equal(roundtrip("::ffff:192.168.100.123", true), "192.168.100.0");
    assert_string_equal(roundtrip("2001:db8:85a3:ffff:ffff::1", true), "2001:db8:85a3::");
    assert_string_equal(roundtrip("::1", true), "::");
    ip_addr a;
    assert_int_equal(ip_parse("2001:db8:85a3:8d3:1319:8a2e:370:7348", &a), 0);
    ip_anonymize(&a);
    const uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8, 0x85, 0xa3};
    assert_memory_equal(a.addr, want, 16);
    ip_addr none = {0};
    ip_anonymize(&none);
    assert_int_equal(none.family, 0);
    ip_anonymize(NULL);
}

static void test_from_sockaddr(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    ip_addr a;
    char out[IP_TEXT_MAX];

    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(8080);
    assert_int_equal(inet_pton(AF_INET, "198.51.100.7", &sin->sin_addr), 1);
    assert_int_equal(ip_from_sockaddr((struct sockaddr *)&ss, &a), 0);
    assert_int_equal(a.family, 4);
    assert_int_equal(ip_format(&a, out, sizeof out), 0);
    assert_string_equal(out, "198.51.100.7");

    memset(&ss, 0, sizeof ss);
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    sin6->sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, "2001:db8::42", &sin6->sin6_addr), 1);
    assert_int_equal(ip_from_sockaddr((struct sockaddr *)&ss, &a), 0);
    assert_int_equal(a.family, 6);
    assert_int_equal(ip_format(&a, out, sizeof out), 0);
    assert_string_equal(out, "2001:db8::42");

    assert_int_equal(inet_pton(AF_INET6, "::ffff:198.51.100.7", &sin6->sin6_addr), 1);
    assert_int_equal(ip_from_sockaddr((struct sockaddr *)&ss, &a), 0);
    assert_int_equal(a.family, 4);
    const uint8_t want[16] = {198, 51, 100, 7};
    assert_memory_equal(a.addr, want, 16);

    memset(&ss, 0, sizeof ss);
    ss.ss_family = AF_UNIX;
    memset(&a, 0xaa, sizeof a);
    assert_int_equal(ip_from_sockaddr((struct sockaddr *)&ss, &a), -1);
    assert_int_equal(a.family, 0);
    memset(&a, 0xaa, sizeof a);
    assert_int_equal(ip_from_sockaddr(NULL, &a), -1);
    assert_int_equal(a.family, 0);
}

static void test_format(void **state)
{
    (void)state;
    ip_addr a;
    char out[IP_TEXT_MAX];
    ip_addr none = {0};
    strcpy(out, "junk");
    assert_int_equal(ip_format(&none, out, sizeof out), 0);
    assert_string_equal(out, "");

    assert_int_equal(ip_parse("192.168.100.123", &a), 0);
    char small[16]; /* exactly "255.255.255.255" + NUL */
    assert_int_equal(ip_format(&a, small, sizeof small), 0);
    assert_string_equal(small, "192.168.100.123");
    char tiny[15]; /* one short */
    assert_int_equal(ip_format(&a, tiny, sizeof tiny), -1);
    assert_string_equal(tiny, "");
    assert_int_equal(ip_format(&a, out, 0), -1);
    assert_int_equal(ip_format(&a, NULL, 10), -1);

    assert_int_equal(ip_parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", &a), 0);
    assert_int_equal(ip_format(&a, out, sizeof out), 0);
    assert_string_equal(out, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");

    a.family = 5;
    assert_int_equal(ip_format(&a, out, sizeof out), -1);
    assert_string_equal(out, "");
}

static void assert_cidr(const char *s, const char *net, unsigned prefix)
{
    ip_cidr c;
    char out[IP_TEXT_MAX];
    if (ip_cidr_parse(s, &c) != 0)
        fail_msg("ip_cidr_parse(\"%s\") failed", s);
    assert_int_equal(ip_format(&c.net, out, sizeof out), 0);
    assert_string_equal(out, net);
    assert_int_equal(c.prefix, prefix);
}

static void test_cidr_parse(void **state)
{
    (void)state;
    assert_cidr("10.0.0.0/8", "10.0.0.0", 8);
    assert_cidr("10.1.2.3/8", "10.0.0.0", 8);
    assert_cidr("192.168.1.77/26", "192.168.1.64", 26);
    assert_cidr("192.168.1.77/0", "0.0.0.0", 0);
    assert_cidr("192.168.1.77/32", "192.168.1.77", 32);
    assert_cidr("192.168.1.77", "192.168.1.77", 32);
    assert_cidr("2001:db8::/32", "2001:db8::", 32);
    assert_cidr("2001:db8:ffff::1/33", "2001:db8:8000::", 33);
    assert_cidr("2001:db8::1", "2001:db8::1", 128);
    assert_cidr("::/0", "::", 0);
    assert_cidr("::ffff:10.0.0.0/104", "10.0.0.0", 8);
    assert_cidr("::ffff:10.1.2.3", "10.1.2.3", 32);

    static const char *const bad[] = {"10.0.0.0/33",
                                      "2001:db8::/129",
                                      "10.0.0.0/",
                                      "/8",
                                      "10.0.0.0/8/8",
                                      "10.0.0.0/-1",
                                      "10.0.0.0/+8",
                                      "10.0.0.0/8 ",
                                      "10.0.0.0/ 8",
                                      "10.0.0.0/0008",
                                      "10.0.0.0/08",
                                      "10.0.0/8",
                                      "junk",
                                      "",
                                      "::ffff:10.0.0.0/95",
                                      "10.0.0.0/8x",
                                      "10.0.0.0/99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ip_cidr c;
        if (ip_cidr_parse(bad[i], &c) != -1)
            fail_msg("ip_cidr_parse accepted \"%s\"", bad[i]);
        assert_int_equal(c.net.family, 0);
    }
    ip_cidr c;
    assert_int_equal(ip_cidr_parse(NULL, &c), -1);
}

static bool match(const char *cidr, const char *addr)
{
    ip_cidr c;
    ip_addr a;
    assert_int_equal(ip_cidr_parse(cidr, &c), 0);
    assert_int_equal(ip_parse(addr, &a), 0);
    return ip_cidr_match(&c, &a);
}

static void test_cidr_match(void **state)
{
    (void)state;
    assert_true(match("10.0.0.0/8", "10.255.1.2"));
    assert_false(match("10.0.0.0/8", "11.0.0.0"));
    assert_true(match("192.168.1.64/26", "192.168.1.127"));
    assert_false(match("192.168.1.64/26", "192.168.1.128"));
    assert_false(match("192.168.1.64/26", "192.168.1.63"));
    assert_true(match("0.0.0.0/0", "8.8.8.8"));
    assert_false(match("0.0.0.0/0", "::1")); /* families differ */
    assert_true(match("::/0", "2001:db8::1"));
    assert_false(match("::/0", "1.2.3.4"));
    assert_true(match("1.2.3.4", "1.2.3.4"));
    assert_false(match("1.2.3.4", "1.2.3.5"));
    assert_true(match("2001:db8::/32", "2001:db8:ffff::1"));
    assert_false(match("2001:db8::/32", "2001:db9::1"));
    assert_true(match("2001:db8:8000::/33", "2001:db8:ffff::"));
    assert_false(match("2001:db8:8000::/33", "2001:db8:7fff::"));
    assert_true(match("fc00::/7", "fdff::1"));
    assert_false(match("fc00::/7", "fe00::1"));
    assert_true(match("10.0.0.0/8", "::ffff:10.9.9.9")); /* mapped client, IPv4 list */
    assert_true(match("::ffff:10.0.0.0/104", "10.9.9.9"));
    assert_true(match("2001:db8::1/128", "2001:db8::1"));
    assert_false(match("2001:db8::1/128", "2001:db8::2"));

    ip_cidr c;
    ip_addr none = {0};
    assert_int_equal(ip_cidr_parse("0.0.0.0/0", &c), 0);
    assert_false(ip_cidr_match(&c, &none));
    assert_false(ip_cidr_match(NULL, &none));
    assert_false(ip_cidr_match(&c, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_v4),      cmocka_unit_test(test_parse_v6),
        cmocka_unit_test(test_parse_rejects), cmocka_unit_test(test_anonymize),
        cmocka_unit_test(test_from_sockaddr), cmocka_unit_test(test_format),
        cmocka_unit_test(test_cidr_parse),    cmocka_unit_test(test_cidr_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
