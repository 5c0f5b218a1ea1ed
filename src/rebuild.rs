//! `ghor project --rebuild SCOPE`: empties the scope's read model and folds the log into it
//! again from sequence 1, showing progress, then exits. A projector still running against
//! the old read model finds its checkpoint moved and is fenced out.

use std::time::{Duration, Instant};

use anyhow::Context;
use ghor_domain::Scope;
use ghor_server::Backbone;

pub async fn run(backbone: &Backbone, scope: Scope) -> anyhow::Result<()> {
    let log = backbone.logs.get(&scope).context("no log for this scope")?.clone();
    let read_model = backbone.read_model.clone();
    let target = log.last_seq().await?;
    read_model.reset(scope).await?;
    eprintln!("rebuilding the {scope} read model from sequence 1 to {target}");
    let (trigger, shutdown) = ghor_server::shutdown::channel();
    let projector = tokio::spawn(ghor_server::projector::run(log, read_model.clone(), 10_000, shutdown));
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let done = read_model.checkpoint(scope).await?;
        let rate = done as f64 / started.elapsed().as_secs_f64().max(0.001);
        eprintln!("rebuilt {done}/{target} events ({rate:.0} per second)");
        if done >= target {
            break;
        }
        if projector.is_finished() {
            anyhow::bail!("the rebuild stopped at {done}/{target}; see the log above");
        }
    }
    trigger.trigger();
    let _ = projector.await;
    eprintln!("the {scope} read model is rebuilt up to sequence {target} in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
