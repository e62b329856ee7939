/*
 * powercut.c: an LD_PRELOAD library that keeps, for every file a process opens under one
 * folder, the image a disk would hold after a power cut: the "durable image". It is the
 * simulated disk of tools/powercut.sh.
 *
 * The process reads and writes its files normally (LMDB reads data.mdb through mmap, so the
 * live file must stay real). Beside it, in $POWERCUT_SHADOW, each file B has:
 *   B          its durable image: a copy of the file when this process first opened it (the
 *              script starts each run on a durable state), then only what was made durable;
 *   B.pending  one line "offset length" per write made since the last sync of B: what a
 *              disk may or may not hold after a cut (jejak-powercut-restore tears them);
 *   B.mapped   exists if B was mapped shared and writable (its writes are invisible here).
 * and stats: counters the script checks, so that a shim that intercepts nothing is noticed.
 *
 * What makes data durable (copied from the live file into the image):
 *   - fsync, fdatasync on an fd of B: every range written since the last sync, the size,
 *     and the whole file if it is mapped writable;
 *   - a write through an fd opened with O_DSYNC or O_SYNC: those bytes, at once;
 *   - msync of a shared writable mapping: the range synced;
 *   - sync, syncfs: every file.
 * Nothing else is durable: sync_file_range (it flushes no disk cache and no metadata),
 * close, or a clean exit. Writes are seen through write, pwrite, writev, pwritev(2),
 * ftruncate and fallocate on fds from open/openat/creat; stdio, dup'd fds and
 * copy_file_range are not tracked (jejak-powercut-restore reports any page that changed
 * without a tracked write, so an untracked path is caught, not trusted).
 *
 * POWERCUT_NOSYNC=1 (the test of the test) makes every sync call do nothing and drops
 * O_DSYNC/O_SYNC at open: a program whose sync calls are no-ops. POWERCUT_NOSYNC=data
 * disables fsync/fdatasync/msync only, so the O_DSYNC meta page lands on data that did not.
 *
 * Environment: POWERCUT_DIR (the folder watched), POWERCUT_SHADOW (where images go); the
 * library does nothing without both. All state is behind one mutex.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum { MAX_FILES = 64, MAX_FDS = 65536, MAX_MAPS = 64 };

typedef struct {
    uint64_t off, len;
} pc_range;

typedef struct {
    dev_t dev;
    ino_t ino;
    char name[256];
    int live;    /* O_RDONLY fd on the live file, to copy from */
    int image;   /* the durable image */
    int pending; /* B.pending, O_APPEND */
    bool mapped;
    pc_range *dirty;
    size_t ndirty, cap;
} pc_file;

typedef struct {
    char *addr;
    size_t len;
    off_t off;
    int file;
} pc_map;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char watch[PATH_MAX], shadow[PATH_MAX];
static size_t watch_len;
static bool active;
static int nosync; /* 0, 1: every sync is a no-op, 2: only fsync/fdatasync/msync */
static pc_file files[MAX_FILES];
static int nfiles;
static int16_t fd_file[MAX_FDS]; /* file index + 1, 0: not watched */
static bool fd_dsync[MAX_FDS];
static pc_map maps[MAX_MAPS];
static unsigned long long st_writes, st_bytes, st_syncs, st_dsync_writes;

