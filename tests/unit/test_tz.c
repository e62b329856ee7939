/*
 * test_tz.c: local days in IANA zones (attribution/tz.c): which zone names are accepted,
 * which local day an instant falls on and when a local day starts, across the DST changes
 * of America/New_York, in the quarter-hour zones Asia/Kathmandu (+05:45) and
 * Pacific/Chatham (+12:45 / +13:45 in summer), the same as the C library's localtime_r for
 * many instants in zones with every kind of rule (the test sets TZ for libc; tz.c must
 * never), and that the process's TZ is left as found, not even rewritten.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attribution/tz.h"
#include "storage/text.h"

#include <dlfcn.h>
#include <pthread.h>

/* Wrappers around the C library's setenv, unsetenv and tzset, linked into this test in
 * front of libc's, so that the test sees whether tz.c calls them. */
static bool env_armed;
static int env_calls;

int setenv(const char *name, const char *value, int overwrite)
{
    int (*real)(const char *, const char *, int);
    *(void **)&real = dlsym(RTLD_NEXT, "setenv");
    env_calls += env_armed;
    return real(name, value, overwrite);
}

int unsetenv(const char *name)
{
    int (*real)(const char *);
    *(void **)&real = dlsym(RTLD_NEXT, "unsetenv");
    env_calls += env_armed;
    return real(name);
}

void tzset(void)
{
    void (*real)(void);
    *(void **)&real = dlsym(RTLD_NEXT, "tzset");
    env_calls += env_armed;
    real();
}

enum { MIN = 60000, HOUR = 3600000, DAY = 86400000 };

static int64_t day_of(int y, unsigned m, unsigned d)
{
    return text_days_from_civil(y, m, d);
}

/* UTC ms of a civil time given in UTC. */
static int64_t utc(int y, unsigned m, unsigned d, int h, int mi)
{
    return day_of(y, m, d) * DAY + (int64_t)h * HOUR + (int64_t)mi * MIN;
}

static void is_time(int64_t got, int64_t want)
{
    if (got != want) {
        char g[32], w[32];
        text_format_time(got, g, sizeof(g));
        text_format_time(want, w, sizeof(w));
        fail_msg("got %s (%lld), want %s (%lld)", g, (long long)got, w, (long long)want);
    }
}

/* ---- tz_valid ------------------------------------------------------------------------- */

static void test_valid_zones(void **state)
{
    (void)state;
    assert_true(tz_valid("UTC"));
    assert_true(tz_valid("Asia/Jakarta"));
    assert_true(tz_valid("America/New_York"));
    assert_true(tz_valid("Asia/Kathmandu"));
    assert_true(tz_valid("Pacific/Chatham"));
    assert_true(tz_valid("America/Argentina/Buenos_Aires"));
}

