/*
 * test_record.c: the stored record codecs (storage/record.c). Every record type survives
 * encode -> decode with its fields at their longest; encoders refuse what does not fit;
 * decoders refuse every malformed input: another version, any truncation, trailing bytes,
 * a length past the end or the field, an embedded NUL, an unknown device or ip family.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "storage/record.h"

static void fill(char *s, size_t cap, char base)
{
    for (size_t i = 0; i + 1 < cap; i++)
        s[i] = (char)(base + (char)(i % 26));
    s[cap - 1] = '\0';
}

/* ---- fixtures at maximum length -------------------------------------------------------- */

static void max_influencer(rec_influencer *r)
{
    memset(r, 0, sizeof(*r));
    fill(r->id, sizeof(r->id), 'a');
    fill(r->name, sizeof(r->name), 'A');
    fill(r->platform, sizeof(r->platform), 'a');
    fill(r->handle, sizeof(r->handle), 'A');
    r->followers = UINT64_MAX - 1;
    r->created_ms = -1795168800123LL;
}

static void max_campaign(rec_campaign *r)
{
    memset(r, 0, sizeof(*r));
    fill(r->id, sizeof(r->id), 'a');
    fill(r->name, sizeof(r->name), 'A');
    strcpy(r->start, "2026-11-01");
    strcpy(r->end, "2026-11-30");
    r->created_ms = INT64_MAX;
}

static void max_link(rec_link *r)
{
    memset(r, 0, sizeof(*r));
    fill(r->slug, sizeof(r->slug), 'a');
    fill(r->dest, sizeof(r->dest), 'A');
    memcpy(r->dest, "https://", 8);
    fill(r->influencer, sizeof(r->influencer), 'b');
    fill(r->campaign, sizeof(r->campaign), 'c');
    fill(r->utm_source, sizeof(r->utm_source), 'd');
    fill(r->utm_medium, sizeof(r->utm_medium), 'e');
    fill(r->utm_campaign, sizeof(r->utm_campaign), 'f');
    fill(r->utm_content, sizeof(r->utm_content), 'g');
    fill(r->utm_term, sizeof(r->utm_term), 'h');
    r->created_ms = INT64_MIN;
}

static void max_click(rec_click *r, uint8_t family)
{
    memset(r, 0, sizeof(*r));
    for (int i = 0; i < 16; i++) {
        r->id[i] = (uint8_t)(0xf0 + i);
        r->visitor[i] = (uint8_t)(0x10 * i + 1);
    }
    r->ts_ms = 1795168800123LL;
    fill(r->link, sizeof(r->link), 'a');
    r->ip_family = family;
    if (family == 4) {
        const uint8_t v4[4] = {203, 0, 113, 0};
        memcpy(r->ip, v4, 4);
    } else if (family == 6) {
        for (int i = 0; i < 16; i++)
            r->ip[i] = (uint8_t)(0x20 + i);
    }
    r->device = REC_DEVICE_TABLET;
    r->flags = REC_CLICK_UNIQUE | REC_CLICK_HEAD;
    fill(r->referrer, sizeof(r->referrer), 'r');
    fill(r->lang, sizeof(r->lang), 'l');
}

/* ---- round trips ----------------------------------------------------------------------- */

static void test_influencer_round_trip(void **state)
{
    (void)state;
    rec_influencer r, d;
    max_influencer(&r);
    uint8_t buf[REC_MAX_BYTES];
    size_t n = rec_influencer_encode(&r, buf, sizeof(buf));
    assert_int_equal(n, 1 + (2 + 64) + 3 * (2 + 128) + 8 + 8);
    assert_int_equal(buf[0], 1); /* the version byte */
    memset(&d, 0x5a, sizeof(d));
    assert_int_equal(rec_influencer_decode(buf, n, &d), 0);
    assert_string_equal(d.id, r.id);
    assert_string_equal(d.name, r.name);
    assert_string_equal(d.platform, r.platform);
    assert_string_equal(d.handle, r.handle);
    assert_true(d.followers == r.followers);
    assert_true(d.created_ms == r.created_ms);

    /* Empty strings too. */
    memset(&r, 0, sizeof(r));
    strcpy(r.id, "x");
    n = rec_influencer_encode(&r, buf, sizeof(buf));
    assert_int_equal(n, 1 + 3 + 2 * 3 + 16);
    memset(&d, 0x5a, sizeof(d));
    assert_int_equal(rec_influencer_decode(buf, n, &d), 0);
    assert_string_equal(d.id, "x");
    assert_string_equal(d.name, "");
    assert_string_equal(d.handle, "");
    assert_true(d.followers == 0);
}

