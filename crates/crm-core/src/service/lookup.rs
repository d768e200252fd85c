//! The screen pop (CUS-4) and the agent's agenda (TSK-3).
//!
//! The screen pop is the hottest path of the product: the identity lookup and the card's
//! reads go to the store as one call (`CardStore::cards_by_identity`), which an adapter may
//! answer in one round trip.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Crm;
use crate::access::{Actor, Permission};
use crate::case::{CaseNumber, CaseSummary};
use crate::customer::{
    AccountNumber, Customer, CustomerCard, CustomerStatus, EmailAddress, IdentityKey, LookupKey, PhoneNumber,
};
use crate::error::{Error, FieldError, Result};
use crate::ids::{AgentId, CustomerId};
use crate::interaction::InteractionSummary;
use crate::page::PageRequest;
use crate::ports::{CardLimits, CardParts};
use crate::task::{AgendaBucket, Task};

/// How many cards one lookup returns at most (several cards may share a number).
pub const MAX_LOOKUP_MATCHES: u32 = 10;

fn card(customer: Customer, parts: CardParts) -> CustomerCard {
    CustomerCard {
        customer,
        open_cases: parts.open_cases.iter().map(CaseSummary::from).collect(),
        pending_tasks: parts.pending_tasks,
        last_interactions: parts.last_interactions.iter().map(InteractionSummary::from).collect(),
        relations: parts.relations,
        alerts: Vec::new(),
    }
}

/// An agent's tasks by urgency (TSK-3).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Agenda {
    /// Past their time, oldest first.
    pub overdue: Vec<Task>,
    /// Reminder time reached, soonest first.
    pub due: Vec<Task>,
    /// Later, soonest first.
    pub upcoming: Vec<Task>,
    /// The cursor of the agenda's next page (the tasks scheduled after this page's);
    /// `null` on the last page.
    #[serde(default)]
    pub next: Option<String>,
}

impl Crm {
    /// Looks customers up by phone (any written form), email, account number or case number
    /// and returns their cards, most recently contacted first (CUS-4). No match is an empty
    /// list; tombstones are followed to the card they were merged into.
    ///
    /// # Errors
    /// Forbidden without `customer.read`; a value that cannot be a phone, email, account or
    /// case number (naming that field).
    /// Each card carries the alerts the tenant's rules raise (GUI-2; nothing more is read
    /// when the tenant has no rules).
    pub async fn lookup(&self, actor: &Actor, key: &LookupKey) -> Result<Vec<CustomerCard>> {
        let mut cards = self.lookup_cards(actor, key).await?;
        self.attach_alerts(actor, &mut cards, None).await?;
        Ok(cards)
    }

    /// The cards of a lookup, without alerts.
    pub(super) async fn lookup_cards(&self, actor: &Actor, key: &LookupKey) -> Result<Vec<CustomerCard>> {
        actor.require(Permission::CustomerRead)?;
        let customers: Vec<Customer> = match key {
            LookupKey::Phone(raw) => return self.phone_cards(actor, raw).await,
            LookupKey::Email(raw) => {
                let email = EmailAddress::parse(raw)?;
                return self.identity_cards(actor, &IdentityKey::email(&email)).await;
            }
            LookupKey::Account(raw) => {
                let account = AccountNumber::parse(raw)?;
                match self.store.find_by_account(actor.tenant, &account).await? {
                    Some(c) => vec![self.follow_tombstone(actor, c).await?],
                    None => Vec::new(),
                }
            }
            LookupKey::CaseNumber(raw) => {
                let number: CaseNumber = raw.parse()?;
                match self.store.get_case_by_number(actor.tenant, number).await? {
                    Some(case) if case.visible_to(actor) => {
                        let c = self.load_customer(actor, case.customer()).await?;
                        vec![self.follow_tombstone(actor, c).await?]
                    }
                    _ => Vec::new(),
                }
            }
        };
        let cards = customers.into_iter().map(|c| self.card_of(actor, c));
        futures::future::try_join_all(cards).await
    }

    /// The card of one customer.
    ///
    /// # Errors
    /// Forbidden without `customer.read`; `NotFound`.
    pub async fn customer_card(&self, actor: &Actor, id: CustomerId) -> Result<CustomerCard> {
        actor.require(Permission::CustomerRead)?;
        let customer = self.load_customer(actor, id).await?;
        let customer = self.follow_tombstone(actor, customer).await?;
        self.card_of(actor, customer).await
    }

