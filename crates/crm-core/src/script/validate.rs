//! Publishing a script: every check of [`ScriptDraft::publish`], and the immutable
//! [`PublishedScript`] it yields.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::graph::{on_cycle, reachable_from, reaching};
use super::template;
use super::{
    MAX_CHOICE_CHARS, MAX_CHOICES, MAX_NAME_CHARS, MAX_STEP_ID_LEN, MAX_STEPS, MAX_TEXT_CHARS, ScriptDraft, Step,
    answer_field,
};
use crate::error::{FieldError, ValidationErrors};
use crate::ids::ScriptId;
use crate::rules::{Filter, Schema};
use crate::text::required_text;

/// One reason a draft cannot be published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScriptFault {
    /// The step at fault, by id, when the fault is a step's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Where in the draft (`steps[3].next.price`, `start`, `name`).
    pub path: String,
    /// Why, in lower case, without a trailing period.
    pub reason: String,
}

impl fmt::Display for ScriptFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.step {
            Some(step) => write!(f, "step `{step}` ({}): {}", self.path, self.reason),
            None => write!(f, "{}: {}", self.path, self.reason),
        }
    }
}

/// Every fault of a draft, in the order of the draft; never empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScriptFaults(pub Vec<ScriptFault>);

impl fmt::Display for ScriptFaults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, fault) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{fault}")?;
        }
        Ok(())
    }
}

/// As field errors (the path as the field, the step named in the reason), for a 422.
impl From<ScriptFaults> for ValidationErrors {
    fn from(faults: ScriptFaults) -> Self {
        let errors = faults
            .0
            .into_iter()
            .map(|f| match f.step {
                Some(step) => FieldError::new(f.path, format!("step `{step}`: {}", f.reason)),
                None => FieldError::new(f.path, f.reason),
            })
            .collect();
        ValidationErrors::from_vec(errors).unwrap_or_else(|| FieldError::new("steps", "the script is not valid").into())
    }
}

/// A published version of a script: checked, immutable (no method changes it), and
/// identified by its script and version number, which a run pins.
#[derive(Clone, Debug, Serialize)]
#[serde(into = "PublishedScriptRecord")]
pub struct PublishedScript {
    id: ScriptId,
    version: u32,
    draft: ScriptDraft,
    index: HashMap<String, usize>,
    /// The compiled conditions of each `branch` step (empty for the other steps).
    filters: Vec<Vec<Filter>>,
}

/// A published script as stored: the draft it was published from, its id and version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublishedScriptRecord {
    /// The script.
    pub id: ScriptId,
    /// The version, from 1.
    pub version: u32,
    /// What was published.
    pub draft: ScriptDraft,
}

impl From<PublishedScript> for PublishedScriptRecord {
    fn from(s: PublishedScript) -> Self {
        Self { id: s.id, version: s.version, draft: s.draft }
    }
}

impl PublishedScript {
    /// Rebuilds a stored version, checking it again against today's facts (a custom field
    /// its placeholders or branches read may have gone since).
    ///
    /// # Errors
    /// The [`ScriptFaults`] of [`ScriptDraft::publish`].
    pub fn restore(record: PublishedScriptRecord, facts: &Schema) -> Result<Self, ScriptFaults> {
        record.draft.publish(record.id, record.version, facts)
    }

    /// The script.
    pub fn id(&self) -> ScriptId {
        self.id
    }

    /// The version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.draft.name
    }

    /// What was published.
    pub fn draft(&self) -> &ScriptDraft {
        &self.draft
    }

    /// The first step.
    pub fn start(&self) -> &Step {
        &self.draft.steps[self.index[&self.draft.start]]
    }

    /// A step by id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.index.get(id).map(|&i| &self.draft.steps[i])
    }

    /// The compiled conditions of a `branch` step, in order.
    pub(super) fn branch_filters(&self, id: &str) -> &[Filter] {
        self.index.get(id).map_or(&[], |&i| self.filters[i].as_slice())
    }
}