static void test_campaign_round_trip(void **state)
{
    (void)state;
    rec_campaign r, d;
    max_campaign(&r);
    uint8_t buf[REC_MAX_BYTES];
    size_t n = rec_campaign_encode(&r, buf, sizeof(buf));
    assert_int_equal(n, 1 + 66 + 130 + 12 + 12 + 8);
    memset(&d, 0x5a, sizeof(d));
    assert_int_equal(rec_campaign_decode(buf, n, &d), 0);
    assert_string_equal(d.id, r.id);
    assert_string_equal(d.name, r.name);
    assert_string_equal(d.start, "2026-11-01");
    assert_string_equal(d.end, "2026-11-30");
    assert_true(d.created_ms == INT64_MAX);
}

static void test_link_round_trip(void **state)
{
    (void)state;
    rec_link r, d;
    max_link(&r);
    uint8_t buf[REC_MAX_BYTES];
    size_t n = rec_link_encode(&r, buf, sizeof(buf));
    assert_int_equal(n, 1 + 66 + 2050 + 66 + 66 + 5 * 130 + 8);
    memset(&d, 0x5a, sizeof(d));
    assert_int_equal(rec_link_decode(buf, n, &d), 0);
    assert_string_equal(d.slug, r.slug);
    assert_string_equal(d.dest, r.dest);
    assert_string_equal(d.influencer, r.influencer);
    assert_string_equal(d.campaign, r.campaign);
    assert_string_equal(d.utm_source, r.utm_source);
    assert_string_equal(d.utm_medium, r.utm_medium);
    assert_string_equal(d.utm_campaign, r.utm_campaign);
    assert_string_equal(d.utm_content, r.utm_content);
    assert_string_equal(d.utm_term, r.utm_term);
    assert_true(d.created_ms == INT64_MIN);
}

static void click_equal(const rec_click *a, const rec_click *b)
{
    assert_memory_equal(a->id, b->id, 16);
    assert_true(a->ts_ms == b->ts_ms);
    assert_string_equal(a->link, b->link);
    assert_memory_equal(a->visitor, b->visitor, 16);
    assert_int_equal(a->ip_family, b->ip_family);
    assert_memory_equal(a->ip, b->ip, 16);
    assert_int_equal(a->device, b->device);
    assert_int_equal(a->flags, b->flags);
    assert_string_equal(a->referrer, b->referrer);
    assert_string_equal(a->lang, b->lang);
}

static void test_click_round_trip_every_family(void **state)
{
    (void)state;
    const uint8_t families[] = {0, 4, 6};
    const size_t iplen[] = {0, 4, 16};
    for (int f = 0; f < 3; f++) {
        rec_click r, d;
        max_click(&r, families[f]);
        uint8_t buf[REC_MAX_BYTES];
        size_t n = rec_click_encode(&r, buf, sizeof(buf));
        assert_int_equal(n, 1 + 8 + 66 + 16 + 1 + iplen[f] + 1 + 1 + (2 + 255) + (2 + 35));
        memset(&d, 0x5a, sizeof(d));
        assert_int_equal(rec_click_decode(r.id, 16, buf, n, &d), 0);
        click_equal(&r, &d);
    }
    /* Every device, every flag combination. */
    for (uint8_t dev = 0; dev <= REC_DEVICE_BOT; dev++) {
        for (uint8_t fl = 0; fl < 8; fl++) {
            rec_click r, d;
            max_click(&r, 4);
            r.device = dev;
            r.flags = fl;
            r.ts_ms = -5;
            uint8_t buf[REC_MAX_BYTES];
            size_t n = rec_click_encode(&r, buf, sizeof(buf));
            assert_true(n > 0);
            assert_int_equal(rec_click_decode(r.id, 16, buf, n, &d), 0);
            click_equal(&r, &d);
        }
    }
}

