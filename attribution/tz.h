/*
 * tz.h: the marketer's time zone: which local day a UTC instant falls on, and when a local
 * day starts in UTC, for any IANA zone (Asia/Jakarta, America/New_York, ...), DST included.
 *
 * Reads the system's zone database (the TZif files under /usr/share/zoneinfo) itself, once
 * per zone, and never touches the process environment (TZ) nor libc's time state: callers
 * on any thread may use it at once; a lookup of a zone already read takes no lock. Zone
 * names with "..", a leading "/" or characters outside [A-Za-z0-9/_+-] are refused by
 * tz_valid and read as UTC by the others, as is a zone whose file cannot be read.
 */
#ifndef JEJAK_TZ_H
#define JEJAK_TZ_H

#include <stdbool.h>
#include <stdint.h>

/* True if zone names a zone in the system database ("UTC" always). */
bool tz_valid(const char *zone);
/* Days since 1970-01-01 of the local date at utc_ms. */
int64_t tz_local_day(const char *zone, int64_t utc_ms);
/* UTC ms at which local day `days` (since 1970-01-01) begins. */
int64_t tz_day_start(const char *zone, int64_t days);
/* The local day holding utc_ms (as tz_local_day), and the UTC ms at which it starts and the
 * next one starts: [*start_ms, *end_ms) is the day, so a caller may keep it and ask again only
 * for an instant outside it. */
int64_t tz_day_bounds(const char *zone, int64_t utc_ms, int64_t *start_ms, int64_t *end_ms);
/* Seconds east of UTC in force at utc_ms. */
int32_t tz_offset(const char *zone, int64_t utc_ms);
/* The same for n consecutive days from first_day, into out[n] (one zone switch for all). */
void tz_day_starts(const char *zone, int64_t first_day, int n, int64_t *out);

#endif
