/*
 * idle.c: a hostile client for the integration tests: opens N TCP connections to
 * HOST:PORT and holds them, optionally sending a partial request (--prefix) and then one
 * more byte a second on every connection (--trickle), never finishing the request. It
 * watches every socket and reports when the server closes it. A --prefix that ends the
 * headers and announces a Content-Length makes --trickle drip the body instead (the
 * whole-request deadline's test).
 *
 * usage: jejak-idle HOST PORT N [--prefix TEXT] [--trickle] [--hold SECONDS]
 *                   [--ready FILE]
 *
 * Prints "connected C failed F" once every connection was tried (and creates --ready FILE
 * then), then on exit (after --hold seconds, default 3600, or on SIGTERM/SIGINT) one line:
 *   open O closed C failed F first_close_ms A last_close_ms B
 * where closed counts connections the server ended (EOF, reset, or a write refused), and
 * first/last_close_ms are the times of those closes after the connection was opened
 * (-1 when none). Exit status 0, or 2 on bad usage.
 *
 * Plain POSIX (poll, blocking connect); no dependencies. bash cannot hold 10,000 sockets.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static long closed;
static int64_t first_close = -1, last_close = -1;

/* The server ended this connection `age` ms after it was opened. */
static void mark_closed(struct pollfd *p, int64_t age)
{
    close(p->fd);
    p->fd = -1; /* poll ignores negative descriptors */
    closed++;
    if (first_close < 0 || age < first_close)
        first_close = age;
    if (age > last_close)
        last_close = age;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int usage(void)
{
    fprintf(stderr, "usage: jejak-idle HOST PORT N [--prefix TEXT] [--trickle] "
                    "[--hold SECONDS] [--ready FILE]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return usage();
    const char *host = argv[1];
    int port = atoi(argv[2]);
    long n = atol(argv[3]);
    const char *prefix = NULL, *ready = NULL;
    int trickle = 0;
    long hold = 3600;
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--prefix") && i + 1 < argc)
            prefix = argv[++i];
        else if (!strcmp(argv[i], "--trickle"))
            trickle = 1;
        else if (!strcmp(argv[i], "--hold") && i + 1 < argc)
            hold = atol(argv[++i]);
        else if (!strcmp(argv[i], "--ready") && i + 1 < argc)
            ready = argv[++i];
        else
            return usage();
    }
    if (port <= 0 || port > 65535 || n <= 0 || n > 1000000 || hold < 0)
        return usage();

    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return usage();

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    act.sa_handler = on_signal;
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);

    struct pollfd *pfd = calloc((size_t)n, sizeof(*pfd));
    int64_t *opened = calloc((size_t)n, sizeof(*opened));
    if (!pfd || !opened) {
        fprintf(stderr, "jejak-idle: out of memory\n");
        return 1;
    }
    long open_n = 0, failed = 0;
    size_t prefix_len = prefix ? strlen(prefix) : 0;
    for (long i = 0; i < n && !stop; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) {
            failed++;
            continue;
        }
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
            (prefix_len && send(fd, prefix, prefix_len, MSG_NOSIGNAL) != (ssize_t)prefix_len)) {
            close(fd);
            failed++;
            continue;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        pfd[open_n].fd = fd;
        pfd[open_n].events = POLLIN;
        opened[open_n] = now_ms();
        open_n++;
    }
    printf("connected %ld failed %ld\n", open_n, failed);
    fflush(stdout);
    if (ready) {
        FILE *f = fopen(ready, "w");
        if (f)
            fclose(f);
    }

    int64_t end = now_ms() + hold * 1000, next_byte = now_ms() + 1000;
    char buf[4096];
    while (!stop && now_ms() < end) {
        int64_t wait = (trickle ? next_byte : end) - now_ms();
        if (wait < 0)
            wait = 0;
        if (wait > 200)
            wait = 200; /* look at stop now and then */
        int k = poll(pfd, (nfds_t)open_n, (int)wait);
        if (k < 0 && errno != EINTR)
            break;
        int64_t t = now_ms();
        for (long i = 0; k > 0 && i < open_n; i++) {
            if (pfd[i].fd < 0 || !pfd[i].revents)
                continue;
            ssize_t r = recv(pfd[i].fd, buf, sizeof(buf), 0);
            if (r > 0)
                continue; /* an answer (e.g. 408 or 431): keep reading until the close */
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            mark_closed(&pfd[i], t - opened[i]);
        }
        if (trickle && t >= next_byte) {
            next_byte = t + 1000;
            for (long i = 0; i < open_n; i++) {
                if (pfd[i].fd < 0)
                    continue;
                if (send(pfd[i].fd, "a", 1, MSG_NOSIGNAL) == 1 || errno == EAGAIN)
                    continue;
                mark_closed(&pfd[i], t - opened[i]);
            }
        }
    }
    long still = 0;
    for (long i = 0; i < open_n; i++)
        if (pfd[i].fd >= 0) {
            still++;
            close(pfd[i].fd);
        }
    printf("open %ld closed %ld failed %ld first_close_ms %lld last_close_ms %lld\n", still, closed,
           failed, (long long)first_close, (long long)last_close);
    free(pfd);
    free(opened);
    return 0;
}
