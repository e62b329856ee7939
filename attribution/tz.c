/*
 * tz.c: local days in IANA zones (see tz.h).
 */
#include "attribution/tz.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "storage/text.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

bool tz_valid(const char *zone)
{
    if (!strcmp(zone, "UTC"))
        return true;
    if (!*zone || strlen(zone) > 64 || zone[0] == '/' || strstr(zone, ".."))
        return false;
    for (const char *p = zone; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '/' || *p == '_' || *p == '-' || *p == '+'))
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

/* Runs with TZ=zone; restores the previous TZ. Caller holds `lock`. */
static char *enter(const char *zone)
{
    const char *old = getenv("TZ");
    char *saved = old ? strdup(old) : NULL;
    setenv("TZ", zone, 1);
    tzset();
    return saved;
}

static void leave(char *saved)
{
    if (saved)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved);
}

int64_t tz_local_day(const char *zone, int64_t utc_ms)
{
    int64_t s = utc_ms >= 0 ? utc_ms / 1000 : -((-utc_ms + 999) / 1000);
    if (!strcmp(zone, "UTC"))
        return s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
    time_t t = (time_t)s;
    struct tm tm;
    pthread_mutex_lock(&lock);
    char *saved = enter(zone);
    localtime_r(&t, &tm);
    leave(saved);
    pthread_mutex_unlock(&lock);
    return text_days_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday);
}

static int64_t local_midnight(int64_t days)
{
    int64_t y;
    unsigned m, d;
    text_civil_from_days(days, &y, &m, &d);
    struct tm tm = {
        .tm_year = (int)y - 1900, .tm_mon = (int)m - 1, .tm_mday = (int)d, .tm_isdst = -1};
    return (int64_t)mktime(&tm) * 1000;
}

void tz_day_starts(const char *zone, int64_t first_day, int n, int64_t *out)
{
    if (!strcmp(zone, "UTC")) {
        for (int i = 0; i < n; i++)
            out[i] = (first_day + i) * 86400000;
        return;
    }
    pthread_mutex_lock(&lock);
    char *saved = enter(zone);
    for (int i = 0; i < n; i++)
        out[i] = local_midnight(first_day + i);
    leave(saved);
    pthread_mutex_unlock(&lock);
}

int64_t tz_day_start(const char *zone, int64_t days)
{
    int64_t out;
    tz_day_starts(zone, days, 1, &out);
    return out;
}
