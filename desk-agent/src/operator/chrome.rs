//! What every operator page shows around its content (the layout in
//! `html/base.html`): the language, the title, the navigation, the desk.

use super::texts::Lang;
use super::Operator;

pub(super) struct Chrome {
    pub(super) lang: &'static str,
    pub(super) title: &'static str,
    /// Which navigation entry is the current page.
    pub(super) nav: &'static str,
    /// This page's own address, where the language switch comes back to.
    pub(super) here: String,
    pub(super) desk_id: String,
}

impl Chrome {
    pub(super) fn new(
        op: &Operator,
        lang: Lang,
        title: &'static str,
        nav: &'static str,
        here: impl Into<String>,
    ) -> Self {
        Self {
            lang: lang.code(),
            title,
            nav,
            here: here.into(),
            desk_id: op.desk.desk_id.clone(),
        }
    }
}
