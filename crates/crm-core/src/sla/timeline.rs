//! The open intervals of a calendar as instants, with running sums, so that "business
//! seconds between two instants" and "the instant N business seconds after this one" are a
//! binary search each. Built lazily a day at a time, forward from the first instant asked.
//!
//! All instants are whole seconds since the Unix epoch (`i64`); no floating point.

use chrono::{DateTime, LocalResult, Offset, TimeZone};
use chrono_tz::Tz;

use super::calendar::{BusinessCalendar, DAY};

/// How far past the instant asked the timeline looks for open time before it gives up
/// (a calendar whose holidays close every day for ten years has no due instant).
const HORIZON_DAYS: i64 = 3_660;

/// The instant of a local time (seconds since the epoch, read as local wall time).
///
/// A local time that occurs twice is its first occurrence; a local time the clocks skip is
/// the instant they skip it.
pub(crate) fn local_to_instant(tz: Tz, local: i64) -> i64 {
    let Some(naive) = DateTime::from_timestamp(local, 0).map(|d| d.naive_utc()) else { return local };
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.timestamp(),
        LocalResult::None => {
            // In a gap: the transition lies between the readings with the offsets of
            // either side; find the first instant whose offset is the later one.
            let offset_at = |t: i64| {
                DateTime::from_timestamp(t, 0)
                    .map_or(0, |d| i64::from(tz.offset_from_utc_datetime(&d.naive_utc()).fix().local_minus_utc()))
            };
            let (before, after) = (offset_at(local - 2 * DAY), offset_at(local + 2 * DAY));
            let (mut lo, mut hi) = ((local - after).min(local - before), (local - after).max(local - before));
            // invariant: offset_at(lo) is the earlier offset, offset_at(hi) is not
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset_at(mid) == before {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            hi
        }
    }
}

/// Business time of one calendar, built forward on demand.
#[derive(Debug)]
pub(crate) struct Timeline<'c> {
    calendar: &'c BusinessCalendar,
    /// Open intervals `[start, end)`, sorted, disjoint, not touching.
    intervals: Vec<(i64, i64)>,
    /// `sums[i]`: business seconds in `intervals[..i]`.
    sums: Vec<i64>,
    /// The next local day to generate.
    next_day: i64,
    /// Sums are exact for instants in `[valid_from, valid_to)`.
    valid_from: i64,
    valid_to: i64,
    /// `local_to_instant` of the local midnights of `next_day` and the day after.
    midnights: (i64, i64),
    /// The last instant asked and its sum: a fold asks for each instant twice, once as the
    /// end of a span and once as the start of the next.
    memo: (i64, i64),
    /// Where the last search ended: instants asked mostly grow.
    hint: usize,
}

impl<'c> Timeline<'c> {
    /// An empty timeline of `calendar`; it grows from the first instant asked.
    pub(crate) fn new(calendar: &'c BusinessCalendar) -> Self {
        Self {
            calendar,
            intervals: Vec::new(),
            sums: Vec::new(),
            next_day: 0,
            valid_from: i64::MAX,
            valid_to: i64::MIN,
            midnights: (0, 0),
            memo: (i64::MIN, 0),
            hint: 0,
        }
    }

    fn restart(&mut self, at: i64) {
        let tz = self.calendar.time_zone();
        let offset = DateTime::from_timestamp(at, 0)
            .map_or(0, |d| i64::from(tz.offset_from_utc_datetime(&d.naive_utc()).fix().local_minus_utc()));
        // A shift lasts at most a day, so the shifts of the day before cover `at`'s day.
        let day = (at + offset).div_euclid(DAY);
        self.next_day = day - 1;
        self.intervals.clear();
        self.sums.clear();
        self.memo = (i64::MIN, 0);
        self.hint = 0;
        self.midnights = (local_to_instant(tz, self.next_day * DAY), local_to_instant(tz, (self.next_day + 1) * DAY));
        self.valid_from = self.midnights.1;
        self.valid_to = self.midnights.1;
        // `at` is in `day`, whose midnight is the second one: valid from it on.
        self.grow();
    }

