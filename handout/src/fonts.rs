//! The fonts: the bundled Noto set, compiled into the binary so that a desk
//! renders offline on a fresh machine, and the system's Noto Sans CJK, too
//! large to bundle (about 40 MB for Regular and Bold), read on first use.
//!
//! Licences: the bundled files are under the SIL Open Font License 1.1, see
//! `fonts/OFL.txt` and `fonts/README.md`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use typst::foundations::Bytes;
use typst::text::{Font, FontInfo, FontWeight};

use crate::HandoutError;

/// Family names as the fonts' name tables give them, which is what typst
/// matches `text(font: ..)` against (case-insensitively).
pub(crate) const LATIN: &str = "Noto Sans";
pub(crate) const NASKH: &str = "Noto Naskh Arabic";
pub(crate) const NASTALIQ: &str = "Noto Nastaliq Urdu";
pub(crate) const BENGALI: &str = "Noto Sans Bengali";
pub(crate) const ETHIOPIC: &str = "Noto Sans Ethiopic";

/// Every bundled family, in fallback order: after a column's own script,
/// a character of another script still finds a glyph instead of a box.
pub(crate) const BUNDLED_FAMILIES: [&str; 5] = [LATIN, NASKH, NASTALIQ, BENGALI, ETHIOPIC];

/// The files, and whether each is the bold one.
const BUNDLED: [(&[u8], bool); 10] = [
    (include_bytes!("../fonts/NotoSans-Regular.ttf"), false),
    (include_bytes!("../fonts/NotoSans-Bold.ttf"), true),
    (
        include_bytes!("../fonts/NotoNaskhArabic-Regular.ttf"),
        false,
    ),
    (include_bytes!("../fonts/NotoNaskhArabic-Bold.ttf"), true),
    (
        include_bytes!("../fonts/NotoNastaliqUrdu-Regular.ttf"),
        false,
    ),
    (include_bytes!("../fonts/NotoNastaliqUrdu-Bold.ttf"), true),
    (
        include_bytes!("../fonts/NotoSansBengali-Regular.ttf"),
        false,
    ),
    (include_bytes!("../fonts/NotoSansBengali-Bold.ttf"), true),
    (
        include_bytes!("../fonts/NotoSansEthiopic-Regular.ttf"),
        false,
    ),
    (include_bytes!("../fonts/NotoSansEthiopic-Bold.ttf"), true),
];

/// Fonts with the metadata typst selects them by, index for index.
#[derive(Clone, Default)]
pub(crate) struct FontSet {
    pub(crate) fonts: Vec<Font>,
    pub(crate) infos: Vec<FontInfo>,
}

impl FontSet {
    pub(crate) fn extend(&mut self, other: &FontSet) {
        self.fonts.extend(other.fonts.iter().cloned());
        self.infos.extend(other.infos.iter().cloned());
    }
}

/// Parsed once per process: parsing is cheap, but each `Font` also caches
/// its shaping tables, and typst's memoization keys on the font's identity.
pub(crate) static BUNDLED_FONTS: LazyLock<FontSet> = LazyLock::new(|| {
    let mut set = FontSet::default();
    for (data, bold) in BUNDLED {
        for font in Font::iter(Bytes::new(data)) {
            let mut info = font.info().clone();
            // Debian's 2020 Noto Nastaliq Urdu Bold declares weight 400 (its
            // OS/2 table; the style name says Bold): typst would then take
            // either file for either weight. The book, not the file, is
            // corrected, so the bundled file stays as published.
            if bold && info.variant.weight.to_number() < 600 {
                info.variant.weight = FontWeight::BOLD;
            }
            set.infos.push(info);
            set.fonts.push(font);
        }
    }
    set
});

/// The CJK faces a column may need. The Noto Sans CJK collection holds them
/// all; they differ in the shapes of the same Han characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cjk {
    SimplifiedChinese,
    TraditionalChinese,
    Japanese,
    Korean,
}

impl Cjk {
    pub(crate) fn family(self) -> &'static str {
        match self {
            Cjk::SimplifiedChinese => "Noto Sans CJK SC",
            Cjk::TraditionalChinese => "Noto Sans CJK TC",
            Cjk::Japanese => "Noto Sans CJK JP",
            Cjk::Korean => "Noto Sans CJK KR",
        }
    }
}

/// Where Debian's `fonts-noto-cjk` puts the collection, then the paths of
/// other distributions, for a desk that is not Debian.
const CJK_REGULAR: [&str; 3] = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
];

/// The path of `NotoSansCJK-Regular.ttc` (or another CJK collection), for
/// a desk whose font sits elsewhere; when set, the only place looked in.
/// The Bold file is looked for beside it.
pub const CJK_FONT_ENV: &str = "HANDOUT_CJK_FONT";

/// Loaded on the first handout that needs it and kept: reading 40 MB per
/// render would dominate the render time. A failure is not kept, so that
/// installing the package fixes the next render without a restart.
static CJK_FONTS: Mutex<Option<Arc<FontSet>>> = Mutex::new(None);

pub(crate) fn cjk_fonts() -> Result<Arc<FontSet>, HandoutError> {
    let mut cached = CJK_FONTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(fonts) = cached.as_ref() {
        return Ok(Arc::clone(fonts));
    }
    let regular = cjk_path().ok_or_else(|| HandoutError::CjkFontMissing {
        looked_in: searched_paths().join(", "),
    })?;
    let mut fonts = read_collection(&regular)?;
    let bold = PathBuf::from(regular.to_string_lossy().replace("-Regular", "-Bold"));
    // Bold is optional: without it headings come out in the regular weight.
    if bold != regular && bold.is_file() {
        fonts.extend(read_collection(&bold)?);
    }
    let infos = fonts.iter().map(|f| f.info().clone()).collect();
    let fonts = Arc::new(FontSet { fonts, infos });
    *cached = Some(Arc::clone(&fonts));
    Ok(fonts)
}

fn searched_paths() -> Vec<String> {
    match std::env::var(CJK_FONT_ENV) {
        Ok(path) if !path.is_empty() => vec![path],
        _ => CJK_REGULAR.iter().map(|p| (*p).to_owned()).collect(),
    }
}

fn cjk_path() -> Option<PathBuf> {
    searched_paths()
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

fn read_collection(path: &Path) -> Result<Vec<Font>, HandoutError> {
    let data = std::fs::read(path).map_err(|source| HandoutError::CjkFontUnreadable {
        path: path.display().to_string(),
        reason: source.to_string(),
    })?;
    let fonts: Vec<Font> = Font::iter(Bytes::new(data)).collect();
    if fonts.is_empty() {
        return Err(HandoutError::CjkFontUnreadable {
            path: path.display().to_string(),
            reason: "not a font file".to_owned(),
        });
    }
    Ok(fonts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_family_is_there_in_regular_and_bold() {
        for family in BUNDLED_FAMILIES {
            let weights: Vec<u16> = BUNDLED_FONTS
                .infos
                .iter()
                .filter(|info| info.family.eq_ignore_ascii_case(family))
                .map(|info| info.variant.weight.to_number())
                .collect();
            assert!(
                weights.contains(&400),
                "{family}: no regular in {weights:?}"
            );
            assert!(weights.contains(&700), "{family}: no bold in {weights:?}");
        }
    }
}
