//! Unit and property tests of [`PhoneNumber`] and [`Region`].

use super::*;

fn fr() -> Option<Region> {
    Some(Region::parse("fr").unwrap())
}

#[test]
fn french_forms_normalise_to_one_e164() {
    for input in ["+33 1 23 45 67 89", "01 23 45 67 89", "0123456789", "+33123456789", "01.23.45.67.89"] {
        assert_eq!(PhoneNumber::parse(input, fr()).unwrap().as_e164(), "+33123456789", "{input}");
    }
}

#[test]
fn us_national_form_uses_the_region() {
    let us = Some(Region::parse("US").unwrap());
    assert_eq!(PhoneNumber::parse("(415) 555-0100", us).unwrap().as_e164(), "+14155550100");
    assert_eq!(PhoneNumber::parse("+1 415-555-0100", fr()).unwrap().as_e164(), "+14155550100");
}

#[test]
fn stored_numbers_read_back_by_their_e164_shape() {
    let read = |json: &str| serde_json::from_str::<PhoneNumber>(json);
    assert_eq!(read("\"+33123456789\"").unwrap(), PhoneNumber::parse("01 23 45 67 89", fr()).unwrap());
    for bad in
        ["\"33123456789\"", "\"+\"", "\"+3\"", "\"+0123456789\"", "\"+33 1 23\"", "\"+123456789012345678901\"", "12"]
    {
        assert!(read(bad).is_err(), "{bad}");
    }
    let number = PhoneNumber::parse("+1 415-555-0100", None).unwrap();
    assert_eq!(read(&serde_json::to_string(&number).unwrap()).unwrap(), number);
}

#[test]
fn a_valid_number_longer_than_e164s_15_digits_reads_back() {
    let de = Some(Region::parse("DE").unwrap());
    let long = PhoneNumber::parse("0906 00000000000", de).unwrap();
    assert_eq!(long.as_e164(), "+4990600000000000");
    let json = serde_json::to_string(&long).unwrap();
    assert_eq!(serde_json::from_str::<PhoneNumber>(&json).unwrap(), long);
    assert!(PhoneNumber::is_e164_shaped(long.as_e164()));
}

#[test]
fn garbage_is_refused_naming_the_field() {
    for input in ["", "hello", "12", "+33 1"] {
        let err = PhoneNumber::parse(input, fr()).unwrap_err();
        assert_eq!(err.field, "phone", "{input}");
    }
}

#[test]
fn a_country_code_glued_to_a_hyphenated_national_number_reads_like_the_spaced_form() {
    for (glued, spaced) in [
        ("+1201-555-0533", "+1 201-555-0533"),
        ("+813-1234-5280", "+81 3-1234-5280"),
        ("+55112345-6425", "+55 11 2345-6425"),
        ("+331.23.45.67.89", "+33 1 23 45 67 89"),
    ] {
        let expected = PhoneNumber::parse(spaced, None).unwrap();
        for region in [None, fr(), Some(Region::parse("US").unwrap()), Some(Region::parse("JP").unwrap())] {
            assert_eq!(PhoneNumber::parse(glued, region).unwrap(), expected, "{glued} with {region:?}");
        }
    }
}

#[test]
fn a_plus_number_is_read_on_its_own_whatever_the_tenants_region() {
    let us = Some(Region::parse("US").unwrap());
    for (tenant, written) in [
        (us, "+551123456425"),
        (us, "+5511987654321"),
        (us, "+33123456789"),
        (us, "+541143218765"),
        (fr(), "+12015550533"),
        (fr(), "+442079460000"),
        (Some(Region::parse("RU").unwrap()), "+33612345678"),
    ] {
        let parsed = PhoneNumber::parse(written, tenant).unwrap_or_else(|e| panic!("{written} with {tenant:?}: {e}"));
        assert_eq!(parsed.as_e164(), written);
        assert_eq!(parsed, PhoneNumber::parse(written, None).unwrap());
    }
}

