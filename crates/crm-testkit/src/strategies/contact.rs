//! Strategies for contact data and customers: phone numbers in written forms, emails,
//! names, identities, addresses, `NewCustomer`, `CustomerPatch` and `Customer`.

use std::collections::BTreeSet;

use chrono::Duration;
use crm_core::customer::{
    AccountNumber, Customer, CustomerContext, CustomerPatch, CustomerRecord, Identity, IdentityInput, NewCustomer,
    PhoneNumber, PostalAddress, Region,
};
use crm_core::ids::{AgentId, CustomerId, TenantId};
use crm_core::interaction::Channel;
use proptest::prelude::*;

use super::{id, instant};
use crate::fixtures::region_fr;

/// A phone number as someone wrote it, the region to read it with, and the E.164 form it
/// must normalise to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenPhone {
    /// As written (`01 23 45 67 89`, `(415) 555-0100`, `+44 20 7946 0123` …).
    pub written: String,
    /// The region a national form is read in.
    pub region: Region,
    /// The expected E.164 (`+33123456789`).
    pub e164: String,
}

impl WrittenPhone {
    /// Whether the written form is international (readable in any region).
    pub fn is_international(&self) -> bool {
        self.written.trim_start().starts_with('+')
    }
}

fn region(code: &str) -> Region {
    Region::parse(code).expect("a known region")
}

/// Groups digits: `group("123456", &[2, 2, 2], " ")` is `12 34 56`.
fn group(digits: &str, sizes: &[usize], sep: &str) -> String {
    let mut parts = Vec::new();
    let mut rest = digits;
    for size in sizes {
        let (head, tail) = rest.split_at((*size).min(rest.len()));
        if !head.is_empty() {
            parts.push(head);
        }
        rest = tail;
    }
    if !rest.is_empty() {
        parts.push(rest);
    }
    parts.join(sep)
}

fn valid(e164: &str) -> bool {
    PhoneNumber::from_e164(e164).is_ok_and(|p| p.as_e164() == e164)
}

/// French numbers: fixed lines (01–05) and mobiles (06, 07).
fn fr_phone() -> impl Strategy<Value = WrittenPhone> {
    ("[1-7]", "[0-9]{8}", 0usize..6)
        .prop_map(|(first, rest, form)| {
            let nsn = format!("{first}{rest}");
            let pairs = group(&rest, &[2, 2, 2, 2], " ");
            let written = match form {
                0 => format!("0{first} {pairs}"),
                1 => format!("0{nsn}"),
                2 => format!("+33 {first} {pairs}"),
                3 => format!("+33{nsn}"),
                4 => format!("0{first}.{}", group(&rest, &[2, 2, 2, 2], ".")),
                _ => format!("0{first}-{}", group(&rest, &[2, 2, 2, 2], "-")),
            };
            WrittenPhone { written, region: region("FR"), e164: format!("+33{nsn}") }
        })
        .prop_filter("a valid French number", |p| valid(&p.e164))
}

/// North American numbers in the US.
fn us_phone() -> impl Strategy<Value = WrittenPhone> {
    let area = prop::sample::select(&["201", "212", "213", "305", "312", "415", "617", "702", "818", "917"][..]);
    (area, "[2-9][0-9]{2}", "[0-9]{4}", 0usize..6)
        .prop_map(|(area, exchange, line, form)| {
            let written = match form {
                0 => format!("({area}) {exchange}-{line}"),
                1 => format!("{area}-{exchange}-{line}"),
                2 => format!("{area}.{exchange}.{line}"),
                3 => format!("+1 {area}-{exchange}-{line}"),
                4 => format!("+1 ({area}) {exchange}-{line}"),
                _ => format!("{area}{exchange}{line}"),
            };
            WrittenPhone { written, region: region("US"), e164: format!("+1{area}{exchange}{line}") }
        })
        .prop_filter("a valid US number", |p| valid(&p.e164))
}

