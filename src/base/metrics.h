/* metrics.h — Prometheus metrics with no lock on the hot path. Each thread that records gets
 * its own array of counter cells (on a cache line of its own, never shared) and writes them
 * with relaxed atomic stores; a scrape sums the cells of every thread. Families are
 * registered once at start-up by the module that records them (idempotent by name); gauges
 * are read by a callback at scrape time. No domain knowledge: label texts come pre-rendered. */
#ifndef APIKEYD_METRICS_H
#define APIKEYD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_CELLS_MAX 4096 /* counter cells per thread, over every family */

/* A registered histogram: series i uses cells first + i * (nbounds + 2): one per bucket
 * (the last is +Inf), then the sum. */
struct metrics_hist {
    unsigned first, nbounds;
    const uint64_t *bounds; /* ascending, in the recording unit */
};

/* Registers a counter family of n series; labels[i] is series i's label text without braces
 * (`code="VALID"`), or NULL for a family of one series without labels. Returns the cell of
 * series 0 (series i is that + i). Calling it again with the same name returns the same. */
unsigned metrics_counter(const char *name, const char *help, const char *const *labels,
                         unsigned n);

/* Registers a histogram family of n series (labels as for metrics_counter) with nbounds
 * upper bounds in the recording unit (e.g. nanoseconds); scale turns that unit into the
 * exposed one (1e-9 for seconds). Fills *h. */
void metrics_histogram(const char *name, const char *help, const char *const *labels, unsigned n,
                       const uint64_t *bounds, unsigned nbounds, double scale,
                       struct metrics_hist *h);

/* Registers (or re-points) a gauge family of n series read at scrape time by fn(ctx, i);
 * a NaN from fn leaves that series out. type is "gauge" or "counter". */
void metrics_gauge(const char *name, const char *help, const char *type,
                   const char *const *labels, unsigned n, double (*fn)(void *ctx, unsigned i),
                   void *ctx);

/* Drops every gauge whose callback context is ctx (call before ctx is freed). */
void metrics_gauge_forget(void *ctx);

/* This thread's cells (allocated on first use; NULL only when out of memory). */
uint64_t *metrics_cells(void);

/* Adds v to cell (from metrics_counter). No lock: only this thread writes its cells. */
static inline void metrics_add(unsigned cell, uint64_t v)
{
    uint64_t *c = metrics_cells();
    if (c && cell < METRICS_CELLS_MAX)
        __atomic_store_n(&c[cell], __atomic_load_n(&c[cell], __ATOMIC_RELAXED) + v,
                         __ATOMIC_RELAXED);
}

/* Records value v in series i of histogram h. */
void metrics_observe(const struct metrics_hist *h, unsigned i, uint64_t v);

/* Monotonic nanoseconds, for durations. */
uint64_t metrics_now_ns(void);

/* The whole exposition (Prometheus text format 0.0.4) in a malloc'd buffer; NULL when out of
 * memory. Sums the cells of every thread, runs the gauges, and adds the process_* series. */
char *metrics_render(size_t *len);

#endif
