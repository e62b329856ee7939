/*
 * writer.c: group commit (see writer.h).
 *
 * State: a FIFO of jobs under `lock`; the writer thread sleeps on `wake` while it is empty.
 * A batch is capped (MAX_BATCH) so one commit never holds answers back for long.
 */
#include "storage/writer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { MAX_BATCH = 4096 };

struct writer {
    store *s;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    writer_job *head, *tail;
    bool stopping;
    bool sleeping; /* submitters signal only a sleeping writer */
    time_t last_log;
    writer_hooks hooks;
    writer_stats stats;
};

typedef struct {
    writer *w;
    writer_job *jobs;
    bool last;
} batch;

static int apply_batch(store_txn *t, void *ctx)
{
    batch *b = ctx;
    if (b->w->hooks.begin)
        b->w->hooks.begin(b->w->hooks.ctx);
    for (writer_job *j = b->jobs; j; j = j->next) {
        j->rc = j->apply(t, j);
        if (j->rc == STORE_FULL)
            return STORE_FULL;
    }
    if (b->w->hooks.before_commit)
        return b->w->hooks.before_commit(t, b->w->hooks.ctx, b->last);
    return STORE_OK;
}

static void *run(void *arg)
{
    writer *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (!w->head && !w->stopping) {
            w->sleeping = true;
            pthread_cond_wait(&w->wake, &w->lock);
        }
        w->sleeping = false;
        if (!w->head) {
            pthread_mutex_unlock(&w->lock);
            if (w->hooks.before_commit) { /* write what the hooks still hold */
                batch b = {w, NULL, true};
                int rc = store_update(w->s, apply_batch, &b);
                if (w->hooks.after_commit)
                    w->hooks.after_commit(w->hooks.ctx, rc);
            }
            break;
        }
        writer_job *first = w->head, *last = first;
        unsigned n = 1;
        while (last->next && n < MAX_BATCH) {
            last = last->next;
            n++;
        }
        w->head = last->next;
        if (!w->head)
            w->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&w->lock);

        batch b = {w, first, false};
        int rc = store_update(w->s, apply_batch, &b);
        if (w->hooks.after_commit)
            w->hooks.after_commit(w->hooks.ctx, rc);
        /* A job that failed did so alone (writer.h: it wrote nothing); say which error. */
        unsigned failed = 0;
        int job_rc = STORE_OK;
        for (writer_job *j = first; j && rc == STORE_OK; j = j->next)
            if (j->rc != STORE_OK) {
                failed++;
                job_rc = j->rc;
            }
        /* At most one line a second: a full disk fails every commit. */
        if ((rc != STORE_OK || failed) && time(NULL) != w->last_log) {
            w->last_log = time(NULL);
            if (rc != STORE_OK)
                fprintf(stderr, "jejak: writer: a commit of %u records failed: %s\n", n,
                        store_strerror(rc));
            else
                fprintf(stderr, "jejak: writer: %u of %u records failed, the rest committed: %s\n",
                        failed, n, store_strerror(job_rc));
        }
        pthread_mutex_lock(&w->lock);
        w->stats.commits++;
        w->stats.jobs += n;
        w->stats.failed_commits += rc != STORE_OK;
        w->stats.failed_jobs += failed;
        pthread_mutex_unlock(&w->lock);
        for (writer_job *j = first, *next; j; j = next) {
            next = j->next; /* done() may free or reuse the job */
            j->done(j, rc != STORE_OK ? rc : j->rc);
        }
    }
    return NULL;
}

int writer_start(writer **out, store *s, const writer_hooks *hooks)
{
    writer *w = calloc(1, sizeof(*w));
    if (!w)
        return STORE_ERROR;
    w->s = s;
    if (hooks)
        w->hooks = *hooks;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, run, w)) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return STORE_ERROR;
    }
    *out = w;
    return STORE_OK;
}

void writer_submit(writer *w, writer_job *job)
{
    job->next = NULL;
    job->rc = STORE_OK;
    pthread_mutex_lock(&w->lock);
    if (w->tail)
        w->tail->next = job;
    else
        w->head = job;
    w->tail = job;
    bool wake = w->sleeping;
    w->sleeping = false;
    pthread_mutex_unlock(&w->lock);
    if (wake)
        pthread_cond_signal(&w->wake);
}

void writer_stop(writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

void writer_get_stats(writer *w, writer_stats *out)
{
    pthread_mutex_lock(&w->lock);
    *out = w->stats;
    pthread_mutex_unlock(&w->lock);
}
