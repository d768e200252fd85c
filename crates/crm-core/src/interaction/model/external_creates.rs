//! Creates in external CRMs asked for during an interaction (INT-7): asked for (a pending
//! entry, its key fixed), then linked once the remote record exists, or refused.

use chrono::{DateTime, Utc};

use super::{Interaction, LinkTarget};
use crate::error::TransitionError;
use crate::external::{ActivityPush, ExternalCreate, ExternalRef, ExternalSystem, PendingExternalCreate};
use crate::ids::AgentId;
use crate::interaction::InteractionState;

impl Interaction {
    /// Asks for `request` to be created in `system`, as one change: returns its key
    /// ([`ExternalCreate::key`]), ranked after every record of that kind and system this
    /// interaction already links or asked for (refused ones included), so no two requests
    /// ever share a key.
    ///
    /// # Errors
    /// [`TransitionError`] on a declined interaction.
    pub fn request_external_create(
        &mut self,
        system: ExternalSystem,
        request: &ExternalCreate,
        by: AgentId,
        at: DateTime<Utc>,
    ) -> Result<String, TransitionError> {
        if self.state == InteractionState::Declined {
            return Err(self.refuse("link", Some("a declined interaction cannot be linked")));
        }
        let object = request.object();
        let linked = self
            .links
            .iter()
            .filter(|l| {
                matches!(&l.target, LinkTarget::External { reference }
                    if reference.system == system && reference.object == object)
            })
            .count();
        let asked = self.external_creates.iter().filter(|p| p.system == system && p.object == object).count();
        let key = request.key(self.id, 1 + linked + asked);
        self.external_creates.push(PendingExternalCreate {
            key: key.clone(),
            system,
            object,
            requested_by: by,
            requested_at: at,
            refused: None,
        });
        self.next_version();
        Ok(key)
    }

    /// The remote record of the create keyed `key` exists: the request becomes a link to
    /// `reference`, as one change. When the call's wrap-up is already done, the activity the
    /// wrap-up pushes to linked records is returned for this one too (INT-6), since the
    /// wrap-up's push could not know it. Returns `None` when nothing changed (the request was
    /// already linked, or is unknown and `reference` already linked).
    pub fn complete_external_create(
        &mut self,
        key: &str,
        reference: ExternalRef,
        by: AgentId,
        at: DateTime<Utc>,
    ) -> Option<Option<ActivityPush>> {
        let before = self.external_creates.len();
        self.external_creates.retain(|p| p.key != key);
        let asked = before != self.external_creates.len();
        let target = LinkTarget::External { reference: reference.clone() };
        let linked = !self.links.iter().any(|l| l.target == target);
        if linked {
            self.links.push(super::InteractionLink { target, linked_by: by, linked_at: at });
        }
        if !asked && !linked {
            return None;
        }
        self.next_version();
        if !linked || !self.channel.is_call() || self.wrap_up_done_at.is_none() {
            return Some(None);
        }
        if self.pushes == 0 {
            self.pushes = 1;
        }
        let push_key = if self.pushes == 1 { self.id.to_string() } else { format!("{}-{}", self.id, self.pushes) };
        Some(Some(self.activity(reference, &push_key, at)))
    }

    /// The remote refused the create keyed `key`: it stays listed with `reason`, as one
    /// change. Returns whether it changed (an unknown key or the same reason change
    /// nothing).
    pub fn refuse_external_create(&mut self, key: &str, reason: &str) -> bool {
        let Some(pending) = self.external_creates.iter_mut().find(|p| p.key == key) else {
            return false;
        };
        if pending.refused.as_deref() == Some(reason) {
            return false;
        }
        pending.refused = Some(reason.to_owned());
        self.next_version();
        true
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::external::{ExternalObject, ExternalPerson};
    use crate::ids::{InteractionId, TenantId};
    use crate::interaction::{Channel, Direction, InteractionAction, NewInteraction};

    fn at(min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 9, min, 0).single().expect("a valid instant")
    }

