//! Interactive scripts (GUI-1): supervisors write drafts and publish immutable versions;
//! agents run a version during an interaction, answer by answer, and resume after a
//! reconnect. The run (path and answers) is stored with the interaction; its end is an
//! event written with the last answer.

use std::collections::HashMap;

use super::Crm;
use super::alerts::InteractionContext;
use crate::access::{Actor, Permission};
use crate::error::{Error, FieldError, Result};
use crate::event::EventKind;
use crate::guidance::{
    MAX_RUNS_PER_INTERACTION, MAX_SCRIPTS, NewScriptRun, Script, ScriptAnswer, ScriptRunView, ScriptVersion,
    StoredScriptRun,
};
use crate::ids::{CallListEntryId, CallListId, InteractionId, ScriptId, ScriptRunId};
use crate::interaction::Interaction;
use crate::page::{Page, PageRequest};
use crate::rules::{Schema, Value, ValueType};
use crate::script::{MAX_NAME_CHARS, MAX_STEPS, PublishedScript, RunError, RunPosition, ScriptDraft, ScriptRun};
use crate::text::required_text;
use crate::time::next_id;

/// The checks a draft meets to be saved (publishing checks everything else): a name, and
/// at most [`MAX_STEPS`] steps.
fn check_draft(draft: &ScriptDraft) -> Result<()> {
    required_text("name", &draft.name, MAX_NAME_CHARS)?;
    if draft.steps.len() > MAX_STEPS {
        return Err(Error::invalid(
            "steps",
            format!("a script holds at most {MAX_STEPS} steps, this one has {}", draft.steps.len()),
        ));
    }
    Ok(())
}

/// The schema script texts and branches read: the alert facts and the customer's name and
/// account number.
fn script_schema(mut facts: Schema) -> Schema {
    facts.insert("customer.name", ValueType::Text);
    facts.insert("customer.account_number", ValueType::Text);
    facts
}

/// A run refused: a 422 naming the request field (`step`, `value`) or `script`.
fn run_error(e: RunError) -> Error {
    Error::invalid(e.field(), e.to_string())
}

impl Crm {
    /// Saves a new script draft (GUI-1); it is checked fully only when published.
    ///
    /// # Errors
    /// Forbidden without `guidance.edit`; a blank name, more than [`MAX_STEPS`] steps; more
    /// than [`MAX_SCRIPTS`] scripts.
    pub async fn create_script(&self, actor: &Actor, draft: ScriptDraft) -> Result<Script> {
        actor.require(Permission::GuidanceEdit)?;
        check_draft(&draft)?;
        if self.store.list_scripts(actor.tenant).await?.len() >= MAX_SCRIPTS {
            return Err(Error::invalid("script", format!("a tenant holds at most {MAX_SCRIPTS} scripts")));
        }
        let now = self.clock.now();
        let script =
            Script { id: next_id(&*self.ids), draft, version: 1, published: 0, created_at: now, updated_at: now };
        self.store.insert_script(actor.tenant, &script).await?;
        Ok(script)
    }

    /// One page of the tenant's scripts, by name then id.
    ///
    /// # Errors
    /// Forbidden without `customer.read`; a foreign `cursor`.
    pub async fn scripts(&self, actor: &Actor, page: &PageRequest) -> Result<Page<Script>> {
        actor.require(Permission::CustomerRead)?;
        Ok(self.store.scripts_page(actor.tenant, page).await?)
    }

    /// One script, with its draft.
    ///
    /// # Errors
    /// Forbidden without `customer.read`; `NotFound`.
    pub async fn script(&self, actor: &Actor, id: ScriptId) -> Result<Script> {
        actor.require(Permission::CustomerRead)?;
        self.store.get_script(actor.tenant, id).await?.ok_or_else(|| Error::not_found("script", id))
    }

