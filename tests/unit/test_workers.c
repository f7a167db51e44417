/* test_workers.c — the worker pool (src/api/workers.h): every queued job runs exactly once,
 * jobs run side by side on the pool's threads, and stopping drains the queue first. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "../../src/api/workers.h"
#include "unit.h"

struct counting_job {
    struct worker_job job; /* first */
    atomic_int *runs;
    int ran;
};

static void count_run(struct worker_job *job)
{
    struct counting_job *c = (struct counting_job *)job;
    c->ran++;
    atomic_fetch_add(c->runs, 1);
}

static void test_every_queued_job_runs_once_before_stop_returns(void **state)
{
    (void)state;
    enum { JOBS = 1000 };
    static struct counting_job jobs[JOBS];
    atomic_int runs = 0;
    struct workers *w = workers_start(3);
    assert_non_null(w);
    for (int i = 0; i < JOBS; i++) {
        jobs[i] = (struct counting_job){{count_run, NULL}, &runs, 0};
        assert_int_equal(workers_submit(w, &jobs[i].job), 0);
    }
    workers_stop(w); /* drains the queue */
    assert_int_equal(atomic_load(&runs), JOBS);
    for (int i = 0; i < JOBS; i++)
        assert_int_equal(jobs[i].ran, 1);
}

/* Jobs that each wait until all of them have started: they finish only if the pool runs
 * them at the same time. */
struct meeting {
    pthread_mutex_t lock;
    pthread_cond_t all_here;
    int arrived, expected, met;
};

struct meeting_job {
    struct worker_job job; /* first */
    struct meeting *m;
};

static void meet(struct worker_job *job)
{
    struct meeting *m = ((struct meeting_job *)job)->m;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&m->lock);
    if (++m->arrived == m->expected)
        pthread_cond_broadcast(&m->all_here);
    int rc = 0;
    while (m->arrived < m->expected && rc == 0)
        rc = pthread_cond_timedwait(&m->all_here, &m->lock, &deadline);
    if (m->arrived == m->expected)
        m->met++;
    pthread_mutex_unlock(&m->lock);
}

static void test_jobs_run_side_by_side_on_every_thread(void **state)
{
    (void)state;
    enum { THREADS = 8 };
    struct meeting m = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, THREADS, 0};
    struct meeting_job jobs[THREADS];
    struct workers *w = workers_start(THREADS);
    assert_non_null(w);
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (struct meeting_job){{meet, NULL}, &m};
        assert_int_equal(workers_submit(w, &jobs[i].job), 0);
    }
    workers_stop(w);
    assert_int_equal(m.met, THREADS); /* all 8 were waiting at once */
}

static void test_stop_of_an_idle_pool_and_of_null_returns(void **state)
{
    (void)state;
    struct workers *w = workers_start(4);
    assert_non_null(w);
    workers_stop(w);
    workers_stop(NULL);
}

int run_workers_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_queued_job_runs_once_before_stop_returns),
        cmocka_unit_test(test_jobs_run_side_by_side_on_every_thread),
        cmocka_unit_test(test_stop_of_an_idle_pool_and_of_null_returns),
    };
    return cmocka_run_group_tests_name("workers", tests, NULL, NULL);
}