impl ScriptDraft {
    /// Checks the draft and publishes it as version `version` of script `id`. `facts` is
    /// what the runs' context offers (customer and case fields) to placeholders and branch
    /// conditions; the answers (`answers.<step id>`, typed by their question) are added.
    ///
    /// # Errors
    /// [`ScriptFaults`], each naming its step and path: more than [`MAX_STEPS`] steps (alone:
    /// nothing else is checked then) or none; a blank name; an ill-formed or repeated step
    /// id; an unknown start; a text too long, with a malformed or unknown placeholder; a
    /// reference to no step; a `choice` with no, too many, blank, too long or repeated
    /// choices, a choice not mapped to a step or a mapping of no choice; bounds of a
    /// `number` that cross or are not finite; a `free_text` limit out of range; a `branch`
    /// with no branch or a condition [`Condition::compile`](crate::rules::Condition::compile)
    /// refuses; a step not reachable from the start; a step from which no end step can be
    /// reached (a dead end, or a cycle without an exit); a loop of branches with no question
    /// in between.
    pub fn publish(&self, id: ScriptId, version: u32, facts: &Schema) -> Result<PublishedScript, ScriptFaults> {
        let mut faults = Faults::default();
        if self.steps.len() > MAX_STEPS {
            let reason = format!("a script holds at most {MAX_STEPS} steps; this one has {}", self.steps.len());
            faults.push(None, "steps".to_owned(), reason);
            return Err(ScriptFaults(faults.0));
        }
        if self.steps.is_empty() {
            faults.push(None, "steps".to_owned(), "a script needs at least one step".to_owned());
        }
        if let Err(e) = required_text("name", &self.name, MAX_NAME_CHARS) {
            faults.push(None, e.field, e.reason);
        }
        let mut index = HashMap::new();
        for (i, step) in self.steps.iter().enumerate() {
            let id = step.id();
            if !valid_step_id(id) {
                let reason = format!("an id is 1 to {MAX_STEP_ID_LEN} letters, digits, `_` or `-`");
                faults.push(Some(id), format!("steps[{i}].id"), reason);
            }
            if let Some(first) = index.insert(id.to_owned(), i) {
                index.insert(id.to_owned(), first);
                faults.push(Some(id), format!("steps[{i}].id"), format!("the id is already that of steps[{first}]"));
            }
        }
        if !index.contains_key(&self.start) {
            faults.push(None, "start".to_owned(), format!("`{}` is not a step", self.start));
        }
        let mut schema = facts.clone();
        for step in &self.steps {
            if let Some(ty) = step.answer_type() {
                schema.insert(answer_field(step.id()), ty);
            }
        }
        let mut filters = Vec::with_capacity(self.steps.len());
        for (i, step) in self.steps.iter().enumerate() {
            filters.push(check_step(step, &format!("steps[{i}]"), &index, &schema, &mut faults));
        }
        if let Some(&start) = index.get(&self.start) {
            self.check_graph(start, &index, &mut faults);
        }
        if !faults.0.is_empty() {
            return Err(ScriptFaults(faults.0));
        }
        Ok(PublishedScript { id, version, draft: self.clone(), index, filters })
    }

    fn check_graph(&self, start: usize, index: &HashMap<String, usize>, faults: &mut Faults) {
        let adj: Vec<Vec<usize>> = self
            .steps
            .iter()
            .map(|s| s.successors().into_iter().filter_map(|(_, to)| index.get(to).copied()).collect())
            .collect();
        let reached = reachable_from(start, &adj);
        let ends: Vec<bool> = self.steps.iter().map(|s| matches!(s, Step::End { .. })).collect();
        let can_end = reaching(&ends, &adj);
        let stuck: Vec<bool> = (0..adj.len()).map(|i| reached[i] && !can_end[i]).collect();
        let cycling = on_cycle(&adj, &stuck);
        let branches: Vec<bool> = self.steps.iter().map(|s| matches!(s, Step::Branch { .. })).collect();
        let branch_loops = on_cycle(&adj, &branches);
        for (i, step) in self.steps.iter().enumerate() {
            let (id, path) = (Some(step.id()), format!("steps[{i}]"));
            if index.get(step.id()) != Some(&i) {
                continue; // a repeated id, already reported
            }
            if !reached[i] {
                faults.push(id, path, format!("is not reachable from the start `{}`", self.start));
            } else if cycling[i] {
                faults.push(id, path, "is on a cycle without an exit: no path from it reaches an end step".to_owned());
            } else if stuck[i] {
                faults.push(id, path, "is a dead end: no path from it reaches an end step".to_owned());
            } else if branch_loops[i] {
                let reason = "loops through branches only: a run would go round without asking anything";
                faults.push(id, path, reason.to_owned());
            }
        }
    }
}