#[test]
fn a_mexican_number_with_the_dropped_mobile_one_reads_without_it() {
    for tenant in [None, fr(), Some(Region::parse("MX").unwrap())] {
        assert_eq!(PhoneNumber::parse("+5215512345678", tenant).unwrap().as_e164(), "+525512345678");
        assert_eq!(PhoneNumber::parse("+52 1 55 1234 5678", tenant).unwrap().as_e164(), "+525512345678");
    }
    assert!(PhoneNumber::parse("+5210012345678", None).is_err(), "the 1 is dropped only before a valid number");
}

#[test]
fn a_plus_number_that_is_not_valid_is_refused_naming_the_field() {
    for bad in ["+1 201", "+999 1234 5678", "+33 1 23", "+0 123 4567"] {
        assert_eq!(PhoneNumber::parse(bad, fr()).unwrap_err().field, "phone", "{bad}");
    }
}

/// Every region of the metadata with an example number: each example, written in
/// international form (`+<code><number>`, and glued with a hyphen after the first digits),
/// is accepted by a tenant of another region (the next one in the metadata) and gives the
/// same E.164. The full product of regions is sampled by the property
/// `an_international_number_is_accepted_by_a_tenant_of_any_region` below.
#[test]
fn every_regions_example_number_in_international_form_is_accepted_by_a_tenant_of_another_region() {
    let regions = examples();
    assert!(regions.len() > 200, "{}", regions.len());
    for (index, (region, e164)) in regions.iter().enumerate() {
        let tenant = regions[(index + 1) % regions.len()].0;
        let parsed =
            PhoneNumber::parse(e164, Some(tenant)).unwrap_or_else(|e| panic!("{region} {e164} at {tenant}: {e}"));
        assert_eq!(parsed.as_e164(), e164, "{region} at {tenant}");
    }
}

/// Each region of the metadata with a valid example number (fixed line, else mobile, else the
/// general one), in E.164.
fn examples() -> Vec<(Region, String)> {
    use std::str::FromStr;
    phonenumber::metadata::DATABASE
        .iter()
        .filter_map(|meta| {
            let id = phonenumber::country::Id::from_str(meta.id()).ok()?;
            let descriptors = meta.descriptors();
            let example = [descriptors.fixed_line(), descriptors.mobile(), Some(descriptors.general())]
                .into_iter()
                .flatten()
                .find_map(|d| d.example())?;
            Some((Region(id), format!("+{}{example}", meta.country_code())))
        })
        .collect()
}

#[test]
fn national_number_without_region_is_refused() {
    assert!(PhoneNumber::parse("0123456789", None).is_err());
}

#[test]
fn unknown_region_is_refused() {
    assert!(Region::parse("ZZ").is_err());
}

mod properties {
    use std::sync::LazyLock;

    use proptest::prelude::*;

    use super::super::*;

    static REGIONS: LazyLock<Vec<(Region, String)>> = LazyLock::new(super::examples);

    /// The length of `+` and the country code of `region`'s numbers.
    fn code_len(region: Region) -> usize {
        let code = phonenumber::metadata::DATABASE.by_id(region.code()).map(|m| m.country_code()).unwrap_or_default();
        1 + code.to_string().len()
    }

    /// A French number (national significant number without the trunk 0) in the forms
    /// people write it.
    fn french_forms(nsn: &str) -> Vec<String> {
        let d: Vec<char> = nsn.chars().collect();
        let pairs: Vec<String> = d[1..].chunks(2).map(|c| c.iter().collect()).collect();
        vec![
            format!("0{nsn}"),
            format!("0{} {}", d[0], pairs.join(" ")),
            format!("0{}.{}", d[0], pairs.join(".")),
            format!("0{}-{}", d[0], pairs.join("-")),
            format!("+33{nsn}"),
            format!("+33 {} {}", d[0], pairs.join(" ")),
            format!("+33 (0){} {}", d[0], pairs.join(" ")),
            format!(" +33-{}-{} ", d[0], pairs.join("-")),
            format!("+33{}-{}", d[0], pairs.join("-")),
            format!("+33{}.{}", d[0], pairs.join(".")),
            format!("+33{} {}", d[0], pairs.join(" ")),
        ]
    }

