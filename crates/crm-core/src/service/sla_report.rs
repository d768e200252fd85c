//! SLA attainment per group and period (issue 33): the cases created in the period (of the
//! group asked), each replayed like [`Crm::case_sla`], tallied by their current group.

use super::Crm;
use crate::access::{Actor, Permission};
use crate::case::{CaseFilter, CaseSort};
use crate::error::{Error, Result};
use crate::page::PageRequest;
use crate::sla::{MAX_REPORT_CASES, PolicyBook, SlaReport, SlaReportQuery, SlaTally, sla_events, sla_state};

/// Cases read per page.
const PAGE: u32 = 200;

impl Crm {
    /// SLA attainment of the cases created in `[from, to)` (of `group` when given), per
    /// group and metric, at most [`MAX_REPORT_CASES`] cases (`complete` false beyond);
    /// private cases the actor may not see are left out.
    ///
    /// # Errors
    /// Forbidden without `case.read`; `to` not after `from`.
    pub async fn sla_report(&self, actor: &Actor, query: &SlaReportQuery) -> Result<SlaReport> {
        actor.require(Permission::CaseRead)?;
        query.validate()?;
        let now = self.clock.now();
        let policies = self.sla_policies(actor).await?;
        let calendars = self.sla_calendars(actor).await?;
        let mut book = PolicyBook::new();
        for p in &policies {
            if let Some(c) = calendars.iter().find(|c| c.name == p.calendar) {
                book.insert(p.name.clone(), p.policy.clone(), c.calendar.clone());
            }
        }
        let filter = CaseFilter {
            group: query.group,
            created_from: Some(query.from),
            created_to: Some(query.to),
            ..CaseFilter::default()
        };
        let mut tally = SlaTally::new();
        let mut page = PageRequest { limit: PAGE, after: None };
        let mut read = 0usize;
        let complete = loop {
            let cases = self.list_cases(actor, &filter, CaseSort::default(), &page).await?;
            for case in &cases.items {
                if read == MAX_REPORT_CASES {
                    break;
                }
                read += 1;
                let history = self.store.case_history(actor.tenant, case.id).await?;
                let follow_ups = self.store.follow_ups_of(actor.tenant, case.id).await?;
                let state = match sla_events(case, &history, &follow_ups, &policies) {
                    Some(events) => {
                        let at = now.max(events.last().map_or(now, |e| e.at));
                        Some(sla_state(&book, &events, at).map_err(|e| Error::Validation(e.into()))?)
                    }
                    None => None,
                };
                tally.add(case.group(), state.as_ref());
            }
            match cases.next {
                Some(_) if read == MAX_REPORT_CASES => break false,
                Some(next) => page.after = Some(next),
                None => break true,
            }
        };
        Ok(tally.finish(query, complete))
    }
}
