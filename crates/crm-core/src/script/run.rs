//! One run of a published script: the pure state an agent's client advances answer by
//! answer ([`ScriptRun::answer`]), stored with the interaction and resumed from its record
//! after a reconnect ([`ScriptRun::restore`]).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::template;
use super::{MAX_STEPS, MAX_TEXT_CHARS, PublishedScript, Step, answer_field};
use crate::ids::ScriptId;
use crate::rules::{Context, Layered, Value};

/// An answer as the agent gives it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum AnswerValue {
    /// Goes on from a `say` step.
    Continue,
    /// One of a `choice` step's choices.
    Choice(String),
    /// The answer to a `yes_no` step.
    YesNo(bool),
    /// The answer to a `number` step.
    Number(f64),
    /// The answer to a `free_text` step.
    Text(String),
}

impl AnswerValue {
    const fn kind(&self) -> &'static str {
        match self {
            AnswerValue::Continue => "continue",
            AnswerValue::Choice(_) => "choice",
            AnswerValue::YesNo(_) => "yes_no",
            AnswerValue::Number(_) => "number",
            AnswerValue::Text(_) => "text",
        }
    }
}

/// One answer of a run, in the order given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordedAnswer {
    /// The step answered.
    pub step: String,
    /// The answer.
    pub value: AnswerValue,
}

/// Where a run stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", content = "step", rename_all = "snake_case")]
pub enum RunPosition {
    /// Waiting for the agent at this step (a `say` or a question).
    At(String),
    /// Ended at this end step.
    Finished(String),
}

/// Why a run refused an answer or a record.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RunError {
    /// The run pins another version than the script given.
    #[error("the run follows version {run_version} of script {run_script}, not version {version} of {script}")]
    OtherVersion {
        /// The run's script.
        run_script: ScriptId,
        /// The run's version.
        run_version: u32,
        /// The script given.
        script: ScriptId,
        /// The version given.
        version: u32,
    },
    /// The run has ended.
    #[error("the run has ended at step `{end}`")]
    Finished {
        /// Its end step.
        end: String,
    },
    /// The answer is for another step than the one the run waits at (a stale client).
    #[error("the run waits at step `{expected}`, not `{given}`")]
    NotCurrent {
        /// The step waited at.
        expected: String,
        /// The step answered.
        given: String,
    },
    /// The answer's type is not the step's.
    #[error("step `{step}` takes a {expected} answer, not {given}")]
    WrongType {
        /// The step.
        step: String,
        /// What it takes.
        expected: &'static str,
        /// What was given.
        given: &'static str,
    },
    /// The choice is not one of the step's.
    #[error("`{choice}` is not one of the choices of step `{step}`")]
    UnknownChoice {
        /// The step.
        step: String,
        /// The choice given.
        choice: String,
    },
    /// The answer breaks the step's bounds.
    #[error("step `{step}`: {reason}")]
    Refused {
        /// The step.
        step: String,
        /// Why.
        reason: String,
    },
    /// A stored run does not fit its script.
    #[error("the run's record does not fit its script: {0}")]
    Corrupt(String),
}

impl RunError {
    /// The request field an API names for this error: `step` or `value` (`script` for a
    /// version or record that does not fit).
    pub const fn field(&self) -> &'static str {
        match self {
            RunError::NotCurrent { .. } | RunError::Finished { .. } => "step",
            RunError::WrongType { .. } | RunError::UnknownChoice { .. } | RunError::Refused { .. } => "value",
            RunError::OtherVersion { .. } | RunError::Corrupt(_) => "script",
        }
    }
}

/// A run as stored, and as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScriptRunRecord {
    /// The script.
    pub script: ScriptId,
    /// The version the run pins.
    pub version: u32,
    /// The steps passed through, from the start to the current one (branches included).
    pub path: Vec<String>,
    /// The answers given, in order.
    pub answers: Vec<RecordedAnswer>,
    /// Where the run stands.
    pub position: RunPosition,
}

/// The state of one run of a script version. Its fields change only through
/// [`ScriptRun::answer`]; a stored run comes back through [`ScriptRun::restore`].
///
/// ```
/// use crm_core::ids::ScriptId;
/// use crm_core::rules::{EmptyContext, Schema};
/// use crm_core::script::{AnswerValue, RunPosition, ScriptDraft, ScriptRun};
///
/// let draft: ScriptDraft = serde_json::from_str(r#"{"name": "Survey", "start": "q", "steps": [
///     {"type": "yes_no", "id": "q", "text": "Happy?", "yes": "thanks", "no": "sorry"},
///     {"type": "end", "id": "thanks"},
///     {"type": "end", "id": "sorry"}
/// ]}"#).unwrap();
/// let script = draft.publish(ScriptId::from_uuid(uuid::Uuid::nil()), 1, &Schema::new()).unwrap();
/// let mut run = ScriptRun::start(&script, &EmptyContext).unwrap();
/// assert!(run.answer(&script, "q", AnswerValue::Number(3.0), &EmptyContext).is_err());
/// let end = run.answer(&script, "q", AnswerValue::YesNo(false), &EmptyContext).unwrap();
/// assert_eq!(end, RunPosition::Finished("sorry".into()));
/// assert_eq!(run.path(), ["q", "sorry"]);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(into = "ScriptRunRecord")]
pub struct ScriptRun {
    script: ScriptId,
    version: u32,
    path: Vec<String>,
    answers: Vec<RecordedAnswer>,
    position: RunPosition,
}

