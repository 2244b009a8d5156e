//! Calendar dates as the catalog and `--as-of` write them: ISO `YYYY-MM-DD`.
//! The one date type of the workspace: embargo-tables depends on this crate,
//! so the CLI and the tables reach it without a second copy.

use std::fmt;

/// Why a text is not a date; the CLI prints it as the `--as-of` error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("`{0}` is not an ISO date YYYY-MM-DD")]
    NotIso(String),
    #[error("`{0}` is not a calendar date")]
    NoSuchDay(String),
}

/// A proleptic Gregorian calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// Parses exactly `YYYY-MM-DD` (four, two and two digits) naming a real day.
    pub fn parse_iso(text: &str) -> Result<Date, DateError> {
        let b = text.as_bytes();
        let shape_ok = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shape_ok {
            return Err(DateError::NotIso(text.to_string()));
        }
        let num = |r: std::ops::Range<usize>| text[r].parse::<u16>().unwrap_or(0);
        let (year, month, day) = (num(0..4), num(5..7) as u8, num(8..10) as u8);
        Date::new(year, month, day).ok_or_else(|| DateError::NoSuchDay(text.to_string()))
    }

    pub fn year(self) -> u16 {
        self.year
    }
    pub fn month(self) -> u8 {
        self.month
    }
    pub fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let m = i64::from(self.month);
        let d = i64::from(self.day);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// Midnight UTC of this date, Unix seconds.
    pub fn unix_seconds(self) -> i64 {
        self.days_since_epoch() * 86_400
    }

    /// The UTC date of a Unix time; `None` outside the years 0 to 65535.
    pub fn from_unix_seconds(secs: i64) -> Option<Date> {
        // Howard Hinnant's civil_from_days.
        let z = secs.div_euclid(86_400) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date::new(u16::try_from(year).ok()?, month, day)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn is_leap(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_dates_only() {
        assert_eq!(Date::parse_iso("2024-09-29").unwrap().to_string(), "2024-09-29");
        assert!(Date::parse_iso("2024-02-29").is_ok());
        assert!(Date::parse_iso("2023-02-29").is_err());
        assert!(Date::parse_iso("1900-02-29").is_err());
        assert!(Date::parse_iso("2000-02-29").is_ok());
        assert!(Date::parse_iso("2024-13-01").is_err());
        assert!(Date::parse_iso("2024-04-31").is_err());
        assert!(Date::parse_iso("2024-9-29").is_err());
        assert!(Date::parse_iso("2024-09-29T00:00").is_err());
        assert!(Date::parse_iso("+024-09-29").is_err());
        assert!(Date::parse_iso("2024-00-10").is_err());
        assert!(Date::parse_iso("2024-01-00").is_err());
    }

    #[test]
    fn unix_seconds_agree_with_date_1() {
        // `date -u -d 2024-09-29 +%s` prints 1727568000.
        assert_eq!(Date::parse_iso("2024-09-29").unwrap().unix_seconds(), 1_727_568_000);
        assert_eq!(Date::parse_iso("1970-01-01").unwrap().unix_seconds(), 0);
        // `date -u -d 1969-12-31 +%s` prints -86400.
        assert_eq!(Date::parse_iso("1969-12-31").unwrap().unix_seconds(), -86_400);
    }

    #[test]
    fn unix_seconds_back_to_dates() {
        // `date -u -d @1727568000 +%F` and `date -u -d @1727654399 +%F` (the day's last second).
        assert_eq!(Date::from_unix_seconds(1_727_568_000).unwrap().to_string(), "2024-09-29");
        assert_eq!(Date::from_unix_seconds(1_727_654_399).unwrap().to_string(), "2024-09-29");
        assert_eq!(Date::from_unix_seconds(-1).unwrap().to_string(), "1969-12-31");
        // `date -u -d 0000-01-01 +%s` and `date -u -d 9999-12-31 +%s`.
        assert_eq!(Date::from_unix_seconds(-62_167_219_200).unwrap().to_string(), "0000-01-01");
        assert_eq!(Date::from_unix_seconds(253_402_214_400).unwrap().to_string(), "9999-12-31");
        assert_eq!(Date::from_unix_seconds(-62_167_219_201), None, "year -1");
        assert_eq!(Date::from_unix_seconds(i64::MAX), None);
        assert_eq!(Date::from_unix_seconds(i64::MIN), None);
        for text in ["2024-02-29", "2000-02-29", "1900-03-01", "2100-12-31", "1970-01-01"] {
            let d = Date::parse_iso(text).unwrap();
            assert_eq!(Date::from_unix_seconds(d.unix_seconds()), Some(d), "{text}");
        }
    }
}