    fn us_forms(area: &str, exchange: &str, line: &str) -> Vec<String> {
        vec![
            format!("({area}) {exchange}-{line}"),
            format!("{area}-{exchange}-{line}"),
            format!("{area}.{exchange}.{line}"),
            format!("1 {area} {exchange} {line}"),
            format!("+1 ({area}) {exchange}-{line}"),
            format!("+1{area}{exchange}{line}"),
            format!("+1{area}-{exchange}-{line}"),
            format!("+1{area}.{exchange}.{line}"),
            format!("+1{area} {exchange} {line}"),
            format!("+1-{area}-{exchange}-{line}"),
        ]
    }

    proptest! {
        #[test]
        fn french_numbers_normalise_to_one_e164_whatever_the_form(first in "[1-7]", rest in "[0-9]{8}") {
            let nsn = format!("{first}{rest}");
            let fr = Some(Region::parse("FR").unwrap());
            let expected = format!("+33{nsn}");
            // Not every range is allocated; the property is about the forms of valid ones.
            prop_assume!(PhoneNumber::parse(&expected, None).is_ok());
            for form in french_forms(&nsn) {
                let parsed = PhoneNumber::parse(&form, fr).map_err(|e| TestCaseError::fail(format!("{form}: {e}")))?;
                prop_assert_eq!(parsed.as_e164(), expected.as_str(), "{}", form);
                // Idempotent: the normal form parses to itself, with or without a region.
                prop_assert_eq!(&PhoneNumber::parse(parsed.as_e164(), fr).unwrap(), &parsed);
                prop_assert_eq!(&PhoneNumber::parse(parsed.as_e164(), None).unwrap(), &parsed);
            }
        }

        #[test]
        fn us_numbers_normalise_to_one_e164_whatever_the_form(
            area in proptest::sample::select(vec!["212", "303", "415", "617", "312"]),
            exchange in "[2-9][0-9]{2}",
            line in "[0-9]{4}",
        ) {
            let us = Some(Region::parse("US").unwrap());
            let mut seen = std::collections::BTreeSet::new();
            for form in us_forms(area, &exchange, &line) {
                if let Ok(p) = PhoneNumber::parse(&form, us) {
                    prop_assert_eq!(&PhoneNumber::parse(p.as_e164(), None).unwrap(), &p);
                    seen.insert(p.as_e164().to_owned());
                }
            }
            // Either the number is valid (every form gives the same E.164) or none parses.
            prop_assert!(seen.len() <= 1, "{:?}", seen);
            if !seen.is_empty() {
                prop_assert_eq!(seen.into_iter().next().unwrap(), format!("+1{area}{exchange}{line}"));
            }
        }

        /// The screen pop looks an E.164-shaped number up as written before parsing it
        /// (`Crm::phone_cards`): that is sound only if every valid number's E.164 form
        /// has that shape and never parses to another number, in every numbering plan,
        /// including those with national prefixes, Italian leading zeros and variable
        /// lengths. (It may be refused: the `phonenumber` crate finds some numbers of a
        /// shared country code valid or not depending on the default region, such as
        /// `+78778078447`, valid with `FR` and not with `RU` or none.)
        #[test]
        fn every_valid_numbers_e164_form_is_e164_shaped_and_never_parses_to_another(
            region in proptest::sample::select(vec![
                "FR", "US", "GB", "DE", "IT", "ES", "BE", "CH", "NL", "SE", "BR", "AR", "MX", "JP",
                "CN", "IN", "AU", "NZ", "ZA", "RU", "SM", "VA", "CI", "SN", "MA",
            ]),
            trunk in proptest::sample::select(vec!["", "0", "00", "9", "15"]),
            digits in "[0-9]{4,13}",
        ) {
            let region = Region::parse(region).unwrap();
            let written = format!("{trunk}{digits}");
            if let Ok(parsed) = PhoneNumber::parse(&written, Some(region)) {
                prop_assert!(PhoneNumber::is_e164_shaped(parsed.as_e164()), "{}", parsed);
                for context in [None, Some(region)] {
                    if let Ok(again) = PhoneNumber::parse(parsed.as_e164(), context) {
                        prop_assert_eq!(&again, &parsed);
                    }
                }
            }
        }

    }