#define REAL(name, ret, args)                                                                      \
    static ret(*real_##name) args;                                                                 \
    static ret(*get_##name(void)) args                                                             \
    {                                                                                              \
        if (!real_##name)                                                                          \
            *(void **)&real_##name = dlsym(RTLD_NEXT, #name);                                      \
        return real_##name;                                                                        \
    }

REAL(open, int, (const char *, int, ...))
REAL(open64, int, (const char *, int, ...))
REAL(openat, int, (int, const char *, int, ...))
REAL(openat64, int, (int, const char *, int, ...))
REAL(creat, int, (const char *, mode_t))
REAL(close, int, (int))
REAL(write, ssize_t, (int, const void *, size_t))
REAL(pwrite, ssize_t, (int, const void *, size_t, off_t))
REAL(pwrite64, ssize_t, (int, const void *, size_t, off_t))
REAL(writev, ssize_t, (int, const struct iovec *, int))
REAL(pwritev, ssize_t, (int, const struct iovec *, int, off_t))
REAL(pwritev64, ssize_t, (int, const struct iovec *, int, off_t))
REAL(pwritev2, ssize_t, (int, const struct iovec *, int, off_t, int))
REAL(ftruncate, int, (int, off_t))
REAL(ftruncate64, int, (int, off_t))
REAL(fallocate, int, (int, int, off_t, off_t))
REAL(posix_fallocate, int, (int, off_t, off_t))
REAL(fsync, int, (int))
REAL(fdatasync, int, (int))
REAL(msync, int, (void *, size_t, int))
REAL(sync, void, (void))
REAL(syncfs, int, (int))
REAL(mmap, void *, (void *, size_t, int, int, int, off_t))
REAL(mmap64, void *, (void *, size_t, int, int, int, off_t))
REAL(munmap, int, (void *, size_t))

static void die(const char *what)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "powercut: %s: %s\n", what, strerror(errno));
    get_write()(2, buf, n > 0 ? (size_t)n : 0);
    abort();
}

__attribute__((constructor)) static void pc_init(void)
{
    const char *w = getenv("POWERCUT_DIR"), *s = getenv("POWERCUT_SHADOW");
    if (!w || !s || !realpath(w, watch) || !realpath(s, shadow))
        return;
    watch_len = strlen(watch);
    const char *n = getenv("POWERCUT_NOSYNC");
    nosync = !n || !*n || !strcmp(n, "0") ? 0 : !strcmp(n, "data") ? 2 : 1;
    active = true;
}

/* The counters, rewritten in place (they only grow, so no stale tail is left). */
static void write_stats(void)
{
    static int fd = -1;
    char buf[256];
    if (fd < 0) {
        char path[PATH_MAX + 16];
        snprintf(path, sizeof(path), "%s/stats", shadow);
        fd = get_open()(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
            return;
    }
    int n = snprintf(buf, sizeof(buf),
                     "files %d\nwrites %llu\nbytes %llu\nsyncs %llu\ndsync_writes %llu\n"
                     "nosync %d\n",
                     nfiles, st_writes, st_bytes, st_syncs, st_dsync_writes, nosync);
    if (n > 0)
        get_pwrite()(fd, buf, (size_t)n, 0);
}

/* Copies [off, off+len) of the live file into the image (only what the file holds). */
static void copy_range(pc_file *f, uint64_t off, uint64_t len)
{
    char buf[1 << 16];
    while (len > 0) {
        size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);
        ssize_t r = pread(f->live, buf, n, (off_t)off);
        if (r <= 0)
            return;
        if (get_pwrite()(f->image, buf, (size_t)r, (off_t)off) != r)
            die("writing a durable image");
        off += (uint64_t)r;
        len -= (uint64_t)r;
    }
}

/* Everything written to f so far becomes durable: the state after fsync. */
static void make_durable(pc_file *f)
{
    struct stat st;
    if (fstat(f->live, &st))
        die("fstat");
    if (f->mapped) {
        copy_range(f, 0, (uint64_t)st.st_size);
    } else {
        for (size_t i = 0; i < f->ndirty; i++)
            copy_range(f, f->dirty[i].off, f->dirty[i].len);
    }
    if (get_ftruncate()(f->image, st.st_size))
        die("sizing a durable image");
    f->ndirty = 0;
    if (get_ftruncate()(f->pending, 0))
        die("truncating a pending log");
    st_syncs++;
    write_stats();
}

/* A write of [off, off+len) to f is about to be made. It is logged as pending before it
 * is made, so that a kill between the write and its log entry cannot hide it; through an
 * O_DSYNC fd it is copied into the image once made (note_dsync). */
static void note_write(pc_file *f, uint64_t off, uint64_t len)
{
    st_writes++;
    st_bytes += len;
    if (f->ndirty && f->dirty[f->ndirty - 1].off + f->dirty[f->ndirty - 1].len == off) {
        f->dirty[f->ndirty - 1].len += len;
    } else {
        if (f->ndirty == f->cap) {
            size_t cap = f->cap ? f->cap * 2 : 64;
            pc_range *d = realloc(f->dirty, cap * sizeof(*d));
            if (!d)
                die("out of memory");
            f->dirty = d;
            f->cap = cap;
        }
        f->dirty[f->ndirty++] = (pc_range){off, len};
    }
    char line[64];
    int n = snprintf(line, sizeof(line), "%llu %llu\n", (unsigned long long)off,
                     (unsigned long long)len);
    if (n > 0 && get_write()(f->pending, line, (size_t)n) != n)
        die("writing a pending log");
    write_stats();
}

/* A write through an O_DSYNC fd returned: its bytes are durable. */
static void note_dsync(pc_file *f, uint64_t off, uint64_t len)
{
    copy_range(f, off, len);
    st_dsync_writes++;
    write_stats();
}

static int open_in_shadow(const char *name, const char *suffix, int flags)
{
    char path[PATH_MAX + 300];
    snprintf(path, sizeof(path), "%s/%s%s", shadow, name, suffix);
    int fd = get_open()(path, flags | O_CLOEXEC, 0600);
    if (fd < 0)
        die(path);
    return fd;
}

/* Registers fd (just opened) if its file is under the watched folder. Under the lock. */
static void track(int fd, int flags)
{
    if (!active || fd < 0 || fd >= MAX_FDS)
        return;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof(path) - 1);
    if (n <= 0)
        return;
    path[n] = 0;
    if ((size_t)n <= watch_len + 1 || strncmp(path, watch, watch_len) || path[watch_len] != '/')
        return;
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode))
        return;
    const char *name = path + watch_len + 1;
    if (strchr(name, '/') || strlen(name) >= sizeof(files[0].name))
        return; /* only the folder's own files */
    int i;
    for (i = 0; i < nfiles; i++)
        if (files[i].dev == st.st_dev && files[i].ino == st.st_ino)
            break;
    if (i == nfiles) {
        if (nfiles == MAX_FILES)
            die("too many files");
        pc_file *f = &files[nfiles];
        memset(f, 0, sizeof(*f));
        f->dev = st.st_dev;
        f->ino = st.st_ino;
        snprintf(f->name, sizeof(f->name), "%s", name);
        f->live = get_open()(path, O_RDONLY | O_CLOEXEC);
        if (f->live < 0)
            die(path);
        /* The durable image starts as the file is now: the script starts on a durable state. */
        f->image = open_in_shadow(name, "", O_RDWR | O_CREAT | O_TRUNC);
        copy_range(f, 0, (uint64_t)st.st_size);
        f->pending = open_in_shadow(name, ".pending", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND);
        nfiles++;
        write_stats();
    }
    fd_file[fd] = (int16_t)(i + 1);
    fd_dsync[fd] = (flags & (O_DSYNC | O_SYNC)) != 0;
}

