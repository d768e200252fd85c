//! Business calendars: when a team is at work, in its own time zone.
//!
//! A calendar is weekly open hours (several intervals a day; an interval whose end is not
//! after its start runs past midnight into the next day), holidays (single dates, ranges,
//! either once or every year) and exceptions (a date with its own hours, or closed).
//!
//! **A shift belongs to the day it starts on.** A holiday or an exception on a date replaces
//! the shifts that *start* that date, including the part of an overnight shift that runs
//! into the next day; the overnight shift of the evening before a holiday is worked in full.
//!
//! Local times become instants by the rules of `java.time`, with one change for the gap:
//! a local time the clocks skip (02:30 on the spring-forward night in Paris) is the instant
//! they skip it (03:00 CEST), and a local time that occurs twice (02:30 on the fall-back
//! night) is its first occurrence. A shift from 01:00 to 04:00 therefore lasts two hours on
//! the spring-forward night and four on the fall-back night, as the people working it see.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::{FieldError, ValidationErrors, Validator};

/// Seconds in a day.
pub(crate) const DAY: i64 = 86_400;
/// The longest range a holiday may span (a year, leap day included).
const MAX_HOLIDAY_DAYS: i64 = 366;

/// A day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DayOfWeek {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl DayOfWeek {
    /// Days from Monday (Monday = 0).
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// One open interval of a week day: from `from` to `until`, local times `HH:MM` or
/// `HH:MM:SS`; `until` may be `24:00`; an `until` not after `from` ends the next day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OpenHours {
    /// The day the interval starts on.
    pub day: DayOfWeek,
    /// Local start time (`09:00`).
    pub from: String,
    /// Local end time (`17:30`, `24:00`, or `06:00` for a night shift that started at `22:00`).
    pub until: String,
}

/// An open interval of an exception day; the same reading of times as [`OpenHours`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TimeSpan {
    /// Local start time.
    pub from: String,
    /// Local end time.
    pub until: String,
}

/// A closed date, or range of dates, once or every year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    /// The (first) closed date.
    pub date: NaiveDate,
    /// The last closed date of a range, inclusive; at most a year after `date`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    /// Every year on the same month and day (a yearly 29 February closes leap years only).
    #[serde(default)]
    pub yearly: bool,
    /// A name for people (`Christmas`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A date with hours of its own; no hours means closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DayException {
    /// The date.
    pub date: NaiveDate,
    /// Its open intervals (none: closed that day).
    #[serde(default)]
    pub hours: Vec<TimeSpan>,
}

/// A business calendar as written: the wire form of [`BusinessCalendar`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CalendarSpec {
    /// IANA time zone (`Europe/Paris`).
    pub time_zone: String,
    /// The weekly open hours; at least one interval.
    pub hours: Vec<OpenHours>,
    /// Closed dates.
    #[serde(default)]
    pub holidays: Vec<Holiday>,
    /// Dates with their own hours.
    #[serde(default)]
    pub exceptions: Vec<DayException>,
}

/// A shift as seconds from the local midnight of its day: `[start, end)`, at most a day long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shift {
    pub(crate) start: i64,
    pub(crate) end: i64,
}

/// A validated business calendar; built by [`BusinessCalendar::new`], serialised as its
/// [`CalendarSpec`].
///
/// ```
/// use crm_core::sla::{BusinessCalendar, CalendarSpec, DayOfWeek, OpenHours};
///
/// let spec = CalendarSpec {
///     time_zone: "Europe/Paris".into(),
///     hours: vec![OpenHours { day: DayOfWeek::Monday, from: "09:00".into(), until: "17:00".into() }],
///     holidays: vec![],
///     exceptions: vec![],
/// };
/// assert!(BusinessCalendar::new(spec.clone()).is_ok());
/// let bad = CalendarSpec { time_zone: "Mars/Olympus".into(), ..spec };
/// assert_eq!(BusinessCalendar::new(bad).unwrap_err().errors()[0].field, "time_zone");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "CalendarSpec", into = "CalendarSpec")]
pub struct BusinessCalendar {
    spec: CalendarSpec,
    tz: Tz,
    /// Shifts per week day (Monday first), sorted by start.
    weekly: [Vec<Shift>; 7],
    /// Closed dates, as days from the Unix epoch, sorted.
    dates: Vec<i64>,
    /// Closed (month, day) pairs every year, sorted.
    yearly: BTreeSet<(u32, u32)>,
    /// Exception days (days from the epoch) with their shifts, sorted by day.
    exceptions: Vec<(i64, Vec<Shift>)>,
}

