//! The installation's first start: of several replicas starting together on an empty
//! database, exactly one initialises it (seeds the demo tenant, or declines to).

use super::Crm;
use crate::error::Result;

/// The fact set once the database was initialised.
const INITIALISED: &str = "initialised";

impl Crm {
    /// Claims the first start: `true` for exactly one caller on a database never
    /// initialised, which must then call [`Crm::finish_first_start`] (or
    /// [`Crm::abandon_first_start`] to let the next start try again).
    ///
    /// # Errors
    /// Store failures.
    pub async fn begin_first_start(&self) -> Result<bool> {
        Ok(self.store.claim_meta(INITIALISED, "seeding").await?)
    }

    /// Marks the database initialised.
    ///
    /// # Errors
    /// Store failures.
    pub async fn finish_first_start(&self) -> Result<()> {
        Ok(self.store.set_meta(INITIALISED, "true").await?)
    }

    /// Gives a claimed first start up, so the next start tries again.
    ///
    /// # Errors
    /// Store failures.
    pub async fn abandon_first_start(&self) -> Result<()> {
        Ok(self.store.delete_meta(INITIALISED).await?)
    }
}