/* An ipv4 click keeps only 4 address bytes: the rest decode as zero. */
static void test_click_ipv4_stores_four_bytes(void **state)
{
    (void)state;
    rec_click r, d;
    max_click(&r, 4);
    memset(r.ip + 4, 0xee, 12);
    uint8_t buf[REC_MAX_BYTES];
    size_t n = rec_click_encode(&r, buf, sizeof(buf));
    assert_true(n > 0);
    memset(&d, 0x5a, sizeof(d));
    assert_int_equal(rec_click_decode(r.id, 16, buf, n, &d), 0);
    const uint8_t want[16] = {203, 0, 113, 0};
    assert_memory_equal(d.ip, want, 16);
    max_click(&r, 0);
    memset(r.ip, 0xee, 16);
    n = rec_click_encode(&r, buf, sizeof(buf));
    memset(&d, 0x5a, sizeof(d));
    assert_int_equal(rec_click_decode(r.id, 16, buf, n, &d), 0);
    const uint8_t zero[16] = {0};
    assert_memory_equal(d.ip, zero, 16);
}

/* ---- encoder refusals ------------------------------------------------------------------ */

static void test_encode_refuses_overlong_strings(void **state)
{
    (void)state;
    uint8_t buf[REC_MAX_BYTES];
    rec_influencer i;
    max_influencer(&i);
    memset(i.id, 'a', sizeof(i.id)); /* no NUL within the field */
    assert_int_equal(rec_influencer_encode(&i, buf, sizeof(buf)), 0);
    max_influencer(&i);
    memset(i.handle, 'a', sizeof(i.handle));
    assert_int_equal(rec_influencer_encode(&i, buf, sizeof(buf)), 0);

    rec_campaign c;
    max_campaign(&c);
    memset(c.end, '1', sizeof(c.end));
    assert_int_equal(rec_campaign_encode(&c, buf, sizeof(buf)), 0);

    rec_link l;
    max_link(&l);
    memset(l.dest, 'x', sizeof(l.dest));
    assert_int_equal(rec_link_encode(&l, buf, sizeof(buf)), 0);
    max_link(&l);
    memset(l.utm_term, 'x', sizeof(l.utm_term));
    assert_int_equal(rec_link_encode(&l, buf, sizeof(buf)), 0);

    rec_click k;
    max_click(&k, 6);
    memset(k.lang, 'x', sizeof(k.lang));
    assert_int_equal(rec_click_encode(&k, buf, sizeof(buf)), 0);
    max_click(&k, 6);
    memset(k.link, 'x', sizeof(k.link));
    assert_int_equal(rec_click_encode(&k, buf, sizeof(buf)), 0);
}

static void test_encode_refuses_bad_ip_family(void **state)
{
    (void)state;
    uint8_t buf[REC_MAX_BYTES];
    const uint8_t bad[] = {1, 3, 5, 7, 16, 255};
    for (size_t i = 0; i < sizeof(bad); i++) {
        rec_click k;
        max_click(&k, 4);
        k.ip_family = bad[i];
        assert_int_equal(rec_click_encode(&k, buf, sizeof(buf)), 0);
    }
}

/* An output buffer one byte short of the encoding (or any shorter) gives 0. */
static void test_encode_refuses_small_buffer(void **state)
{
    (void)state;
    uint8_t buf[REC_MAX_BYTES];
    rec_link l;
    max_link(&l);
    size_t full = rec_link_encode(&l, buf, sizeof(buf));
    assert_true(full > 0);
    assert_int_equal(rec_link_encode(&l, buf, full), full);
    for (size_t n = 0; n < full; n++)
        assert_int_equal(rec_link_encode(&l, buf, n), 0);
    rec_click k;
    max_click(&k, 6);
    full = rec_click_encode(&k, buf, sizeof(buf));
    for (size_t n = 0; n < full; n++)
        assert_int_equal(rec_click_encode(&k, buf, n), 0);
}

/* ---- decoder refusals ------------------------------------------------------------------ */

typedef int (*decode_fn)(const uint8_t *in, size_t len);

static int dec_influencer(const uint8_t *in, size_t len)
{
    rec_influencer r;
    return rec_influencer_decode(in, len, &r);
}
static int dec_campaign(const uint8_t *in, size_t len)
{
    rec_campaign r;
    return rec_campaign_decode(in, len, &r);
}
static int dec_link(const uint8_t *in, size_t len)
{
    rec_link r;
    return rec_link_decode(in, len, &r);
}
static const uint8_t click_key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static int dec_click(const uint8_t *in, size_t len)
{
    rec_click r;
    return rec_click_decode(click_key, 16, in, len, &r);
}

/* Exactly the full encoding decodes: every prefix, a wrong version byte and any trailing
 * byte are refused. The prefixes are copied into exact-size heap buffers, so that a read
 * past the end would be caught by ASan. */