static void test_invalid_zones(void **state)
{
    (void)state;
    assert_false(tz_valid(""));
    assert_false(tz_valid("../etc/passwd"));
    assert_false(tz_valid("Asia/../../etc/passwd"));
    assert_false(tz_valid("/etc/passwd"));
    assert_false(tz_valid("Mars/Olympus"));
    assert_false(tz_valid("Asia/Jakarta "));
    assert_false(tz_valid("Asia/Jakarta\n"));
    assert_false(tz_valid("Asia\\Jakarta"));
    assert_false(tz_valid("asia/nowhere"));
    assert_false(tz_valid("zone.tab"));
    char longname[200];
    memset(longname, 'A', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_false(tz_valid(longname));
}

/* A folder of the zone database (or one of its data files) is not a zone: glibc would treat
 * TZ=America as an unparsable POSIX string and silently use UTC. */
static void test_folder_is_not_a_zone(void **state)
{
    (void)state;
    assert_false(tz_valid("America"));
    assert_false(tz_valid("Asia"));
    assert_false(tz_valid("leapseconds"));
}

/* ---- UTC and fixed offsets ------------------------------------------------------------- */

static void test_utc(void **state)
{
    (void)state;
    int64_t d = day_of(2026, 11, 20);
    assert_int_equal(tz_local_day("UTC", utc(2026, 11, 20, 0, 0)), d);
    assert_int_equal(tz_local_day("UTC", utc(2026, 11, 20, 23, 59) + 59999), d);
    assert_int_equal(tz_local_day("UTC", utc(2026, 11, 21, 0, 0)), d + 1);
    assert_int_equal(tz_local_day("UTC", 0), 0);
    assert_int_equal(tz_local_day("UTC", -1), -1);
    assert_int_equal(tz_local_day("UTC", -DAY), -1);
    assert_int_equal(tz_local_day("UTC", -DAY - 1), -2);
    is_time(tz_day_start("UTC", d), utc(2026, 11, 20, 0, 0));
    /* Etc/UTC goes through the zone database and must agree. */
    assert_int_equal(tz_local_day("Etc/UTC", utc(2026, 11, 20, 23, 59)), d);
    is_time(tz_day_start("Etc/UTC", d), utc(2026, 11, 20, 0, 0));
}

static void test_jakarta(void **state)
{
    (void)state;
    int64_t d20 = day_of(2026, 11, 20);
    /* +07:00: 18:30Z on the 20th is 01:30 on the 21st. */
    assert_int_equal(tz_local_day("Asia/Jakarta", utc(2026, 11, 20, 18, 30)), d20 + 1);
    assert_int_equal(tz_local_day("Asia/Jakarta", utc(2026, 11, 20, 16, 59)), d20);
    assert_int_equal(tz_local_day("Asia/Jakarta", utc(2026, 11, 20, 17, 0)), d20 + 1);
    assert_int_equal(tz_local_day("Asia/Jakarta", utc(2026, 11, 20, 17, 0) - 1), d20);
    is_time(tz_day_start("Asia/Jakarta", d20), utc(2026, 11, 19, 17, 0));
}

static void test_kathmandu(void **state)
{
    (void)state;
    int64_t d = day_of(2026, 11, 20);
    /* +05:45 all year: the 20th starts at 18:15Z on the 19th. */
    is_time(tz_day_start("Asia/Kathmandu", d), utc(2026, 11, 19, 18, 15));
    is_time(tz_day_start("Asia/Kathmandu", day_of(2026, 6, 1)), utc(2026, 5, 31, 18, 15));
    assert_int_equal(tz_local_day("Asia/Kathmandu", utc(2026, 11, 19, 18, 15)), d);
    assert_int_equal(tz_local_day("Asia/Kathmandu", utc(2026, 11, 19, 18, 15) - 1), d - 1);
    assert_int_equal(tz_local_day("Asia/Kathmandu", utc(2026, 11, 20, 18, 14)), d);
    assert_int_equal(tz_local_day("Asia/Kathmandu", utc(2026, 11, 20, 18, 15)), d + 1);
}

static void test_chatham(void **state)
{
    (void)state;
    /* Southern summer (+13:45): 2026-01-15 starts at 10:15Z on the 14th. */
    int64_t jan = day_of(2026, 1, 15);
    is_time(tz_day_start("Pacific/Chatham", jan), utc(2026, 1, 14, 10, 15));
    assert_int_equal(tz_local_day("Pacific/Chatham", utc(2026, 1, 14, 10, 15)), jan);
    assert_int_equal(tz_local_day("Pacific/Chatham", utc(2026, 1, 14, 10, 15) - 1), jan - 1);
    /* Winter (+12:45): 2026-06-15 starts at 11:15Z on the 14th. */
    int64_t jun = day_of(2026, 6, 15);
    is_time(tz_day_start("Pacific/Chatham", jun), utc(2026, 6, 14, 11, 15));
    assert_int_equal(tz_local_day("Pacific/Chatham", utc(2026, 6, 14, 11, 15)), jun);
    assert_int_equal(tz_local_day("Pacific/Chatham", utc(2026, 6, 14, 11, 14)), jun - 1);
    /* DST ends 2026-04-05 03:45 local (+13:45 -> +12:45): the 5th began in +13:45, the 6th
     * begins in +12:45. */
    is_time(tz_day_start("Pacific/Chatham", day_of(2026, 4, 5)), utc(2026, 4, 4, 10, 15));
    is_time(tz_day_start("Pacific/Chatham", day_of(2026, 4, 6)), utc(2026, 4, 5, 11, 15));
    /* DST starts 2026-09-27 02:45 local (+12:45 -> +13:45). */
    is_time(tz_day_start("Pacific/Chatham", day_of(2026, 9, 27)), utc(2026, 9, 26, 11, 15));
    is_time(tz_day_start("Pacific/Chatham", day_of(2026, 9, 28)), utc(2026, 9, 27, 10, 15));
}

static void test_new_york_dst(void **state)
{
    (void)state;
    const char *ny = "America/New_York";
    /* Spring forward 2026-03-08 02:00 EST -> 03:00 EDT: the day starts in EST (05:00Z) and
     * is 23 hours long; the next starts in EDT (04:00Z). */
    int64_t mar8 = day_of(2026, 3, 8);
    is_time(tz_day_start(ny, mar8), utc(2026, 3, 8, 5, 0));
    is_time(tz_day_start(ny, mar8 + 1), utc(2026, 3, 9, 4, 0));
    assert_int_equal(tz_day_start(ny, mar8 + 1) - tz_day_start(ny, mar8), 23 * (int64_t)HOUR);
    assert_int_equal(tz_local_day(ny, utc(2026, 3, 8, 5, 0)), mar8);
    assert_int_equal(tz_local_day(ny, utc(2026, 3, 8, 5, 0) - 1), mar8 - 1);
    assert_int_equal(tz_local_day(ny, utc(2026, 3, 9, 4, 0) - 1), mar8);
    assert_int_equal(tz_local_day(ny, utc(2026, 3, 9, 4, 0)), mar8 + 1);
    /* 06:59Z is 01:59 EST, 07:00Z is 03:00 EDT: the same local day either side of the jump. */
    assert_int_equal(tz_local_day(ny, utc(2026, 3, 8, 6, 59)), mar8);
    assert_int_equal(tz_local_day(ny, utc(2026, 3, 8, 7, 0)), mar8);

    /* Fall back 2026-11-01 02:00 EDT -> 01:00 EST: the day starts in EDT (04:00Z) and is 25
     * hours long; the next starts in EST (05:00Z). */
    int64_t nov1 = day_of(2026, 11, 1);
    is_time(tz_day_start(ny, nov1), utc(2026, 11, 1, 4, 0));
    is_time(tz_day_start(ny, nov1 + 1), utc(2026, 11, 2, 5, 0));
    assert_int_equal(tz_day_start(ny, nov1 + 1) - tz_day_start(ny, nov1), 25 * (int64_t)HOUR);
    assert_int_equal(tz_local_day(ny, utc(2026, 11, 1, 4, 0)), nov1);
    assert_int_equal(tz_local_day(ny, utc(2026, 11, 1, 4, 0) - 1), nov1 - 1);
    /* Both 01:30s (05:30Z EDT and 06:30Z EST) are on the 1st. */
    assert_int_equal(tz_local_day(ny, utc(2026, 11, 1, 5, 30)), nov1);
    assert_int_equal(tz_local_day(ny, utc(2026, 11, 1, 6, 30)), nov1);
    assert_int_equal(tz_local_day(ny, utc(2026, 11, 2, 5, 0) - 1), nov1);
    assert_int_equal(tz_local_day(ny, utc(2026, 11, 2, 5, 0)), nov1 + 1);
}

/* tz_day_starts gives what n calls of tz_day_start give, across both DST changes. */
static void test_day_starts_matches_day_start(void **state)
{
    (void)state;
    const char *zones[] = {"UTC", "Asia/Jakarta", "America/New_York", "Asia/Kathmandu",
                           "Pacific/Chatham"};
    int64_t first = day_of(2026, 1, 1);
    enum { N = 366 };
    static int64_t out[N];
    for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
        tz_day_starts(zones[z], first, N, out);
        for (int i = 0; i < N; i++) {
            is_time(out[i], tz_day_start(zones[z], first + i));
            /* Every start is on a quarter hour (rollup buckets rely on it)... */
            assert_int_equal(out[i] % (15 * MIN), 0);
            /* ... and is the first instant of its local day. */
            assert_int_equal(tz_local_day(zones[z], out[i]), first + i);
            assert_int_equal(tz_local_day(zones[z], out[i] - 1), first + i - 1);
        }
    }
}

