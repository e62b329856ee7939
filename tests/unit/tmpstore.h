/*
 * tmpstore.h: what the unit tests that need a real store share: removing its temporary
 * folder (tests make it with mkdtemp and open it with store_open).
 */
#ifndef JEJAK_TMPSTORE_H
#define JEJAK_TMPSTORE_H

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static int tmpstore_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes dir and everything in it. */
static inline void tmpstore_remove(const char *dir)
{
    nftw(dir, tmpstore_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
