//! Rule-based alerts (GUI-2): a tenant's rules (one set, edited with its version), the
//! facts of a customer, the alerts of the screen pop, and the dry run.
//!
//! The facts come from the card the screen pop already read (the customer's custom values
//! and VIP flag) plus ONE aggregate read ([`crate::ports::GuidanceStore::customer_activity`]),
//! and only when the tenant has rules. The compiled rules are cached per tenant for
//! [`ALERT_RULES_CACHE`] (a change made through this replica is seen at once, through
//! another within that time).

use std::sync::Arc;

use super::Crm;
use crate::access::{Actor, Permission};
use crate::alert::{Alert, AlertFacts, AlertRule, AlertRules, alert_schema};
use crate::custom_field::{FieldEntity, FieldKey, FieldValue};
use crate::customer::{Customer, CustomerCard};
use crate::error::Result;
use crate::guidance::{AlertDryRun, AlertDryRunResult, AlertRuleSet, AlertRulesInput};
use crate::ids::{CustomerId, InteractionId, TenantId};
use crate::interaction::{Channel, Direction};
use crate::rules::{Schema, Value};

/// How long a tenant's compiled alert rules stay cached.
pub const ALERT_RULES_CACHE: chrono::TimeDelta = chrono::TimeDelta::seconds(5);

/// The key of the customer custom field read as the VIP flag (`customer.vip`): a boolean
/// field `vip`, when the tenant defines one.
pub const VIP_FIELD: &str = "vip";

/// The interaction an evaluation imagines, if any.
pub(super) type InteractionContext = Option<(Channel, Direction)>;

impl Crm {
    /// The schema rules and script texts read: the alert facts with the tenant's customer
    /// custom fields (retired ones included: stored values keep them).
    pub(super) async fn facts_schema(&self, tenant: TenantId) -> Result<Schema> {
        let fields = self.store.field_definitions(tenant, FieldEntity::Customer).await?;
        let custom: Vec<_> = fields.into_iter().map(|f| (f.key, f.field_type)).collect();
        Ok(alert_schema(&custom))
    }

    /// The facts of a customer now, for an interaction of `context`.
    pub(super) async fn customer_facts(
        &self,
        tenant: TenantId,
        customer: &Customer,
        context: InteractionContext,
    ) -> Result<AlertFacts> {
        let activity = self.store.customer_activity(tenant, customer.id, self.clock.now()).await?;
        let vip = FieldKey::parse(VIP_FIELD)
            .ok()
            .is_some_and(|k| matches!(customer.custom().get(&k), Some(FieldValue::Boolean(true))));
        Ok(AlertFacts {
            vip,
            custom: customer.custom().clone(),
            open_critical_cases: activity.open_critical_cases,
            overdue_tasks: activity.overdue_tasks,
            contacts: activity.contacts,
            open_campaign_entry: activity.open_campaign_entries > 0,
            sla_breached: activity.breached_cases > 0,
            channel: context.map(|(c, _)| c),
            direction: context.map(|(_, d)| d),
        })
    }

    /// The tenant's alert rules (an empty set of version 0 while none were written).
    ///
    /// # Errors
    /// Forbidden without `customer.read`; store failures.
    pub async fn alert_rules(&self, actor: &Actor) -> Result<AlertRuleSet> {
        actor.require(Permission::CustomerRead)?;
        Ok(self.store.alert_rules(actor.tenant).await?.unwrap_or(AlertRuleSet {
            rules: Vec::new(),
            version: 0,
            updated_at: None,
        }))
    }

    /// Replaces version `expected_version` of the tenant's alert rules (0 when none were
    /// written; [`super::ANY_VERSION`] for any).
    ///
    /// # Errors
    /// Forbidden without `guidance.edit`; every fault of the rules, naming its path
    /// (`rules[1].condition.all[0].op`); `StaleVersion`.
    pub async fn put_alert_rules(
        &self,
        actor: &Actor,
        expected_version: u64,
        input: AlertRulesInput,
    ) -> Result<AlertRuleSet> {
        actor.require(Permission::GuidanceEdit)?;
        let current = self.alert_rules(actor).await?;
        let expected = super::check_version("alert_rules", actor.tenant, current.version, expected_version)?;
        let schema = self.facts_schema(actor.tenant).await?;
        let compiled = AlertRules::compile(input.rules.clone(), &schema)?;
        let set = AlertRuleSet { rules: input.rules, version: expected + 1, updated_at: Some(self.clock.now()) };
        self.store.put_alert_rules(actor.tenant, &set, expected).await?;
        if let Ok(mut cache) = self.alert_rules_cache.write() {
            let any = compiled.rules().next().is_some();
            let compiled = any.then(|| Arc::new(compiled));
            cache.insert(actor.tenant, (compiled, self.clock.now()));
        }
        Ok(set)
    }

