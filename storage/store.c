/*
 * store.c: the LMDB environment: open and version check, per-thread read transactions,
 * write transactions that survive a full map, and the few primitives the rest of
 * storage/ is built from.
 *
 * Invariants:
 *   1. A map resize (mdb_env_set_mapsize) happens only while `resize` is held for writing;
 *      every read transaction in this process holds it for reading from begin to end, and
 *      the write transaction is not open then. LMDB requires no active transaction in the
 *      process during a resize.
 *   2. Each thread keeps at most one read transaction per store, reset between uses
 *      (MDB_NOTLS: the reader slot belongs to the transaction, not the thread), freed by
 *      a thread-exit destructor or store_close.
 */
#include "storage/store.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/key.h"

struct store {
    MDB_env *env;
    MDB_dbi dbi[STORE_DB_COUNT];
    pthread_rwlock_t resize;
    pthread_key_t reader_key;
    int serve_lock; /* descriptor of serve.lock while store_lock_daemon holds it, or -1 */
    char path[4096];
};

struct store_txn {
    store *s;
    MDB_txn *txn;
    bool write;
};

static const char *const db_names[STORE_DB_COUNT] = {
    "meta",    "influencers", "campaigns",   "links",   "clicks",  "visits",
    "shops",   "coupons",     "conversions", "orders",  "rollups", "rollups_day",
    "metrics", "costs",       "paymodels",   "apikeys",
};

enum { INITIAL_MAP = 64u << 20, MAX_READERS = 510 };

static int map_rc(int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
        return STORE_OK;
    case MDB_NOTFOUND:
        return STORE_NOTFOUND;
    case MDB_KEYEXIST:
        return STORE_EXISTS;
    case MDB_MAP_FULL:
        return STORE_FULL;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
        return STORE_CORRUPT;
    case ENOSPC:
    case EIO:
    case EDQUOT:
    case EROFS:
        return STORE_IO;
    default:
        return STORE_ERROR;
    }
}

const char *store_strerror(int rc)
{
    switch (rc) {
    case STORE_OK:
        return "ok";
    case STORE_NOTFOUND:
        return "not found";
    case STORE_EXISTS:
        return "already exists";
    case STORE_FULL:
        return "storage map is full";
    case STORE_IO:
        return "the disk refused a write (full or failing)";
    case STORE_CORRUPT:
        return "a stored record is corrupt";
    case STORE_VERSION:
        return "the store was written by a newer jejak";
    case STORE_RANGE:
        return "a total would overflow";
    default:
        return "storage error";
    }
}

static void reader_free(void *p)
{
    store_txn *t = p;
    if (t) {
        mdb_txn_abort(t->txn);
        free(t);
    }
}

static int check_schema(store_txn *t, void *ctx)
{
    int *found = ctx;
    store_val v = {NULL, 0};
    int rc = store_get(t, STORE_DB_META, "schema", 6, &v);
    if (rc == STORE_NOTFOUND) {
        uint8_t b[4] = {0, 0, 0, STORE_SCHEMA_VERSION};
        *found = STORE_SCHEMA_VERSION;
        return store_put(t, STORE_DB_META, "schema", 6, b, 4, 0);
    }
    if (rc)
        return rc;
    if (v.len != 4)
        return STORE_CORRUPT;
    const uint8_t *b = v.data;
    uint32_t ver = key_get_u32(b);
    *found = ver > INT32_MAX ? INT32_MAX : (int)ver;
    return ver > STORE_SCHEMA_VERSION ? STORE_VERSION : STORE_OK;
}

static int open_dbis(store *s)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc == MDB_MAP_RESIZED) {
        mdb_env_set_mapsize(s->env, 0);
        rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    }
    if (rc)
        return rc;
    for (int i = 0; i < STORE_DB_COUNT && !rc; i++)
        rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i]);
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

