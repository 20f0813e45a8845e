/* http_client.h -- one HTTP/1.1 request per connection to the test
 * server on 127.0.0.1:`port` (a static int the including test defines),
 * and its parsed reply. For the tests that run build/asan/spotlight serve. */
#ifndef SP_HTTP_CLIENT_H
#define SP_HTTP_CLIENT_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>

#ifndef HARNESS
/* not every test file uses every helper */
#define HARNESS static __attribute__((unused))
#endif

typedef struct resp {
    int status;
    char head[16384];
    char *body;
    size_t blen;
} resp;

HARNESS const char *hdr(const resp *r, const char *name)
{
    static char v[1024];
    size_t nl = strlen(name);
    for (const char *p = strstr(r->head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        const char *l = p + 2;
        if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
            const char *e = strstr(l, "\r\n");
            const char *s = l + nl + 1;
            while (*s == ' ') s++;
            snprintf(v, sizeof v, "%.*s", (int)(e - s), s);
            return v;
        }
    }
    return NULL;
}

/* One request on its own connection; reads until the server closes. */
HARNESS void http(const char *method, const char *path, const char *headers, const char *body,
                 size_t blen, resp *r)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) TFAIL("connect: %s", strerror(errno));
    struct timeval tv = {30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char head[8192];
    int hn = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s",
                      method, path, headers ? headers : "");
    if (body) hn += snprintf(head + hn, sizeof head - (size_t)hn, "Content-Length: %zu\r\n", blen);
    hn += snprintf(head + hn, sizeof head - (size_t)hn, "\r\n");
    if (write(fd, head, (size_t)hn) != hn) TFAIL("write");
    for (size_t o = 0; body && o < blen;) {
        ssize_t k = write(fd, body + o, blen - o);
        if (k <= 0) TFAIL("write body");
        o += (size_t)k;
    }
    sp_buf in;
    sp_buf_init(&in, 64u << 20);
    char buf[65536];
    ssize_t k;
    while ((k = read(fd, buf, sizeof buf)) > 0) sp_buf_add(&in, buf, (size_t)k);
    close(fd);
    char *e = memmem(in.data, in.len, "\r\n\r\n", 4);
    if (!e) TFAIL("no response to %s %s", method, path);
    size_t hl = (size_t)(e - in.data) + 4;
    if (hl >= sizeof r->head) TFAIL("head too long");
    memcpy(r->head, in.data, hl);
    r->head[hl] = '\0';
    r->status = atoi(r->head + 9);
    r->blen = in.len - hl;
    r->body = malloc(r->blen + 1);
    memcpy(r->body, in.data + hl, r->blen);
    r->body[r->blen] = '\0';
    sp_buf_free(&in);
}

HARNESS void resp_free(resp *r)
{
    free(r->body);
    r->body = NULL;
}

#endif
