//! The messages of a conversation (CUS-8): a chat, SMS, social or mail thread is one
//! interaction that receives messages over time; its transcript is their list.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Direction, Interaction};
use crate::error::{FieldError, TransitionError, ValidationErrors, Validator};
use crate::ids::{AgentId, InteractionId, MessageId, TenantId};
use crate::text::{bounded_text, required_text};

/// The longest message body.
pub const MAX_MESSAGE_BODY: usize = 20_000;
/// The most attachments a message refers to.
pub const MAX_ATTACHMENTS: usize = 20;

/// A reference to an attachment kept elsewhere (a media store, the channel's own URL).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AttachmentRef {
    /// Where it is (a URL or the media store's key), 1 to 2,000 characters.
    pub reference: String,
    /// Its file name.
    #[serde(default)]
    pub name: Option<String>,
    /// Its media type (`image/png`).
    #[serde(default)]
    pub media_type: Option<String>,
}

/// A message of a conversation, as stored and listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InteractionMessage {
    /// Its id.
    pub id: MessageId,
    /// Its tenant.
    pub tenant: TenantId,
    /// The conversation.
    pub interaction: InteractionId,
    /// From the contact (inbound) or to them (outbound).
    pub direction: Direction,
    /// Who wrote it, as the channel names them (a handle, a name, an agent's name).
    pub author: Option<String>,
    /// The agent who sent it (outbound messages).
    pub agent: Option<AgentId>,
    /// Text.
    pub body: String,
    /// Attachments it refers to.
    pub attachments: Vec<AttachmentRef>,
    /// When it was recorded (the store's clock, not the sender's).
    pub at: DateTime<Utc>,
}

impl InteractionMessage {
    /// Its folded text for history searches (INT-5).
    pub fn search_text(&self) -> String {
        super::search_text(std::iter::once(self.body.as_str()).chain(self.author.as_deref()))
    }
}

/// What a caller sends to add a message to a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// From the contact (inbound) or to them (outbound).
    pub direction: Direction,
    /// Who wrote it, as the channel names them (at most 200 characters).
    #[serde(default)]
    pub author: Option<String>,
    /// Text, at most 20,000 characters; may be empty when attachments are given.
    #[serde(default)]
    pub body: String,
    /// Attachments it refers to (at most 20).
    #[serde(default)]
    pub attachments: Vec<AttachmentRef>,
}

impl Interaction {
    /// Whether it takes messages (CUS-8): a digital conversation that is not finished.
    ///
    /// # Errors
    /// A [`FieldError`] on `interaction` for a voice interaction (`Ok(Err)`), a
    /// [`TransitionError`] for a closed or declined one.
    pub fn check_takes_messages(&self) -> Result<Result<(), FieldError>, TransitionError> {
        if self.channel.is_call() {
            return Ok(Err(FieldError::new("interaction", "a voice interaction takes no messages")));
        }
        if self.state().is_terminal() {
            return Err(TransitionError {
                entity: "interaction",
                from: self.state().to_string(),
                to: "message".into(),
                reason: Some("a closed or declined conversation takes no messages".into()),
            });
        }
        Ok(Ok(()))
    }
}

impl NewMessage {
    /// Validates into a message of `interaction`, sent by `agent` when outbound, at `now`.
    ///
    /// # Errors
    /// Every refused value, each naming its field.
    pub fn build(
        self,
        id: MessageId,
        interaction: &Interaction,
        agent: AgentId,
        now: DateTime<Utc>,
    ) -> Result<InteractionMessage, ValidationErrors> {
        let mut v = Validator::new();
        let author = self.author.as_deref().and_then(|a| v.check(required_text("author", a, 200)));
        let body = v.check(bounded_text("body", &self.body, MAX_MESSAGE_BODY));
        if self.body.trim().is_empty() && self.attachments.is_empty() {
            v.push(FieldError::new("body", "must not be empty without attachments"));
        }
        if self.attachments.len() > MAX_ATTACHMENTS {
            v.push(FieldError::new("attachments", format!("at most {MAX_ATTACHMENTS} attachments")));
        }
        for (i, a) in self.attachments.iter().enumerate() {
            let _ = v.check(required_text(&format!("attachments[{i}].reference"), &a.reference, 2_000));
            if let Some(name) = &a.name {
                let _ = v.check(required_text(&format!("attachments[{i}].name"), name, 255));
            }
            if let Some(media) = &a.media_type {
                let _ = v.check(required_text(&format!("attachments[{i}].media_type"), media, 255));
            }
        }
        v.finish()?;
        Ok(InteractionMessage {
            id,
            tenant: interaction.tenant,
            interaction: interaction.id,
            direction: self.direction,
            author,
            agent: (self.direction == Direction::Outbound).then_some(agent),
            body: body.unwrap_or_default(),
            attachments: self.attachments,
            at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use uuid::Uuid;

    use super::*;
    use crate::interaction::{Channel, InteractionAction, NewInteraction};

    fn conversation(channel: Channel) -> Interaction {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
        NewInteraction::new(channel, Direction::Inbound)
            .build(InteractionId::from_uuid(Uuid::from_u128(1)), TenantId::from_uuid(Uuid::from_u128(2)), false, now)
            .unwrap()
    }

    fn message(direction: Direction, body: &str) -> NewMessage {
        NewMessage { direction, author: None, body: body.into(), attachments: Vec::new() }
    }

    #[test]
    fn voice_and_finished_conversations_take_no_messages() {
        assert_eq!(conversation(Channel::Voice).check_takes_messages().unwrap().unwrap_err().field, "interaction");
        let mut chat = conversation(Channel::Chat);
        assert!(chat.check_takes_messages().unwrap().is_ok());
        let agent = AgentId::from_uuid(Uuid::from_u128(7));
        chat.apply(InteractionAction::Decline, agent, chat.offered_at).unwrap();
        assert!(chat.check_takes_messages().is_err());
    }

    #[test]
    fn a_message_needs_a_body_or_an_attachment_and_names_bad_fields() {
        let chat = conversation(Channel::Chat);
        let (id, agent, now) =
            (MessageId::from_uuid(Uuid::from_u128(3)), AgentId::from_uuid(Uuid::from_u128(7)), chat.offered_at);
        let err = message(Direction::Inbound, "  ").build(id, &chat, agent, now).unwrap_err();
        assert_eq!(err.errors()[0].field, "body");
        let long = message(Direction::Inbound, &"x".repeat(MAX_MESSAGE_BODY + 1)).build(id, &chat, agent, now);
        assert_eq!(long.unwrap_err().errors()[0].field, "body");
        let bad_attachment = NewMessage {
            attachments: vec![AttachmentRef { reference: " ".into(), name: None, media_type: None }],
            ..message(Direction::Inbound, "")
        };
        assert_eq!(
            bad_attachment.build(id, &chat, agent, now).unwrap_err().errors()[0].field,
            "attachments[0].reference"
        );
        let outbound = message(Direction::Outbound, "hello").build(id, &chat, agent, now).unwrap();
        assert_eq!((outbound.agent, outbound.body.as_str()), (Some(agent), "hello"));
        let inbound = message(Direction::Inbound, "hi").build(id, &chat, agent, now).unwrap();
        assert_eq!(inbound.agent, None);
    }
}
