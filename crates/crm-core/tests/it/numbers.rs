//! Case numbers stay unique and increasing under random interleavings of concurrent
//! creators (CAS-1).

use std::collections::BTreeSet;

use crm_core::case::NewCase;
use crm_core::customer::NewCustomer;
use proptest::prelude::*;

use crate::helpers::{Env, runtime};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn case_numbers_are_unique_and_increasing_per_creator(
        yields in proptest::collection::vec(proptest::collection::vec(0u8..4, 1..6), 2..8),
    ) {
        runtime().block_on(async {
            let env = Env::new().await;
            let actor = env.supervisor();
            let customer = env
                .crm
                .create_customer(&actor, NewCustomer { name: "Numbers".into(), ..NewCustomer::default() })
                .await
                .expect("customer");
            let mut handles = Vec::new();
            for (w, plan) in yields.into_iter().enumerate() {
                let crm = env.crm.clone();
                let actor = actor.clone();
                handles.push(tokio::spawn(async move {
                    let mut got = Vec::new();
                    for (i, n) in plan.into_iter().enumerate() {
                        for _ in 0..n {
                            tokio::task::yield_now().await;
                        }
                        let case = crm.create_case(&actor, NewCase::open(customer.id, format!("w{w} case {i}"))).await.expect("case");
                        got.push(case.number);
                    }
                    got
                }));
            }
            let mut all = BTreeSet::new();
            let mut total = 0;
            for h in handles {
                let got = h.await.expect("task");
                prop_assert!(got.windows(2).all(|w| w[0] < w[1]), "one creator's numbers increase: {:?}", got);
                total += got.len();
                all.extend(got);
            }
            prop_assert_eq!(all.len(), total, "no number is given twice");
            Ok(())
        })?;
    }
}
