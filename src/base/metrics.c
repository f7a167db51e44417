/* metrics.c — see metrics.h. The families are guarded by one mutex, taken at registration and
 * by a scrape (which calls the gauges under it). The list of every thread's cells only grows:
 * a thread's first record prepends its cells under a mutex of their own and publishes them
 * with a release store, and a scrape walks the list without a lock; recording takes none. So a
 * gauge that takes a lock (the key index's) can never wait on a thread that records while
 * holding that lock. A thread's cells outlive it, so its counts stay summed. */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "procstat.h"

#define FAMILIES_MAX 64

enum kind { KIND_COUNTER, KIND_HISTOGRAM, KIND_GAUGE };

struct family {
    enum kind kind;
    const char *name, *help, *type;
    const char *const *labels;
    unsigned n;
    unsigned first; /* counters, histograms */
    struct metrics_hist hist;
    double scale;
    double (*fn)(void *ctx, unsigned i); /* gauges */
    void *ctx;
};

struct cells {
    struct cells *next;
    uint64_t *cell;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;       /* the families */
static pthread_mutex_t cells_mu = PTHREAD_MUTEX_INITIALIZER; /* adding to all_cells */
static struct family families[FAMILIES_MAX];
static unsigned family_count;
static unsigned cells_used;
static struct cells *all_cells;
static __thread uint64_t *my_cells;

static struct family *find(const char *name)
{
    for (unsigned i = 0; i < family_count; i++)
        if (strcmp(families[i].name, name) == 0)
            return &families[i];
    return NULL;
}

/* A new family taking cells cells, or NULL when the registry is full (never at run time: the
 * families are fixed in the code). Called with mu held. */
static struct family *add(enum kind kind, const char *name, const char *help,
                          const char *const *labels, unsigned n, unsigned cells)
{
    if (family_count >= FAMILIES_MAX || cells_used + cells > METRICS_CELLS_MAX)
        return NULL;
    struct family *f = &families[family_count++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->name = name;
    f->help = help;
    f->labels = labels;
    f->n = n;
    f->first = cells_used;
    cells_used += cells;
    return f;
}

unsigned metrics_counter(const char *name, const char *help, const char *const *labels,
                         unsigned n)
{
    pthread_mutex_lock(&mu);
    struct family *f = find(name);
    if (!f)
        f = add(KIND_COUNTER, name, help, labels, n, n);
    unsigned first = f ? f->first : METRICS_CELLS_MAX; /* past the end: records are dropped */
    pthread_mutex_unlock(&mu);
    return first;
}

void metrics_histogram(const char *name, const char *help, const char *const *labels, unsigned n,
                       const uint64_t *bounds, unsigned nbounds, double scale,
                       struct metrics_hist *h)
{
    pthread_mutex_lock(&mu);
    struct family *f = find(name);
    if (!f && (f = add(KIND_HISTOGRAM, name, help, labels, n, n * (nbounds + 2))) != NULL) {
        f->hist.first = f->first;
        f->hist.nbounds = nbounds;
        f->hist.bounds = bounds;
        f->scale = scale;
    }
    if (f)
        *h = f->hist;
    else
        *h = (struct metrics_hist){METRICS_CELLS_MAX, 0, bounds};
    pthread_mutex_unlock(&mu);
}

void metrics_gauge(const char *name, const char *help, const char *type,
                   const char *const *labels, unsigned n, double (*fn)(void *ctx, unsigned i),
                   void *ctx)
{
    pthread_mutex_lock(&mu);
    struct family *f = find(name);
    if (!f)
        f = add(KIND_GAUGE, name, help, labels, n, 0);
    if (f) {
        f->type = type;
        f->fn = fn;
        f->ctx = ctx;
    }
    pthread_mutex_unlock(&mu);
}

void metrics_gauge_forget(void *ctx)
{
    pthread_mutex_lock(&mu);
    for (unsigned i = 0; i < family_count; i++)
        if (families[i].kind == KIND_GAUGE && families[i].ctx == ctx)
            families[i].fn = NULL; /* kept, so its name and slot stay; shown again once set */
    pthread_mutex_unlock(&mu);
}

uint64_t *metrics_cells(void)
{
    if (__builtin_expect(my_cells != NULL, 1))
        return my_cells;
    /* a cache line of its own: no other thread's cells share one */
    uint64_t *cell = aligned_alloc(64, METRICS_CELLS_MAX * sizeof(uint64_t));
    struct cells *node = malloc(sizeof *node);
    if (!cell || !node) {
        free(cell);
        free(node);
        return NULL;
    }
    memset(cell, 0, METRICS_CELLS_MAX * sizeof(uint64_t));
    node->cell = cell;
    pthread_mutex_lock(&cells_mu);
    node->next = all_cells;
    __atomic_store_n(&all_cells, node, __ATOMIC_RELEASE); /* whole before it is seen */
    pthread_mutex_unlock(&cells_mu);
    my_cells = cell;
    return cell;
}

void metrics_observe(const struct metrics_hist *h, unsigned i, uint64_t v)
{
    unsigned b = 0;
    while (b < h->nbounds && v > h->bounds[b])
        b++;
    unsigned base = h->first + i * (h->nbounds + 2);
    metrics_add(base + b, 1);
    metrics_add(base + h->nbounds + 1, v);
}

uint64_t metrics_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A growing text buffer; on allocation failure it stops growing and reports it at the end. */
struct out {
    char *text;
    size_t len, cap;
    int failed;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
    for (;;) {
        if (o->failed)
            return;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->text + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->failed = 1;
            return;
        }
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = o->cap * 2 + (size_t)n;
        char *grown = realloc(o->text, cap);
        if (!grown) {
            o->failed = 1;
            return;
        }
        o->text = grown;
        o->cap = cap;
    }
}

/* The sum of cell over every thread. */
static uint64_t total(unsigned cell)
{
    uint64_t sum = 0;
    for (struct cells *c = __atomic_load_n(&all_cells, __ATOMIC_ACQUIRE); c; c = c->next)
        sum += __atomic_load_n(&c->cell[cell], __ATOMIC_RELAXED);
    return sum;
}

static const char *label_of(const struct family *f, unsigned i)
{
    return f->labels && f->labels[i] ? f->labels[i] : "";
}

static void put_sample(struct out *o, const char *name, const char *suffix, const char *labels,
                       const char *extra)
{
    int braces = labels[0] || extra[0];
    put(o, "%s%s%s%s%s%s%s ", name, suffix, braces ? "{" : "", labels,
        labels[0] && extra[0] ? "," : "", extra, braces ? "}" : "");
}

static void render_histogram(struct out *o, const struct family *f)
{
    const struct metrics_hist *h = &f->hist;
    for (unsigned i = 0; i < f->n; i++) {
        unsigned base = h->first + i * (h->nbounds + 2);
        uint64_t cumulative = 0;
        for (unsigned b = 0; b <= h->nbounds; b++) {
            cumulative += total(base + b);
            char le[48];
            if (b < h->nbounds)
                snprintf(le, sizeof le, "le=\"%.6g\"", (double)h->bounds[b] * f->scale);
            else
                snprintf(le, sizeof le, "le=\"+Inf\"");
            put_sample(o, f->name, "_bucket", label_of(f, i), le);
            put(o, "%llu\n", (unsigned long long)cumulative);
        }
        put_sample(o, f->name, "_sum", label_of(f, i), "");
        put(o, "%.9g\n", (double)total(base + h->nbounds + 1) * f->scale);
        put_sample(o, f->name, "_count", label_of(f, i), "");
        put(o, "%llu\n", (unsigned long long)cumulative);
    }
}

static void render_family(struct out *o, const struct family *f)
{
    static const char *const types[] = {"counter", "histogram", "gauge"};
    if (f->kind == KIND_GAUGE && !f->fn)
        return;
    put(o, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
        f->kind == KIND_GAUGE ? f->type : types[f->kind]);
    if (f->kind == KIND_HISTOGRAM) {
        render_histogram(o, f);
        return;
    }
    for (unsigned i = 0; i < f->n; i++) {
        if (f->kind == KIND_COUNTER) {
            put_sample(o, f->name, "", label_of(f, i), "");
            put(o, "%llu\n", (unsigned long long)total(f->first + i));
            continue;
        }
        double v = f->fn(f->ctx, i);
        if (isnan(v))
            continue;
        put_sample(o, f->name, "", label_of(f, i), "");
        put(o, "%.17g\n", v);
    }
}

char *metrics_render(size_t *len)
{
    struct out o = {malloc(16384), 0, 16384, 0};
    if (!o.text)
        return NULL;
    pthread_mutex_lock(&mu);
    for (unsigned i = 0; i < family_count; i++)
        render_family(&o, &families[i]);
    pthread_mutex_unlock(&mu);
    struct procstat ps;
    procstat_read(&ps);
    put(&o, "# HELP process_cpu_seconds_total User and system CPU time spent in seconds.\n"
            "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.6f\n",
        ps.cpu_seconds);
    put(&o, "# HELP process_open_fds Number of open file descriptors.\n"
            "# TYPE process_open_fds gauge\nprocess_open_fds %ld\n", ps.open_fds);
    put(&o, "# HELP process_max_fds Maximum number of open file descriptors.\n"
            "# TYPE process_max_fds gauge\nprocess_max_fds %ld\n", ps.max_fds);
    put(&o, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
            "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %ld\n",
        ps.resident_bytes);
    put(&o, "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
            "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes %ld\n",
        ps.virtual_bytes);
    put(&o, "# HELP process_start_time_seconds Start time of the process since unix epoch in "
            "seconds.\n# TYPE process_start_time_seconds gauge\n"
            "process_start_time_seconds %.2f\n", ps.start_time_seconds);
    put(&o, "# HELP process_threads Number of OS threads in the process.\n"
            "# TYPE process_threads gauge\nprocess_threads %ld\n", ps.threads);
    if (o.failed) {
        free(o.text);
        return NULL;
    }
    *len = o.len;
    return o.text;
}
