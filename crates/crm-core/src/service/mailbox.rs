//! Mailboxes polled for mail in (CAS-8, EML-1; ADR 0039): [`Crm::poll_mailbox`] reads the
//! messages of a [`MailboxSource`] above the saved position and hands each to
//! [`Crm::receive_mail`], the same use case as the inbound hook; the `imap` worker
//! ([`Crm::mailbox_worker`]) runs it per account, backing off while the server fails.
//!
//! Delivery is at least once: the position ([`MailboxPosition`]) advances only after a
//! message is stored (or refused for good), so a crash between the two fetches the message
//! again, and `receive_mail`'s idempotency by `Message-ID` makes the second delivery a
//! duplicate that writes nothing. A new UIDVALIDITY (the mailbox was rebuilt) restarts
//! from the first UID; every message then already stored is such a duplicate.
//!
//! A message that keeps failing to store for a reason other than an unavailable database
//! (a poison message: say, bytes the database refuses) would block its mailbox for good:
//! after [`MailboxSettings::pass_over_after`] failed attempts in a row the worker passes
//! over it, reporting its UID and the last error as dead. It stays in the mailbox (the
//! poller never deletes), so it can be sent to the inbound hook once the cause is fixed.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;

use super::Crm;
use super::workers::{RoundReport, Worker};
use crate::access::Actor;
use crate::error::{Error, Result, StoreError};
use crate::ids::{AgentId, TenantId};
use crate::ports::{MailboxError, MailboxPosition, MailboxSession, MailboxSource};

/// The tunables of a mailbox's poller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailboxSettings {
    /// How long to wait after a poll that read everything.
    pub poll_interval: Duration,
    /// Messages fetched per poll at most (the next poll goes at once when more wait).
    pub batch: u32,
    /// The wait after the first failed poll; doubled after each further failure.
    pub retry_base: Duration,
    /// The longest wait between failed polls.
    pub retry_max: Duration,
    /// Failed attempts in a row at storing the same message (the database being
    /// unavailable does not count) after which the worker passes over it.
    pub pass_over_after: u32,
}

impl Default for MailboxSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(60),
            batch: 50,
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(15 * 60),
            pass_over_after: 5,
        }
    }
}

impl MailboxSettings {
    /// The wait after `failures` polls failed in a row (none: the poll interval).
    ///
    /// ```
    /// use std::time::Duration;
    /// use crm_core::service::MailboxSettings;
    ///
    /// let s = MailboxSettings::default();
    /// assert_eq!(s.wait_after(0), s.poll_interval);
    /// assert_eq!(s.wait_after(1), Duration::from_secs(5));
    /// assert_eq!(s.wait_after(3), Duration::from_secs(20));
    /// assert_eq!(s.wait_after(40), s.retry_max);
    /// ```
    pub fn wait_after(&self, failures: u32) -> Duration {
        if failures == 0 {
            return self.poll_interval;
        }
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(30));
        self.retry_base.saturating_mul(factor).min(self.retry_max)
    }
}

/// What one poll of a mailbox did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MailboxPoll {
    /// Messages fetched.
    pub fetched: u32,
    /// Stored as new mails.
    pub stored: u32,
    /// Already stored (a redelivery: same `Message-ID`), written nothing.
    pub duplicates: u32,
    /// Refused for good by [`Crm::receive_mail`] (not a mail, too large, no case and the
    /// rules make none): passed over, with why.
    pub dropped: Vec<(u32, String)>,
    /// The UIDVALIDITY changed since the saved position: the poll started from the first UID.
    pub restarted: bool,
    /// More messages wait above this poll's batch.
    pub more: bool,
}

