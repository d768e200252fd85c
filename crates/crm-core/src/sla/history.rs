//! A case's SLA events from what the store keeps: its field history (status, priority and
//! group changes) and its follow-ups (replies), merged in time order.
//!
//! - Creation: the status, priority, group and custom fields of version 1; the customer's
//!   tier is the case's custom field `tier` when it has one.
//! - A change of `status` (a reopen is a change out of `closed`) or `priority` is that event;
//!   a change of `group` that puts the case under another policy ([`policy_for`]) is a
//!   policy change. Later changes of custom fields do not re-select targets (the clock takes
//!   the facts of creation).
//! - A follow-up sent to the customer by an agent (an outbound mail, a call summary) is an
//!   agent reply; an inbound mail is a customer reply; notes are neither.
//! - A case created with no policy applying takes the first policy its history ever had.
//!
//! Every event is at or after the creation (an older follow-up counts at the creation).

use std::collections::BTreeMap;

use serde_json::Value;

use super::clock::{SlaEvent, SlaEventKind};
use super::config::{SlaPolicyRecord, policy_for};
use crate::case::{Case, CaseHistoryEntry, CaseStatus, Priority};
use crate::follow_up::{FollowUp, FollowUpKind};
use crate::ids::GroupId;

/// The custom field that carries the customer's tier.
pub const TIER_FIELD: &str = "tier";

fn text_of(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

fn parse<T: serde::de::DeserializeOwned>(v: &Value) -> Option<T> {
    serde_json::from_value(v.clone()).ok()
}

/// Whether a follow-up is a reply to the SLA clock (an agent's outbound mail or call
/// summary, or an inbound mail).
pub fn is_reply(f: &FollowUp) -> bool {
    reply_kind(f).is_some()
}

fn reply_kind(f: &FollowUp) -> Option<SlaEventKind> {
    match f.kind {
        FollowUpKind::OutboundEmail | FollowUpKind::CallSummary if f.author.is_some() => {
            Some(SlaEventKind::AgentReplied)
        }
        FollowUpKind::InboundEmail => Some(SlaEventKind::CustomerReplied),
        _ => None,
    }
}

/// The SLA events of `case` from its history (oldest first) and follow-ups; none when no
/// policy of `policies` ever applies to it.
pub fn sla_events(
    case: &Case,
    history: &[CaseHistoryEntry],
    follow_ups: &[FollowUp],
    policies: &[SlaPolicyRecord],
) -> Option<Vec<SlaEvent>> {
    let created = case.created_at;
    let first: Vec<&CaseHistoryEntry> = history.iter().filter(|h| h.version == 1).collect();
    let initial = |field: &str| first.iter().find(|h| h.field == field).map(|h| &h.new);
    let status = initial("status").and_then(parse::<CaseStatus>).unwrap_or(CaseStatus::Open);
    let priority = initial("priority").and_then(parse::<Priority>).unwrap_or_else(|| case.priority());
    let mut group: Option<GroupId> = initial("group").and_then(parse);
    let fields: BTreeMap<String, String> = first
        .iter()
        .filter_map(|h| h.field.strip_prefix("custom.").map(|k| (k.to_owned(), text_of(&h.new))))
        .filter(|(_, v)| v != "null")
        .collect();
    let tier = fields.get(TIER_FIELD).cloned();

    // Field changes after creation, in history order (the history is oldest first).
    let mut changes: Vec<SlaEvent> = Vec::new();
    let mut current = policy_for(policies, group).map(|p| p.name.clone());
    let mut first_policy = current.clone();
    for h in history.iter().filter(|h| h.version > 1) {
        let at = h.at.max(created);
        let kind = match h.field.as_str() {
            "status" => parse(&h.new).map(|status| SlaEventKind::StatusChanged { status }),
            "priority" => parse(&h.new).map(|priority| SlaEventKind::PriorityChanged { priority }),
            "group" => {
                group = parse(&h.new).unwrap_or(None);
                let now = policy_for(policies, group).map(|p| p.name.clone());
                first_policy = first_policy.or_else(|| now.clone());
                match now {
                    Some(name) if Some(&name) != current.as_ref() => {
                        current = Some(name.clone());
                        Some(SlaEventKind::PolicyChanged { policy: name })
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        changes.extend(kind.map(|kind| SlaEvent { at, kind }));
    }
    let policy = first_policy?;
    // Replies, merged after the field changes of the same instant.
    let mut replies: Vec<SlaEvent> =
        follow_ups.iter().filter_map(|f| Some(SlaEvent { at: f.at.max(created), kind: reply_kind(f)? })).collect();
    replies.sort_by_key(|e| e.at);
    let mut events = Vec::with_capacity(1 + changes.len() + replies.len());
    events.push(SlaEvent { at: created, kind: SlaEventKind::Created { policy, status, priority, tier, fields } });
    let (mut a, mut b) = (changes.into_iter().peekable(), replies.into_iter().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if y.at < x.at => b.next(),
            (Some(_), _) => a.next(),
            (None, _) => b.next(),
        };
        match next {
            Some(e) => events.push(e),
            None => break,
        }
    }
    Some(events)
}