    /// Generates the next local day.
    fn grow(&mut self) {
        let tz = self.calendar.time_zone();
        let day = self.next_day;
        let (m0, m1) = self.midnights;
        let m2 = local_to_instant(tz, (day + 2) * DAY);
        // Without a transition in these two days every local time is a fixed offset away.
        let offset = if m2 - m0 == 2 * DAY { Some(day * DAY - m0) } else { None };
        let base = day * DAY;
        for s in self.calendar.shifts_of(day) {
            let (start, end) = match offset {
                Some(o) => (base + s.start - o, base + s.end - o),
                None => (local_to_instant(tz, base + s.start), local_to_instant(tz, base + s.end)),
            };
            if end <= start {
                continue;
            }
            match self.intervals.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => {
                    let sum = self.sums.last().copied().unwrap_or(0) + self.intervals.last().map_or(0, |(a, b)| b - a);
                    self.intervals.push((start, end));
                    self.sums.push(sum);
                }
            }
        }
        self.next_day = day + 1;
        self.midnights = (m1, m2);
        // Every shift starting before the next day's midnight is known.
        self.valid_to = m1;
    }

    fn cover(&mut self, t: i64) {
        if t < self.valid_from {
            self.restart(t);
        }
        while t >= self.valid_to {
            self.grow();
        }
    }

    /// Business seconds from the start of the timeline to `t`.
    fn sum_to(&mut self, t: i64) -> i64 {
        if t == self.memo.0 {
            return self.memo.1;
        }
        self.cover(t);
        // Intervals before the hint start before the last instant asked.
        let from = if self.intervals.get(self.hint).is_some_and(|&(a, _)| a <= t) { self.hint } else { 0 };
        let i = from + self.intervals[from..].partition_point(|&(a, _)| a <= t);
        let sum = match i.checked_sub(1) {
            None => 0,
            Some(k) => {
                let (a, b) = self.intervals[k];
                self.sums[k] + (t.min(b) - a)
            }
        };
        self.hint = i.saturating_sub(1);
        self.memo = (t, sum);
        sum
    }

    /// Business seconds in `[from, to)`; zero when `to <= from`.
    pub(crate) fn between(&mut self, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        // `from` first: only an instant before the timeline restarts it, and `to` is later.
        let a = self.sum_to(from);
        self.sum_to(to) - a
    }

    /// The first instant at which `amount` (> 0) business seconds have passed since `from`;
    /// `None` when the calendar has no such time within ten years.
    pub(crate) fn add(&mut self, from: i64, amount: i64) -> Option<i64> {
        let goal = self.sum_to(from) + amount;
        let limit = from + HORIZON_DAYS * DAY;
        loop {
            let total = self.sums.last().copied().unwrap_or(0) + self.intervals.last().map_or(0, |(a, b)| b - a);
            if total >= goal {
                let i = self.sums.partition_point(|&s| s < goal);
                // the interval holding the goal is the last whose running sum is below it
                let (a, _) = self.intervals[i - 1];
                return Some(a + (goal - self.sums[i - 1]));
            }
            if self.valid_to > limit {
                return None;
            }
            self.grow();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        s.parse::<DateTime<chrono::Utc>>().map_or(i64::MIN, |d| d.timestamp())
    }

    fn local(s: &str) -> i64 {
        s.parse::<chrono::NaiveDateTime>().map_or(i64::MIN, |d| d.and_utc().timestamp())
    }

    #[test]
    fn skipped_local_times_are_the_instant_the_clocks_jump() {
        let paris = chrono_tz::Europe::Paris;
        // 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00 UTC
        assert_eq!(local_to_instant(paris, local("2026-03-29T02:30:00")), at("2026-03-29T01:00:00Z"));
        assert_eq!(local_to_instant(paris, local("2026-03-29T02:00:00")), at("2026-03-29T01:00:00Z"));
        assert_eq!(local_to_instant(paris, local("2026-03-29T03:00:00")), at("2026-03-29T01:00:00Z"));
        assert_eq!(local_to_instant(paris, local("2026-03-29T01:59:59")), at("2026-03-29T00:59:59Z"));
        // 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00 UTC; 02:30 happens twice
        assert_eq!(local_to_instant(paris, local("2026-10-25T02:30:00")), at("2026-10-25T00:30:00Z"));
        assert_eq!(local_to_instant(paris, local("2026-10-25T03:00:00")), at("2026-10-25T02:00:00Z"));
        let sydney = chrono_tz::Australia::Sydney;
        // 2026-10-04: 02:00 AEST becomes 03:00 AEDT (16:00 UTC the day before)
        assert_eq!(local_to_instant(sydney, local("2026-10-04T02:15:00")), at("2026-10-03T16:00:00Z"));
    }
}
