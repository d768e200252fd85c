//! Alerts pushed live during an interaction (GUI-2): a change that moves an alert fact of a
//! customer (a case opened, changed, closed or past its SLA, a task, the customer's fields,
//! a call-list outcome) gives every agent in an open interaction with that customer the
//! interaction's alerts again, on the live feed as `alerts`, evaluated as the screen pop
//! evaluates them. Part of the notification round: nothing is read for a tenant without
//! alert rules, and one customer is evaluated once per round whatever its changes.

use std::collections::BTreeSet;

use serde::Serialize;

use super::Crm;
use crate::alert::Alert;
use crate::error::Result;
use crate::event::{DomainEvent, EventKind};
use crate::ids::{CustomerId, InteractionId, TenantId};
use crate::live::NewLiveEvent;
use crate::page::PageRequest;

/// The live event's name.
pub const LIVE_ALERTS: &str = "alerts";

/// Interactions of a customer looked at (newest first): the open ones are the recent ones.
const RECENT_INTERACTIONS: u32 = 20;

/// The payload of an `alerts` live event: an open interaction's alerts now.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveAlerts {
    /// The interaction the agent handles.
    pub interaction: InteractionId,
    /// Its customer.
    pub customer: CustomerId,
    /// The alerts that hold now (possibly none: the last one cleared).
    pub alerts: Vec<Alert>,
}

impl Crm {
    /// The `alerts` live events that `events` call for.
    ///
    /// # Errors
    /// Store failures.
    pub(super) async fn live_alerts(&self, events: &[&DomainEvent]) -> Result<Vec<NewLiveEvent>> {
        let mut customers = BTreeSet::new();
        for event in events {
            if self.compiled_alert_rules(event.tenant).await?.is_none() {
                continue;
            }
            if let Some(customer) = self.fact_customer(event).await? {
                customers.insert((event.tenant, customer));
            }
        }
        let mut live = Vec::new();
        for (tenant, customer) in customers {
            live.extend(self.alerts_of_open_interactions(tenant, customer).await?);
        }
        Ok(live)
    }

    /// The customer whose alert facts `event` may have moved.
    async fn fact_customer(&self, event: &DomainEvent) -> Result<Option<CustomerId>> {
        let tenant = event.tenant;
        Ok(match &event.kind {
            EventKind::CustomerUpdated { customer, .. }
            | EventKind::CaseCreated { customer, .. }
            | EventKind::OutboundOutcomeRecorded { customer, .. } => Some(*customer),
            EventKind::CaseUpdated { case, .. }
            | EventKind::CaseDeleted { case }
            | EventKind::CaseRestored { case }
            | EventKind::SlaBreached { case, .. } => {
                let found = match self.store.get_case(tenant, *case).await? {
                    Some(c) => Some(c),
                    None => self.store.get_deleted_case(tenant, *case).await?,
                };
                found.map(|c| c.customer())
            }
            EventKind::TaskCreated { task, .. } | EventKind::TaskUpdated { task, .. } => {
                self.store.get_task(tenant, *task).await?.map(|t| t.customer())
            }
            _ => None,
        })
    }

    /// The alerts of each open interaction of `customer` that has an agent.
    async fn alerts_of_open_interactions(&self, tenant: TenantId, customer: CustomerId) -> Result<Vec<NewLiveEvent>> {
        let Some(rules) = self.compiled_alert_rules(tenant).await? else { return Ok(Vec::new()) };
        let page = PageRequest { limit: RECENT_INTERACTIONS, after: None };
        let open: Vec<_> = self
            .store
            .interactions_of_customer(tenant, customer, &page)
            .await?
            .items
            .into_iter()
            .filter(|i| !i.state().is_terminal() && i.agent().is_some())
            .collect();
        if open.is_empty() {
            return Ok(Vec::new());
        }
        let Some(card) = self.store.get_customer(tenant, customer).await?.filter(|c| !c.is_merged()) else {
            return Ok(Vec::new());
        };
        let mut live = Vec::with_capacity(open.len());
        for interaction in open {
            let context = Some((interaction.channel, interaction.direction));
            let facts = self.customer_facts(tenant, &card, context).await?;
            let payload = LiveAlerts { interaction: interaction.id, customer, alerts: rules.evaluate(&facts) };
            let payload = super::live::to_json(&payload)?;
            if let Some(agent) = interaction.agent() {
                live.push(NewLiveEvent { tenant, agent, name: LIVE_ALERTS.to_owned(), payload });
            }
        }
        Ok(live)
    }
}