impl TryFrom<CalendarSpec> for BusinessCalendar {
    type Error = ValidationErrors;

    fn try_from(spec: CalendarSpec) -> Result<Self, ValidationErrors> {
        Self::new(spec)
    }
}

impl From<BusinessCalendar> for CalendarSpec {
    fn from(c: BusinessCalendar) -> Self {
        c.spec
    }
}

impl BusinessCalendar {
    /// Validates a calendar.
    ///
    /// # Errors
    /// Every refused field, named by its path: `time_zone` (not an IANA zone), `hours` (no
    /// open hours at all), `hours[i].from` / `until` (not a time, or an empty interval),
    /// `hours[i]` (overlaps another interval of the week), `holidays[i].until` (before the
    /// date, or more than a year after it), `exceptions[i]…` (the same rules as hours, and a
    /// date given twice).
    pub fn new(spec: CalendarSpec) -> Result<Self, ValidationErrors> {
        let mut v = Validator::new();
        let tz = v.check(
            spec.time_zone
                .parse::<Tz>()
                .map_err(|_| FieldError::new("time_zone", format!("{:?} is not an IANA time zone", spec.time_zone))),
        );
        if spec.hours.is_empty() {
            v.push(FieldError::new("hours", "a calendar needs open hours on at least one day"));
        }
        let mut weekly: [Vec<Shift>; 7] = Default::default();
        let mut in_week: Vec<(i64, i64, usize)> = Vec::new();
        for (i, h) in spec.hours.iter().enumerate() {
            if let Some(s) = v.check(shift(&h.from, &h.until).map_err(|e| e.within(&format!("hours[{i}]")))) {
                let offset = h.day.index() as i64 * DAY;
                in_week.push((offset + s.start, offset + s.end, i));
                weekly[h.day.index()].push(s);
            }
        }
        // Overlaps across the whole week, the night shift of Sunday wrapping onto Monday.
        let week = 7 * DAY;
        let mut wrapped: Vec<(i64, i64, usize)> = in_week.clone();
        wrapped.extend(in_week.iter().map(|&(a, b, i)| (a + week, b + week, i)));
        wrapped.sort_unstable();
        let mut overlapping = BTreeSet::new();
        for pair in wrapped.windows(2) {
            let ((_, end, i), (start, _, j)) = (pair[0], pair[1]);
            if start < end && i != j {
                overlapping.insert(i.max(j));
                overlapping.insert(i.min(j));
            }
        }
        if let Some(&first) = overlapping.iter().next() {
            let others: Vec<String> = overlapping.iter().skip(1).map(|i| format!("hours[{i}]")).collect();
            v.push(FieldError::new(format!("hours[{first}]"), format!("overlaps {}", others.join(", "))));
        }
        for shifts in &mut weekly {
            shifts.sort_unstable_by_key(|s| s.start);
        }

        let mut dates = Vec::new();
        let mut yearly = BTreeSet::new();
        for (i, h) in spec.holidays.iter().enumerate() {
            let last = h.until.unwrap_or(h.date);
            let days = (last - h.date).num_days();
            if days < 0 {
                v.push(FieldError::new(format!("holidays[{i}].until"), "is before the date"));
                continue;
            }
            if days >= MAX_HOLIDAY_DAYS {
                v.push(FieldError::new(format!("holidays[{i}].until"), "a holiday spans at most a year"));
                continue;
            }
            for d in h.date.iter_days().take(days as usize + 1) {
                if h.yearly {
                    yearly.insert((d.month(), d.day()));
                } else {
                    dates.push(epoch_day(d));
                }
            }
        }
        dates.sort_unstable();
        dates.dedup();

        let mut exceptions: Vec<(i64, Vec<Shift>)> = Vec::new();
        for (i, x) in spec.exceptions.iter().enumerate() {
            let mut shifts = Vec::new();
            for (k, span) in x.hours.iter().enumerate() {
                let field = format!("exceptions[{i}].hours[{k}]");
                if let Some(s) = v.check(shift(&span.from, &span.until).map_err(|e| e.within(&field))) {
                    shifts.push(s);
                }
            }
            shifts.sort_unstable_by_key(|s| s.start);
            if shifts.windows(2).any(|p| p[1].start < p[0].end) {
                v.push(FieldError::new(format!("exceptions[{i}].hours"), "intervals overlap"));
            }
            let day = epoch_day(x.date);
            if exceptions.iter().any(|(d, _)| *d == day) {
                v.push(FieldError::new(format!("exceptions[{i}].date"), format!("{} is given twice", x.date)));
            }
            exceptions.push((day, shifts));
        }
        exceptions.sort_unstable_by_key(|(d, _)| *d);

        v.finish()?;
        let Some(tz) = tz else { unreachable!("the validator refused a missing time zone") };
        Ok(Self { spec, tz, weekly, dates, yearly, exceptions })
    }

