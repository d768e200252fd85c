//! A customer is found by each of its identities, in any written form, after any sequence of
//! edits; identities it no longer holds do not find it (CUS-3, CUS-4).

use std::collections::BTreeSet;

use crm_core::Error;
use crm_core::access::Actor;
use crm_core::customer::{Customer, CustomerPatch, Identity, IdentityKey, LookupKey, NewCustomer};
use proptest::prelude::*;

use crate::helpers::{Env, arb_identities, runtime, written_forms};

async fn found_by(env: &Env, actor: &Actor, key: LookupKey) -> Vec<crm_core::ids::CustomerId> {
    env.crm.lookup(actor, &key).await.expect("lookup").into_iter().map(|c| c.customer.id).collect()
}

async fn check(env: &Env, actor: &Actor, c: &Customer, gone: &BTreeSet<IdentityKey>) -> Result<(), TestCaseError> {
    for identity in c.identities() {
        match identity {
            Identity::Phone { number, .. } => {
                let nsn = &number.as_e164()[3..];
                for form in written_forms(nsn) {
                    prop_assert!(
                        found_by(env, actor, LookupKey::Phone(form.clone())).await.contains(&c.id),
                        "{}",
                        form
                    );
                }
            }
            Identity::Email { address, .. } => {
                let shouted = address.as_str().to_uppercase();
                prop_assert!(found_by(env, actor, LookupKey::Email(shouted)).await.contains(&c.id));
            }
            Identity::Handle { .. } => {}
        }
    }
    for key in gone {
        let text = key.as_str();
        let lookup = if let Some(p) = text.strip_prefix("phone:") {
            LookupKey::Phone(p.to_owned())
        } else if let Some(e) = text.strip_prefix("email:") {
            LookupKey::Email(e.to_owned())
        } else {
            continue;
        };
        prop_assert!(!found_by(env, actor, lookup).await.contains(&c.id), "{} still finds the card", text);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn a_customer_is_found_by_each_identity_after_any_sequence_of_edits(
        initial in arb_identities(),
        edits in proptest::collection::vec(arb_identities(), 0..4),
    ) {
        runtime().block_on(async {
            let env = Env::new().await;
            let actor = env.supervisor();
            let input = NewCustomer { name: "Jeanne Dupont".into(), identities: initial, ..NewCustomer::default() };
            let mut c = match env.crm.create_customer(&actor, input).await {
                Ok(c) => c,
                // An input repeating one identity is refused; nothing to look up.
                Err(Error::Validation(_)) => return Err(TestCaseError::reject("input repeats an identity or uses an unallocated number")),
                Err(e) => return Err(TestCaseError::fail(format!("{e:?}"))),
            };
            let mut held: BTreeSet<IdentityKey> = c.identity_keys().into_iter().collect();
            check(&env, &actor, &c, &BTreeSet::new()).await?;
            for edit in edits {
                let patch = CustomerPatch { identities: Some(edit), ..CustomerPatch::default() };
                match env.crm.update_customer(&actor, c.id, c.version(), patch).await {
                    Ok(updated) => c = updated,
                    Err(Error::Validation(_)) => {}
                    Err(e) => return Err(TestCaseError::fail(format!("{e:?}"))),
                }
                let now: BTreeSet<IdentityKey> = c.identity_keys().into_iter().collect();
                let gone: BTreeSet<IdentityKey> = held.difference(&now).cloned().collect();
                check(&env, &actor, &c, &gone).await?;
                held = now;
            }
            Ok(())
        })?;
    }
}