/// British numbers: London fixed lines and mobiles.
fn gb_phone() -> impl Strategy<Value = WrittenPhone> {
    let london = ("[3-8]", "[0-9]{7}").prop_map(|(a, b)| (format!("20{a}{b}"), vec![2usize, 4, 4]));
    let mobile = ("7[4-9]", "[0-9]{8}").prop_map(|(a, b)| (format!("{a}{b}"), vec![4usize, 6]));
    (prop_oneof![london, mobile], 0usize..3)
        .prop_map(|((nsn, sizes), form)| {
            let spaced = group(&nsn, &sizes, " ");
            let written = match form {
                0 => format!("0{spaced}"),
                1 => format!("+44 {spaced}"),
                _ => format!("0{nsn}"),
            };
            WrittenPhone { written, region: region("GB"), e164: format!("+44{nsn}") }
        })
        .prop_filter("a valid British number", |p| valid(&p.e164))
}

/// German numbers: Berlin fixed lines and mobiles.
fn de_phone() -> impl Strategy<Value = WrittenPhone> {
    let berlin = "[2-9][0-9]{7}".prop_map(|b| (format!("30{b}"), vec![2usize, 8]));
    let mobile = ("15[12]|16[02]|17[0-9]", "[0-9]{8}").prop_map(|(a, b)| (format!("{a}{b}"), vec![3usize, 8]));
    (prop_oneof![berlin, mobile], 0usize..3)
        .prop_map(|((nsn, sizes), form)| {
            let spaced = group(&nsn, &sizes, " ");
            let written = match form {
                0 => format!("0{spaced}"),
                1 => format!("+49 {spaced}"),
                _ => format!("0{nsn}"),
            };
            WrittenPhone { written, region: region("DE"), e164: format!("+49{nsn}") }
        })
        .prop_filter("a valid German number", |p| valid(&p.e164))
}

/// A phone number of FR, US, GB or DE in one of its common written forms.
pub fn phone_number() -> impl Strategy<Value = WrittenPhone> {
    prop_oneof![fr_phone(), us_phone(), gb_phone(), de_phone()]
}

/// A phone number readable in `region`: that region's national forms, or any region's
/// international forms.
pub fn phone_number_in(region: Region) -> impl Strategy<Value = WrittenPhone> {
    phone_number().prop_filter("readable in the region", move |p| p.region == region || p.is_international())
}

/// An email address as written (mixed case) and its matching key (lower case).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenEmail {
    /// As written (`Jane.Doe@Example.COM`).
    pub written: String,
    /// [`crm_core::customer::EmailAddress::key`]: the lower-case form.
    pub key: String,
}

/// A valid email address in random letter case.
pub fn email_address() -> impl Strategy<Value = WrittenEmail> {
    let tld = prop::sample::select(&["com", "fr", "org", "net", "co.uk", "de"][..]);
    ("[a-z][a-z0-9]{0,9}", prop::option::of("[a-z0-9]{1,6}"), "[a-z][a-z0-9]{1,9}", tld, any::<u64>()).prop_map(
        |(local, dotted, domain, tld, case_bits)| {
            let key = match dotted {
                Some(d) => format!("{local}.{d}@{domain}.{tld}"),
                None => format!("{local}@{domain}.{tld}"),
            };
            let written = key
                .chars()
                .enumerate()
                .map(|(i, c)| if case_bits >> (i % 64) & 1 == 1 { c.to_ascii_uppercase() } else { c })
                .collect();
            WrittenEmail { written, key }
        },
    )
}

/// A person's or company's name, with accents and compound forms.
pub fn person_name() -> impl Strategy<Value = String> {
    const FIRST: &[&str] = &[
        "Jeanne",
        "Marie",
        "Éloïse",
        "Zoë",
        "Jean-Luc",
        "François",
        "Anaïs",
        "John",
        "Ana",
        "Björn",
        "Siobhán",
        "Noé",
    ];
    const LAST: &[&str] = &[
        "Dupont", "Dupond", "Durand", "Martin", "Lefèvre", "D'Arcy", "Smith", "Müller", "O'Brien", "Nguyen", "Garcia",
        "Bernard",
    ];
    (prop::sample::select(FIRST), prop::sample::select(LAST)).prop_map(|(f, l)| format!("{f} {l}"))
}

