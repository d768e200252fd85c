//! Interactive scripts (GUI-1): supervisors write step-by-step scripts, agents run them
//! during an interaction.
//!
//! A script is a graph of [`Step`]s: `say` (a text, then the next step), questions with
//! typed answers (`choice`, `yes_no`, `number`, `free_text`) whose answer chooses the next
//! step, `branch` (conditions of the [`rules`](crate::rules) language on the facts and the
//! answers so far choose the next step, with an `otherwise`), and `end`. Texts hold
//! placeholders (`{{customer.name}}`, `{{answers.reason}}`, see [`render_text`]).
//!
//! A [`ScriptDraft`] is published into an immutable [`PublishedScript`] version only when
//! [`ScriptDraft::publish`] finds no fault: every step reachable from the start, a way to an
//! end step from every step (no dead end, no cycle without an exit), no loop of branches
//! with no question in between, every choice mapped, every reference and placeholder known,
//! and the limits ([`MAX_STEPS`] …). Otherwise it answers the list of [`ScriptFault`]s, each
//! naming its step.
//!
//! A [`ScriptRun`] is the pure state of one run: it pins the script's version, records the
//! path and the answers, refuses an answer of the wrong type, an unknown choice or an answer
//! to a step that is not the current one, and can be resumed from its record.
//!
//! # JSON form of a draft
//!
//! ```json
//! {"name": "Retention", "start": "greet", "steps": [
//!   {"type": "say", "id": "greet", "text": "Hello {{customer.name}}.", "next": "why"},
//!   {"type": "choice", "id": "why", "text": "Why do you want to leave?",
//!    "choices": ["price", "service"], "next": {"price": "offer", "service": "sorry"}},
//!   {"type": "yes_no", "id": "offer", "text": "Would 20 % off keep you?", "yes": "kept", "no": "sorry"},
//!   {"type": "branch", "id": "sorry",
//!    "branches": [{"when": {"field": "customer.vip", "op": "equals", "value": true}, "next": "vip_end"}],
//!    "otherwise": "lost"},
//!   {"type": "end", "id": "kept", "text": "Thank the customer."},
//!   {"type": "end", "id": "vip_end", "text": "Hand over to the VIP desk."},
//!   {"type": "end", "id": "lost", "text": "Record the cancellation."}
//! ]}
//! ```

mod graph;
mod run;
pub(crate) mod template;
#[cfg(test)]
mod tests;
mod validate;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::rules::{Condition, ValueType};

pub use run::{AnswerValue, RecordedAnswer, RunError, RunPosition, ScriptRun, ScriptRunRecord};
pub use template::{MAX_PLACEHOLDERS, render_text};
pub use validate::{PublishedScript, PublishedScriptRecord, ScriptFault, ScriptFaults};

/// The most steps a script may hold.
pub const MAX_STEPS: usize = 1_000;
/// The largest script document a server reads (16 MiB): room for [`MAX_STEPS`] steps of long
/// texts, so that a script with too many steps is refused naming `steps`, not for its size.
pub const MAX_SCRIPT_BYTES: usize = 16 * 1024 * 1024;
/// The longest text of a step, in characters.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// The most choices of a `choice` question.
pub const MAX_CHOICES: usize = 100;
/// The longest choice, in characters.
pub const MAX_CHOICE_CHARS: usize = 200;
/// The longest name of a script, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest step id, in bytes (letters, digits, `_` and `-`).
pub const MAX_STEP_ID_LEN: usize = 64;

/// A script as a supervisor writes it; checked only when published.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScriptDraft {
    /// Its name (not blank, at most [`MAX_NAME_CHARS`] characters).
    pub name: String,
    /// The id of the first step.
    pub start: String,
    /// The steps, in any order; ids unique.
    pub steps: Vec<Step>,
}

