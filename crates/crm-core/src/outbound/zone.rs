//! The customer's time zone from the phone number's region (libphonenumber's metadata via
//! the `phonenumber` crate). A region spanning several zones gets one representative zone,
//! the one most of its people live in (the United States: New York; Russia: Moscow; Brazil:
//! São Paulo …); a customer whose zone differs is given one explicitly: on the entry
//! (`time_zone`), or in the customer's profile (a text custom field [`TIME_ZONE_FIELD`]
//! holding an IANA name). Regions not in the table fall back to the tenant's zone.

use chrono_tz::Tz;

use crate::custom_field::{FieldKey, FieldValue};
use crate::customer::{Customer, PhoneNumber};

/// The customer custom field whose text, an IANA time zone (`America/Chicago`), is the
/// customer's own zone for calling windows (ahead of the phone number's region).
pub const TIME_ZONE_FIELD: &str = "time_zone";

/// The zone of the customer's profile ([`TIME_ZONE_FIELD`]), when it holds a known one.
pub fn zone_of_customer(customer: &Customer) -> Option<Tz> {
    let key = FieldKey::parse(TIME_ZONE_FIELD).ok()?;
    match customer.custom().get(&key) {
        Some(FieldValue::Text(name)) => name.trim().parse().ok(),
        _ => None,
    }
}

/// Region (ISO 3166-1) → representative IANA zone.
const ZONES: &[(&str, Tz)] = &[
    ("AE", Tz::Asia__Dubai),
    ("AR", Tz::America__Argentina__Buenos_Aires),
    ("AT", Tz::Europe__Vienna),
    ("AU", Tz::Australia__Sydney),
    ("BE", Tz::Europe__Brussels),
    ("BG", Tz::Europe__Sofia),
    ("BR", Tz::America__Sao_Paulo),
    ("CA", Tz::America__Toronto),
    ("CH", Tz::Europe__Zurich),
    ("CL", Tz::America__Santiago),
    ("CN", Tz::Asia__Shanghai),
    ("CO", Tz::America__Bogota),
    ("CZ", Tz::Europe__Prague),
    ("DE", Tz::Europe__Berlin),
    ("DK", Tz::Europe__Copenhagen),
    ("EE", Tz::Europe__Tallinn),
    ("EG", Tz::Africa__Cairo),
    ("ES", Tz::Europe__Madrid),
    ("FI", Tz::Europe__Helsinki),
    ("FR", Tz::Europe__Paris),
    ("GB", Tz::Europe__London),
    ("GR", Tz::Europe__Athens),
    ("HK", Tz::Asia__Hong_Kong),
    ("HR", Tz::Europe__Zagreb),
    ("HU", Tz::Europe__Budapest),
    ("ID", Tz::Asia__Jakarta),
    ("IE", Tz::Europe__Dublin),
    ("IL", Tz::Asia__Jerusalem),
    ("IN", Tz::Asia__Kolkata),
    ("IS", Tz::Atlantic__Reykjavik),
    ("IT", Tz::Europe__Rome),
    ("JP", Tz::Asia__Tokyo),
    ("KE", Tz::Africa__Nairobi),
    ("KR", Tz::Asia__Seoul),
    ("KZ", Tz::Asia__Almaty),
    ("LT", Tz::Europe__Vilnius),
    ("LU", Tz::Europe__Luxembourg),
    ("LV", Tz::Europe__Riga),
    ("MA", Tz::Africa__Casablanca),
    ("MX", Tz::America__Mexico_City),
    ("MY", Tz::Asia__Kuala_Lumpur),
    ("NG", Tz::Africa__Lagos),
    ("NL", Tz::Europe__Amsterdam),
    ("NO", Tz::Europe__Oslo),
    ("NZ", Tz::Pacific__Auckland),
    ("PE", Tz::America__Lima),
    ("PH", Tz::Asia__Manila),
    ("PK", Tz::Asia__Karachi),
    ("PL", Tz::Europe__Warsaw),
    ("PT", Tz::Europe__Lisbon),
    ("RO", Tz::Europe__Bucharest),
    ("RS", Tz::Europe__Belgrade),
    ("RU", Tz::Europe__Moscow),
    ("SA", Tz::Asia__Riyadh),
    ("SE", Tz::Europe__Stockholm),
    ("SG", Tz::Asia__Singapore),
    ("SI", Tz::Europe__Ljubljana),
    ("SK", Tz::Europe__Bratislava),
    ("TH", Tz::Asia__Bangkok),
    ("TR", Tz::Europe__Istanbul),
    ("TW", Tz::Asia__Taipei),
    ("UA", Tz::Europe__Kyiv),
    ("US", Tz::America__New_York),
    ("VN", Tz::Asia__Ho_Chi_Minh),
    ("ZA", Tz::Africa__Johannesburg),
];

/// The representative zone of a region (ISO 3166-1 code), if the table has it.
pub fn representative_zone(region: &str) -> Option<Tz> {
    ZONES.iter().find(|(r, _)| r.eq_ignore_ascii_case(region)).map(|(_, z)| *z)
}

/// The zone of the region a number belongs to, if known.
pub fn zone_of_number(number: &PhoneNumber) -> Option<Tz> {
    let parsed = phonenumber::parse(None, number.as_e164()).ok()?;
    let region = parsed.country().id()?;
    representative_zone(region.as_ref())
}