    /// Replaces version `expected_version` of a script's draft.
    ///
    /// # Errors
    /// Forbidden without `guidance.edit`; `NotFound`; `StaleVersion`; as
    /// [`Crm::create_script`].
    pub async fn update_script(
        &self,
        actor: &Actor,
        id: ScriptId,
        expected_version: u64,
        draft: ScriptDraft,
    ) -> Result<Script> {
        actor.require(Permission::GuidanceEdit)?;
        check_draft(&draft)?;
        let current = self.script(actor, id).await?;
        let expected = super::check_version("script", id, current.version, expected_version)?;
        let script = Script { draft, version: expected + 1, updated_at: self.clock.now(), ..current };
        self.store.update_script(actor.tenant, &script, expected).await?;
        Ok(script)
    }

    /// Publishes version `expected_version` of a script's draft as its next immutable
    /// version.
    ///
    /// # Errors
    /// Forbidden without `guidance.edit`; `NotFound`; `StaleVersion`; every fault of the
    /// draft (unreachable steps, dead ends, cycles without an exit, dangling references,
    /// unmapped choices, unknown placeholders, limits), each naming its step and path.
    pub async fn publish_script(&self, actor: &Actor, id: ScriptId, expected_version: u64) -> Result<ScriptVersion> {
        actor.require(Permission::GuidanceEdit)?;
        let current = self.script(actor, id).await?;
        let expected = super::check_version("script", id, current.version, expected_version)?;
        let number = current.published + 1;
        let schema = script_schema(self.facts_schema(actor.tenant).await?);
        current.draft.publish(id, number, &schema).map_err(crate::error::ValidationErrors::from)?;
        let now = self.clock.now();
        let published = ScriptVersion {
            script: id,
            version: number,
            draft: current.draft.clone(),
            published_at: now,
            published_by: actor.agent,
        };
        let script = Script { version: expected + 1, published: number, updated_at: now, ..current };
        self.store.publish_script(actor.tenant, &script, expected, &published).await?;
        Ok(published)
    }

    /// The published versions of a script, oldest first.
    ///
    /// # Errors
    /// Forbidden without `customer.read`; `NotFound` for an unknown script.
    pub async fn script_versions(&self, actor: &Actor, id: ScriptId) -> Result<Vec<ScriptVersion>> {
        self.script(actor, id).await?;
        Ok(self.store.script_versions(actor.tenant, id).await?)
    }

    /// One published version of a script.
    ///
    /// # Errors
    /// Forbidden without `customer.read`; `NotFound`.
    pub async fn script_version(&self, actor: &Actor, id: ScriptId, version: u32) -> Result<ScriptVersion> {
        actor.require(Permission::CustomerRead)?;
        self.store
            .script_version(actor.tenant, id, version)
            .await?
            .ok_or_else(|| Error::not_found("script_version", format!("{id}/{version}")))
    }

    /// A stored version, checked again (against today's custom fields).
    async fn published(&self, actor: &Actor, id: ScriptId, version: u32) -> Result<PublishedScript> {
        let stored = self.script_version(actor, id, version).await?;
        let schema = script_schema(self.facts_schema(actor.tenant).await?);
        stored.draft.publish(id, version, &schema).map_err(|faults| {
            Error::invalid("script", format!("version {version} no longer fits the tenant's fields: {faults}"))
        })
    }

    /// What a run's texts and branches read: the customer's facts (none for an interaction
    /// without a customer).
    async fn run_facts(&self, actor: &Actor, interaction: &Interaction) -> Result<HashMap<String, Value>> {
        let Some(customer) = interaction.customer() else {
            return Ok(HashMap::new());
        };
        let customer = self.load_customer(actor, customer).await?;
        let context: InteractionContext = Some((interaction.channel, interaction.direction));
        let mut facts = self.customer_facts(actor.tenant, &customer, context).await?.context();
        facts.insert("customer.name".to_owned(), Value::Text(customer.name().to_owned()));
        facts.insert("customer.account_number".to_owned(), Value::Text(customer.account_number().to_string()));
        Ok(facts)
    }