/// One step of a script. Ids are 1 to [`MAX_STEP_ID_LEN`] letters, digits, `_` or `-`; texts
/// at most [`MAX_TEXT_CHARS`] characters, with placeholders.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// The agent reads the text, then goes on to `next`.
    Say {
        /// The step's id.
        id: String,
        /// What the agent says.
        text: String,
        /// The next step.
        next: String,
    },
    /// A question with one answer among `choices`; `next` maps every choice to a step.
    Choice {
        /// The step's id.
        id: String,
        /// The question.
        text: String,
        /// The answers offered (1 to [`MAX_CHOICES`], distinct).
        choices: Vec<String>,
        /// The next step of each choice.
        next: BTreeMap<String, String>,
    },
    /// A yes/no question.
    YesNo {
        /// The step's id.
        id: String,
        /// The question.
        text: String,
        /// The next step after yes.
        yes: String,
        /// The next step after no.
        no: String,
    },
    /// A question answered with a number, optionally bounded.
    Number {
        /// The step's id.
        id: String,
        /// The question.
        text: String,
        /// The smallest answer accepted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        /// The largest answer accepted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
        /// The next step.
        next: String,
    },
    /// A question answered with free text.
    FreeText {
        /// The step's id.
        id: String,
        /// The question.
        text: String,
        /// The longest answer accepted, in characters (1 to [`MAX_TEXT_CHARS`]; that by default).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_chars: Option<usize>,
        /// The next step.
        next: String,
    },
    /// Chooses the next step without asking: the first branch whose condition holds on
    /// the facts and the answers so far (`answers.<step id>`), else `otherwise`.
    Branch {
        /// The step's id.
        id: String,
        /// The branches, tried in order (at least one).
        branches: Vec<BranchArm>,
        /// The next step when no branch holds.
        otherwise: String,
    },
    /// The end of the script.
    End {
        /// The step's id.
        id: String,
        /// What the agent says or does last (may be empty).
        #[serde(default)]
        text: String,
    },
}

/// One branch of a `branch` step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BranchArm {
    /// The condition (on the facts and `answers.<step id>`).
    pub when: Condition,
    /// The next step when it holds.
    pub next: String,
}

impl Step {
    /// The step's id.
    pub fn id(&self) -> &str {
        match self {
            Step::Say { id, .. }
            | Step::Choice { id, .. }
            | Step::YesNo { id, .. }
            | Step::Number { id, .. }
            | Step::FreeText { id, .. }
            | Step::Branch { id, .. }
            | Step::End { id, .. } => id,
        }
    }

    /// The step's text (empty for a branch).
    pub fn text(&self) -> &str {
        match self {
            Step::Say { text, .. }
            | Step::Choice { text, .. }
            | Step::YesNo { text, .. }
            | Step::Number { text, .. }
            | Step::FreeText { text, .. }
            | Step::End { text, .. } => text,
            Step::Branch { .. } => "",
        }
    }

    /// The step's wire type name.
    pub const fn kind(&self) -> &'static str {
        match self {
            Step::Say { .. } => "say",
            Step::Choice { .. } => "choice",
            Step::YesNo { .. } => "yes_no",
            Step::Number { .. } => "number",
            Step::FreeText { .. } => "free_text",
            Step::Branch { .. } => "branch",
            Step::End { .. } => "end",
        }
    }

    /// The type of the step's answer as branch conditions read it (`answers.<id>`), for
    /// questions.
    pub const fn answer_type(&self) -> Option<ValueType> {
        match self {
            Step::Choice { .. } | Step::FreeText { .. } => Some(ValueType::Text),
            Step::YesNo { .. } => Some(ValueType::Boolean),
            Step::Number { .. } => Some(ValueType::Number),
            Step::Say { .. } | Step::Branch { .. } | Step::End { .. } => None,
        }
    }

    /// The steps this one may lead to, with the path of each reference in the step
    /// (`next`, `next.price`, `yes`, `branches[0].next`, `otherwise`).
    pub fn successors(&self) -> Vec<(String, &str)> {
        match self {
            Step::Say { next, .. } | Step::Number { next, .. } | Step::FreeText { next, .. } => {
                vec![("next".to_owned(), next.as_str())]
            }
            Step::Choice { next, .. } => {
                next.iter().map(|(choice, to)| (format!("next.{choice}"), to.as_str())).collect()
            }
            Step::YesNo { yes, no, .. } => vec![("yes".to_owned(), yes.as_str()), ("no".to_owned(), no.as_str())],
            Step::Branch { branches, otherwise, .. } => branches
                .iter()
                .enumerate()
                .map(|(i, b)| (format!("branches[{i}].next"), b.next.as_str()))
                .chain([("otherwise".to_owned(), otherwise.as_str())])
                .collect(),
            Step::End { .. } => Vec::new(),
        }
    }
}

/// The name of the field a branch condition or a placeholder reads a step's answer from.
pub fn answer_field(step_id: &str) -> String {
    format!("answers.{step_id}")
}
