//! Fakes of the non-store ports: a settable clock, deterministic ids, an external CRM, a
//! mailbox and a mailer that record what they are asked and fail on demand.

mod clock;
mod external_crm;
mod mailbox;
mod mailer;

pub use clock::{ManualClock, SequentialIds, default_start};
pub use external_crm::{FakeExternalCrm, FakeOperation};
pub use mailbox::FakeMailbox;
pub use mailer::FakeMailer;
