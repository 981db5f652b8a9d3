//! The group-commit writer both backends share: it takes every write waiting in its
//! queue, commits them together and answers each. Expanded next to `impl_store!` in
//! each backend module, whose imports, `Tx` and incident writes it uses; the backend
//! supplies `begin_on`, `accept_on`, `LOCK_ROWS` and a `DirectInsert` (with
//! `insert` and `between_batches`).

/// Implements the group-commit writer (`run_writer`) for `$store` on `$db`.
macro_rules! impl_writer {
    ($store:ty, $db:ty) => {
        async fn apply(tx: &mut Tx<'_>, op: &WriteOp, outlets: &Outlets) -> Result<Written> {
            use alert_queries as aq;
            match op {
                WriteOp::Declare { slug_base, events } => apply_declare(tx, slug_base, events, outlets).await.map(Written::Incident),
                WriteOp::Commit(changes) => apply_commit(tx, changes, outlets).await.map(|()| Written::Nothing),
                WriteOp::Enqueue(entries) => {
                    aq::insert_inbox(tx, &entries.iter().collect::<Vec<_>>()).await.map(|()| Written::Nothing)
                }
                WriteOp::OpenAlert { alert, incident, inbox } => {
                    let (id, incident) = aq::insert_alert(tx, alert, incident, *inbox, outlets).await?;
                    Ok(Written::Alert { id, incident })
                }
                WriteOp::UpdateAlert { id, update, event, at, incident, inbox } => {
                    aq::change_alert(tx, *id, *update, event, *at, *inbox).await?;
                    // The incident change the alert leads to, in the same transaction.
                    if let Some(change) = incident.as_deref() {
                        apply_commit(tx, std::slice::from_ref(change), outlets).await?;
                    }
                    Ok(Written::Alert { id: *id, incident: None })
                }
                WriteOp::Repeats(repeats) => aq::apply_repeats(tx, repeats).await.map(|()| Written::Nothing),
                WriteOp::Discard(ids) => aq::delete_inbox(tx, ids).await.map(|()| Written::Nothing),
                WriteOp::FinishJob(done) => paging_queries::apply_finish(tx, done, outlets).await,
                WriteOp::CreateLink(hash, link) => paging_queries::insert_link(tx, hash, link).await.map(|()| Written::Nothing),
            }
        }

        /// Group commit: takes every write waiting in the queue (up to
        /// [`crate::group::MAX_BATCH`]) and commits them in one transaction, answering
        /// each only once that commit is durable. If any write in a batch fails, the batch
        /// is rolled back and each write runs alone, so one bad write fails only itself.
        async fn run_writer(
            pool: sqlx::Pool<$db>,
            mut direct: DirectInsert,
            mut jobs: tokio::sync::mpsc::Receiver<WriteJob>,
            outlets: crate::SharedOutlets,
        ) {
            // The writer keeps one connection: acquiring it from the pool for every
            // batch costs a wait for its return, which is most of a batch's time.
            let mut held: Option<sqlx::pool::PoolConnection<$db>> = None;
            let mut batch = Vec::new();
            while jobs.recv_many(&mut batch, crate::group::MAX_BATCH).await > 0 {
                // Accepted alert events are written and answered first: a sender waits
                // for its own commit, not for the incidents and jobs queued beside it.
                let (accepted, rest): (Vec<_>, Vec<_>) =
                    batch.drain(..).partition(|job| matches!(job.op, WriteOp::Enqueue(_)));
                for part in [accepted, rest] {
                    if !part.is_empty() {
                        write_and_reply(&pool, &mut held, &mut direct, part, &outlets).await;
                    }
                }
                // Between batches, with every write answered: upkeep of the backend's
                // own (SQLite starting its write-ahead log over).
                direct.between_batches();
            }
        }

        async fn write_and_reply(
            pool: &sqlx::Pool<$db>,
            held: &mut Option<sqlx::pool::PoolConnection<$db>>,
            direct: &mut DirectInsert,
            batch: Vec<WriteJob>,
            outlets: &crate::SharedOutlets,
        ) {
            if let Some(entries) = only_enqueues(&batch) {
                if let Some(written) = direct.insert(&entries) {
                    let outcomes = accepted_outcomes(&batch, written);
                    for (job, outcome) in batch.into_iter().zip(outcomes) {
                        let _ = job.reply.send(outcome);
                    }
                    return;
                }
            }
            let conn = match held.take() {
                Some(conn) => Ok(conn),
                None => pool.acquire().await,
            };
            let outcomes = match conn {
                Ok(mut conn) => {
                    let current = outlets.read().map(|o| o.clone()).unwrap_or_default();
                    let outcomes = write_batch(&mut conn, &batch, &current).await;
                    // A connection that failed may be broken: take a fresh one next.
                    if outcomes.iter().all(|o| o.is_ok()) {
                        *held = Some(conn);
                    }
                    outcomes
                }
                Err(e) => {
                    let message = e.to_string();
                    batch.iter().map(|_| Err(StoreError::Other(message.clone()))).collect()
                }
            };
            for (job, outcome) in batch.into_iter().zip(outcomes) {
                let _ = job.reply.send(outcome);
            }
        }

        async fn write_batch(conn: &mut <$db as sqlx::Database>::Connection, batch: &[WriteJob], outlets: &Outlets) -> Vec<Result<Written>> {
            if let Some(entries) = only_enqueues(batch) {
                let written = <$store>::accept_on(conn, &entries).await.map_err(|e| e.to_string());
                return accepted_outcomes(batch, written);
            }
            let together = async {
                let mut tx = <$store>::begin_on(conn).await?;
                let (ids, incidents) = batch.iter().map(|job| alerts_updated(&job.op)).fold(
                    (Vec::new(), Vec::new()),
                    |(mut ids, mut incidents), (i, n)| {
                        ids.extend(i);
                        incidents.extend(n);
                        (ids, incidents)
                    },
                );
                alert_queries::lock_alerts(&mut tx, ids, incidents).await?;
                // Accepted alert events of the whole batch go in with one statement:
                // this is the ingest path, where a statement per request would cost
                // more than the commit.
                let inbox: Vec<_> = batch
                    .iter()
                    .filter_map(|job| match &job.op {
                        WriteOp::Enqueue(entries) => Some(entries.iter()),
                        _ => None,
                    })
                    .flatten()
                    .collect();
                alert_queries::insert_inbox(&mut tx, &inbox).await?;
                // So are the jobs the engine finished: thousands of escalation steps
                // due at once finish in a few statements.
                let finished: Vec<&crate::paging::JobDone> = batch
                    .iter()
                    .filter_map(|job| match &job.op {
                        WriteOp::FinishJob(done) => Some(&**done),
                        _ => None,
                    })
                    .collect();
                // And new alerts with the incidents they open: a storm of new alerts
                // opens thousands of incidents at once.
                let openings: Vec<_> = batch
                    .iter()
                    .filter_map(|job| match &job.op {
                        WriteOp::OpenAlert { alert, incident, inbox } => Some((&**alert, &**incident, *inbox)),
                        _ => None,
                    })
                    .collect();
                let mut opened = alert_queries::insert_alerts(&mut tx, &openings, outlets).await?.into_iter();
                let mut outcomes = Vec::with_capacity(batch.len());
                for job in batch {
                    outcomes.push(match job.op {
                        WriteOp::Enqueue(_) | WriteOp::FinishJob(_) => Written::Nothing,
                        WriteOp::OpenAlert { .. } => {
                            let (id, incident) = opened
                                .next()
                                .ok_or_else(|| StoreError::Other("a new alert of the batch was not written".into()))?;
                            Written::Alert { id, incident }
                        }
                        ref op => apply(&mut tx, op, outlets).await?,
                    });
                }
                paging_queries::apply_finishes(&mut tx, &finished, outlets).await?;
                tx.commit().await?;
                Ok::<_, StoreError>(outcomes)
            };
            match together.await {
                Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
                Err(e) if batch.len() == 1 => vec![Err(e)],
                Err(_) => {
                    let mut outcomes = Vec::with_capacity(batch.len());
                    for job in batch {
                        let alone = async {
                            let mut tx = <$store>::begin_on(&mut *conn).await?;
                            let (ids, incidents) = alerts_updated(&job.op);
                            alert_queries::lock_alerts(&mut tx, ids, incidents).await?;
                            let outcome = apply(&mut tx, &job.op, outlets).await?;
                            tx.commit().await?;
                            Ok(outcome)
                        };
                        outcomes.push(alone.await);
                    }
                    outcomes
                }
            }
        }

        /// The existing alerts `op` updates: alerts by id, and incidents whose change
        /// moves their open alerts along (acknowledged, resolved).
        fn alerts_updated(op: &WriteOp) -> (Vec<i64>, Vec<i64>) {
            let (ids, changes): (Vec<i64>, Vec<&Change>) = match op {
                WriteOp::UpdateAlert { id, incident, .. } => (vec![*id], incident.as_deref().into_iter().collect()),
                WriteOp::Repeats(repeats) => (repeats.iter().map(|r| r.alert_id).collect(), Vec::new()),
                WriteOp::Commit(changes) => (Vec::new(), changes.iter().collect()),
                WriteOp::OpenAlert { incident, .. } => match &**incident {
                    crate::alerts::IncidentWrite::Join(change) => (Vec::new(), vec![change]),
                    _ => (Vec::new(), Vec::new()),
                },
                WriteOp::FinishJob(done) => (Vec::new(), done.changes.iter().collect()),
                _ => (Vec::new(), Vec::new()),
            };
            let incidents = changes
                .into_iter()
                .filter(|c| matches!(c.alerts, Some(s) if s != klaxon_domain::alert::AlertStatus::Triggered))
                .map(|c| c.incident.number.0)
                .collect();
            (ids, incidents)
        }

        /// Each accepted-events job's answer, from whether each entry of the batch was
        /// counted on arrival (in order) or the error that failed the whole batch.
        fn accepted_outcomes(batch: &[WriteJob], written: std::result::Result<Vec<bool>, String>) -> Vec<Result<Written>> {
            let counted = match written {
                Ok(counted) => counted,
                Err(e) => return batch.iter().map(|_| Err(StoreError::Other(e.clone()))).collect(),
            };
            let mut counted = counted.into_iter();
            batch
                .iter()
                .map(|job| {
                    let n = match &job.op {
                        WriteOp::Enqueue(entries) => entries.len(),
                        _ => 0,
                    };
                    Ok(Written::Accepted { counted: counted.by_ref().take(n).filter(|c| *c).count() })
                })
                .collect()
        }

        /// The entries of a batch made only of accepted alert events that fit one
        /// statement: the ingest path's common case, written without a transaction.
        fn only_enqueues(batch: &[WriteJob]) -> Option<Vec<&crate::alerts::InboxEntry>> {
            let mut entries = Vec::new();
            for job in batch {
                match &job.op {
                    WriteOp::Enqueue(e) => entries.extend(e.iter()),
                    _ => return None,
                }
            }
            (entries.len() <= alert_queries::INBOX_ROWS).then_some(entries)
        }
    };
}

pub(crate) use impl_writer;