static void refuse_malformed(decode_fn dec, const uint8_t *full, size_t n)
{
    assert_int_equal(dec(full, n), 0);
    for (size_t len = 0; len < n; len++) {
        uint8_t *p = test_malloc(len ? len : 1);
        memcpy(p, full, len);
        if (dec(p, len) != -1)
            fail_msg("a prefix of %zu of %zu bytes decoded", len, n);
        test_free(p);
    }
    uint8_t *p = test_malloc(n + 1);
    memcpy(p, full, n);
    p[n] = 0;
    assert_int_equal(dec(p, n + 1), -1);
    p[n] = 'x';
    assert_int_equal(dec(p, n + 1), -1);
    const uint8_t versions[] = {0, 2, 3, 0x81, 0xff};
    for (size_t i = 0; i < sizeof(versions); i++) {
        p[0] = versions[i];
        assert_int_equal(dec(p, n), -1);
    }
    p[0] = full[0];
    assert_int_equal(dec(p, n), 0);
    test_free(p);
}

static void test_decode_refuses_truncation_trailing_version(void **state)
{
    (void)state;
    uint8_t buf[REC_MAX_BYTES];
    rec_influencer i;
    max_influencer(&i);
    refuse_malformed(dec_influencer, buf, rec_influencer_encode(&i, buf, sizeof(buf)));
    rec_campaign c;
    max_campaign(&c);
    refuse_malformed(dec_campaign, buf, rec_campaign_encode(&c, buf, sizeof(buf)));
    memset(&c, 0, sizeof(c));
    strcpy(c.id, "c");
    refuse_malformed(dec_campaign, buf, rec_campaign_encode(&c, buf, sizeof(buf)));
    rec_link l;
    max_link(&l);
    refuse_malformed(dec_link, buf, rec_link_encode(&l, buf, sizeof(buf)));
    for (uint8_t f = 0; f <= 6; f += 2) {
        if (f == 2)
            continue;
        rec_click k;
        max_click(&k, f);
        refuse_malformed(dec_click, buf, rec_click_encode(&k, buf, sizeof(buf)));
    }
}

/* Offsets in an encoded click. */
static size_t click_off_family(const rec_click *k)
{
    return 1 + 8 + 2 + strlen(k->link) + 16;
}

static void test_decode_refuses_bad_lengths(void **state)
{
    (void)state;
    uint8_t buf[REC_MAX_BYTES];
    rec_influencer i, di;
    max_influencer(&i);
    size_t n = rec_influencer_encode(&i, buf, sizeof(buf));
    /* The last string (handle, 128 bytes) claims one more byte than remains. */
    size_t h = 1 + 66 + 130 + 130;
    assert_int_equal(buf[h], 0);
    assert_int_equal(buf[h + 1], 128);
    buf[h + 1] = 128 + 16 + 1;
    assert_int_equal(rec_influencer_decode(buf, n, &di), -1);
    buf[h] = 0xff;
    buf[h + 1] = 0xff;
    assert_int_equal(rec_influencer_decode(buf, n, &di), -1);
    /* A shorter claim leaves bytes over or misreads the rest: refused as well. */
    buf[h] = 0;
    buf[h + 1] = 127;
    assert_int_equal(rec_influencer_decode(buf, n, &di), -1);
    buf[h + 1] = 128;
    assert_int_equal(rec_influencer_decode(buf, n, &di), 0);

    /* The first string's length past the end of the whole record. */
    buf[1] = 0x1f;
    buf[2] = 0xff;
    assert_int_equal(rec_influencer_decode(buf, n, &di), -1);

    /* A length within its field's capacity (name: 128) but past the end of a short record,
     * read from an exact-size heap copy so that ASan sees any overread. */
    rec_campaign c, dc;
    memset(&c, 0, sizeof(c));
    strcpy(c.id, "c");
    n = rec_campaign_encode(&c, buf, sizeof(buf));
    assert_int_equal(n, 1 + 3 + 2 + 2 + 2 + 8);
    uint8_t *p = test_malloc(n);
    memcpy(p, buf, n);
    assert_int_equal(rec_campaign_decode(p, n, &dc), 0);
    for (unsigned claim = 1; claim <= 128; claim++) {
        p[4] = (uint8_t)(claim >> 8);
        p[5] = (uint8_t)claim;
        /* 12 bytes follow the name's length: a claim up to 12 misreads the rest (and
         * leaves too few bytes), above 12 it points past the end. */
        assert_int_equal(rec_campaign_decode(p, n, &dc), -1);
    }
    test_free(p);
}