static pc_file *file_of(int fd)
{
    return fd >= 0 && fd < MAX_FDS && fd_file[fd] ? &files[fd_file[fd] - 1] : NULL;
}

static int strip_flags(int flags)
{
    return active && nosync == 1 ? flags & ~(O_DSYNC | O_SYNC) : flags;
}

#define OPEN_MODE(flags, mode)                                                                     \
    mode_t mode = 0;                                                                               \
    if ((flags) & (O_CREAT | O_TMPFILE)) {                                                         \
        va_list ap;                                                                                \
        va_start(ap, flags);                                                                       \
        mode = (mode_t)va_arg(ap, int);                                                            \
        va_end(ap);                                                                                \
    }

static int after_open(int fd, int flags)
{
    if (fd >= 0 && active) {
        int saved = errno;
        pthread_mutex_lock(&lock);
        track(fd, flags);
        pthread_mutex_unlock(&lock);
        errno = saved;
    }
    return fd;
}

int open(const char *path, int flags, ...)
{
    OPEN_MODE(flags, mode);
    return after_open(get_open()(path, strip_flags(flags), mode), strip_flags(flags));
}

int open64(const char *path, int flags, ...)
{
    OPEN_MODE(flags, mode);
    return after_open(get_open64()(path, strip_flags(flags), mode), strip_flags(flags));
}

