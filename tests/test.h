/* test.h -- a tiny test harness in the manner of libuv's task.h.
 *
 * A test file defines tests with TEST(name) and lists them in TEST_LIST.
 * Each test runs in its own child process, so a crash or sanitizer abort in
 * one is reported as that test's failure and the others still run.
 * Assertions print both operands and stop the test at once.
 *
 *   TEST(csv_quoted_newline) { ... ASSERT_EQ(n, 3); ASSERT_STR_EQ(s, "a"); }
 *   TEST_LIST(csv_quoted_newline, csv_bom)
 *
 * Run one test: build/test/test_csv csv_bom
 * Paths: SP_SRCDIR (default ".") is the project root, SP_SHARED the shared
 * data folder (default "../shared/data"). */
#ifndef SP_TEST_H
#define SP_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#define TEST(name) static void name(void)

#define TFAIL(...) do { \
    fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } while (0)

#define ASSERT(c) do { if (!(c)) TFAIL("assertion failed: %s", #c); } while (0)
#define ASSERT_EQ(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ != b_) TFAIL("%s == %s: %lld != %lld", #a, #b, a_, b_); } while (0)
#define ASSERT_NE(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ == b_) TFAIL("%s != %s: both %lld", #a, #b, a_); } while (0)
#define ASSERT_GE(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ < b_) TFAIL("%s >= %s: %lld < %lld", #a, #b, a_, b_); } while (0)
#define ASSERT_LE(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ > b_) TFAIL("%s <= %s: %lld > %lld", #a, #b, a_, b_); } while (0)
#define ASSERT_DBL_EQ(a, b, eps) do { double a_ = (a), b_ = (b); \
    if (!(a_ - b_ <= (eps) && b_ - a_ <= (eps))) TFAIL("%s == %s: %.9g != %.9g", #a, #b, a_, b_); } while (0)
#define ASSERT_STR_EQ(a, b) do { const char *a_ = (a), *b_ = (b); \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) \
        TFAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)
#define ASSERT_NULL(p) do { if ((p) != NULL) TFAIL("%s is not NULL", #p); } while (0)
#define ASSERT_NOT_NULL(p) do { if ((p) == NULL) TFAIL("%s is NULL", #p); } while (0)
#define ASSERT_CONTAINS(hay, needle) do { const char *h_ = (hay), *n_ = (needle); \
    if (!h_ || !strstr(h_, n_)) TFAIL("%s does not contain \"%s\": \"%.400s\"", #hay, n_, h_ ? h_ : "(null)"); } while (0)

typedef struct { const char *name; void (*fn)(void); } test_entry;

static inline const char *test_srcdir(void)
{
    const char *d = getenv("SP_SRCDIR");
    return d && *d ? d : ".";
}
static inline const char *test_shared(void)
{
    const char *d = getenv("SP_SHARED");
    return d && *d ? d : "../shared/data";
}
/* Path under the shared data folder into a static buffer. */
static inline const char *shared_path(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", test_shared(), rel);
    return buf;
}
/* Reads a whole file (test helper); caller frees. NULL if it cannot. */
static inline char *test_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    size_t k;
    while (b && (k = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (n + 1 == cap) { char *nb = realloc(b, cap *= 2); if (!nb) { free(b); b = NULL; } else b = nb; }
    }
    fclose(f);
    if (b) { b[n] = '\0'; if (len) *len = n; }
    return b;
}

static inline int test_run_all(const char *file, const test_entry *t, size_t n,
                               int argc, char **argv)
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        if (argc > 1 && strcmp(argv[1], t[i].name) != 0) continue;
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) { t[i].fn(); fflush(NULL); _exit(0); }
        int st = 0;
        waitpid(pid, &st, 0);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            passed++;
            printf("ok   %s\n", t[i].name);
        } else {
            failed++;
            if (WIFSIGNALED(st)) printf("FAIL %s (signal %d)\n", t[i].name, WTERMSIG(st));
            else printf("FAIL %s\n", t[i].name);
        }
    }
    printf("%s: %d passed, %d failed\n", file, passed, failed);
    return failed ? 1 : 0;
}

#define TEST_LIST(...) \
    int main(int argc, char **argv) { \
        void (*fns_[])(void) = { __VA_ARGS__ }; \
        const char *names_ = #__VA_ARGS__; \
        size_t n_ = sizeof fns_ / sizeof fns_[0]; \
        test_entry *t_ = calloc(n_, sizeof *t_); \
        char *copy_ = strdup(names_), *save_ = NULL, *tok_; size_t i_ = 0; \
        for (tok_ = strtok_r(copy_, ", \n\t", &save_); tok_ && i_ < n_; \
             tok_ = strtok_r(NULL, ", \n\t", &save_), i_++) { \
            t_[i_].name = tok_; t_[i_].fn = fns_[i_]; } \
        int rc_ = test_run_all(__FILE__, t_, n_, argc, argv); \
        free(t_); free(copy_); return rc_; }

#endif