    /// Starts a run of a script's published version (the latest unless given) in an
    /// interaction; it goes through branches to the first step that waits for the agent.
    ///
    /// # Errors
    /// Forbidden without `interaction.handle`; `NotFound` for the interaction, the script
    /// or the version; a script never published (`script`); more than
    /// [`MAX_RUNS_PER_INTERACTION`] runs.
    pub async fn start_script_run(
        &self,
        actor: &Actor,
        interaction: InteractionId,
        input: NewScriptRun,
    ) -> Result<ScriptRunView> {
        actor.require(Permission::InteractionHandle)?;
        let interaction = self.load_interaction(actor, interaction).await?;
        let entry = match input.entry {
            Some(id) => Some(self.entry_for_run(actor, id, &interaction).await?),
            None => None,
        };
        let script = self.script(actor, input.script).await?;
        let version = match input.version {
            Some(v) => v,
            None if script.published == 0 => {
                return Err(FieldError::new("script", "the script has no published version").into());
            }
            None => script.published,
        };
        if self.store.script_runs_of(actor.tenant, interaction.id).await?.len() >= MAX_RUNS_PER_INTERACTION {
            return Err(Error::invalid(
                "interaction",
                format!("an interaction holds at most {MAX_RUNS_PER_INTERACTION} script runs"),
            ));
        }
        let published = self.published(actor, script.id, version).await?;
        let facts = self.run_facts(actor, &interaction).await?;
        let run = ScriptRun::start(&published, &facts).map_err(run_error)?;
        let now = self.clock.now();
        let stored = StoredScriptRun {
            id: next_id(&*self.ids),
            tenant: actor.tenant,
            interaction: interaction.id,
            customer: interaction.customer(),
            agent: actor.agent,
            entry,
            record: run.clone().into(),
            version: 1,
            started_at: now,
            updated_at: now,
        };
        let events = self.finished_events(actor, &stored);
        self.store.insert_script_run(&stored, &events).await?;
        Ok(view(&published, &run, &stored, &facts))
    }

    /// The runs started for a call-list entry of `list`, oldest first (the entry's script
    /// history: paths and answers).
    ///
    /// # Errors
    /// Forbidden without `interaction.handle`; `NotFound` for the entry (or one of another
    /// list).
    pub async fn script_runs_of_entry(
        &self,
        actor: &Actor,
        list: CallListId,
        entry: CallListEntryId,
    ) -> Result<Vec<ScriptRunView>> {
        actor.require(Permission::InteractionHandle)?;
        let entry = self.entry_of_list(actor, list, entry).await?;
        let stored = self.store.script_runs_of_entry(actor.tenant, entry.id).await?;
        let mut views = Vec::with_capacity(stored.len());
        for s in &stored {
            let (published, run, facts) = self.resume(actor, s).await?;
            views.push(view(&published, &run, s, &facts));
        }
        Ok(views)
    }

    /// The entry a run is started for: it exists in the tenant and is the interaction's
    /// customer's (422 naming `entry` otherwise).
    async fn entry_for_run(
        &self,
        actor: &Actor,
        id: CallListEntryId,
        interaction: &Interaction,
    ) -> Result<CallListEntryId> {
        let Some(entry) = self.store.get_entry(actor.tenant, id).await? else {
            return Err(FieldError::new("entry", format!("call-list entry {id} does not exist")).into());
        };
        if interaction.customer() != Some(entry.customer) {
            return Err(FieldError::new(
                "entry",
                format!("call-list entry {id} is another customer's than the interaction's"),
            )
            .into());
        }
        Ok(entry.id)
    }

    /// A run as it stands (to resume after a reconnect).
    ///
    /// # Errors
    /// Forbidden without `interaction.handle`; `NotFound`.
    pub async fn script_run(&self, actor: &Actor, id: ScriptRunId) -> Result<ScriptRunView> {
        actor.require(Permission::InteractionHandle)?;
        let stored = self.load_run(actor, id).await?;
        let (published, run, facts) = self.resume(actor, &stored).await?;
        Ok(view(&published, &run, &stored, &facts))
    }

