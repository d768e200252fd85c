//! A contact's history filtered by channel and text (INT-5), and the summary an interaction
//! leaves on the local cases it is linked to (INT-6).

use chrono::{DateTime, Utc};

use super::{Channel, Interaction, LinkTarget, action_pushes};
use crate::case::Visibility;
use crate::error::FieldError;
use crate::follow_up::{FollowUp, FollowUpKind};
use crate::ids::{CaseId, FollowUpId};
use crate::interaction::InteractionAction;
use crate::text::words;

/// The longest text query of a history search.
pub const MAX_HISTORY_QUERY: usize = 200;

/// Text folded for searching: lower case, accents removed, every run of other characters one
/// space, with a space at both ends, so a folded query is found as a substring
/// (`"Zoë: refund!"` → `" zoe refund "`).
pub fn search_text<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::from(" ");
    for part in parts {
        for word in words(part) {
            out.push_str(&word);
            out.push(' ');
        }
    }
    out
}

/// Which of a contact's interactions a history shows (INT-5): [`InteractionFilter::matches`]
/// is the reference every store implements.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InteractionFilter {
    /// Only this channel.
    pub channel: Option<Channel>,
    /// Only interactions whose notes, contact, context, disposition, transcript or messages
    /// hold this text: folded words joined by one space (see [`search_text`]).
    text: Option<String>,
}

impl InteractionFilter {
    /// A filter on `channel` and the text `query` (folded as [`search_text`] folds).
    ///
    /// # Errors
    /// A [`FieldError`] on `q` when the query is longer than [`MAX_HISTORY_QUERY`] or holds no
    /// letter or digit.
    pub fn new(channel: Option<Channel>, query: Option<&str>) -> Result<Self, FieldError> {
        let text = match query {
            None => None,
            Some(q) if q.chars().count() > MAX_HISTORY_QUERY => {
                return Err(FieldError::new("q", format!("must be at most {MAX_HISTORY_QUERY} characters")));
            }
            Some(q) => {
                let folded = words(q).join(" ");
                if folded.is_empty() {
                    return Err(FieldError::new("q", "must hold a letter or a digit"));
                }
                Some(folded)
            }
        };
        Ok(Self { channel, text })
    }

    /// The folded text query, if any: a store finds it as a substring of the folded texts.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// Whether `interaction`, whose messages' folded texts are `messages`, passes.
    pub fn matches<'a>(&self, interaction: &Interaction, mut messages: impl Iterator<Item = &'a str>) -> bool {
        if self.channel.is_some_and(|c| c != interaction.channel) {
            return false;
        }
        match &self.text {
            None => true,
            Some(text) => {
                interaction.search_text().contains(text.as_str()) || messages.any(|m| m.contains(text.as_str()))
            }
        }
    }
}

impl Interaction {
    /// The folded text a history search looks into (INT-5): the contact's name and address,
    /// the context values, the disposition, the transcript and the notes. Messages received
    /// later are searched on their own ([`crate::interaction::InteractionMessage::search_text`]).
    pub fn search_text(&self) -> String {
        let counterpart = match self.counterpart() {
            super::Counterpart::Contact { address, name } => [address.as_deref(), name.as_deref()],
            super::Counterpart::Agent { .. } => [None, None],
        };
        search_text(
            counterpart
                .into_iter()
                .flatten()
                .chain(self.context().values().map(String::as_str))
                .chain(self.disposition())
                .chain(self.transcript().iter().map(|m| m.text.as_str()))
                .chain(self.notes().iter().map(|n| n.text.as_str())),
        )
    }

    /// The local cases it is linked to, in link order.
    pub fn linked_cases(&self) -> Vec<CaseId> {
        self.links()
            .iter()
            .filter_map(|l| match l.target {
                LinkTarget::Case { id } => Some(id),
                _ => None,
            })
            .collect()
    }

    /// The summary it leaves on its linked local cases after `action` (INT-6: a call after
    /// wrap-up, a digital interaction after transfer or unassign), as of `now`: channel,
    /// direction, duration, disposition and notes.
    pub fn summary(&self, now: DateTime<Utc>) -> String {
        let kind = if self.channel.is_call() { "Call" } else { "Conversation" };
        let end = self.ended_at().unwrap_or(now);
        let secs = (end - self.offered_at).num_seconds().max(0);
        let mut out = format!(
            "{kind} summary\nchannel: {}\ndirection: {}\nduration: {}m {:02}s\ndisposition: {}",
            self.channel,
            self.direction.as_str(),
            secs / 60,
            secs % 60,
            self.disposition().unwrap_or("none"),
        );
        if let super::Counterpart::Contact { name: Some(name), .. } = self.counterpart() {
            out.push_str(&format!("\ncontact: {name}"));
        }
        let notes: Vec<&str> = self.notes().iter().map(|n| n.text.as_str()).collect();
        if !notes.is_empty() {
            out.push_str("\nnotes:\n");
            out.push_str(&notes.join("\n\n"));
        }
        // A follow-up body is bounded; a summary of very long notes is cut, never refused.
        out.chars().take(crate::follow_up::MAX_FOLLOW_UP_BODY).collect()
    }