    /// The calendar as written.
    pub fn spec(&self) -> &CalendarSpec {
        &self.spec
    }

    /// Its time zone.
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// The shifts starting on local day `day` (days from the epoch), sorted by start.
    pub(crate) fn shifts_of(&self, day: i64) -> &[Shift] {
        if let Ok(i) = self.exceptions.binary_search_by_key(&day, |(d, _)| *d) {
            return &self.exceptions[i].1;
        }
        if self.dates.binary_search(&day).is_ok() {
            return &[];
        }
        let date = date_of(day);
        if !self.yearly.is_empty() && self.yearly.contains(&(date.month(), date.day())) {
            return &[];
        }
        &self.weekly[date.weekday().num_days_from_monday() as usize]
    }
}

/// Days from the Unix epoch to `date`.
pub(crate) fn epoch_day(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - 719_163
}

/// The date `day` days from the Unix epoch.
pub(crate) fn date_of(day: i64) -> NaiveDate {
    let ce = i32::try_from(day + 719_163).unwrap_or(i32::MAX);
    NaiveDate::from_num_days_from_ce_opt(ce).unwrap_or(NaiveDate::MAX)
}

/// Reads an interval; an end not after the start is on the next day.
fn shift(from: &str, until: &str) -> Result<Shift, FieldError> {
    let start = time_of_day(from).map_err(|r| FieldError::new("from", r))?;
    if start == DAY {
        return Err(FieldError::new("from", "an interval cannot start at 24:00"));
    }
    let mut end = time_of_day(until).map_err(|r| FieldError::new("until", r))?;
    if end % DAY == start && !(start == 0 && end == DAY) {
        return Err(FieldError::new("until", "is the start time (write 00:00 to 24:00 for a whole day)"));
    }
    if end < start {
        end += DAY;
    }
    Ok(Shift { start, end })
}

