/*
 * tz.c: local days in IANA zones (see tz.h), read from the TZif files of the system's zone
 * database (RFC 8536) without touching the process environment.
 *
 * A zone is parsed once, on first use: the 64-bit section of a version 2+ file (the 32-bit
 * one of a version 1 file), that is its transitions and their local time types, and the
 * POSIX TZ string of its footer, which gives the offset for instants after the last
 * transition (Mm.w.d, Jn and n rules; Debian's files list transitions up to 2037 only).
 *
 * Invariants:
 *   1. A parsed zone is never changed nor freed while the process runs: lookups read it
 *      without a lock.
 *   2. The table of parsed zones only grows; a slot is filled before the count that
 *      publishes it is stored (release), and read after the count is loaded (acquire).
 *      Adding takes a mutex; finding takes none.
 *   3. A zone that cannot be read (gone from the system since tz_valid said yes) is UTC,
 *      and is not kept. Past MAX_ZONES zones, a zone is parsed for each call (slower,
 *      still right).
 */
#include "attribution/tz.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/key.h"
#include "storage/text.h"

enum { NAME_MAX_LEN = 64, MAX_ZONES = 128, MAX_TYPES = 256, FILE_MAX = 1 << 20 };

/* One DST rule of a POSIX TZ string: when, in the local time then in force, DST starts or
 * ends. */
typedef struct {
    char kind;      /* 'J' (1..365, no Feb 29), 'D' (0..365), 'M' (month, week, weekday) */
    int day;        /* J and D: the day; M: the weekday, 0 = Sunday */
    int month;      /* M only */
    int week;       /* M only: 1..5, 5 = last */
    int32_t time_s; /* local seconds after midnight, -167 h .. 167 h */
} tz_rule;

typedef struct {
    int64_t *at;   /* transitions, UTC seconds, increasing */
    uint8_t *type; /* at[i]'s local time type */
    size_t nat;
    int32_t utoff[MAX_TYPES];
    size_t ntypes;
    bool has_footer;
    int32_t std_off, dst_off; /* seconds east of UTC */
    bool has_dst;
    tz_rule start, end;
} tz_zone;

typedef struct {
    char name[NAME_MAX_LEN + 1];
    const tz_zone *z;
} zone_slot;

static zone_slot table[MAX_ZONES];
static atomic_size_t nzones;
static pthread_mutex_t add_lock = PTHREAD_MUTEX_INITIALIZER;

static const tz_zone utc_zone = {.has_footer = true};

static bool name_ok(const char *zone)
{
    if (!*zone || strlen(zone) > NAME_MAX_LEN || zone[0] == '/' || strstr(zone, ".."))
        return false;
    for (const char *p = zone; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '/' || *p == '_' || *p == '-' || *p == '+'))
            return false;
    return true;
}

/* ---- the POSIX TZ string ------------------------------------------------------------- */

static bool parse_num(const char **s, int lo, int hi, int *out)
{
    const char *p = *s;
    int v = 0;
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9' && v <= hi)
        v = v * 10 + (*p++ - '0');
    if (v < lo || v > hi)
        return false;
    *s = p;
    *out = v;
    return true;
}

/* [+-]hh[:mm[:ss]] into seconds. */
static bool parse_hms(const char **s, int max_h, int32_t *out)
{
    int sign = 1, h, m = 0, sec = 0;
    if (**s == '+' || **s == '-')
        sign = *(*s)++ == '-' ? -1 : 1;
    if (!parse_num(s, 0, max_h, &h))
        return false;
    if (**s == ':') {
        (*s)++;
        if (!parse_num(s, 0, 59, &m))
            return false;
        if (**s == ':') {
            (*s)++;
            if (!parse_num(s, 0, 59, &sec))
                return false;
        }
    }
    *out = sign * (h * 3600 + m * 60 + sec);
    return true;
}

static bool parse_name(const char **s)
{
    const char *p = *s;
    if (*p == '<') {
        while (*p && *p != '>')
            p++;
        if (*p != '>')
            return false;
        p++;
    } else {
        while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
            p++;
    }
    if (p - *s < 3)
        return false;
    *s = p;
    return true;
}