/// One identity as a caller writes it, valid for a tenant in region FR.
pub fn identity_input() -> impl Strategy<Value = IdentityInput> {
    let label = prop::option::of(prop::sample::select(&["mobile", "home", "work"][..]).prop_map(str::to_owned));
    let phone = (phone_number_in(region_fr()), label.clone())
        .prop_map(|(p, label)| IdentityInput::Phone { number: p.written, label });
    let email =
        (email_address(), label.clone()).prop_map(|(e, label)| IdentityInput::Email { address: e.written, label });
    let channel = prop::sample::select(
        &[Channel::WhatsApp, Channel::Twitter, Channel::Facebook, Channel::Chat, Channel::Sms][..],
    );
    let handle = (channel, "@?[A-Za-z][A-Za-z0-9_.]{2,14}", label)
        .prop_map(|(channel, handle, label)| IdentityInput::Handle { channel, handle, label });
    prop_oneof![3 => phone, 3 => email, 1 => handle]
}

/// Identity inputs without two of the same key (a card holds each identity once).
pub fn identity_inputs(max: usize) -> impl Strategy<Value = Vec<IdentityInput>> {
    prop::collection::vec(identity_input(), 0..=max).prop_map(|inputs| {
        let mut seen = BTreeSet::new();
        inputs
            .into_iter()
            .filter(|i| i.parse(Some(region_fr())).is_ok_and(|parsed| seen.insert(parsed.key())))
            .collect()
    })
}

/// One normalised identity.
pub fn identity() -> impl Strategy<Value = Identity> {
    identity_input().prop_filter_map("a parsable identity", |i| i.parse(Some(region_fr())).ok())
}

/// A valid French postal address.
pub fn postal_address() -> impl Strategy<Value = PostalAddress> {
    let city = prop::sample::select(&["Paris", "Lyon", "Marseille", "Lille", "Saint-Étienne"][..]);
    let street =
        ("[1-9][0-9]{0,2}", prop::sample::select(&["rue", "avenue", "boulevard", "place"][..]), "[A-Z][a-z]{3,10}")
            .prop_map(|(n, kind, name)| format!("{n} {kind} {name}"));
    (
        prop::option::of(prop::sample::select(&["home", "billing", "work"][..]).prop_map(str::to_owned)),
        prop::collection::vec(street, 1..=2),
        prop::option::of("[0-9]{5}"),
        city,
    )
        .prop_map(|(label, lines, postal_code, city)| PostalAddress {
            label,
            lines,
            postal_code,
            city: city.into(),
            region: None,
            country: "FR".into(),
        })
}

fn account_number() -> impl Strategy<Value = String> {
    "[A-Z]{2}-[0-9]{4,8}"
}

/// A valid `NewCustomer` for a tenant in region FR without custom field definitions.
pub fn new_customer() -> impl Strategy<Value = NewCustomer> {
    (
        prop::option::of(account_number()),
        person_name(),
        identity_inputs(4),
        prop::collection::vec(postal_address(), 0..=2),
        prop::option::of(prop::sample::select(Channel::ALL)),
    )
        .prop_map(|(account_number, name, identities, addresses, origin_channel)| NewCustomer {
            account_number,
            name,
            identities,
            addresses,
            custom: Default::default(),
            origin_channel,
        })
}

/// A valid `CustomerPatch` (any subset of fields; lists replace lists).
pub fn customer_patch() -> impl Strategy<Value = CustomerPatch> {
    (
        prop::option::of(account_number()),
        prop::option::of(person_name()),
        prop::option::of(identity_inputs(4)),
        prop::option::of(prop::collection::vec(postal_address(), 0..=2)),
    )
        .prop_map(|(account_number, name, identities, addresses)| CustomerPatch {
            account_number,
            name,
            identities,
            addresses,
            custom: Default::default(),
        })
}

/// A whole customer built by [`NewCustomer::build`], possibly contacted since, at version
/// 1 to 5.
pub fn customer() -> impl Strategy<Value = Customer> {
    (
        new_customer(),
        id::<CustomerId>(),
        id::<TenantId>(),
        prop::option::of(id::<AgentId>()),
        1u64..1_000_000,
        instant(),
        prop::option::of(0i64..86_400 * 30),
        1u64..=5,
    )
        .prop_map(|(input, id, tenant, by, seq, now, contacted, version)| {
            let ctx = CustomerContext { region: Some(region_fr()), definitions: &[], now };
            let c = input
                .build(id, tenant, by, Some(AccountNumber::generated(seq)), ctx)
                .expect("generated customers are valid");
            // A card as a store holds it after some history: contacted, edited.
            Customer::restore(CustomerRecord {
                last_contact_at: contacted.map(|s| now + Duration::seconds(s)),
                version,
                ..c.into_record()
            })
        })
}