/// Why a poll stopped. The saved position stays at the last message handled.
#[derive(Debug, thiserror::Error)]
pub enum MailboxPollError {
    /// The mailbox could not be read.
    #[error(transparent)]
    Mailbox(#[from] MailboxError),
    /// The agent the poller acts as cannot receive mail.
    #[error("agent {agent}: {reason}")]
    Agent {
        /// The agent configured.
        agent: AgentId,
        /// Why it cannot act.
        reason: String,
    },
    /// Storing a message failed (it is fetched again at the next poll).
    #[error("message uid {uid}: {}", crate::error::with_sources(.error))]
    Message {
        /// The message's UID.
        uid: u32,
        /// Why.
        error: Error,
    },
    /// Reading or saving the position failed.
    #[error("{}", crate::error::with_sources(.0))]
    Crm(#[from] Error),
}

/// A message the next poll passes over instead of receiving, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PassOver {
    uid: u32,
    why: String,
}

impl Crm {
    /// One poll of a tenant's mailbox, acting as `agent` (whose role needs `mail.inbound`
    /// and `case.edit`, as for the inbound hook): opens a session, reads up to `batch`
    /// messages above the saved position, oldest first, receives each and saves the position
    /// after each one stored, duplicated or refused for good.
    ///
    /// # Errors
    /// The mailbox's failures ([`MailboxError`]), an agent that is missing, inactive or
    /// lacks a permission, and storage failures; the messages handled before the failure
    /// stay handled (the position was saved after each).
    pub async fn poll_mailbox(
        &self,
        source: &dyn MailboxSource,
        tenant: TenantId,
        agent: AgentId,
        batch: u32,
    ) -> std::result::Result<MailboxPoll, MailboxPollError> {
        self.poll_passing_over(source, tenant, agent, batch, None).await
    }

    async fn poll_passing_over(
        &self,
        source: &dyn MailboxSource,
        tenant: TenantId,
        agent: AgentId,
        batch: u32,
        pass_over: Option<&PassOver>,
    ) -> std::result::Result<MailboxPoll, MailboxPollError> {
        let actor = self.mailbox_actor(tenant, agent).await?;
        let mut session = source.open().await?;
        let polled = self.poll_session(&actor, source.account(), &mut *session, batch, pass_over).await;
        session.close().await;
        polled
    }

    /// The actor of the poller's agent: active, with the permissions of the inbound hook.
    async fn mailbox_actor(&self, tenant: TenantId, agent: AgentId) -> std::result::Result<Actor, MailboxPollError> {
        let refused = |reason: &str| MailboxPollError::Agent { agent, reason: reason.to_owned() };
        let Some(found) = self.store.get_agent(tenant, agent).await.map_err(Error::from)? else {
            return Err(refused("is not an agent of the tenant"));
        };
        if !found.active {
            return Err(refused("is not active"));
        }
        let role = self.agent_role(&found).await?;
        let actor = Actor::for_agent_with(&found, role.as_ref());
        for needed in [crate::access::Permission::MailInbound, crate::access::Permission::CaseEdit] {
            if actor.require(needed).is_err() {
                return Err(refused(&format!("its role lacks the permission {}", needed.as_str())));
            }
        }
        Ok(actor)
    }

    async fn poll_session(
        &self,
        actor: &Actor,
        account: &str,
        session: &mut dyn MailboxSession,
        batch: u32,
        pass_over: Option<&PassOver>,
    ) -> std::result::Result<MailboxPoll, MailboxPollError> {
        let validity = session.uid_validity();
        let saved = self.store.mailbox_position(actor.tenant, account).await.map_err(Error::from)?;
        let mut poll = MailboxPoll::default();
        let after = match saved {
            Some(p) if p.uid_validity == validity => p.last_uid,
            Some(_) => {
                poll.restarted = true;
                self.save_position(actor.tenant, account, validity, 0).await?;
                0
            }
            None => 0,
        };
        let uids: Vec<u32> = session.uids_after(after).await?.into_iter().filter(|uid| *uid > after).collect();
        let limit = usize::try_from(batch.max(1)).unwrap_or(usize::MAX);
        poll.more = uids.len() > limit;
        for uid in uids.into_iter().take(limit) {
            if let Some(p) = pass_over.filter(|p| p.uid == uid) {
                poll.dropped.push((uid, p.why.clone()));
            } else if let Some(raw) = session.fetch(uid).await? {
                poll.fetched += 1;
                match self.receive_mail(actor, &raw).await {
                    Ok(received) if received.duplicate => poll.duplicates += 1,
                    Ok(_) => poll.stored += 1,
                    // The message is at fault, not the moment: it will never be taken.
                    Err(e @ (Error::Validation(_) | Error::TooLarge { .. })) => {
                        poll.dropped.push((uid, crate::error::with_sources(&e)))
                    }
                    Err(error) => return Err(MailboxPollError::Message { uid, error }),
                }
            }
            self.save_position(actor.tenant, account, validity, uid).await?;
        }
        Ok(poll)
    }

    async fn save_position(&self, tenant: TenantId, account: &str, uid_validity: u32, last_uid: u32) -> Result<()> {
        let position = MailboxPosition { uid_validity, last_uid };
        Ok(self.store.save_mailbox_position(tenant, account, position, self.clock.now()).await?)
    }