static bool parse_rule(const char **s, tz_rule *r)
{
    const char *p = *s;
    if (*p == 'J') {
        p++;
        r->kind = 'J';
        if (!parse_num(&p, 1, 365, &r->day))
            return false;
    } else if (*p == 'M') {
        p++;
        r->kind = 'M';
        if (!parse_num(&p, 1, 12, &r->month) || *p++ != '.' || !parse_num(&p, 1, 5, &r->week) ||
            *p++ != '.' || !parse_num(&p, 0, 6, &r->day))
            return false;
    } else {
        r->kind = 'D';
        if (!parse_num(&p, 0, 365, &r->day))
            return false;
    }
    r->time_s = 2 * 3600;
    if (*p == '/') {
        p++;
        if (!parse_hms(&p, 167, &r->time_s))
            return false;
    }
    *s = p;
    return true;
}

/* "std offset [dst [offset] [,start[/time],end[/time]]]"; POSIX offsets are west of UTC. */
static bool parse_footer(const char *s, tz_zone *z)
{
    int32_t off;
    if (!parse_name(&s) || !parse_hms(&s, 24, &off))
        return false;
    z->std_off = -off;
    z->has_dst = false;
    if (*s) {
        if (!parse_name(&s))
            return false;
        z->dst_off = z->std_off + 3600;
        if (*s && *s != ',') {
            if (!parse_hms(&s, 24, &off))
                return false;
            z->dst_off = -off;
        }
        /* No rule: POSIX leaves it to the implementation; the US rule is the usual one. */
        z->start = (tz_rule){'M', 0, 3, 2, 7200};
        z->end = (tz_rule){'M', 0, 11, 1, 7200};
        if (*s == ',') {
            s++;
            if (!parse_rule(&s, &z->start) || *s++ != ',' || !parse_rule(&s, &z->end))
                return false;
        }
        z->has_dst = true;
    }
    return *s == 0;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The day (since 1970-01-01) of rule r in year y. */
static int64_t rule_day(const tz_rule *r, int64_t y)
{
    int64_t jan1 = text_days_from_civil(y, 1, 1);
    if (r->kind == 'J')
        return jan1 + r->day - 1 + (is_leap(y) && r->day >= 60);
    if (r->kind == 'D')
        return jan1 + r->day;
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int len = mdays[r->month - 1] + (r->month == 2 && is_leap(y));
    int64_t first = text_days_from_civil(y, (unsigned)r->month, 1);
    int dow = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
    int d = 1 + (r->day - dow + 7) % 7 + (r->week - 1) * 7;
    while (d > len)
        d -= 7;
    return first + d - 1;
}

/* The UTC instants at which DST starts and ends in year y. */
static void dst_bounds(const tz_zone *z, int64_t y, int64_t *start, int64_t *end)
{
    *start = rule_day(&z->start, y) * 86400 + z->start.time_s - z->std_off;
    *end = rule_day(&z->end, y) * 86400 + z->end.time_s - z->dst_off;
}

static int64_t year_of(int64_t t)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400), y;
    unsigned m, d;
    text_civil_from_days(days, &y, &m, &d);
    return y;
}

static bool footer_dst(const tz_zone *z, int64_t t)
{
    if (!z->has_dst)
        return false;
    int64_t s, e;
    dst_bounds(z, year_of(t + z->std_off), &s, &e);
    if (s < e) /* DST inside the year (the north) */
        return t >= s && t < e;
    return !(t >= e && t < s); /* DST across the new year (the south) */
}

/* ---- the TZif file ------------------------------------------------------------------- */

/* A TZif integer: n = 4 (signed 32-bit) or 8. */
static int64_t be(const uint8_t *p, int n)
{
    return n == 4 ? (int32_t)key_get_u32(p) : (int64_t)key_get_u64(p);
}

static void zone_free(tz_zone *z)
{
    if (!z)
        return;
    free(z->at);
    free(z->type);
    free(z);
}