    /// A call offered to `agent`.
    fn offered(agent: AgentId) -> Interaction {
        let input = NewInteraction {
            channel: Channel::Voice,
            direction: Direction::Inbound,
            customer: None,
            address: Some("+33198765432".into()),
            contact_name: Some("Jane Doe".into()),
            internal_agent: None,
            agent: Some(agent),
            queue: None,
            context: Default::default(),
            transcript: Vec::new(),
        };
        let id = InteractionId::from_uuid(uuid::Uuid::from_u128(9));
        input.build(id, TenantId::from_uuid(uuid::Uuid::from_u128(1)), false, at(0)).expect("a valid interaction")
    }

    /// A call `agent` accepted.
    fn call(agent: AgentId) -> Interaction {
        let mut i = offered(agent);
        i.apply(InteractionAction::Accept, agent, at(1)).expect("accepted");
        i
    }

    fn contact() -> ExternalCreate {
        ExternalCreate::Contact(ExternalPerson { last_name: "Doe".into(), ..Default::default() })
    }

    fn reference(id: &str) -> ExternalRef {
        ExternalRef { system: ExternalSystem::Salesforce, object: ExternalObject::Contact, id: id.into() }
    }

    #[test]
    fn keys_rank_after_links_and_every_request_refused_ones_included() {
        let agent = AgentId::from_uuid(uuid::Uuid::from_u128(2));
        let mut i = call(agent);
        let v = i.version();
        let first = i.request_external_create(ExternalSystem::Salesforce, &contact(), agent, at(2)).expect("asked");
        assert!(first.ends_with("-contact-1"), "{first}");
        assert_eq!(i.version(), v + 1);
        let second = i.request_external_create(ExternalSystem::Salesforce, &contact(), agent, at(2)).expect("asked");
        assert!(second.ends_with("-contact-2"), "{second}");
        assert!(i.refuse_external_create(&second, "REQUIRED_FIELD_MISSING"));
        assert!(!i.refuse_external_create(&second, "REQUIRED_FIELD_MISSING"), "the same reason changes nothing");
        assert_eq!(i.complete_external_create(&first, reference("003A"), agent, at(3)), Some(None));
        let third = i.request_external_create(ExternalSystem::Salesforce, &contact(), agent, at(4)).expect("asked");
        assert!(third.ends_with("-contact-3"), "one link and one refusal come before it: {third}");
        let other = i.request_external_create(ExternalSystem::Dynamics, &contact(), agent, at(4)).expect("asked");
        assert!(other.ends_with("-contact-1"), "another system counts on its own: {other}");
        assert_eq!(i.external_creates().len(), 3);
        assert_eq!(i.external_creates()[0].refused.as_deref(), Some("REQUIRED_FIELD_MISSING"));
    }

    #[test]
    fn completing_links_once_and_a_finished_call_pushes_its_activity_to_the_late_link() {
        let agent = AgentId::from_uuid(uuid::Uuid::from_u128(2));
        let mut i = call(agent);
        let key = i.request_external_create(ExternalSystem::Salesforce, &contact(), agent, at(2)).expect("asked");
        i.apply(InteractionAction::End, agent, at(5)).expect("ended");
        let pushes = i.apply(InteractionAction::CompleteWrapUp, agent, at(6)).expect("wrapped up");
        assert!(pushes.is_empty(), "nothing was linked at wrap-up");
        let v = i.version();
        let push = i.complete_external_create(&key, reference("003A"), agent, at(7)).expect("changed");
        let push = push.expect("the finished call's activity goes to the late link");
        assert_eq!(push.target, reference("003A"));
        assert_eq!(push.external_key, format!("{}@salesforce:003A", i.id));
        assert_eq!(i.version(), v + 1);
        assert!(i.external_creates().is_empty());
        assert_eq!(i.links().len(), 1);
        assert_eq!(i.complete_external_create(&key, reference("003A"), agent, at(8)), None, "done once");
    }

    #[test]
    fn a_declined_interaction_asks_for_nothing() {
        let agent = AgentId::from_uuid(uuid::Uuid::from_u128(2));
        let mut i = offered(agent);
        i.apply(InteractionAction::Decline, agent, at(1)).expect("declined");
        assert!(i.request_external_create(ExternalSystem::Salesforce, &contact(), agent, at(2)).is_err());
        assert!(i.external_creates().is_empty());
    }
}
