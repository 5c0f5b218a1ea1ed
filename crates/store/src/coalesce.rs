//! Many callers' lookups, one query: while a lookup is in flight, the lookups that arrive
//! meanwhile wait and go together in the next one. A caller alone waits for nothing extra;
//! under load the store answers one query per round instead of one per request. The
//! embedded log appends this way too: one transaction per round, as JetStream acks a batch.

use std::future::Future;

use crate::{StoreError, StoreResult};
use tokio::sync::{mpsc, oneshot};

/// Keys gathered into one lookup at most.
const MOST: usize = 10_000;

type Waiting<K, V> = (Vec<K>, oneshot::Sender<StoreResult<Vec<V>>>);

/// Coalesces lookups of `K` (one `V` per key, in order) through one lookup function.
pub struct Coalescer<K, V> {
    lookups: mpsc::UnboundedSender<Waiting<K, V>>,
}

impl<K: Send + 'static, V: Send + 'static> Coalescer<K, V> {
    /// Runs `lookup` on a task of its own, one call at a time; it must answer one value
    /// per key, in order.
    pub fn new<F, Fut>(lookup: F) -> Self
    where
        F: Fn(Vec<K>) -> Fut + Send + 'static,
        Fut: Future<Output = StoreResult<Vec<V>>> + Send,
    {
        let (lookups, mut waiting) = mpsc::unbounded_channel::<Waiting<K, V>>();
        tokio::spawn(async move {
            while let Some(first) = waiting.recv().await {
                let mut round = vec![first];
                let mut keys = round[0].0.len();
                while keys < MOST {
                    let Ok(next) = waiting.try_recv() else { break };
                    keys += next.0.len();
                    round.push(next);
                }
                let mut lengths = Vec::with_capacity(round.len());
                let mut all = Vec::with_capacity(keys);
                let mut answers = Vec::with_capacity(round.len());
                for (keys, answer) in round {
                    lengths.push(keys.len());
                    all.extend(keys);
                    answers.push(answer);
                }
                match lookup(all).await {
                    Ok(values) if values.len() == keys => {
                        let mut values = values.into_iter();
                        for (n, answer) in lengths.into_iter().zip(answers) {
                            let _ = answer.send(Ok(values.by_ref().take(n).collect()));
                        }
                    }
                    outcome => {
                        let reason = match outcome {
                            Err(e) => e.to_string(),
                            Ok(values) => format!("the lookup answered {} values for {keys} keys", values.len()),
                        };
                        for answer in answers {
                            let _ = answer.send(Err(StoreError::Unavailable(reason.clone())));
                        }
                    }
                }
            }
        });
        Coalescer { lookups }
    }

    /// One value per key, in order.
    pub async fn get(&self, keys: Vec<K>) -> StoreResult<Vec<V>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let (answer, answered) = oneshot::channel();
        self.lookups.send((keys, answer)).map_err(|_| StoreError::Internal("the lookup task has stopped".into()))?;
        answered.await.map_err(|_| StoreError::Internal("the lookup task has stopped".into()))?
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn concurrent_lookups_each_get_their_own_answers() {
        let doubler = Arc::new(Coalescer::new(move |keys: Vec<u32>| async move {
            tokio::task::yield_now().await;
            Ok(keys.into_iter().map(|k| k * 2).collect())
        }));
        let callers: Vec<_> = (0..50u32)
            .map(|i| {
                let doubler = doubler.clone();
                tokio::spawn(async move { doubler.get(vec![i, i + 100]).await })
            })
            .collect();
        for (i, caller) in callers.into_iter().enumerate() {
            let i = i as u32;
            assert_eq!(caller.await.expect("joins").expect("answers"), vec![i * 2, (i + 100) * 2]);
        }
        assert_eq!(doubler.get(Vec::new()).await.expect("empty"), Vec::<u32>::new());
    }

    #[tokio::test]
    async fn a_failed_lookup_fails_every_caller_in_its_round() {
        let failing =
            Coalescer::new(|_: Vec<u32>| async { Err::<Vec<u32>, _>(StoreError::Unavailable("down".into())) });
        match failing.get(vec![1]).await {
            Err(StoreError::Unavailable(reason)) => assert!(reason.contains("down"), "{reason}"),
            other => panic!("expected unavailable, got {other:?}"),
        }
    }
}