/* Parses a TZif file held in buf. NULL if it is not one. */
static tz_zone *parse_tzif(const uint8_t *buf, size_t len)
{
    tz_zone *z = calloc(1, sizeof(*z));
    if (!z || len < 44 || memcmp(buf, "TZif", 4))
        goto fail;
    const uint8_t *p = buf, *end = buf + len;
    int tsize = 4;
    for (int pass = 0; pass < 2; pass++) {
        if (end - p < 44 || memcmp(p, "TZif", 4))
            goto fail;
        char version = (char)p[4];
        size_t isut = (size_t)be(p + 20, 4), isstd = (size_t)be(p + 24, 4),
               leap = (size_t)be(p + 28, 4), timecnt = (size_t)be(p + 32, 4),
               typecnt = (size_t)be(p + 36, 4), charcnt = (size_t)be(p + 40, 4);
        if (typecnt == 0 || typecnt > MAX_TYPES || timecnt > 100000 || leap > 10000 ||
            charcnt > 10000 || isut > typecnt || isstd > typecnt)
            goto fail;
        p += 44;
        size_t body = timecnt * (size_t)tsize + timecnt + typecnt * 6 + charcnt +
                      leap * (size_t)(tsize + 4) + isstd + isut;
        if ((size_t)(end - p) < body)
            goto fail;
        if (pass == 0 && version >= '2') { /* skip the 32-bit section */
            p += body;
            tsize = 8;
            continue;
        }
        z->at = malloc((timecnt ? timecnt : 1) * sizeof(*z->at));
        z->type = malloc(timecnt ? timecnt : 1);
        if (!z->at || !z->type)
            goto fail;
        z->nat = timecnt;
        for (size_t i = 0; i < timecnt; i++)
            z->at[i] = be(p + i * (size_t)tsize, tsize);
        const uint8_t *idx = p + timecnt * (size_t)tsize;
        for (size_t i = 0; i < timecnt; i++) {
            if (idx[i] >= typecnt || (i && z->at[i] <= z->at[i - 1]))
                goto fail;
            z->type[i] = idx[i];
        }
        const uint8_t *ty = idx + timecnt;
        z->ntypes = typecnt;
        for (size_t i = 0; i < typecnt; i++)
            z->utoff[i] = (int32_t)be(ty + i * 6, 4);
        p += body;
        if (tsize == 8) { /* the footer: "\n" TZ string "\n" */
            if (p < end && *p == '\n') {
                const uint8_t *nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
                char tzs[128];
                size_t n = nl ? (size_t)(nl - p - 1) : 0;
                if (nl && n > 0 && n < sizeof(tzs)) {
                    memcpy(tzs, p + 1, n);
                    tzs[n] = 0;
                    z->has_footer = parse_footer(tzs, z);
                }
            }
        }
        break;
    }
    return z;
fail:
    zone_free(z);
    return NULL;
}

static tz_zone *load_zone(const char *name)
{
    char path[128];
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc(FILE_MAX);
    size_t n = buf ? fread(buf, 1, FILE_MAX, f) : 0;
    fclose(f);
    tz_zone *z = buf && n < FILE_MAX ? parse_tzif(buf, n) : NULL;
    free(buf);
    return z;
}

/* The parsed zone for name, parsing it on first use (invariants 1-3). With the table full
 * (more than MAX_ZONES zones in use: names like posix/Asia/Jakarta count apart), the zone
 * is parsed for this call only, into *tmp, which the caller frees (zone_free). A zone that
 * does not load is UTC and is not kept, so that made-up names cannot fill the table. */
static const tz_zone *find(const char *name, tz_zone **tmp)
{
    *tmp = NULL;
    if (!strcmp(name, "UTC") || !name_ok(name))
        return &utc_zone;
    size_t n = atomic_load_explicit(&nzones, memory_order_acquire);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(table[i].name, name))
            return table[i].z;
    pthread_mutex_lock(&add_lock);
    const tz_zone *z = NULL;
    n = atomic_load_explicit(&nzones, memory_order_relaxed);
    for (size_t i = 0; i < n && !z; i++)
        if (!strcmp(table[i].name, name))
            z = table[i].z;
    if (!z) {
        tz_zone *parsed = load_zone(name);
        if (parsed && n < MAX_ZONES) {
            snprintf(table[n].name, sizeof(table[n].name), "%s", name);
            table[n].z = parsed;
            atomic_store_explicit(&nzones, n + 1, memory_order_release);
        } else {
            *tmp = parsed;
        }
        z = parsed;
    }
    pthread_mutex_unlock(&add_lock);
    return z ? z : &utc_zone;
}

