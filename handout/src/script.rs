//! What a language's script needs from the page: which fonts, which
//! direction, how much room between lines, and whether it fits in half the
//! page width. Decided here rather than in the template so that it is plain
//! Rust, testable without typesetting.

use crate::fonts::{Cjk, BENGALI, ETHIOPIC, LATIN, NASKH, NASTALIQ};
use crate::HandoutError;

/// The script-dependent settings of one column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Profile {
    /// The ISO 639 code typst gets (`text(lang: ..)`): hyphenation, quotes,
    /// and the `/Lang` of the tagged PDF, which screen readers use.
    pub(crate) lang: String,
    pub(crate) rtl: bool,
    /// The script's own font first; the rest are fallbacks for words of
    /// another script inside it (a Latin law reference in Arabic text).
    pub(crate) primary: Vec<&'static str>,
    /// Set only when the script needs the system's CJK font.
    pub(crate) cjk: Option<Cjk>,
    pub(crate) size_pt: f64,
    /// Space between lines, in em.
    pub(crate) leading_em: f64,
    /// What typst takes as a line's top and bottom (`text(top-edge: ..)`).
    pub(crate) top_edge: &'static str,
    pub(crate) bottom_edge: &'static str,
    /// Whether the script reads badly in half the page width.
    pub(crate) needs_width: bool,
}

/// The profile for a BCP-47-ish tag (`it`, `ar`, `zh-Hant`, `pt-BR`): only
/// the primary subtag and, for Chinese, the script or region count.
pub(crate) fn profile(tag: &str) -> Result<Profile, HandoutError> {
    let mut subtags = tag.trim().split(['-', '_']);
    let primary = subtags.next().unwrap_or_default().to_ascii_lowercase();
    if !(2..=3).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(HandoutError::Language {
            lang: tag.to_owned(),
        });
    }
    let rest: Vec<String> = subtags.map(|s| s.to_ascii_lowercase()).collect();
    let base = Profile {
        lang: primary.clone(),
        rtl: false,
        primary: vec![LATIN],
        cjk: None,
        size_pt: 10.0,
        leading_em: 0.55,
        // Typst's defaults: lines spaced by cap height and baseline, which
        // suits Latin, Cyrillic and most scripts without tall marks.
        top_edge: "cap-height",
        bottom_edge: "baseline",
        needs_width: false,
    };
    let profile = match primary.as_str() {
        // Languages written in the Arabic script, set in Naskh (Persian and
        // Dari too: their print is mostly Naskh). Not `ku`: Kurmanji is
        // written in Latin letters; Sorani is `ckb`.
        "ar" | "fa" | "prs" | "ps" | "ckb" | "ug" | "sd" => Profile {
            rtl: true,
            primary: vec![NASKH],
            size_pt: 11.0,
            leading_em: 0.2,
            // Naskh's marks above and below (harakat, dots) would touch the
            // next line with cap-height spacing.
            top_edge: "ascender",
            bottom_edge: "descender",
            ..base
        },
        "ur" => Profile {
            rtl: true,
            primary: vec![NASTALIQ],
            size_pt: 10.5,
            leading_em: 0.35,
            // Nastaliq's words descend diagonally far below the baseline and
            // its ascender is tall; the font's own extents keep lines apart.
            top_edge: "ascender",
            bottom_edge: "descender",
            needs_width: true,
            ..base
        },
        "bn" | "as" => Profile {
            primary: vec![BENGALI],
            leading_em: 0.5,
            // Vowel signs above the headline and below the base.
            top_edge: "ascender",
            bottom_edge: "descender",
            ..base
        },
        "ti" | "am" | "tig" | "gez" => Profile {
            primary: vec![ETHIOPIC],
            leading_em: 0.6,
            ..base
        },
        "zh" => {
            let traditional = rest
                .iter()
                .any(|s| matches!(s.as_str(), "hant" | "tw" | "hk" | "mo"));
            let cjk = if traditional {
                Cjk::TraditionalChinese
            } else {
                Cjk::SimplifiedChinese
            };
            Profile {
                cjk: Some(cjk),
                leading_em: 0.7,
                ..base
            }
        }
        "ja" => Profile {
            cjk: Some(Cjk::Japanese),
            leading_em: 0.7,
            ..base
        },
        "ko" => Profile {
            cjk: Some(Cjk::Korean),
            leading_em: 0.7,
            ..base
        },
        _ => base,
    };
    Ok(profile)
}

/// Whether `text` holds characters that only the CJK font has (Han,
/// kana, hangul, CJK punctuation): an operator may type a name in Chinese
/// into an addition of an Italian handout.
pub(crate) fn has_cjk(text: &str) -> bool {
    text.chars().any(|c| {
        matches!(c as u32,
            0x2E80..=0x2FDF      // CJK radicals
            | 0x3000..=0x30FF    // CJK punctuation, kana
            | 0x3100..=0x31FF    // bopomofo, kana extensions
            | 0x3400..=0x4DBF    // extension A
            | 0x4E00..=0x9FFF    // unified ideographs
            | 0xAC00..=0xD7AF    // hangul
            | 0xF900..=0xFAFF    // compatibility ideographs
            | 0xFF00..=0xFFEF    // full-width forms
            | 0x20000..=0x3134F) // extensions B to G
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_get_their_font_and_direction() -> Result<(), HandoutError> {
        assert_eq!(profile("ar")?.primary, vec![NASKH]);
        assert!(profile("ar")?.rtl);
        assert!(profile("ur")?.rtl && profile("ur")?.needs_width);
        assert_eq!(profile("ur")?.primary, vec![NASTALIQ]);
        assert!(!profile("it")?.rtl && !profile("uk")?.needs_width);
        assert_eq!(profile("bn")?.primary, vec![BENGALI]);
        assert_eq!(profile("ti")?.primary, vec![ETHIOPIC]);
        assert_eq!(profile("zh")?.cjk, Some(Cjk::SimplifiedChinese));
        assert_eq!(profile("zh-Hant")?.cjk, Some(Cjk::TraditionalChinese));
        assert_eq!(profile("zh_TW")?.cjk, Some(Cjk::TraditionalChinese));
        assert_eq!(profile("AR-eg")?.lang, "ar");
        assert_eq!(profile("de")?.primary, vec![LATIN]);
        assert!(profile("prs")?.rtl && profile("ckb")?.rtl && !profile("ku")?.rtl);
        Ok(())
    }

    #[test]
    fn a_malformed_language_is_refused() {
        for bad in ["", "x", "english", "a1", "#ar", "ع"] {
            assert!(
                matches!(profile(bad), Err(HandoutError::Language { .. })),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn cjk_is_found_in_any_field() {
        assert!(has_cjk("王小明"));
        assert!(has_cjk("appuntamento: 张伟"));
        assert!(!has_cjk(
            "art. 5 D.Lgs. 286/1998 € 70,46 تجديد ویزا ቅጥዒ পাসপোর্ট Паспорт"
        ));
    }
}
