//! Strategies for interactions: `NewInteraction`, sequences of [`InteractionStep`]s (state
//! actions, notes, dispositions, link and unlink of local and external records) and whole
//! `Interaction` values.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use crm_core::error::{FieldError, TransitionError};
use crm_core::external::{ActivityPush, ExternalObject, ExternalRef, ExternalSystem};
use crm_core::ids::{AgentId, CaseId, CustomerId, InteractionId, NoteId, TenantId};
use crm_core::interaction::{
    Channel, Direction, Interaction, InteractionAction, LinkTarget, NewInteraction, TranscriptMessage,
};
use proptest::prelude::*;
use uuid::Uuid;

use super::{id, instant, words_text};

/// One thing that can happen to an interaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InteractionStep {
    /// A state-machine action.
    Act(InteractionAction),
    /// A note by the handling agent.
    Note(String),
    /// A disposition code.
    Dispose(String),
    /// Link a record.
    Link(LinkTarget),
    /// Unlink a record.
    Unlink(LinkTarget),
    /// Time passes (seconds), so talk time and durations move.
    Wait(u32),
}

/// Why a step was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepError {
    /// The state machine refused it.
    Transition(TransitionError),
    /// A value was refused (an empty note).
    Field(FieldError),
}

impl InteractionStep {
    /// Plays the step on `interaction` at `*now` by `agent` (a `Wait` moves `*now`),
    /// returning the activity pushes it triggered (INT-6). A refused step leaves the
    /// interaction unchanged.
    ///
    /// # Errors
    /// What the interaction refused.
    pub fn apply(
        &self,
        interaction: &mut Interaction,
        agent: AgentId,
        now: &mut DateTime<Utc>,
    ) -> Result<Vec<ActivityPush>, StepError> {
        match self {
            InteractionStep::Act(action) => interaction.apply(*action, agent, *now).map_err(StepError::Transition),
            InteractionStep::Note(text) => {
                let note = NoteId::from_uuid(Uuid::from_u128(interaction.notes().len() as u128 + 1));
                interaction.add_note(note, agent, text, *now).map(|_| Vec::new()).map_err(StepError::Field)
            }
            InteractionStep::Dispose(code) => {
                interaction.set_disposition(code.clone()).map(|()| Vec::new()).map_err(StepError::Transition)
            }
            InteractionStep::Link(target) => {
                interaction.link(target.clone(), agent, *now).map(|_| Vec::new()).map_err(StepError::Transition)
            }
            InteractionStep::Unlink(target) => {
                interaction.unlink(target);
                Ok(Vec::new())
            }
            InteractionStep::Wait(seconds) => {
                *now += Duration::seconds(i64::from(*seconds));
                Ok(Vec::new())
            }
        }
    }
}

/// A valid `NewInteraction`, for `customer` when given.
pub fn new_interaction(customer: Option<CustomerId>) -> impl Strategy<Value = NewInteraction> {
    let context = prop::collection::btree_map("[a-z][a-z_]{0,9}", "[A-Za-z0-9 ]{0,20}", 0..4);
    let transcript = prop::collection::vec(
        (instant(), prop::sample::select(&["customer", "agent", "bot"][..]), words_text(6))
            .prop_map(|(at, from, text)| TranscriptMessage { at, from: from.into(), text }),
        0..3,
    );
    (
        prop::sample::select(Channel::ALL),
        prop::sample::select(&[Direction::Inbound, Direction::Outbound][..]),
        prop::option::of("\\+33[1-7][0-9]{8}"),
        prop::option::of(super::person_name()),
        prop::option::of(id::<AgentId>()),
        prop::option::of("[a-z]{3,10}"),
        context,
        transcript,
        prop::option::of(id::<AgentId>()),
    )
        .prop_map(
            move |(channel, direction, address, contact_name, agent, queue, context, transcript, internal)| {
                NewInteraction {
                    channel,
                    direction,
                    customer,
                    address,
                    contact_name,
                    // One call in ten is internal (another agent).
                    internal_agent: internal.filter(|a| a.as_uuid().as_u128() % 10 == 0),
                    agent,
                    queue,
                    context: context.into_iter().collect::<BTreeMap<_, _>>(),
                    transcript: if channel.is_call() { Vec::new() } else { transcript },
                }
            },
        )
}

fn link_targets() -> impl Strategy<Value = Vec<LinkTarget>> {
    (id::<CustomerId>(), id::<CaseId>(), "[0-9A-Za-z]{6,18}", "[0-9a-f]{8}").prop_map(|(customer, case, sf, dyn_id)| {
        vec![
            LinkTarget::Customer { id: customer },
            LinkTarget::Case { id: case },
            LinkTarget::External {
                reference: ExternalRef { system: ExternalSystem::Salesforce, object: ExternalObject::Contact, id: sf },
            },
            LinkTarget::External {
                reference: ExternalRef { system: ExternalSystem::Dynamics, object: ExternalObject::Case, id: dyn_id },
            },
        ]
    })
}

/// Sequences of at most `max` steps over a small pool of link targets, so the same records
/// get linked, unlinked and linked again; actions follow the state machine's vocabulary
/// (some are refused in the state they come in, as in real life).
pub fn interaction_steps(max: usize) -> impl Strategy<Value = Vec<InteractionStep>> {
    link_targets().prop_flat_map(move |targets| {
        let target = prop::sample::select(targets);
        let action = prop_oneof![
            3 => Just(InteractionAction::Accept),
            1 => Just(InteractionAction::Decline),
            1 => Just(InteractionAction::Abandon),
            1 => Just(InteractionAction::Hold),
            2 => Just(InteractionAction::Resume),
            1 => Just(InteractionAction::Consult),
            1 => Just(InteractionAction::Conference),
            1 => prop::option::of(id::<AgentId>()).prop_map(|to| InteractionAction::Transfer { to }),
            1 => Just(InteractionAction::Unassign),
            2 => Just(InteractionAction::End),
            2 => Just(InteractionAction::CompleteWrapUp),
        ];
        let step = prop_oneof![
            6 => action.prop_map(InteractionStep::Act),
            2 => words_text(8).prop_map(InteractionStep::Note),
            1 => prop::sample::select(&["resolved", "callback", "sale", "no_answer"][..])
                .prop_map(|c| InteractionStep::Dispose(c.into())),
            3 => target.clone().prop_map(InteractionStep::Link),
            2 => target.prop_map(InteractionStep::Unlink),
            2 => (1u32..600).prop_map(InteractionStep::Wait),
        ];
        prop::collection::vec(step, 0..=max)
    })
}

/// A whole interaction: built by [`NewInteraction::build`], then played through a random
/// step sequence (refused steps skipped; the version counts the changes).
pub fn interaction() -> impl Strategy<Value = Interaction> {
    (
        prop::option::of(id::<CustomerId>()),
        id::<InteractionId>(),
        id::<TenantId>(),
        id::<AgentId>(),
        any::<bool>(),
        instant(),
    )
        .prop_flat_map(|(customer, id, tenant, agent, required, now)| {
            (new_interaction(customer), interaction_steps(12), Just((id, tenant, agent, required, now)))
        })
        .prop_map(|(input, steps, (id, tenant, agent, required, start))| {
            let mut interaction = input.build(id, tenant, required, start).expect("generated interactions are valid");
            let mut now = start;
            for step in steps {
                // A refused step changes nothing; an applied one bumps the version itself.
                let _ = step.apply(&mut interaction, agent, &mut now);
            }
            interaction
        })
}