#[derive(Default)]
struct Faults(Vec<ScriptFault>);

impl Faults {
    fn push(&mut self, step: Option<&str>, path: String, reason: String) {
        self.0.push(ScriptFault { step: step.map(str::to_owned), path, reason });
    }
}

/// A step id: 1 to [`MAX_STEP_ID_LEN`] ASCII letters, digits, `_` or `-`.
fn valid_step_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_STEP_ID_LEN
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
}

/// Checks one step's own rules; returns its compiled branch conditions.
fn check_step(
    step: &Step,
    path: &str,
    index: &HashMap<String, usize>,
    schema: &Schema,
    faults: &mut Faults,
) -> Vec<Filter> {
    let id = Some(step.id());
    let at = |part: &str| format!("{path}.{part}");
    let text = step.text();
    if text.chars().count() > MAX_TEXT_CHARS {
        faults.push(id, at("text"), format!("a text holds at most {MAX_TEXT_CHARS} characters"));
    } else {
        match template::unknown_placeholders(text, schema) {
            Ok(unknown) => {
                for name in unknown {
                    faults.push(id, at("text"), format!("unknown placeholder `{name}`"));
                }
            }
            Err(reason) => faults.push(id, at("text"), reason),
        }
    }
    for (part, to) in step.successors() {
        if !index.contains_key(to) {
            faults.push(id, at(&part), format!("`{to}` is not a step"));
        }
    }
    let mut filters = Vec::new();
    match step {
        Step::Choice { choices, next, .. } => {
            if choices.is_empty() || choices.len() > MAX_CHOICES {
                faults.push(id, at("choices"), format!("a question offers 1 to {MAX_CHOICES} choices"));
            }
            let mut seen = BTreeSet::new();
            for (j, choice) in choices.iter().enumerate() {
                if choice.trim().is_empty() || choice.chars().count() > MAX_CHOICE_CHARS {
                    let reason = format!("a choice is 1 to {MAX_CHOICE_CHARS} characters, not blank");
                    faults.push(id, at(&format!("choices[{j}]")), reason);
                } else if !seen.insert(choice.as_str()) {
                    faults.push(id, at(&format!("choices[{j}]")), format!("the choice `{choice}` is offered twice"));
                } else if !next.contains_key(choice) {
                    let reason = format!("the choice `{choice}` leads nowhere: map it to a step in `next`");
                    faults.push(id, at("next"), reason);
                }
            }
            for key in next.keys().filter(|k| !choices.contains(k)) {
                faults.push(id, at(&format!("next.{key}")), format!("`{key}` is not one of the choices"));
            }
        }
        Step::Number { min, max, .. } => {
            if min.is_some_and(|m| !m.is_finite()) || max.is_some_and(|m| !m.is_finite()) {
                faults.push(id, at("min"), "bounds are finite numbers".to_owned());
            } else if let (Some(lo), Some(hi)) = (min, max)
                && lo > hi
            {
                faults.push(id, at("min"), format!("the smallest answer {lo} is above the largest {hi}"));
            }
        }
        Step::FreeText { max_chars: Some(n), .. } if *n == 0 || *n > MAX_TEXT_CHARS => {
            faults.push(id, at("max_chars"), format!("an answer's limit is 1 to {MAX_TEXT_CHARS} characters"));
        }
        Step::Branch { branches, .. } => {
            if branches.is_empty() {
                faults.push(id, at("branches"), "a branch step needs at least one branch".to_owned());
            }
            for (j, arm) in branches.iter().enumerate() {
                match arm.when.compile(schema) {
                    Ok(filter) => filters.push(filter),
                    Err(errors) => {
                        for e in errors.errors() {
                            let rest = e.field.strip_prefix("condition").unwrap_or(&e.field);
                            faults.push(id, at(&format!("branches[{j}].when{rest}")), e.reason.clone());
                        }
                    }
                }
            }
        }
        Step::Say { .. } | Step::YesNo { .. } | Step::FreeText { .. } | Step::End { .. } => {}
    }
    filters
}