/* Strings that fit the buffer but not the field are refused: the decoder checks the
 * field's capacity, not only the buffer. */
static void test_decode_refuses_string_longer_than_field(void **state)
{
    (void)state;
    char big[REC_URL + 10];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    uint8_t buf[REC_MAX_BYTES];
    for (size_t idlen = 60; idlen <= 70; idlen++) {
        char id[80];
        memcpy(id, big, idlen);
        id[idlen] = '\0';
        rec_writer w = {buf, 0, sizeof(buf), false};
        rec_put_u8(&w, 1);
        rec_put_str(&w, id, sizeof(id));
        rec_put_str(&w, "", 1);
        rec_put_str(&w, "", 1);
        rec_put_str(&w, "", 1);
        rec_put_u64(&w, 1);
        rec_put_u64(&w, 2);
        assert_false(w.bad);
        rec_influencer d;
        int want = idlen <= 64 ? 0 : -1;
        assert_int_equal(rec_influencer_decode(buf, w.len, &d), want);
        if (want == 0)
            assert_int_equal(strlen(d.id), idlen);
    }
    /* A 2049-byte destination (the array holds 2048 + NUL). */
    rec_writer w = {buf, 0, sizeof(buf), false};
    rec_put_u8(&w, 1);
    rec_put_str(&w, "s", REC_ID);
    rec_put_str(&w, big, REC_URL + 1);
    assert_true(w.bad); /* the writer refuses too: strnlen stops at the cap */
    w = (rec_writer){buf, 0, sizeof(buf), false};
    rec_put_u8(&w, 1);
    rec_put_str(&w, "s", REC_ID);
    char dest[REC_URL + 1];
    memset(dest, 'd', REC_URL);
    dest[REC_URL] = '\0';
    rec_put_str(&w, dest, sizeof(dest));
    for (int f = 0; f < 7; f++)
        rec_put_str(&w, "", 1);
    rec_put_u64(&w, 0);
    assert_false(w.bad);
    rec_link l;
    assert_int_equal(rec_link_decode(buf, w.len, &l), -1);
}

static void test_decode_refuses_embedded_nul(void **state)
{
    (void)state;
    uint8_t buf[REC_MAX_BYTES];
    rec_link l, d;
    max_link(&l);
    size_t n = rec_link_encode(&l, buf, sizeof(buf));
    assert_int_equal(rec_link_decode(buf, n, &d), 0);
    /* A NUL as the first, a middle and the last byte of the slug. */
    const size_t at[] = {3, 30, 3 + 63};
    for (size_t i = 0; i < 3; i++) {
        uint8_t save = buf[at[i]];
        buf[at[i]] = 0;
        assert_int_equal(rec_link_decode(buf, n, &d), -1);
        buf[at[i]] = save;
    }
    /* And in the click's language, its last field. */
    rec_click k, dk;
    max_click(&k, 4);
    n = rec_click_encode(&k, buf, sizeof(buf));
    buf[n - 1] = 0;
    assert_int_equal(rec_click_decode(k.id, 16, buf, n, &dk), -1);
    buf[n - 1] = 'x';
    assert_int_equal(rec_click_decode(k.id, 16, buf, n, &dk), 0);
    assert_int_equal(dk.lang[34], 'x');
}