int store_open(store **out, const char *dir, char *err, size_t errlen)
{
    *out = NULL;
    store *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return STORE_ERROR;
    }
    int rc = 0, version = 0;
    const char *step = "";
    snprintf(s->path, sizeof(s->path), "%s", dir);
    s->serve_lock = -1;
    pthread_rwlock_init(&s->resize, NULL);
    pthread_key_create(&s->reader_key, reader_free);

    if (mkdir(dir, 0700) && errno != EEXIST) {
        snprintf(err, errlen, "cannot create data folder %s: %s", dir, strerror(errno));
        rc = STORE_IO;
        goto fail;
    }
    size_t map = INITIAL_MAP;
    const char *env_map = getenv("JEJAK_MAP_SIZE"); /* tests start tiny to exercise growth */
    if (env_map && atol(env_map) > 0)
        map = (size_t)atol(env_map);
    step = "create";
    if ((rc = mdb_env_create(&s->env)))
        goto lmdb_fail;
    mdb_env_set_maxdbs(s->env, STORE_DB_COUNT + 8);
    mdb_env_set_maxreaders(s->env, MAX_READERS);
    mdb_env_set_mapsize(s->env, map);
    step = "open";
    if ((rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600)))
        goto lmdb_fail;
    int dead = 0;
    mdb_reader_check(s->env, &dead); /* free the slots of readers that died (kill -9) */
    step = "open databases in";
    if ((rc = open_dbis(s)))
        goto lmdb_fail;
    rc = store_update(s, check_schema, &version);
    if (rc == STORE_VERSION) {
        snprintf(err, errlen,
                 "the store in %s has schema version %d, newer than this jejak understands "
                 "(%d): upgrade jejak",
                 dir, version, STORE_SCHEMA_VERSION);
        goto fail;
    }
    if (rc) {
        snprintf(err, errlen, "cannot read the schema version in %s: %s", dir, store_strerror(rc));
        goto fail;
    }
    *out = s;
    return STORE_OK;

lmdb_fail:
    snprintf(err, errlen, "cannot %s the store in %s: %s", step, dir, mdb_strerror(rc));
    rc = map_rc(rc);
fail:
    if (s->env)
        mdb_env_close(s->env);
    pthread_key_delete(s->reader_key);
    pthread_rwlock_destroy(&s->resize);
    free(s);
    return rc ? rc : STORE_ERROR;
}

void store_close(store *s)
{
    if (!s)
        return;
    reader_free(pthread_getspecific(s->reader_key));
    pthread_setspecific(s->reader_key, NULL);
    pthread_key_delete(s->reader_key);
    mdb_env_close(s->env);
    pthread_rwlock_destroy(&s->resize);
    if (s->serve_lock >= 0)
        close(s->serve_lock); /* releases the daemon's lock */
    free(s);
}

const char *store_db_name(store_db db)
{
    return db >= 0 && db < STORE_DB_COUNT ? db_names[db] : "?";
}

int store_lock_daemon(store *s, char *err, size_t errlen)
{
    char path[sizeof(s->path) + 16];
    snprintf(path, sizeof(path), "%s/serve.lock", s->path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return STORE_IO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        int e = errno;
        char holder[24] = "";
        ssize_t n = pread(fd, holder, sizeof(holder) - 1, 0);
        holder[n > 0 ? n : 0] = '\0';
        holder[strspn(holder, "0123456789")] = '\0';
        close(fd);
        if (e != EWOULDBLOCK) {
            snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
            return STORE_IO;
        }
        snprintf(err, errlen,
                 "the data folder %s is in use by another jejak serve%s%s%s: one daemon per "
                 "data folder",
                 s->path, holder[0] ? " (pid " : "", holder, holder[0] ? ")" : "");
        return STORE_ERROR;
    }
    /* The holder's pid, for the message a second daemon gives (the lock itself is what
     * counts: it goes with the process, so a killed daemon leaves none behind). */
    char pid[24];
    int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) || pwrite(fd, pid, (size_t)len, 0) != len) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        return STORE_IO;
    }
    s->serve_lock = fd;
    return STORE_OK;
}

const char *store_path(const store *s)
{
    return s->path;
}

size_t store_map_size(store *s)
{
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    return info.me_mapsize;
}

/* Adopts a size another process set (new_size 0) or grows to new_size. Invariant 1. */
static void resize(store *s, size_t new_size)
{
    pthread_rwlock_wrlock(&s->resize);
    mdb_env_set_mapsize(s->env, new_size);
    pthread_rwlock_unlock(&s->resize);
}

int store_read_begin(store *s, store_txn **out)
{
    store_txn *t = pthread_getspecific(s->reader_key);
    int rc;
    for (int attempt = 0; attempt < 3; attempt++) {
        pthread_rwlock_rdlock(&s->resize);
        if (t) {
            rc = mdb_txn_renew(t->txn);
        } else {
            MDB_txn *txn;
            rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
            if (!rc) {
                t = calloc(1, sizeof(*t));
                if (!t) {
                    mdb_txn_abort(txn);
                    pthread_rwlock_unlock(&s->resize);
                    return STORE_ERROR;
                }
                t->s = s;
                t->txn = txn;
                pthread_setspecific(s->reader_key, t);
            }
        }
        if (rc == MDB_SUCCESS) {
            *out = t;
            return STORE_OK;
        }
        pthread_rwlock_unlock(&s->resize);
        if (rc != MDB_MAP_RESIZED)
            break;
        resize(s, 0);
    }
    return map_rc(rc);
}