    /// The runs of an interaction, oldest first (its script history).
    ///
    /// # Errors
    /// Forbidden without `interaction.handle`; `NotFound` for the interaction.
    pub async fn script_runs_of(&self, actor: &Actor, interaction: InteractionId) -> Result<Vec<ScriptRunView>> {
        actor.require(Permission::InteractionHandle)?;
        let interaction = self.load_interaction(actor, interaction).await?;
        let stored = self.store.script_runs_of(actor.tenant, interaction.id).await?;
        let mut views = Vec::with_capacity(stored.len());
        for s in &stored {
            let (published, run, facts) = self.resume(actor, s).await?;
            views.push(view(&published, &run, s, &facts));
        }
        Ok(views)
    }

    /// Answers the step a run waits at and moves it on; the run's end is an event written
    /// with the answer.
    ///
    /// # Errors
    /// Forbidden without `interaction.handle`; `NotFound`; an answer to another step than
    /// the current one, of the wrong type, an unknown choice, a number out of bounds, a
    /// text too long, a finished run (each naming `step` or `value`); `StaleVersion` when
    /// another answer was written since the run was read.
    pub async fn answer_script_run(
        &self,
        actor: &Actor,
        id: ScriptRunId,
        answer: ScriptAnswer,
    ) -> Result<ScriptRunView> {
        actor.require(Permission::InteractionHandle)?;
        let stored = self.load_run(actor, id).await?;
        let (published, mut run, facts) = self.resume(actor, &stored).await?;
        run.answer(&published, &answer.step, answer.value, &facts).map_err(run_error)?;
        let next = StoredScriptRun {
            record: run.clone().into(),
            version: stored.version + 1,
            updated_at: self.clock.now(),
            ..stored.clone()
        };
        let events = self.finished_events(actor, &next);
        self.store.update_script_run(&next, stored.version, &events).await?;
        Ok(view(&published, &run, &next, &facts))
    }

    async fn load_run(&self, actor: &Actor, id: ScriptRunId) -> Result<StoredScriptRun> {
        self.store.get_script_run(actor.tenant, id).await?.ok_or_else(|| Error::not_found("script_run", id))
    }

    /// The version a stored run pins, the run rebuilt, and its facts.
    async fn resume(
        &self,
        actor: &Actor,
        stored: &StoredScriptRun,
    ) -> Result<(PublishedScript, ScriptRun, HashMap<String, Value>)> {
        let published = self.published(actor, stored.record.script, stored.record.version).await?;
        let run = ScriptRun::restore(&published, stored.record.clone()).map_err(run_error)?;
        let interaction = self.load_interaction(actor, stored.interaction).await?;
        let facts = self.run_facts(actor, &interaction).await?;
        Ok((published, run, facts))
    }

    /// The `script_run_finished` event of a run that just reached its end.
    fn finished_events(&self, actor: &Actor, run: &StoredScriptRun) -> Vec<crate::event::DomainEvent> {
        match &run.record.position {
            RunPosition::Finished(end) => vec![self.event(
                actor,
                EventKind::ScriptRunFinished {
                    run: run.id,
                    interaction: run.interaction,
                    script: run.record.script,
                    version: run.record.version,
                    end: end.clone(),
                    agent: run.agent,
                },
            )],
            RunPosition::At(_) => Vec::new(),
        }
    }
}

/// The API's view of a run.
fn view(
    published: &PublishedScript,
    run: &ScriptRun,
    stored: &StoredScriptRun,
    facts: &HashMap<String, Value>,
) -> ScriptRunView {
    let (at, finished) = match run.position() {
        RunPosition::At(id) => (id, false),
        RunPosition::Finished(id) => (id, true),
    };
    let step = published.step(at).cloned().unwrap_or_else(|| published.start().clone());
    ScriptRunView {
        id: stored.id,
        interaction: stored.interaction,
        agent: stored.agent,
        entry: stored.entry,
        run: stored.record.clone(),
        step,
        text: run.current_text(published, facts),
        finished,
        version: stored.version,
        started_at: stored.started_at,
        updated_at: stored.updated_at,
    }
}