/* ---- against the C library ------------------------------------------------------------ */

/* Zones with every kind of rule: none (Jakarta, Kathmandu +05:45, Sao Paulo since 2019),
 * northern and southern DST, a 30-minute DST (Lord_Howe), +12:45/+13:45 (Chatham), DST
 * below standard time (Dublin), a DST rule at a negative local time (Nuuk), a 2-hour DST
 * (Troll). */
static const char *const libc_zones[] = {
    "Asia/Jakarta",       "America/New_York", "Europe/London",     "Australia/Lord_Howe",
    "Asia/Kathmandu",     "Pacific/Chatham",  "America/Sao_Paulo", "Europe/Dublin",
    "America/Nuuk",       "Antarctica/Troll", "America/Santiago",  "Asia/Tehran",
    "Australia/Adelaide", "America/St_Johns", "Africa/Casablanca", "Etc/GMT+5",
};

static void libc_local(const char *zone, int64_t s, struct tm *tm)
{
    setenv("TZ", zone, 1); /* the test may; tz.c never does */
    tzset();
    time_t t = (time_t)s;
    localtime_r(&t, tm);
}

static void check_against_libc(const char *zone, int64_t s)
{
    struct tm tm;
    libc_local(zone, s, &tm);
    int64_t want_day =
        text_days_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday);
    int32_t off = tz_offset(zone, s * 1000);
    int64_t day = tz_local_day(zone, s * 1000);
    if (off != tm.tm_gmtoff || day != want_day)
        fail_msg("%s at %lld: offset %d, day %lld; libc: offset %ld, day %lld", zone, (long long)s,
                 (int)off, (long long)day, (long)tm.tm_gmtoff, (long long)want_day);
}