impl From<ScriptRun> for ScriptRunRecord {
    fn from(r: ScriptRun) -> Self {
        Self { script: r.script, version: r.version, path: r.path, answers: r.answers, position: r.position }
    }
}

impl ScriptRun {
    /// Starts a run at the script's start, through its branches to the first step that
    /// waits for the agent (or an end).
    ///
    /// # Errors
    /// [`RunError::Corrupt`] only if the script's branches loop, which publishing refuses.
    pub fn start(script: &PublishedScript, facts: &dyn Context) -> Result<Self, RunError> {
        let mut run = Self {
            script: script.id(),
            version: script.version(),
            path: vec![script.start().id().to_owned()],
            answers: Vec::new(),
            position: RunPosition::At(script.start().id().to_owned()),
        };
        run.settle(script, facts)?;
        Ok(run)
    }

    /// Rebuilds a stored run, checking that it fits the script version it pins.
    ///
    /// # Errors
    /// [`RunError::OtherVersion`] for another version; [`RunError::Corrupt`] for a path or
    /// an answer naming no step, or a position that is not the path's last step or does not
    /// fit that step.
    pub fn restore(script: &PublishedScript, record: ScriptRunRecord) -> Result<Self, RunError> {
        let run = Self {
            script: record.script,
            version: record.version,
            path: record.path,
            answers: record.answers,
            position: record.position,
        };
        run.check_version(script)?;
        let corrupt = |what: String| Err(RunError::Corrupt(what));
        if let Some(step) =
            run.path.iter().chain(run.answers.iter().map(|a| &a.step)).find(|s| script.step(s).is_none())
        {
            return corrupt(format!("`{step}` is not a step"));
        }
        let (id, finished) = match &run.position {
            RunPosition::At(id) => (id, false),
            RunPosition::Finished(id) => (id, true),
        };
        if run.path.last() != Some(id) {
            return corrupt(format!("the position `{id}` is not the last step of the path"));
        }
        let is_end = matches!(script.step(id), Some(Step::End { .. }));
        let waits = !is_end && !matches!(script.step(id), Some(Step::Branch { .. }));
        if (finished && !is_end) || (!finished && !waits) {
            return corrupt(format!("the run cannot stand at `{id}`"));
        }
        Ok(run)
    }

    /// The script.
    pub fn script(&self) -> ScriptId {
        self.script
    }

    /// The version pinned.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The steps passed through, the current one last.
    pub fn path(&self) -> &[String] {
        &self.path
    }

    /// The answers given, in order.
    pub fn answers(&self) -> &[RecordedAnswer] {
        &self.answers
    }

    /// Where the run stands.
    pub fn position(&self) -> &RunPosition {
        &self.position
    }

    /// The current step's text, its placeholders filled from the facts and the answers.
    pub fn current_text(&self, script: &PublishedScript, facts: &dyn Context) -> String {
        let id = match &self.position {
            RunPosition::At(id) | RunPosition::Finished(id) => id,
        };
        let text = script.step(id).map_or("", Step::text);
        let answers = self.answers_context();
        let ctx = Layered { top: &answers, bottom: facts };
        match template::parse(text) {
            Ok(pieces) => template::render_pieces(&pieces, &ctx),
            Err(_) => text.to_owned(),
        }
    }

    /// Answers the current step and moves on: through any branches, to the next step that
    /// waits for the agent or to an end.
    ///
    /// # Errors
    /// [`RunError::OtherVersion`] for another version of the script than the run's;
    /// [`RunError::Finished`] once ended; [`RunError::NotCurrent`] when `step` is not the
    /// step the run waits at; [`RunError::WrongType`] for an answer of another type than
    /// the step's ([`AnswerValue::Continue`] for a `say`); [`RunError::UnknownChoice`];
    /// [`RunError::Refused`] for a number out of bounds or not finite, or a text too long.
    /// The run is unchanged after an error.
    pub fn answer(
        &mut self,
        script: &PublishedScript,
        step: &str,
        value: AnswerValue,
        facts: &dyn Context,
    ) -> Result<RunPosition, RunError> {
        self.check_version(script)?;
        let current = match &self.position {
            RunPosition::Finished(end) => return Err(RunError::Finished { end: end.clone() }),
            RunPosition::At(id) => id.clone(),
        };
        if current != step {
            return Err(RunError::NotCurrent { expected: current, given: step.to_owned() });
        }
        let at = script.step(&current).ok_or_else(|| RunError::Corrupt(format!("`{current}` is not a step")))?;
        let next = next_step(at, &value)?;
        let mut advanced = self.clone();
        advanced.answers.push(RecordedAnswer { step: current, value });
        advanced.path.push(next.to_owned());
        advanced.settle(script, facts)?;
        *self = advanced;
        Ok(self.position.clone())
    }