    /// The card a tombstone redirects to (at most a few hops; merges can chain).
    async fn follow_tombstone(&self, actor: &Actor, mut customer: Customer) -> Result<Customer> {
        for _ in 0..8 {
            match *customer.status() {
                CustomerStatus::Active => return Ok(customer),
                CustomerStatus::Merged { into, .. } => customer = self.load_customer(actor, into).await?,
            }
        }
        Err(Error::invalid("customer", "merge chain too long"))
    }

    async fn card_of(&self, actor: &Actor, customer: Customer) -> Result<CustomerCard> {
        let parts = self.store.card_parts(actor.tenant, customer.id, &actor.private_scope(), CardLimits::CARD).await?;
        Ok(card(customer, parts))
    }

    /// The screen pop by a written phone number.
    ///
    /// Telephony sends the caller's number in E.164 (`+33612345678`), the very form the
    /// store keeps. Such a number is looked up as written first: a stored key equal to it
    /// was made by [`PhoneNumber::parse`] from a valid number, and parsing a valid number's
    /// E.164 form gives that form back (or, for a few numbers of shared country codes that
    /// the `phonenumber` crate judges by the default region, refuses it; ADR 0009), never
    /// another number: the hit is what parsing first would have found.
    /// The parse against the numbering plan (regular expressions, a tenth of a screen
    /// pop's time) then runs only when nothing matched: it reads other written forms, and
    /// refuses what is not a number.
    async fn phone_cards(&self, actor: &Actor, raw: &str) -> Result<Vec<CustomerCard>> {
        let written = raw.trim();
        let as_written = PhoneNumber::is_e164_shaped(written).then(|| IdentityKey::phone_as_written(written));
        if let Some(key) = &as_written {
            let cards = self.identity_cards(actor, key).await?;
            if !cards.is_empty() {
                return Ok(cards);
            }
        }
        let tenant = self.tenant(actor.tenant).await?;
        let key = IdentityKey::phone(&PhoneNumber::parse(raw, Some(tenant.default_region))?);
        if as_written.as_ref() == Some(&key) {
            // Already looked up: no match.
            return Ok(Vec::new());
        }
        self.identity_cards(actor, &key).await
    }

    /// The cards of the live customers holding an identity key (the phone and email screen
    /// pops), read together.
    async fn identity_cards(&self, actor: &Actor, key: &IdentityKey) -> Result<Vec<CustomerCard>> {
        let scope = actor.private_scope();
        let found =
            self.store.cards_by_identity(actor.tenant, key, MAX_LOOKUP_MATCHES, &scope, CardLimits::CARD).await?;
        Ok(found.into_iter().map(|(customer, parts)| card(customer, parts)).collect())
    }

    /// One page of an agent's planned tasks, soonest first, sorted into overdue, due and
    /// upcoming (TSK-3); `next` walks the rest, so no task is ever cut off. Agents see
    /// their own agenda; seeing another's needs `case.assign` (supervisors).
    ///
    /// # Errors
    /// Forbidden; `until` in the past; a bad cursor.
    pub async fn agenda(
        &self,
        actor: &Actor,
        agent: Option<AgentId>,
        until: Option<DateTime<Utc>>,
        page: &PageRequest,
    ) -> Result<Agenda> {
        let agent = agent.unwrap_or(actor.agent);
        if agent != actor.agent {
            actor.require(Permission::CaseAssign)?;
        }
        if until.is_some_and(|u| u < self.clock.now()) {
            return Err(FieldError::new("until", "must not be in the past").into());
        }
        let now = self.clock.now();
        let tasks = self.store.planned_tasks_of_agent(actor.tenant, agent, until, page).await?;
        let mut agenda = Agenda { next: tasks.next.map(|c| c.as_str().to_owned()), ..Agenda::default() };
        for task in tasks.items {
            match task.agenda_bucket(now) {
                Some(AgendaBucket::Overdue) => agenda.overdue.push(task),
                Some(AgendaBucket::Due) => agenda.due.push(task),
                Some(AgendaBucket::Upcoming) => agenda.upcoming.push(task),
                None => {}
            }
        }
        Ok(agenda)
    }
}
