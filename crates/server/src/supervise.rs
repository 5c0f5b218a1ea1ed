//! Every long-running task is held and watched. A task that fails (returns an error or
//! panics) is logged, counted in `ghor_task_restarts_total` and started again after an
//! exponential backoff, until shutdown; one that returns `Ok` has finished its work. The
//! handles are kept in [`Tasks`], so the process waits for its tasks when it stops, and so
//! is how each kind of task fares, for readiness to show.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus::IntCounterVec;
use tokio::task::JoinHandle;

use crate::shutdown::Shutdown;

/// The first pause before a restart; it doubles with every failure in a row.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The longest pause between restarts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A task that ran this long before failing starts again at the first backoff.
const STEADY: Duration = Duration::from_secs(60);

/// A held task: its kind and its handle.
type Held = (&'static str, JoinHandle<()>);

/// The supervised tasks of a process.
#[derive(Clone)]
pub struct Tasks {
    handles: Arc<Mutex<Vec<Held>>>,
    restarts: IntCounterVec,
    shutdown: Shutdown,
    /// Per kind of task, the failures in a row of the one that failed last (0: running
    /// steadily, or done).
    failing: Arc<Mutex<BTreeMap<&'static str, u32>>>,
}

impl Tasks {
    pub fn new(restarts: IntCounterVec, shutdown: Shutdown) -> Tasks {
        Tasks { handles: Default::default(), restarts, shutdown, failing: Default::default() }
    }

    /// Every kind of task and its failures in a row: 0 while it runs, more while it fails
    /// again each time it is started.
    pub fn failing(&self) -> BTreeMap<&'static str, u32> {
        self.failing.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Runs `start()` until it returns `Ok` or shutdown; restarts it with backoff when it
    /// fails. `name` is a bounded metric label (a kind of task, never an id).
    pub fn spawn<F, Fut, E>(&self, name: &'static str, start: F)
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let restarts = self.restarts.with_label_values(&[name]);
        let mut shutdown = self.shutdown.clone();
        let failing = self.failing.clone();
        let set_failing = move |times: u32| {
            failing.lock().unwrap_or_else(|p| p.into_inner()).insert(name, times);
        };
        set_failing(0);
        let handle = tokio::spawn(async move {
            let mut backoff = FIRST_BACKOFF;
            let mut in_a_row = 0;
            loop {
                let started = tokio::time::Instant::now();
                // Its own task, so that a panic is seen here as a failure like any other.
                let mut run = tokio::spawn(start());
                let outcome = tokio::select! {
                    outcome = &mut run => outcome,
                    // Running steadily again: no longer failing.
                    _ = tokio::time::sleep(STEADY) => {
                        in_a_row = 0;
                        set_failing(0);
                        run.await
                    }
                };
                let failure = match outcome {
                    Ok(Ok(())) => return set_failing(0),
                    Ok(Err(e)) => e.to_string(),
                    Err(e) if e.is_panic() => format!("panicked: {}", panic_text(e.into_panic())),
                    Err(e) => e.to_string(),
                };
                if shutdown.is_triggered() {
                    return;
                }
                if started.elapsed() >= STEADY {
                    backoff = FIRST_BACKOFF;
                }
                in_a_row += 1;
                set_failing(in_a_row);
                restarts.inc();
                tracing::error!(task = name, error = %failure, restart_in = ?backoff, "task failed; restarting");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.recv() => return,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        });
        self.handles.lock().unwrap_or_else(|p| p.into_inner()).push((name, handle));
    }

    /// Holds a task that runs once, until it ends or shutdown (nothing to restart it from).
    pub fn hold(&self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(task);
        self.handles.lock().unwrap_or_else(|p| p.into_inner()).push((name, handle));
    }

    /// The shutdown the tasks stop at.
    pub fn shutdown(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Waits for every task to end (after shutdown was triggered), at most `within`;
    /// returns the names of those still running then.
    pub async fn join(&self, within: Duration) -> Vec<&'static str> {
        let handles = std::mem::take(&mut *self.handles.lock().unwrap_or_else(|p| p.into_inner()));
        let deadline = tokio::time::Instant::now() + within;
        let mut late = Vec::new();
        for (name, mut handle) in handles {
            if tokio::time::timeout_at(deadline, &mut handle).await.is_err() {
                handle.abort();
                late.push(name);
            }
        }
        late
    }
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "without a message".to_owned())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn restarts() -> IntCounterVec {
        IntCounterVec::new(prometheus::Opts::new("t", "t"), &["task"]).unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_or_panicking_task_is_restarted_until_it_finishes() {
        let (trigger, shutdown) = crate::shutdown::channel();
        let tasks = Tasks::new(restarts(), shutdown);
        let runs = Arc::new(AtomicU32::new(0));
        let counter = runs.clone();
        tasks.spawn("flaky", move || {
            let run = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                match run {
                    0 => Err("first failure".to_owned()),
                    1 => panic!("second failure"),
                    _ => Ok(()),
                }
            }
        });
        assert!(tasks.join(Duration::from_secs(10)).await.is_empty(), "the task finished");
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        assert_eq!(tasks.restarts.with_label_values(&["flaky"]).get(), 2);
        assert_eq!(tasks.failing()["flaky"], 0, "done, no longer failing");
        drop(trigger);
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_counts_as_failing_until_it_runs_steadily_again() {
        let (trigger, shutdown) = crate::shutdown::channel();
        let tasks = Tasks::new(restarts(), shutdown);
        let runs = Arc::new(AtomicU32::new(0));
        let counter = runs.clone();
        tasks.spawn("recovering", move || {
            let run = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if run < 3 {
                    return Err("down");
                }
                std::future::pending::<Result<(), &str>>().await
            }
        });
        while runs.load(Ordering::SeqCst) < 4 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(tasks.failing()["recovering"], 3, "three failures in a row");
        tokio::time::sleep(STEADY + Duration::from_secs(1)).await;
        assert_eq!(tasks.failing()["recovering"], 0, "running steadily again");
        drop(trigger);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_ends_the_restarts() {
        let (trigger, shutdown) = crate::shutdown::channel();
        let tasks = Tasks::new(restarts(), shutdown);
        tasks.spawn("always failing", || async { Err::<(), _>("down") });
        tokio::time::sleep(Duration::from_secs(5)).await;
        trigger.trigger();
        assert!(tasks.join(Duration::from_secs(1)).await.is_empty(), "it stopped at shutdown");
        assert!(tasks.restarts.with_label_values(&["always failing"]).get() >= 3);
    }
}
