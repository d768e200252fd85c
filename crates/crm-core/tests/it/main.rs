//! Use-case level property tests of `crm-core`, run on the in-memory store of `crm-testkit`
//! (which passes the same conformance suite as the SQL store).

mod admin;
mod audit;
mod delivery;
mod helpers;
mod identities;
mod inbound;
mod mailbox;
mod merge;
mod numbers;
mod pushes;
mod roundtrip;
mod sla;
mod sla_cases;
mod sla_replies;
mod sla_timers;
mod workers;