void store_read_end(store_txn *t)
{
    mdb_txn_reset(t->txn);
    pthread_rwlock_unlock(&t->s->resize);
}

int store_update(store *s, store_update_fn fn, void *ctx)
{
    for (int attempt = 0; attempt < 40; attempt++) {
        store_txn t = {s, NULL, true};
        int rc = mdb_txn_begin(s->env, NULL, 0, &t.txn);
        if (rc == MDB_MAP_RESIZED) {
            resize(s, 0);
            continue;
        }
        if (rc)
            return map_rc(rc);
        int frc = fn(&t, ctx);
        if (frc != STORE_OK) {
            mdb_txn_abort(t.txn);
            if (frc != STORE_FULL)
                return frc;
        } else {
            rc = mdb_txn_commit(t.txn);
            if (rc == MDB_SUCCESS)
                return STORE_OK;
            if (rc != MDB_MAP_FULL)
                return map_rc(rc);
        }
        /* The map is full: grow it while no transaction of ours is open, and run fn again. */
        size_t size = store_map_size(s);
        if (size >= ((size_t)1 << 40))
            return STORE_FULL;
        resize(s, size * 2);
    }
    return STORE_FULL;
}

int store_nested(store_txn *t, store_update_fn fn, void *ctx)
{
    store_txn child = {t->s, NULL, true};
    int rc = mdb_txn_begin(t->s->env, t->txn, 0, &child.txn);
    if (rc)
        return map_rc(rc);
    rc = fn(&child, ctx);
    if (rc) {
        mdb_txn_abort(child.txn);
        return rc;
    }
    return map_rc(mdb_txn_commit(child.txn));
}

int store_get(store_txn *t, store_db db, const void *key, size_t klen, store_val *val)
{
    MDB_val k = {klen, (void *)key}, v;
    int rc = mdb_get(t->txn, t->s->dbi[db], &k, &v);
    if (rc == MDB_SUCCESS) {
        val->data = v.mv_data;
        val->len = v.mv_size;
    }
    return map_rc(rc);
}

int store_put(store_txn *t, store_db db, const void *key, size_t klen, const void *val, size_t vlen,
              unsigned flags)
{
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    unsigned mflags = (flags & STORE_NOOVERWRITE) ? MDB_NOOVERWRITE : 0;
    int rc;
    if (flags & STORE_APPEND) {
        rc = mdb_put(t->txn, t->s->dbi[db], &k, &v, mflags | MDB_APPEND);
        /* Not after the last key: an id made a moment earlier on another thread. */
        if (rc != MDB_KEYEXIST)
            return map_rc(rc);
    }
    rc = mdb_put(t->txn, t->s->dbi[db], &k, &v, mflags);
    return map_rc(rc);
}

int store_del(store_txn *t, store_db db, const void *key, size_t klen)
{
    MDB_val k = {klen, (void *)key};
    return map_rc(mdb_del(t->txn, t->s->dbi[db], &k, NULL));
}

int store_clear(store_txn *t, store_db db)
{
    return map_rc(mdb_drop(t->txn, t->s->dbi[db], 0));
}

int store_each(store_txn *t, store_db db, const void *from, size_t fromlen, store_each_fn fn,
               void *ctx)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[db], &c);
    if (rc)
        return map_rc(rc);
    MDB_val k = {fromlen, (void *)from}, v;
    rc = mdb_cursor_get(c, &k, &v, from ? MDB_SET_RANGE : MDB_FIRST);
    int out = 0;
    while (rc == MDB_SUCCESS) {
        store_val sk = {k.mv_data, k.mv_size}, sv = {v.mv_data, v.mv_size};
        if ((out = fn(&sk, &sv, ctx)) != 0)
            break;
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    if (out)
        return out;
    return rc == MDB_NOTFOUND ? STORE_OK : map_rc(rc);
}

size_t store_count(store_txn *t, store_db db)
{
    MDB_stat st;
    if (mdb_stat(t->txn, t->s->dbi[db], &st))
        return 0;
    return st.ms_entries;
}

int store_open_existing(store **out, const char *dir, char *err, size_t errlen)
{
    *out = NULL;
    struct stat st;
    char path[4200];
    if (stat(dir, &st) && errno == ENOENT) {
        snprintf(err, errlen, "no data folder %s", dir);
        return STORE_NOTFOUND;
    }
    if (stat(dir, &st)) {
        snprintf(err, errlen, "cannot read %s: %s", dir, strerror(errno));
        return STORE_IO;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s is not a folder", dir);
        return STORE_NOTFOUND;
    }
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    if (stat(path, &st)) {
        snprintf(err, errlen, "no jejak store in %s (it has no data.mdb)", dir);
        return STORE_NOTFOUND;
    }
    return store_open(out, dir, err, errlen);
}