/* Many instants from 1901 to 2200 (past the files' last transition, in 2037: the footer's
 * rule), and every hour around each DST change of 2026 and of 2090. */
static void test_matches_libc(void **state)
{
    (void)state;
    const int64_t from = -2100000000LL, to = 7258118400LL; /* 1903 .. 2200 */
    for (size_t z = 0; z < sizeof(libc_zones) / sizeof(libc_zones[0]); z++) {
        for (int64_t s = from; s < to; s += 3 * 86400 + 3607)
            check_against_libc(libc_zones[z], s);
        for (int year = 2026; year <= 2090; year += 64)
            for (int64_t s = utc(year, 1, 1, 0, 0) / 1000; s < utc(year + 1, 1, 1, 0, 0) / 1000;
                 s += 1800)
                check_against_libc(libc_zones[z], s);
    }
    unsetenv("TZ");
    tzset();
}

/* The first instant of every local day, from 2020 to 2045, is where libc's local date
 * changes. */
static void test_day_start_matches_libc(void **state)
{
    (void)state;
    for (size_t z = 0; z < sizeof(libc_zones) / sizeof(libc_zones[0]); z++) {
        const char *zone = libc_zones[z];
        for (int64_t d = day_of(2020, 1, 1); d < day_of(2045, 1, 1); d += 7) {
            int64_t start = tz_day_start(zone, d);
            struct tm tm;
            libc_local(zone, start / 1000, &tm);
            assert_int_equal(text_days_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
                                                  (unsigned)tm.tm_mday),
                             d);
            libc_local(zone, start / 1000 - 1, &tm);
            assert_int_equal(text_days_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
                                                  (unsigned)tm.tm_mday),
                             d - 1);
            int64_t s, e;
            assert_int_equal(tz_day_bounds(zone, start + 5 * HOUR, &s, &e), d);
            is_time(s, start);
            is_time(e, tz_day_start(zone, d + 1));
        }
    }
    unsetenv("TZ");
    tzset();
}

/* Every zone of zone.tab (418 on Debian 12: more than the table of parsed zones keeps, so
 * the last ones are parsed call by call) agrees with libc at instants from 1970 to 2100. */
static void test_every_zone_matches_libc(void **state)
{
    (void)state;
    FILE *f = fopen("/usr/share/zoneinfo/zone.tab", "r");
    if (!f)
        skip();
    char line[512];
    int zones = 0;
    const int64_t at[] = {
        0, 946684800, 1767225600, 1783036800, 2208988800LL, 2224627200LL, 4102444800LL};
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#')
            continue;
        char *name = strchr(line, '\t');
        name = name ? strchr(name + 1, '\t') : NULL;
        if (!name)
            continue;
        name++;
        name[strcspn(name, "\t\n")] = 0;
        if (!tz_valid(name))
            continue;
        for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
            check_against_libc(name, at[i]);
            check_against_libc(name, at[i] + 86400 * 45);
        }
        zones++;
    }
    fclose(f);
    assert_true(zones > 300);
    unsetenv("TZ");
    tzset();
}

/* A zone that is not one is read as UTC, and never as a path outside the database. */
static void test_bad_names_are_utc(void **state)
{
    (void)state;
    int64_t t = utc(2026, 11, 20, 18, 30);
    assert_int_equal(tz_offset("../../etc/passwd", t), 0);
    assert_int_equal(tz_offset("/etc/localtime", t), 0);
    assert_int_equal(tz_offset("Mars/Olympus", t), 0);
    assert_int_equal(tz_offset("Asia/Jakarta", t), 7 * 3600);
}