    fn check_version(&self, script: &PublishedScript) -> Result<(), RunError> {
        if (self.script, self.version) == (script.id(), script.version()) {
            Ok(())
        } else {
            Err(RunError::OtherVersion {
                run_script: self.script,
                run_version: self.version,
                script: script.id(),
                version: script.version(),
            })
        }
    }

    /// The answers as fields (`answers.<step>`), the latest answer of a step winning.
    fn answers_context(&self) -> HashMap<String, Value> {
        self.answers
            .iter()
            .filter_map(|a| {
                let v = match &a.value {
                    AnswerValue::Continue => return None,
                    AnswerValue::Choice(s) | AnswerValue::Text(s) => Value::Text(s.clone()),
                    AnswerValue::YesNo(b) => Value::Boolean(*b),
                    AnswerValue::Number(n) => Value::Number(*n),
                };
                Some((answer_field(&a.step), v))
            })
            .collect()
    }

    /// From the path's last step, follows branches until a step that waits or an end.
    fn settle(&mut self, script: &PublishedScript, facts: &dyn Context) -> Result<(), RunError> {
        let answers = self.answers_context();
        let ctx = Layered { top: &answers, bottom: facts };
        for _ in 0..=MAX_STEPS {
            let id = self.path.last().cloned().unwrap_or_default();
            let step = script.step(&id).ok_or_else(|| RunError::Corrupt(format!("`{id}` is not a step")))?;
            match step {
                Step::Branch { branches, otherwise, .. } => {
                    let filters = script.branch_filters(&id);
                    let chosen = filters.iter().zip(branches).find(|(f, _)| f.matches(&ctx)).map(|(_, b)| &b.next);
                    self.path.push(chosen.unwrap_or(otherwise).clone());
                }
                Step::End { .. } => {
                    self.position = RunPosition::Finished(id);
                    return Ok(());
                }
                _ => {
                    self.position = RunPosition::At(id);
                    return Ok(());
                }
            }
        }
        Err(RunError::Corrupt("its branches loop without asking anything".to_owned()))
    }
}

/// The step an answer leads to, once the answer is checked against the step.
fn next_step<'a>(step: &'a Step, value: &AnswerValue) -> Result<&'a str, RunError> {
    let wrong = |expected| RunError::WrongType { step: step.id().to_owned(), expected, given: value.kind() };
    let refused = |reason: String| RunError::Refused { step: step.id().to_owned(), reason };
    match (step, value) {
        (Step::Say { next, .. }, AnswerValue::Continue) => Ok(next),
        (Step::Say { .. }, _) => Err(wrong("continue")),
        (Step::Choice { next, .. }, AnswerValue::Choice(choice)) => next
            .get(choice)
            .map(String::as_str)
            .ok_or_else(|| RunError::UnknownChoice { step: step.id().to_owned(), choice: choice.clone() }),
        (Step::Choice { .. }, _) => Err(wrong("choice")),
        (Step::YesNo { yes, no, .. }, AnswerValue::YesNo(b)) => Ok(if *b { yes } else { no }),
        (Step::YesNo { .. }, _) => Err(wrong("yes_no")),
        (Step::Number { min, max, next, .. }, AnswerValue::Number(n)) => {
            if !n.is_finite() {
                Err(refused("the answer is not a finite number".to_owned()))
            } else if let Some(lo) = min.filter(|lo| n < lo) {
                Err(refused(format!("the answer {n} is below the smallest accepted, {lo}")))
            } else if let Some(hi) = max.filter(|hi| n > hi) {
                Err(refused(format!("the answer {n} is above the largest accepted, {hi}")))
            } else {
                Ok(next)
            }
        }
        (Step::Number { .. }, _) => Err(wrong("number")),
        (Step::FreeText { max_chars, next, .. }, AnswerValue::Text(text)) => {
            let limit = max_chars.unwrap_or(MAX_TEXT_CHARS);
            if text.chars().count() > limit {
                Err(refused(format!("an answer holds at most {limit} characters")))
            } else {
                Ok(next)
            }
        }
        (Step::FreeText { .. }, _) => Err(wrong("text")),
        (Step::Branch { .. } | Step::End { .. }, _) => {
            Err(RunError::Corrupt(format!("the run cannot wait at the {} step `{}`", step.kind(), step.id())))
        }
    }
}
