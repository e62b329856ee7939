/*
 * tz.h: the marketer's time zone: which local day a UTC instant falls on, and when a local
 * day starts in UTC, for any IANA zone (Asia/Jakarta, America/New_York, ...), DST included.
 *
 * Uses the C library's zone database through TZ; the process-wide TZ is swapped under a
 * lock and restored, so callers on any thread may use it.
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
/* The same for n consecutive days from first_day, into out[n] (one zone switch for all). */
void tz_day_starts(const char *zone, int64_t first_day, int n, int64_t *out);

#endif
