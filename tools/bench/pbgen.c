/*
 * pbgen.c: signed postbacks for tools/bench-postback.sh. wrk's Lua has no HMAC, and a
 * SHA-256 written in Lua would make the load generator the bottleneck, so the bodies are
 * signed here, with the same code the daemon verifies with (pb_hmac_hex), and wrk replays
 * them: one distinct order per request, so every accepted request is a new conversion.
 *
 * usage: jejak-pbgen SHOP SECRET COUNT CLICK_ID_FILE > postbacks.txt
 * Output: one line per postback: "<X-Jejak-Signature value>\t<JSON body>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tracker/postback.h"

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: jejak-pbgen SHOP SECRET COUNT CLICK_ID_FILE\n");
        return 2;
    }
    const char *shop = argv[1], *secret = argv[2];
    long count = atol(argv[3]);
    FILE *f = fopen(argv[4], "r");
    if (!f) {
        perror(argv[4]);
        return 1;
    }
    char(*ids)[32] = calloc(100000, sizeof(*ids));
    size_t nids = 0;
    while (ids && nids < 100000 && fgets(ids[nids], sizeof(ids[nids]), f)) {
        ids[nids][strcspn(ids[nids], "\r\n")] = '\0';
        if (ids[nids][0])
            nids++;
    }
    fclose(f);
    if (!nids) {
        fprintf(stderr, "jejak-pbgen: no click ids\n");
        return 1;
    }
    long t = (long)time(NULL);
    char body[512], msg[600], mac[65];
    for (long i = 0; i < count; i++) {
        int n = snprintf(body, sizeof(body),
                         "{\"shop\":\"%s\",\"click_id\":\"%s\",\"order_id\":\"bench-%ld-%ld\","
                         "\"event\":\"purchase\",\"amount\":\"%ld.%02ld\",\"currency\":\"IDR\"}",
                         shop, ids[i % nids], t, i, 10000 + i % 90000, i % 100);
        int m = snprintf(msg, sizeof(msg), "%ld.%s", t, body);
        pb_hmac_hex(secret, strlen(secret), msg, (size_t)m, mac);
        printf("t=%ld,v1=%s\t%.*s\n", t, mac, n, body);
    }
    free(ids);
    return 0;
}
