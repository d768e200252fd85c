//! API tokens (ADM-2, ADM-3): what a bearer token grants. The token itself is a secret that
//! the transport generates, shows once and stores only as a hash
//! ([`crate::ports::TokenStore`]); the core decides what acting with it means
//! ([`crate::access::Actor::for_token`]).

use serde::{Deserialize, Serialize};

use crate::access::Role;
use crate::ids::{AgentId, TenantId};

/// What a stored API token grants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// The tenant it acts in.
    pub tenant: TenantId,
    /// The agent it acts as.
    pub agent: AgentId,
    /// The most it grants: never more than the agent's current role.
    pub role: Role,
}