static void test_click_decode_refuses_device_family_key(void **state)
{
    (void)state;
    uint8_t buf[REC_MAX_BYTES];
    rec_click k, d;
    max_click(&k, 6);
    size_t n = rec_click_encode(&k, buf, sizeof(buf));
    size_t fam = click_off_family(&k);
    size_t dev = fam + 1 + 16;
    assert_int_equal(buf[fam], 6);
    assert_int_equal(buf[dev], REC_DEVICE_TABLET);
    assert_int_equal(buf[dev + 1], REC_CLICK_UNIQUE | REC_CLICK_HEAD);
    buf[dev] = REC_DEVICE_BOT;
    assert_int_equal(rec_click_decode(k.id, 16, buf, n, &d), 0);
    assert_int_equal(d.device, REC_DEVICE_BOT);
    for (int v = REC_DEVICE_BOT + 1; v < 256; v++) {
        buf[dev] = (uint8_t)v;
        assert_int_equal(rec_click_decode(k.id, 16, buf, n, &d), -1);
    }
    buf[dev] = REC_DEVICE_TABLET;
    for (int v = 0; v < 256; v++) {
        if (v == 6)
            continue;
        buf[fam] = (uint8_t)v;
        /* 0 and 4 read fewer address bytes and leave bytes over; the rest are unknown. */
        assert_int_equal(rec_click_decode(k.id, 16, buf, n, &d), -1);
    }
    buf[fam] = 6;
    assert_int_equal(rec_click_decode(k.id, 16, buf, n, &d), 0);
    click_equal(&k, &d);
    /* The key must be exactly 16 bytes. */
    assert_int_equal(rec_click_decode(k.id, 15, buf, n, &d), -1);
    assert_int_equal(rec_click_decode(k.id, 0, buf, n, &d), -1);
    uint8_t key17[17] = {0};
    assert_int_equal(rec_click_decode(key17, 17, buf, n, &d), -1);
}

/* A device above bot that the encoder let through never comes back out. */
static void test_click_device_out_of_range_not_decodable(void **state)
{
    (void)state;
    uint8_t buf[REC_MAX_BYTES];
    rec_click k, d;
    max_click(&k, 0);
    k.device = REC_DEVICE_BOT + 1;
    size_t n = rec_click_encode(&k, buf, sizeof(buf));
    assert_true(n == 0 || rec_click_decode(k.id, 16, buf, n, &d) == -1);
}

static void test_device_names(void **state)
{
    (void)state;
    assert_string_equal(rec_device_name(REC_DEVICE_UNKNOWN), "");
    assert_string_equal(rec_device_name(REC_DEVICE_DESKTOP), "desktop");
    assert_string_equal(rec_device_name(REC_DEVICE_MOBILE), "mobile");
    assert_string_equal(rec_device_name(REC_DEVICE_TABLET), "tablet");
    assert_string_equal(rec_device_name(REC_DEVICE_BOT), "bot");
    assert_string_equal(rec_device_name(5), "");
    assert_string_equal(rec_device_name(255), "");
}

/* The cursor primitives: big-endian, and sticky on overrun. */
static void test_cursor(void **state)
{
    (void)state;
    uint8_t buf[16];
    rec_writer w = {buf, 0, sizeof(buf), false};
    rec_put_u32(&w, 0x01020304u);
    rec_put_u64(&w, 0x05060708090a0b0cULL);
    rec_put_u8(&w, 0x0d);
    assert_false(w.bad);
    assert_int_equal(w.len, 13);
    const uint8_t want[13] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
    assert_memory_equal(buf, want, 13);
    rec_put_u32(&w, 0); /* 4 > 3 left */
    assert_true(w.bad);
    assert_int_equal(w.len, 13);
    rec_put_u8(&w, 0); /* sticky even though it would fit */
    assert_int_equal(w.len, 13);

    rec_reader r = {buf, 13, 0, false};
    assert_int_equal(rec_get_u32(&r), 0x01020304u);
    assert_true(rec_get_u64(&r) == 0x05060708090a0b0cULL);
    assert_int_equal(rec_get_u8(&r), 13);
    assert_false(r.bad);
    assert_int_equal(rec_get_u8(&r), 0);
    assert_true(r.bad);
    char s[4] = "zzz";
    rec_get_str(&r, s, sizeof(s));
    assert_string_equal(s, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_influencer_round_trip),
        cmocka_unit_test(test_campaign_round_trip),
        cmocka_unit_test(test_link_round_trip),
        cmocka_unit_test(test_click_round_trip_every_family),
        cmocka_unit_test(test_click_ipv4_stores_four_bytes),
        cmocka_unit_test(test_encode_refuses_overlong_strings),
        cmocka_unit_test(test_encode_refuses_bad_ip_family),
        cmocka_unit_test(test_encode_refuses_small_buffer),
        cmocka_unit_test(test_decode_refuses_truncation_trailing_version),
        cmocka_unit_test(test_decode_refuses_bad_lengths),
        cmocka_unit_test(test_decode_refuses_string_longer_than_field),
        cmocka_unit_test(test_decode_refuses_embedded_nul),
        cmocka_unit_test(test_click_decode_refuses_device_family_key),
        cmocka_unit_test(test_click_device_out_of_range_not_decodable),
        cmocka_unit_test(test_device_names),
        cmocka_unit_test(test_cursor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