/// Seconds since midnight of `HH:MM` or `HH:MM:SS`, up to `24:00`.
fn time_of_day(text: &str) -> Result<i64, String> {
    let bad = || format!("{text:?} is not a time (HH:MM or HH:MM:SS)");
    let parts: Vec<&str> = text.split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit())) {
        return Err(bad());
    }
    let n = |i: usize| parts.get(i).map_or(Ok(0), |p| p.parse::<i64>()).map_err(|_| bad());
    let (h, m, s) = (n(0)?, n(1)?, n(2)?);
    if m > 59 || s > 59 || h > 24 || (h == 24 && (m, s) != (0, 0)) {
        return Err(bad());
    }
    Ok(h * 3600 + m * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(list: &[(DayOfWeek, &str, &str)]) -> Vec<OpenHours> {
        list.iter().map(|&(day, f, u)| OpenHours { day, from: f.into(), until: u.into() }).collect()
    }

    fn spec(list: &[(DayOfWeek, &str, &str)]) -> CalendarSpec {
        CalendarSpec { time_zone: "Europe/Paris".into(), hours: hours(list), holidays: vec![], exceptions: vec![] }
    }

    fn fields(spec: CalendarSpec) -> Vec<String> {
        BusinessCalendar::new(spec)
            .map(|_| vec![])
            .unwrap_or_else(|e| e.errors().iter().map(|e| e.to_string()).collect())
    }

    #[test]
    fn a_calendar_without_open_hours_is_refused() {
        assert_eq!(fields(spec(&[])), ["hours: a calendar needs open hours on at least one day"]);
    }

    #[test]
    fn an_unknown_time_zone_is_refused_by_name() {
        let s = CalendarSpec { time_zone: "Europe/Atlantis".into(), ..spec(&[(DayOfWeek::Monday, "09:00", "17:00")]) };
        assert_eq!(fields(s), ["time_zone: \"Europe/Atlantis\" is not an IANA time zone"]);
    }

    #[test]
    fn overlapping_intervals_are_refused_even_across_midnight_and_the_week_end() {
        use DayOfWeek::*;
        assert_eq!(
            fields(spec(&[(Monday, "09:00", "12:00"), (Monday, "11:00", "14:00")])),
            ["hours[0]: overlaps hours[1]"]
        );
        assert_eq!(
            fields(spec(&[(Monday, "22:00", "06:00"), (Tuesday, "05:00", "09:00")])),
            ["hours[0]: overlaps hours[1]"]
        );
        assert_eq!(
            fields(spec(&[(Monday, "05:00", "09:00"), (Sunday, "22:00", "06:00")])),
            ["hours[0]: overlaps hours[1]"]
        );
        // touching is not overlapping
        assert!(
            fields(spec(&[(Monday, "09:00", "12:00"), (Monday, "12:00", "14:00"), (Sunday, "22:00", "09:00")]))
                .is_empty()
        );
    }

    #[test]
    fn bad_times_and_empty_intervals_name_their_field() {
        use DayOfWeek::*;
        assert_eq!(
            fields(spec(&[(Monday, "9:00", "12:00")])),
            ["hours[0].from: \"9:00\" is not a time (HH:MM or HH:MM:SS)"]
        );
        assert_eq!(
            fields(spec(&[(Monday, "09:00", "24:01")])),
            ["hours[0].until: \"24:01\" is not a time (HH:MM or HH:MM:SS)"]
        );
        assert_eq!(
            fields(spec(&[(Monday, "09:00", "09:00")])),
            ["hours[0].until: is the start time (write 00:00 to 24:00 for a whole day)"]
        );
        assert!(fields(spec(&[(Monday, "00:00", "24:00")])).is_empty());
    }

    #[test]
    fn holidays_and_exceptions_are_checked() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap_or(NaiveDate::MIN);
        let mut s = spec(&[(DayOfWeek::Monday, "09:00", "17:00")]);
        s.holidays.push(Holiday { date: d("2026-12-24"), until: Some(d("2026-12-20")), yearly: false, name: None });
        s.exceptions.push(DayException {
            date: d("2026-12-31"),
            hours: vec![
                TimeSpan { from: "09:00".into(), until: "12:00".into() },
                TimeSpan { from: "11:00".into(), until: "13:00".into() },
            ],
        });
        s.exceptions.push(DayException { date: d("2026-12-31"), hours: vec![] });
        assert_eq!(
            fields(s),
            [
                "holidays[0].until: is before the date",
                "exceptions[0].hours: intervals overlap",
                "exceptions[1].date: 2026-12-31 is given twice"
            ]
        );
    }

    #[test]
    fn the_calendar_round_trips_through_its_wire_form() {
        let s = spec(&[(DayOfWeek::Friday, "22:00", "06:00")]);
        let c = BusinessCalendar::new(s.clone()).map_err(|e| e.to_string());
        let json = serde_json::to_value(c.as_ref().ok()).unwrap_or_default();
        assert_eq!(json, serde_json::to_value(&s).unwrap_or_default());
        let back: Result<BusinessCalendar, _> = serde_json::from_value(json);
        assert_eq!(back.ok(), c.ok());
        let bad = serde_json::json!({"time_zone": "Nowhere", "hours": []});
        let err = serde_json::from_value::<BusinessCalendar>(bad).map(|_| ()).unwrap_err().to_string();
        assert!(err.contains("time_zone") && err.contains("hours"), "{err}");
    }

    #[test]
    fn epoch_days_round_trip() {
        for d in [-800_000, -1, 0, 1, 20_000, 2_000_000] {
            assert_eq!(epoch_day(date_of(d)), d);
        }
        assert_eq!(date_of(0), NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN));
    }
}