/* ---- offsets ------------------------------------------------------------------------- */

/* Seconds east of UTC at UTC second t; *next: the next instant the offset may change. */
static int32_t offset_at(const tz_zone *z, int64_t t, int64_t *next)
{
    *next = INT64_MAX;
    if (z->nat == 0 || t >= z->at[z->nat - 1]) {
        if (!z->has_footer)
            return z->nat ? z->utoff[z->type[z->nat - 1]] : z->utoff[0];
        if (!z->has_dst)
            return z->std_off;
        int64_t y = year_of(t + z->std_off), best = INT64_MAX;
        for (int64_t yy = y - 1; yy <= y + 1; yy++) {
            int64_t s, e;
            dst_bounds(z, yy, &s, &e);
            if (s > t && s < best)
                best = s;
            if (e > t && e < best)
                best = e;
        }
        *next = best;
        return footer_dst(z, t) ? z->dst_off : z->std_off;
    }
    if (t < z->at[0]) {
        *next = z->at[0];
        return z->utoff[0]; /* RFC 8536: type 0 before the first transition */
    }
    size_t lo = 0, hi = z->nat - 1; /* at[lo] <= t < at[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->at[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    *next = z->at[hi];
    return z->utoff[z->type[lo]];
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* The first UTC second whose local time is at or after local second L: the pieces of
 * constant offset within 30 hours either side, in order; the first that reaches L. */
static int64_t first_at_or_after(const tz_zone *z, int64_t L)
{
    int64_t u = L - 30 * 3600;
    while (u < L + 30 * 3600) {
        int64_t next;
        int32_t off = offset_at(z, u, &next);
        int64_t cand = L - off > u ? L - off : u;
        if (cand < next)
            return cand;
        u = next;
    }
    return L; /* offsets beyond ±30 h do not exist */
}

/* ---- the API ------------------------------------------------------------------------- */

bool tz_valid(const char *zone)
{
    if (!strcmp(zone, "UTC"))
        return true;
    if (!name_ok(zone))
        return false;
    /* A zone is a TZif file: not a folder ("America") nor another data file. */
    char path[128], magic[4];
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    bool ok = fread(magic, 1, 4, f) == 4 && !memcmp(magic, "TZif", 4);
    fclose(f);
    return ok;
}

int32_t tz_offset(const char *zone, int64_t utc_ms)
{
    tz_zone *tmp;
    int64_t next;
    int32_t off = offset_at(find(zone, &tmp), floor_div(utc_ms, 1000), &next);
    zone_free(tmp);
    return off;
}

int64_t tz_local_day(const char *zone, int64_t utc_ms)
{
    tz_zone *tmp;
    int64_t s = floor_div(utc_ms, 1000), next;
    int64_t day = floor_div(s + offset_at(find(zone, &tmp), s, &next), 86400);
    zone_free(tmp);
    return day;
}

void tz_day_starts(const char *zone, int64_t first_day, int n, int64_t *out)
{
    tz_zone *tmp;
    const tz_zone *z = find(zone, &tmp);
    for (int i = 0; i < n; i++)
        out[i] = first_at_or_after(z, (first_day + i) * 86400) * 1000;
    zone_free(tmp);
}

int64_t tz_day_start(const char *zone, int64_t days)
{
    int64_t out;
    tz_day_starts(zone, days, 1, &out);
    return out;
}

int64_t tz_day_bounds(const char *zone, int64_t utc_ms, int64_t *start_ms, int64_t *end_ms)
{
    tz_zone *tmp;
    const tz_zone *z = find(zone, &tmp);
    int64_t s = floor_div(utc_ms, 1000), next;
    int64_t day = floor_div(s + offset_at(z, s, &next), 86400);
    *start_ms = first_at_or_after(z, day * 86400) * 1000;
    *end_ms = first_at_or_after(z, (day + 1) * 86400) * 1000;
    zone_free(tmp);
    return day;
}