    /// The `imap` worker of one mailbox: [`Crm::poll_mailbox`] rounds acting as `agent`,
    /// every [`MailboxSettings::poll_interval`], at once while more messages wait, and
    /// after a failure with a wait doubled from [`MailboxSettings::retry_base`] (the
    /// round's report says why, naming the account, and when the next try is).
    pub fn mailbox_worker(
        &self,
        source: Arc<dyn MailboxSource>,
        tenant: TenantId,
        agent: AgentId,
        settings: MailboxSettings,
    ) -> Arc<dyn Worker> {
        Arc::new(MailboxWorker {
            crm: self.clone(),
            source,
            tenant,
            agent,
            settings,
            failures: AtomicU32::new(0),
            stuck: Mutex::new(None),
        })
    }
}

struct MailboxWorker {
    crm: Crm,
    source: Arc<dyn MailboxSource>,
    tenant: TenantId,
    agent: AgentId,
    settings: MailboxSettings,
    /// Polls failed in a row.
    failures: AtomicU32,
    /// The message the last polls failed to store: its UID, the attempts in a row, the
    /// last error.
    stuck: Mutex<Option<(u32, u32, String)>>,
}

impl MailboxWorker {
    /// The message to pass over in this round, when it failed often enough.
    fn pass_over(&self) -> Option<PassOver> {
        let stuck = self.stuck.lock().unwrap_or_else(PoisonError::into_inner);
        stuck.as_ref().filter(|(_, attempts, _)| *attempts >= self.settings.pass_over_after.max(1)).map(
            |(uid, attempts, error)| PassOver {
                uid: *uid,
                why: format!("passed over after {attempts} failed attempts to store it: {error}"),
            },
        )
    }

    /// Counts a failure of the poll against the message it names, if it is the message's
    /// fault (not the database being unavailable).
    fn note_failure(&self, error: &MailboxPollError) {
        let mut stuck = self.stuck.lock().unwrap_or_else(PoisonError::into_inner);
        match error {
            MailboxPollError::Message { uid, error } if !matches!(error, Error::Store(StoreError::Unavailable(_))) => {
                let attempts = match stuck.as_ref() {
                    Some((same, n, _)) if same == uid => n.saturating_add(1),
                    _ => 1,
                };
                *stuck = Some((*uid, attempts, crate::error::with_sources(error)));
            }
            _ => {}
        }
    }
}

impl fmt::Debug for MailboxWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailboxWorker").field("account", &self.source.account()).finish_non_exhaustive()
    }
}

#[async_trait]
impl Worker for MailboxWorker {
    fn name(&self) -> &'static str {
        "imap"
    }

    fn idle_interval(&self) -> Duration {
        self.settings.wait_after(self.failures.load(Ordering::Relaxed))
    }

    async fn round(&self) -> Result<RoundReport> {
        let account = self.source.account();
        let pass_over = self.pass_over();
        let polled = self
            .crm
            .poll_passing_over(&*self.source, self.tenant, self.agent, self.settings.batch, pass_over.as_ref())
            .await;
        match polled {
            Ok(poll) => {
                self.failures.store(0, Ordering::Relaxed);
                if pass_over.is_some() {
                    *self.stuck.lock().unwrap_or_else(PoisonError::into_inner) = None;
                }
                let dropped = u32::try_from(poll.dropped.len()).unwrap_or(u32::MAX);
                let failure = (!poll.dropped.is_empty()).then(|| {
                    let each: Vec<String> = poll.dropped.iter().map(|(uid, why)| format!("uid {uid}: {why}")).collect();
                    format!("imap account {account}: message(s) refused and passed over: {}", each.join("; "))
                });
                Ok(RoundReport {
                    claimed: poll.fetched,
                    done: poll.stored + poll.duplicates,
                    retried: 0,
                    dead: dropped,
                    more: poll.more,
                    failure,
                })
            }
            Err(e) => {
                self.note_failure(&e);
                let failures = self.failures.fetch_add(1, Ordering::Relaxed).saturating_add(1);
                let wait = self.settings.wait_after(failures);
                Ok(RoundReport {
                    retried: 1,
                    failure: Some(format!(
                        "imap account {account}: {e} (failure {failures} in a row; next try in {} s)",
                        wait.as_secs()
                    )),
                    ..RoundReport::default()
                })
            }
        }
    }
}
