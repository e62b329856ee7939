/*
 * powercut_restore.c: the power cut's second half, for tools/powercut.sh. After the process
 * that ran under libjejak_powercut.so (powercut.c) was killed, puts back in its data folder
 * what a disk would hold: each file's durable image; with --torn SEED, each 4 KiB page that
 * a write never synced touched holds its new content or its durable one, at random (a
 * disk that had written some of its cache before the power went). Without --torn, nothing
 * unsynced landed: the worst case, and the one that makes a missing sync certain to show.
 *
 * usage: jejak-powercut-restore SHADOW DATA [--torn SEED]
 *
 * Before it restores, it checks the shim saw every write: a page of a live file (not mapped
 * writable) that differs from its durable image must lie in a pending write. One that does
 * not was written through a call the shim does not intercept; in an LMDB file (*.mdb) the
 * power cut would then prove nothing, so the restore refuses (exit 3) and names the page;
 * in any other file it warns.
 *
 * Prints one line per file restored. Exit status: 0 restored, 2 bad usage or I/O error,
 * 3 a write the shim did not see.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { PAGE = 4096 };

typedef struct {
    uint64_t off, len;
} range;

static uint64_t rng = 88172645463325252ull;

static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* Reads B.pending; the caller frees *out. Returns the count, or -1. */
static long read_pending(const char *path, range **out)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : -1;
    size_t n = 0, cap = 0;
    unsigned long long off, len;
    while (fscanf(f, "%llu %llu", &off, &len) == 2) {
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            range *r = realloc(*out, cap * sizeof(**out));
            if (!r) {
                fclose(f);
                return -1;
            }
            *out = r;
        }
        (*out)[n++] = (range){off, len};
    }
    fclose(f);
    return (long)n;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool pending_covers(const range *r, long n, uint64_t from, uint64_t to)
{
    for (long i = 0; i < n; i++)
        if (r[i].off < to && r[i].off + r[i].len > from)
            return true;
    return false;
}

/* Reads page p of fd (zeros past the end); returns the bytes the file holds there. */
static ssize_t read_page(int fd, uint64_t p, char *buf)
{
    memset(buf, 0, PAGE);
    ssize_t r = pread(fd, buf, PAGE, (off_t)(p * PAGE));
    return r < 0 ? 0 : r;
}

static int restore_file(const char *shadow, const char *data, const char *name, bool torn)
{
    char img_path[PATH_MAX], live_path[PATH_MAX], aux[PATH_MAX];
    snprintf(img_path, sizeof(img_path), "%s/%s", shadow, name);
    snprintf(live_path, sizeof(live_path), "%s/%s", data, name);
    snprintf(aux, sizeof(aux), "%s/%s.mapped", shadow, name);
    bool mapped = access(aux, F_OK) == 0;
    snprintf(aux, sizeof(aux), "%s/%s.pending", shadow, name);
    range *pend;
    long npend = read_pending(aux, &pend);
    int img = open(img_path, O_RDWR), live = open(live_path, O_RDWR);
    int rc = 2;
    struct stat si, sl;
    if (npend < 0 || img < 0 || live < 0 || fstat(img, &si) || fstat(live, &sl)) {
        fprintf(stderr, "powercut-restore: %s: %s\n", name, strerror(errno));
        goto done;
    }
    uint64_t size = (uint64_t)(si.st_size > sl.st_size ? si.st_size : sl.st_size);
    uint64_t pages = (size + PAGE - 1) / PAGE, unseen = 0, landed = 0, torn_pages = 0;
    char a[PAGE], b[PAGE];
    for (uint64_t p = 0; p < pages && !mapped; p++) {
        ssize_t na = read_page(img, p, a), nb = read_page(live, p, b);
        if ((na != nb || memcmp(a, b, PAGE)) &&
            !pending_covers(pend, npend, p * PAGE, (p + 1) * PAGE)) {
            if (unseen++ < 5)
                fprintf(stderr,
                        "powercut-restore: %s: page %llu changed with no write the shim saw\n",
                        name, (unsigned long long)p);
        }
    }
    /* LMDB's files must be followed exactly; any other file (a lock or pid file written
     * through stdio, say) is restored as its image with a warning: its durability is not
     * what this tests, and it must not stop the run. */
    if (unseen && ends_with(name, ".mdb")) {
        rc = 3;
        goto done;
    }
    if (unseen)
        fprintf(stderr,
                "powercut-restore: %s: warning: written through calls the shim does "
                "not see; restored as its durable image\n",
                name);
    /* Torn: each 4 KiB page that an unsynced write touched holds, independently, its new
     * content (the live page) or its durable one. */
    uint64_t *pg = NULL;
    size_t npg = 0, cap = 0;
    for (long i = 0; torn && i < npend; i++) {
        for (uint64_t p = pend[i].off / PAGE; p * PAGE < pend[i].off + pend[i].len; p++) {
            if (npg == cap) {
                cap = cap ? cap * 2 : 1024;
                uint64_t *g = realloc(pg, cap * sizeof(*pg));
                if (!g) {
                    free(pg);
                    goto done;
                }
                pg = g;
            }
            pg[npg++] = p;
        }
    }
    if (npg)
        qsort(pg, npg, sizeof(*pg), cmp_u64);
    for (size_t i = 0; i < npg; i++) {
        if (i && pg[i] == pg[i - 1])
            continue;
        torn_pages++;
        if (next_random() & 1)
            continue;
        ssize_t got = pread(live, a, PAGE, (off_t)(pg[i] * PAGE));
        if (got > 0 && pwrite(img, a, (size_t)got, (off_t)(pg[i] * PAGE)) != got) {
            free(pg);
            goto done;
        }
        landed++;
    }
    free(pg);
    /* The live file becomes the image. */
    if (fstat(img, &si) || ftruncate(live, 0))
        goto done;
    for (off_t off = 0; off < si.st_size;) {
        char buf[1 << 16];
        ssize_t r = pread(img, buf, sizeof(buf), off);
        if (r <= 0 || pwrite(live, buf, (size_t)r, off) != r)
            goto done;
        off += r;
    }
    if (fsync(live))
        goto done;
    printf("restored %s: %lld bytes durable, %ld unsynced writes (%llu pages, %llu landed)\n", name,
           (long long)si.st_size, npend, (unsigned long long)torn_pages,
           (unsigned long long)landed);
    rc = 0;
done:
    if (rc == 2)
        fprintf(stderr, "powercut-restore: %s: %s\n", name, strerror(errno));
    if (img >= 0)
        close(img);
    if (live >= 0)
        close(live);
    free(pend);
    return rc;
}

int main(int argc, char **argv)
{
    bool torn = false;
    if (argc == 5 && !strcmp(argv[3], "--torn")) {
        torn = true;
        rng ^= strtoull(argv[4], NULL, 10) * 0x9E3779B97F4A7C15ull;
        if (!rng)
            rng = 1;
    } else if (argc != 3) {
        fprintf(stderr, "usage: jejak-powercut-restore SHADOW DATA [--torn SEED]\n");
        return 2;
    }
    DIR *d = opendir(argv[1]);
    if (!d) {
        fprintf(stderr, "powercut-restore: %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    int rc = 0, files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "stats") ||
            ends_with(e->d_name, ".pending") || ends_with(e->d_name, ".mapped"))
            continue;
        int r = restore_file(argv[1], argv[2], e->d_name, torn);
        if (r > rc)
            rc = r;
        files++;
    }
    closedir(d);
    if (!files) {
        fprintf(stderr, "powercut-restore: no durable image in %s (was the shim loaded?)\n",
                argv[1]);
        return 2;
    }
    return rc;
}