/* Threads that read zones at once, most of them for the first time: every answer is the
 * one a single thread gets (the zone table is filled while others read it). */
enum { THREADS = 6, INSTANTS = 2000 };
static const char *const thread_zones[THREADS] = {"Europe/Berlin",   "Asia/Tokyo",
                                                  "America/Chicago", "Africa/Cairo",
                                                  "Asia/Kolkata",    "Pacific/Auckland"};
static int32_t thread_off[THREADS][THREADS][INSTANTS];

static void *read_zones(void *arg)
{
    int me = (int)(intptr_t)arg;
    for (int i = 0; i < INSTANTS; i++)
        for (int z = 0; z < THREADS; z++) {
            int zone = (z + me) % THREADS;
            thread_off[me][zone][i] =
                tz_offset(thread_zones[zone], (int64_t)i * 7 * DAY + (int64_t)me * HOUR);
        }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, read_zones, (void *)(intptr_t)t), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < THREADS; t++)
        for (int z = 0; z < THREADS; z++)
            for (int i = 0; i < INSTANTS; i++)
                assert_int_equal(
                    thread_off[t][z][i],
                    tz_offset(thread_zones[z], (int64_t)i * 7 * DAY + (int64_t)t * HOUR));
    assert_int_equal(tz_offset("Asia/Tokyo", 0), 9 * 3600);
}

/* ---- the process's TZ ------------------------------------------------------------------ */

static void test_env_tz_unchanged(void **state)
{
    (void)state;
    /* Unset before, unset after. */
    unsetenv("TZ");
    tzset();
    (void)tz_local_day("Asia/Jakarta", utc(2026, 11, 20, 18, 30));
    (void)tz_day_start("America/New_York", day_of(2026, 3, 8));
    int64_t out[3];
    tz_day_starts("Pacific/Chatham", day_of(2026, 4, 4), 3, out);
    (void)tz_valid("Asia/Kathmandu");
    assert_null(getenv("TZ"));

    /* Set before: the same value after, and localtime still follows it. */
    setenv("TZ", "Asia/Tokyo", 1);
    tzset();
    (void)tz_local_day("America/New_York", utc(2026, 11, 1, 5, 30));
    (void)tz_day_start("Asia/Kathmandu", day_of(2026, 11, 20));
    tz_day_starts("Asia/Jakarta", day_of(2026, 11, 20), 3, out);
    const char *now = getenv("TZ");
    assert_non_null(now);
    assert_string_equal(now, "Asia/Tokyo");
    time_t t = (time_t)(utc(2026, 11, 20, 15, 0) / 1000); /* 00:00 on the 21st in Tokyo */
    struct tm tm;
    localtime_r(&t, &tm);
    assert_int_equal(tm.tm_mday, 21);
    assert_int_equal(tm.tm_hour, 0);

    /* Not even rewritten with the same value: setenv and tzset race with every other
     * thread's getenv and libc time call (this file wraps them to count the calls). */
    env_calls = 0;
    env_armed = true;
    (void)tz_local_day("Australia/Lord_Howe", utc(2026, 11, 20, 18, 30));
    (void)tz_day_start("America/Sao_Paulo", day_of(2026, 11, 20));
    tz_day_starts("Europe/London", day_of(2026, 3, 28), 3, out);
    int64_t s, e;
    (void)tz_day_bounds("Asia/Kathmandu", utc(2026, 11, 20, 18, 30), &s, &e);
    env_armed = false;
    assert_int_equal(env_calls, 0);

    /* An empty TZ stays empty (not unset). */
    setenv("TZ", "", 1);
    tzset();
    (void)tz_local_day("Asia/Jakarta", 0);
    now = getenv("TZ");
    assert_non_null(now);
    assert_string_equal(now, "");
    unsetenv("TZ");
    tzset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_zones),
        cmocka_unit_test(test_invalid_zones),
        cmocka_unit_test(test_folder_is_not_a_zone),
        cmocka_unit_test(test_utc),
        cmocka_unit_test(test_jakarta),
        cmocka_unit_test(test_kathmandu),
        cmocka_unit_test(test_chatham),
        cmocka_unit_test(test_new_york_dst),
        cmocka_unit_test(test_day_starts_matches_day_start),
        cmocka_unit_test(test_env_tz_unchanged),
        cmocka_unit_test(test_matches_libc),
        cmocka_unit_test(test_day_start_matches_libc),
        cmocka_unit_test(test_bad_names_are_utc),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_every_zone_matches_libc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