    /// Evaluates rules (the draft ones given, or the stored set) against a customer now.
    ///
    /// # Errors
    /// Forbidden without `guidance.edit`; `NotFound` for an unknown customer; the faults of
    /// draft rules (`rules[0].condition.op`).
    pub async fn dry_run_alerts(&self, actor: &Actor, run: AlertDryRun) -> Result<AlertDryRunResult> {
        actor.require(Permission::GuidanceEdit)?;
        let schema = self.facts_schema(actor.tenant).await?;
        let rules = match run.rules {
            Some(rules) => AlertRules::compile(rules, &schema)?,
            None => match compile_lenient(self.alert_rules(actor).await?.rules, &schema) {
                Some(rules) => rules,
                None => AlertRules::compile(Vec::new(), &schema)?,
            },
        };
        let customer = self.load_customer(actor, run.customer).await?;
        let context = run.channel.zip(run.direction).or_else(|| run.channel.map(|c| (c, Direction::Inbound)));
        let facts = self.customer_facts(actor.tenant, &customer, context).await?;
        let alerts = rules.evaluate(&facts);
        let mut shown = serde_json::Map::new();
        let mut fields: Vec<_> = facts.context().into_iter().collect();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        for (k, v) in fields {
            shown.insert(k, plain_json(&v));
        }
        Ok(AlertDryRunResult { alerts, facts: shown })
    }

    /// The tenant's compiled rules, cached; `None` when it has none.
    pub(super) async fn compiled_alert_rules(&self, tenant: TenantId) -> Result<Option<Arc<AlertRules>>> {
        let now = self.clock.now();
        let cached = self
            .alert_rules_cache
            .read()
            .ok()
            .and_then(|m| m.get(&tenant).cloned())
            .filter(|(_, at)| now - *at < ALERT_RULES_CACHE);
        let rules = match cached {
            Some((rules, _)) => rules,
            None => {
                let stored = self.store.alert_rules(tenant).await?.map(|s| s.rules).unwrap_or_default();
                let rules = if stored.is_empty() {
                    None
                } else {
                    compile_lenient(stored, &self.facts_schema(tenant).await?).map(Arc::new)
                };
                if let Ok(mut cache) = self.alert_rules_cache.write() {
                    cache.insert(tenant, (rules.clone(), now));
                }
                rules
            }
        };
        Ok(rules)
    }

    /// Fills the alerts of screen-pop cards: nothing read when the tenant has no rules,
    /// else one aggregate read per card, all at once.
    pub(super) async fn attach_alerts(
        &self,
        actor: &Actor,
        cards: &mut [CustomerCard],
        context: InteractionContext,
    ) -> Result<()> {
        if cards.is_empty() {
            return Ok(());
        }
        let Some(rules) = self.compiled_alert_rules(actor.tenant).await? else {
            return Ok(());
        };
        // The cards' aggregate reads run together: a screen pop with several cards waits for
        // the slowest read, not for their sum.
        let facts = futures::future::try_join_all(
            cards.iter().map(|card| self.customer_facts(actor.tenant, &card.customer, context)),
        )
        .await?;
        for (card, facts) in cards.iter_mut().zip(facts) {
            card.alerts = rules.evaluate(&facts);
        }
        Ok(())
    }

    /// The alerts of an interaction's customer now, during the interaction (its channel
    /// and direction known); none for an interaction without a customer.
    ///
    /// # Errors
    /// Forbidden without `customer.read`; `NotFound` for the interaction.
    pub async fn interaction_alerts(&self, actor: &Actor, id: InteractionId) -> Result<Vec<Alert>> {
        actor.require(Permission::CustomerRead)?;
        let interaction = self.load_interaction(actor, id).await?;
        let (Some(customer), Some(rules)) = (interaction.customer(), self.compiled_alert_rules(actor.tenant).await?)
        else {
            return Ok(Vec::new());
        };
        let customer = self.load_customer(actor, customer).await?;
        let context = Some((interaction.channel, interaction.direction));
        Ok(rules.evaluate(&self.customer_facts(actor.tenant, &customer, context).await?))
    }

    /// The alerts of a customer now, outside any interaction (the console's card page;
    /// rules on the interaction's channel or direction do not hold); none when the tenant
    /// has no rules.
    ///
    /// # Errors
    /// Forbidden without `customer.read`; `NotFound` for the customer.
    pub async fn customer_alerts(&self, actor: &Actor, id: CustomerId) -> Result<Vec<Alert>> {
        actor.require(Permission::CustomerRead)?;
        let customer = self.load_customer(actor, id).await?;
        let Some(rules) = self.compiled_alert_rules(actor.tenant).await? else {
            return Ok(Vec::new());
        };
        Ok(rules.evaluate(&self.customer_facts(actor.tenant, &customer, None).await?))
    }
}

/// The rules that still compile against today's schema (a custom field a rule reads may
/// have been deleted since it was written): the others are left out rather than failing
/// every screen pop. `None` when no rule is left.
fn compile_lenient(rules: Vec<AlertRule>, schema: &Schema) -> Option<AlertRules> {
    if rules.is_empty() {
        return None;
    }
    let compiled = AlertRules::compile(rules.clone(), schema).ok().or_else(|| {
        let kept: Vec<AlertRule> =
            rules.into_iter().filter(|r| AlertRules::compile(vec![r.clone()], schema).is_ok()).collect();
        AlertRules::compile(kept, schema).ok()
    })?;
    let any = compiled.rules().next().is_some();
    any.then_some(compiled)
}

/// A fact as plain JSON (`2`, `true`, `"gold"`).
fn plain_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Text(s) => serde_json::Value::String(s.clone()),
        Value::Number(n) => serde_json::json!(n),
        Value::Boolean(b) => serde_json::Value::Bool(*b),
        Value::Date(d) => serde_json::Value::String(d.to_string()),
        Value::Instant(t) => serde_json::Value::String(t.to_rfc3339()),
        Value::List(items) => serde_json::json!(items),
    }
}
