/* ua: sorts a click's User-Agent into desktop, mobile, tablet or bot.
 *
 * The class is all jejak keeps of the User-Agent: enough for the device split of a report
 * and to keep link-preview fetchers (WhatsApp, Slack, Facebook...) and crawlers out of the
 * click counts, without storing a fingerprint. In-app browsers (Instagram, TikTok, Facebook)
 * are people and are classified by platform. Modern iPadOS Safari sends a Mac desktop
 * User-Agent and counts as desktop.
 *
 * Memory: nothing allocates; only the first UA_SCAN_MAX bytes of the User-Agent are read.
 */
#ifndef JEJAK_TRACKER_UA_H
#define JEJAK_TRACKER_UA_H

enum { UA_SCAN_MAX = 512 };

typedef enum { UA_DESKTOP = 0, UA_MOBILE = 1, UA_TABLET = 2, UA_BOT = 3 } ua_class;

/* Class of a User-Agent header value; NULL or "" is UA_BOT (browsers always send one). */
ua_class ua_classify(const char *ua);

/* "desktop", "mobile", "tablet" or "bot" ("unknown" for a value outside the enum).
 * A static string: never freed or modified. */
const char *ua_class_name(ua_class c);

#endif