    proptest! {
        // Each case reads numbers of two regions the crate's regular expression cache
        // (100 entries) may no longer hold: a few dozen pairs per run.
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// A valid example number of one region, in international form (plain, spaced
        /// after the code, glued to a hyphenated rest), is accepted by a tenant of any
        /// other region, as the same E.164.
        #[test]
        fn an_international_number_is_accepted_by_a_tenant_of_any_region(
            pair in (0..REGIONS.len(), 0..REGIONS.len()),
            cut in 1usize..4,
        ) {
            let (region, e164) = &REGIONS[pair.0];
            let tenant = REGIONS[pair.1].0;
            let code_len = code_len(*region);
            let nsn = &e164[code_len..];
            let cut = cut.min(nsn.len() - 1);
            for written in [
                e164.clone(),
                format!("{} {nsn}", &e164[..code_len]),
                format!("{}{}-{}", &e164[..code_len], &nsn[..cut], &nsn[cut..]),
            ] {
                let parsed = PhoneNumber::parse(&written, Some(tenant))
                    .map_err(|e| TestCaseError::fail(format!("{written} ({region}) at {tenant}: {e}")))?;
                prop_assert_eq!(parsed.as_e164(), e164.as_str(), "{} at {}", written, tenant);
            }
        }

    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics_and_never_half_parses(input in ".{0,40}") {
            if let Ok(p) = PhoneNumber::parse(&input, Some(Region::parse("FR").unwrap())) {
                prop_assert!(p.as_e164().starts_with('+'));
                prop_assert!(p.as_e164()[1..].chars().all(|c| c.is_ascii_digit()));
            }
        }
    }
}

#[test]
fn a_number_recognises_its_written_forms_read_in_its_own_region() {
    let number = PhoneNumber::from_e164("+14155550103").unwrap();
    assert_eq!(number.region().map(|r| r.code().to_owned()).as_deref(), Some("US"));
    assert_eq!(number.national_significant_number(), "4155550103");
    for written in ["(415) 555-0103", "415-555-0103", "415.555.0103", "+1 415 555 0103", "4155550103", "1-415-555-0103"]
    {
        assert!(number.is_written_as(written), "{written}");
    }
    for other in ["(415) 555-0104", "555-0103", "+44 20 7946 0103", "not a number"] {
        assert!(!number.is_written_as(other), "{other}");
    }
    let paris = PhoneNumber::from_e164("+33123456789").unwrap();
    assert_eq!(paris.national_significant_number(), "123456789");
    assert!(paris.is_written_as("01 23 45 67 89"));
}

#[test]
fn written_forms_cover_the_plan_formats_and_the_national_digits() {
    let number = PhoneNumber::from_e164("+14155550103").unwrap();
    let forms = number.written_forms();
    for form in ["+14155550103", "+1 415-555-0103", "(415) 555-0103", "4155550103"] {
        assert!(forms.iter().any(|f| f == form), "{form} in {forms:?}");
    }
    assert!(forms.iter().all(|f| number.is_written_as(f)), "{forms:?}");
    assert_eq!(number.last_digits(4), "0103");
    let paris = PhoneNumber::from_e164("+33123456789").unwrap();
    assert!(paris.written_forms().iter().any(|f| f == "01 23 45 67 89"), "{:?}", paris.written_forms());
    assert!(paris.written_forms().iter().any(|f| f == "0123456789"));
}
