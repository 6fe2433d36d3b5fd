//! Static files both web layers serve, vendored once and compiled into the
//! binaries: nothing is loaded from the internet.

/// htmx, vendored from its npm package; its licence is [`HTMX_LICENSE`].
pub const HTMX_JS: &[u8] = include_bytes!("../assets/htmx.min.js");
pub const HTMX_LICENSE: &[u8] = include_bytes!("../assets/htmx.LICENSE");