int openat(int dir, const char *path, int flags, ...)
{
    OPEN_MODE(flags, mode);
    return after_open(get_openat()(dir, path, strip_flags(flags), mode), strip_flags(flags));
}

int openat64(int dir, const char *path, int flags, ...)
{
    OPEN_MODE(flags, mode);
    return after_open(get_openat64()(dir, path, strip_flags(flags), mode), strip_flags(flags));
}

int creat(const char *path, mode_t mode)
{
    return after_open(get_creat()(path, mode), O_WRONLY | O_CREAT | O_TRUNC);
}

int close(int fd)
{
    if (active && fd >= 0 && fd < MAX_FDS) {
        pthread_mutex_lock(&lock);
        fd_file[fd] = 0;
        fd_dsync[fd] = false;
        pthread_mutex_unlock(&lock);
    }
    return get_close()(fd);
}

static size_t iov_len(const struct iovec *iov, int n)
{
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += iov[i].iov_len;
    return len;
}

/* Before a write of len bytes at off (off < 0: at the fd's position). Returns the offset
 * for after_write, or -1 if fd is not watched. Takes the lock; after_write releases it, so
 * that the log entry, the write and an O_DSYNC copy are one step for the other threads. */
static off_t before_write(int fd, off_t off, size_t len)
{
    if (!active || !file_of(fd))
        return -1;
    pthread_mutex_lock(&lock);
    pc_file *f = file_of(fd);
    if (!f) {
        pthread_mutex_unlock(&lock);
        return -1;
    }
    if (off < 0) {
        struct stat st;
        int fl = fcntl(fd, F_GETFL);
        off = fl >= 0 && (fl & O_APPEND) && !fstat(fd, &st) ? st.st_size : lseek(fd, 0, SEEK_CUR);
        if (off < 0)
            off = 0; /* never -1 here: after_write must release the lock */
    }
    /* Through an O_DSYNC fd too: a cut during the write may leave any part of it. */
    if (len > 0)
        note_write(f, (uint64_t)off, (uint64_t)len);
    return off;
}

static ssize_t after_write(int fd, off_t off, ssize_t n, bool dsync_flag)
{
    if (off < 0)
        return n;
    int saved = errno;
    pc_file *f = file_of(fd);
    if (f && n > 0 && (fd_dsync[fd] || dsync_flag))
        note_dsync(f, (uint64_t)off, (uint64_t)n);
    pthread_mutex_unlock(&lock);
    errno = saved;
    return n;
}

ssize_t write(int fd, const void *buf, size_t len)
{
    off_t off = before_write(fd, -1, len);
    return after_write(fd, off, get_write()(fd, buf, len), false);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t at)
{
    off_t off = before_write(fd, at, len);
    return after_write(fd, off, get_pwrite()(fd, buf, len, at), false);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t at)
{
    off_t off = before_write(fd, at, len);
    return after_write(fd, off, get_pwrite64()(fd, buf, len, at), false);
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
    off_t off = before_write(fd, -1, iov_len(iov, n));
    return after_write(fd, off, get_writev()(fd, iov, n), false);
}

ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t at)
{
    off_t off = before_write(fd, at, iov_len(iov, n));
    return after_write(fd, off, get_pwritev()(fd, iov, n, at), false);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int n, off_t at)
{
    off_t off = before_write(fd, at, iov_len(iov, n));
    return after_write(fd, off, get_pwritev64()(fd, iov, n, at), false);
}

ssize_t pwritev2(int fd, const struct iovec *iov, int n, off_t at, int flags)
{
    bool dsync = (flags & (RWF_DSYNC | RWF_SYNC)) && nosync != 1;
    if (active && nosync == 1)
        flags &= ~(RWF_DSYNC | RWF_SYNC);
    off_t off = before_write(fd, at, iov_len(iov, n));
    return after_write(fd, off, get_pwritev2()(fd, iov, n, at, flags), dsync);
}