    /// The follow-ups `action` (just applied, at `now`) adds to the linked local cases
    /// (INT-6), one per case of `cases` (the linked cases that still exist), with ids from
    /// `ids`; none when the action does not push.
    pub fn summary_follow_ups(
        &self,
        action: InteractionAction,
        cases: &[CaseId],
        mut ids: impl FnMut() -> FollowUpId,
        now: DateTime<Utc>,
    ) -> Vec<FollowUp> {
        if !action_pushes(self.channel, action) || cases.is_empty() {
            return Vec::new();
        }
        let body = self.summary(now);
        cases
            .iter()
            .map(|case| FollowUp {
                id: ids(),
                tenant: self.tenant,
                case: *case,
                kind: FollowUpKind::CallSummary,
                author: self.agent(),
                at: now,
                body: body.clone(),
                visibility: Visibility::Internal,
                interaction: Some(self.id),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use uuid::Uuid;

    use super::*;
    use crate::ids::{AgentId, InteractionId, NoteId, TenantId};
    use crate::interaction::{Direction, NewInteraction};

    fn call() -> Interaction {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
        NewInteraction {
            contact_name: Some("Zoë Martin".into()),
            ..NewInteraction::new(Channel::Voice, Direction::Inbound)
        }
        .build(InteractionId::from_uuid(Uuid::from_u128(1)), TenantId::from_uuid(Uuid::from_u128(2)), false, now)
        .unwrap()
    }

    #[test]
    fn search_text_folds_case_accents_and_punctuation() {
        assert_eq!(search_text(["Zoë: REFUND!", "d'Arcy"]), " zoe refund d arcy ");
        let filter = InteractionFilter::new(None, Some("ZOE  martin")).unwrap();
        assert!(filter.matches(&call(), std::iter::empty()));
        let other = InteractionFilter::new(None, Some("refund")).unwrap();
        assert!(!other.matches(&call(), std::iter::empty()));
        assert!(other.matches(&call(), [" asked for a refund "].into_iter()), "a message's text counts");
        let chat = InteractionFilter::new(Some(Channel::Chat), None).unwrap();
        assert!(!chat.matches(&call(), std::iter::empty()));
    }

    #[test]
    fn a_query_without_letters_or_digits_is_refused_naming_q() {
        assert_eq!(InteractionFilter::new(None, Some(" !? ")).unwrap_err().field, "q");
        assert_eq!(InteractionFilter::new(None, Some(&"a".repeat(201))).unwrap_err().field, "q");
    }

    #[test]
    fn a_call_leaves_its_summary_on_linked_cases_only_after_wrap_up() {
        let agent = AgentId::from_uuid(Uuid::from_u128(7));
        let mut inter = call();
        let t = inter.offered_at;
        inter.apply(InteractionAction::Accept, agent, t).unwrap();
        inter.add_note(NoteId::from_uuid(Uuid::from_u128(9)), agent, "wants a refund", t).unwrap();
        inter.apply(InteractionAction::End, agent, t + chrono::Duration::seconds(125)).unwrap();
        let case = CaseId::from_uuid(Uuid::from_u128(5));
        let mut n = 0u128;
        let mut ids = || {
            n += 1;
            FollowUpId::from_uuid(Uuid::from_u128(100 + n))
        };
        assert!(inter.summary_follow_ups(InteractionAction::End, &[case], &mut ids, t).is_empty());
        let done = t + chrono::Duration::seconds(200);
        inter.apply(InteractionAction::CompleteWrapUp, agent, done).unwrap();
        let follow_ups = inter.summary_follow_ups(InteractionAction::CompleteWrapUp, &[case], &mut ids, done);
        assert_eq!(follow_ups.len(), 1);
        let f = &follow_ups[0];
        assert_eq!(
            (f.case, f.kind, f.interaction, f.author),
            (case, FollowUpKind::CallSummary, Some(inter.id), Some(agent))
        );
        assert!(f.body.contains("channel: voice") && f.body.contains("duration: 2m 05s"), "{}", f.body);
        assert!(f.body.contains("disposition: none") && f.body.contains("wants a refund"), "{}", f.body);
    }
}
