//! Law references (`art. 5 comma 4 D.Lgs. 286/1998`, `L. 91/1992`): which
//! act they name, so that a guidance item about a law change finds the
//! cards that rest on the same act.

use regex::Regex;
use std::sync::LazyLock;

/// The act: its kind (normalised) and number/year.
static ACT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(d\.?\s*lgs\.?|d\.?\s*l\.?|d\.?\s*p\.?\s*r\.?|d\.?\s*m\.?|l\.?|legge|decreto\s+legislativo|decreto[-\s]legge)\s*(?:n\.?\s*)?(\d{1,4})\s*/\s*(\d{4})",
    )
    .unwrap_or_else(|e| unreachable!("fixed pattern: {e}"))
});

static ARTICLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bart(?:icolo|\.)?\s*(\d{1,4}(?:[-\s]?(?:bis|ter|quater))?)")
        .unwrap_or_else(|e| unreachable!("fixed pattern: {e}"))
});

fn kind(raw: &str) -> &'static str {
    let k: String = raw
        .to_lowercase()
        .chars()
        .filter(char::is_ascii_alphabetic)
        .collect();
    match k.as_str() {
        "dlgs" | "decretolegislativo" => "d.lgs.",
        "dl" | "decretolegge" => "d.l.",
        "dpr" => "d.p.r.",
        "dm" => "d.m.",
        _ => "l.",
    }
}

/// The act a reference names, as `d.lgs. 286/1998`, if it names one.
pub fn law_act(reference: &str) -> Option<String> {
    let c = ACT.captures(reference)?;
    Some(format!("{} {}/{}", kind(&c[1]), &c[2], &c[3]))
}

fn article(reference: &str) -> Option<String> {
    ARTICLE
        .captures(reference)
        .map(|c| c[1].to_lowercase().replace([' ', '-'], ""))
}

/// Whether two references concern the same provision: the same act, and
/// the same article unless either names none (a change to a whole act
/// concerns every card resting on it).
pub fn shares_law_reference(a: &str, b: &str) -> bool {
    match (law_act(a), law_act(b)) {
        (Some(x), Some(y)) if x == y => match (article(a), article(b)) {
            (Some(p), Some(q)) => p == q,
            _ => true,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_their_act_however_written() {
        assert_eq!(
            law_act("art. 5 D.Lgs. 286/1998").as_deref(),
            Some("d.lgs. 286/1998")
        );
        assert_eq!(
            law_act("d.lgs 286/1998").as_deref(),
            Some("d.lgs. 286/1998")
        );
        assert_eq!(
            law_act("Decreto legislativo n. 286/1998").as_deref(),
            Some("d.lgs. 286/1998")
        );
        assert_eq!(
            law_act("art. 13 DPR 394/1999").as_deref(),
            Some("d.p.r. 394/1999")
        );
        assert_eq!(law_act("art. 9 L. 91/1992").as_deref(), Some("l. 91/1992"));
        assert_eq!(law_act("DL 20/2023").as_deref(), Some("d.l. 20/2023"));
        assert_eq!(law_act("la questura"), None);
        assert!(shares_law_reference(
            "art. 5 comma 4 D.Lgs. 286/1998",
            "art. 5 d.lgs 286/1998"
        ));
        assert!(shares_law_reference(
            "art. 5 D.Lgs. 286/1998",
            "D.Lgs. 286/1998"
        ));
        assert!(!shares_law_reference(
            "art. 5 D.Lgs. 286/1998",
            "art. 29 D.Lgs. 286/1998"
        ));
        assert!(!shares_law_reference(
            "art. 9 L. 91/1992",
            "art. 9 D.Lgs. 286/1998"
        ));
        assert!(shares_law_reference(
            "art. 29-bis D.Lgs. 286/1998",
            "art. 29 bis D.Lgs. 286/1998"
        ));
    }
}
