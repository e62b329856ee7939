/*
 * writer.h: the group-commit writer. One thread owns every write the daemon makes.
 *
 * Request threads submit jobs; the writer takes everything queued, applies it in one
 * LMDB transaction and commits (two flushes), then calls each job's done(). While it
 * commits, new jobs queue up for the next transaction, so under load a commit carries
 * many clicks and the cost of a flush is shared. A job's done() is the moment its
 * effect is durable: only then may a request be answered.
 *
 * Jobs are owned by the submitter; the writer never frees them. done() runs on the
 * writer thread and must be quick (resume a connection, signal a condition).
 */
#ifndef JEJAK_WRITER_H
#define JEJAK_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "storage/store.h"

typedef struct writer_job writer_job;
struct writer_job {
    /* Applies the job inside the batch transaction. Returns STORE_OK, STORE_FULL (the
     * batch is retried after the map grows) or another error, which fails this job only
     * (logged; the batch's other jobs commit): apply must then have written nothing, so
     * it checks everything that can fail before its writes, or writes in store_nested.
     * May run more than once. */
    int (*apply)(store_txn *t, writer_job *job);
    /* Called once, after commit (rc == STORE_OK) or failure. */
    void (*done)(writer_job *job, int rc);
    writer_job *next; /* the writer's */
    int rc;           /* the writer's */
};

typedef struct writer writer;

typedef struct {
    uint64_t commits;
    uint64_t jobs;
    uint64_t failed_commits;
    uint64_t failed_jobs; /* failed alone, in a batch that committed */
} writer_stats;

/* Work the writer does around every batch, for state that lives beside the jobs (clicks.h). */
typedef struct {
    /* Before the batch's jobs, each time the batch is (re)tried. */
    void (*begin)(void *ctx);
    /* After the batch's jobs, inside its transaction; stopping is true for the last batch. */
    int (*before_commit)(store_txn *t, void *ctx, bool stopping);
    /* After the commit, or its failure. */
    void (*after_commit)(void *ctx, int rc);
    void *ctx;
} writer_hooks;

/* Starts the writer thread; hooks may be NULL. The caller owns *out until writer_stop. */
int writer_start(writer **out, store *s, const writer_hooks *hooks);
void writer_submit(writer *w, writer_job *job);
/* Applies everything already queued, then stops the thread and frees the writer. */
void writer_stop(writer *w);
void writer_get_stats(writer *w, writer_stats *out);

#endif