/* A size change or an allocation: pending like a write of the range it changes. */
static int resized(int fd, off_t off, int rc)
{
    (void)after_write(fd, off, rc ? -1 : 0, false);
    return rc;
}

static off_t before_resize(int fd, off_t len)
{
    struct stat st;
    off_t old = active && file_of(fd) && !fstat(fd, &st) ? st.st_size : len;
    return before_write(fd, old < len ? old : len, (size_t)(old < len ? len - old : old - len));
}

int ftruncate(int fd, off_t len)
{
    off_t off = before_resize(fd, len);
    return resized(fd, off, get_ftruncate()(fd, len));
}

int ftruncate64(int fd, off_t len)
{
    off_t off = before_resize(fd, len);
    return resized(fd, off, get_ftruncate64()(fd, len));
}

int fallocate(int fd, int mode, off_t at, off_t len)
{
    off_t off = before_write(fd, at, (size_t)len);
    return resized(fd, off, get_fallocate()(fd, mode, at, len));
}

int posix_fallocate(int fd, off_t at, off_t len)
{
    off_t off = before_write(fd, at, (size_t)len);
    return resized(fd, off, get_posix_fallocate()(fd, at, len));
}

static int sync_fd(int fd, int rc)
{
    if (rc || !active)
        return rc;
    pthread_mutex_lock(&lock);
    pc_file *f = file_of(fd);
    if (f)
        make_durable(f);
    pthread_mutex_unlock(&lock);
    return rc;
}

int fsync(int fd)
{
    if (active && nosync)
        return 0;
    return sync_fd(fd, get_fsync()(fd));
}

int fdatasync(int fd)
{
    if (active && nosync)
        return 0;
    return sync_fd(fd, get_fdatasync()(fd));
}

static void sync_all(void)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < nfiles; i++)
        make_durable(&files[i]);
    pthread_mutex_unlock(&lock);
}

void sync(void)
{
    if (active && nosync == 1)
        return;
    get_sync()();
    if (active)
        sync_all();
}

int syncfs(int fd)
{
    if (active && nosync == 1)
        return 0;
    int rc = get_syncfs()(fd);
    if (!rc && active)
        sync_all();
    return rc;
}

int msync(void *addr, size_t len, int flags)
{
    if (active && nosync)
        return 0;
    int rc = get_msync()(addr, len, flags);
    if (rc || !active || !(flags & MS_SYNC))
        return rc; /* MS_ASYNC only schedules the write-back */
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_MAPS; i++) {
        pc_map *m = &maps[i];
        if (m->addr && (char *)addr >= m->addr && (char *)addr < m->addr + m->len) {
            size_t from = (size_t)((char *)addr - m->addr);
            size_t n = len < m->len - from ? len : m->len - from;
            copy_range(&files[m->file], (uint64_t)m->off + from, n);
            st_syncs++;
            write_stats();
        }
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

static void *after_mmap(void *p, size_t len, int prot, int flags, int fd, off_t off)
{
    if (p == MAP_FAILED || !active || !(prot & PROT_WRITE) || !(flags & MAP_SHARED) || !file_of(fd))
        return p;
    pthread_mutex_lock(&lock);
    pc_file *f = file_of(fd);
    if (f) {
        if (!f->mapped) {
            get_close()(open_in_shadow(f->name, ".mapped", O_WRONLY | O_CREAT));
            f->mapped = true;
        }
        for (int i = 0; i < MAX_MAPS; i++) {
            if (!maps[i].addr) {
                maps[i] = (pc_map){p, len, off, (int)(f - files)};
                break;
            }
        }
    }
    pthread_mutex_unlock(&lock);
    return p;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return after_mmap(get_mmap()(addr, len, prot, flags, fd, off), len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return after_mmap(get_mmap64()(addr, len, prot, flags, fd, off), len, prot, flags, fd, off);
}

int munmap(void *addr, size_t len)
{
    if (active) {
        pthread_mutex_lock(&lock);
        for (int i = 0; i < MAX_MAPS; i++)
            if (maps[i].addr == addr)
                maps[i].addr = NULL;
        pthread_mutex_unlock(&lock);
    }
    return get_munmap()(addr, len);
}
