/*
 * ceiling.c: the ceiling of jejak's stack, for tools/bench-redirect.sh. A bare
 * libmicrohttpd responder configured like jejak's daemon (epoll thread pool, answer on the
 * access handler's second call) that answers every request with the same 302 jejak sends,
 * without looking anything up or storing anything.
 *
 * usage: jejak-ceiling PORT [THREADS]
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)cls, (void)url, (void)method, (void)version, (void)upload_data;
    static int first;
    if (!*con_cls) {
        *con_cls = &first;
        return MHD_YES;
    }
    *upload_data_size = 0;
    struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Location",
                            "https://shop.example/products/batik-dress?utm_source=instagram&"
                            "utm_medium=influencer&utm_campaign=demo&utm_content=ayu-ramadan&"
                            "jclid=01KAQ3J8W5Z9M6N0P7R2S4T8VX");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "Set-Cookie",
                            "jv=AAAAAAAAAAAAAAAAAAAAAA; Max-Age=31536000; "
                            "Path=/; HttpOnly; SameSite=Lax");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer-when-downgrade");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_FOUND, r);
    MHD_destroy_response(r);
    return ret;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: jejak-ceiling PORT [THREADS]\n");
        return 2;
    }
    unsigned port = (unsigned)atoi(argv[1]), threads = argc > 2 ? (unsigned)atoi(argv[2]) : 2;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO, (uint16_t)port, NULL, NULL, on_request, NULL,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, 16384,
        MHD_OPTION_CONNECTION_TIMEOUT, 30, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "jejak-ceiling: cannot listen on %u\n", port);
        return 1;
    }
    printf("jejak-ceiling: listening on 127.0.0.1:%u\n", port);
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    return 0;
}
