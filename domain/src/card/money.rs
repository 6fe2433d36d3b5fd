//! Euro amounts as Italian offices write them (`€ 70,46`, `1.234,56`) and
//! as people type them (`70.46`, `70`, `70,5`), held as cents.

/// Most cents an amount may be (one million euro): larger is a typo.
const MAX_CENTS: u64 = 100_000_000;

/// Parses an amount in euro; the message says what is wrong in words an
/// operator understands.
pub fn parse_euro(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "«{}» non è un importo in euro valido (es. 70,46) / is not a valid euro amount (e.g. 70,46)",
            text.chars().take(40).collect::<String>()
        )
    };
    let t = text
        .trim()
        .trim_start_matches('€')
        .trim_end_matches('€')
        .trim()
        .trim_end_matches("EUR")
        .trim_start_matches("EUR")
        .trim();
    if t.is_empty() || t.len() > 20 {
        return Err(bad());
    }
    // The last ',' or '.' followed by one or two digits is the decimal
    // separator; any other separator groups thousands.
    let (int, frac) = match t.rfind([',', '.']) {
        Some(i) if (1..=2).contains(&(t.len() - i - 1)) => (&t[..i], &t[i + 1..]),
        _ => (t, ""),
    };
    let groups: Vec<&str> = int.split(['.', ',', ' ', '\u{a0}']).collect();
    let grouped = groups.len() > 1;
    if groups
        .iter()
        .any(|g| g.is_empty() || !g.bytes().all(|b| b.is_ascii_digit()))
        || (grouped && groups[1..].iter().any(|g| g.len() != 3))
        || (grouped && groups[0].len() > 3)
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let euros: u64 = groups.concat().parse().map_err(|_| bad())?;
    let cents: u64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<u64>().map_err(|_| bad())? * 10,
        _ => frac.parse().map_err(|_| bad())?,
    };
    let total = euros
        .checked_mul(100)
        .and_then(|e| e.checked_add(cents))
        .ok_or_else(bad)?;
    if total > MAX_CENTS {
        return Err(bad());
    }
    Ok(total)
}

/// `€ 1.234,56`, as an Italian office prints it.
pub fn format_euro(cents: u64) -> String {
    let euros = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in euros.chars().enumerate() {
        if i > 0 && (euros.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(c);
    }
    format!("€ {grouped},{:02}", cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_as_offices_write_and_people_type_them() {
        for (text, cents) in [
            ("70,46", 7046),
            ("€ 70,46", 7046),
            ("70.46", 7046),
            ("16", 1600),
            ("16,5", 1650),
            ("1.234,56", 123_456),
            ("1,234.56", 123_456),
            ("6.947,33", 694_733),
            ("€130,46", 13_046),
            ("30,00 €", 3000),
            ("0", 0),
        ] {
            assert_eq!(parse_euro(text), Ok(cents), "{text}");
        }
        for text in [
            "",
            "abc",
            "70,4,6",
            "12.34.56",
            "-5",
            "1.23456,00",
            "99999999999",
        ] {
            assert!(parse_euro(text).is_err(), "{text}");
        }
        assert_eq!(format_euro(7046), "€ 70,46");
        assert_eq!(format_euro(694_733), "€ 6.947,33");
        assert_eq!(format_euro(1_000_000), "€ 10.000,00");
        assert_eq!(format_euro(5), "€ 0,05");
    }
}
