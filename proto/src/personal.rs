//! The messages that carry a visitor's personal data, for the build script:
//! they get no derived `Debug`, and `redact.rs` writes one that prints none
//! of their values. A message listed here without an impl there fails to
//! compile (the messages holding it derive `Debug`).

/// Fully-qualified protobuf names.
pub(crate) const PERSONAL: [&str; 5] = [
    ".rete.v1.Visit",
    ".rete.v1.RenderTemplateRequest",
    ".rete.v1.RenderTemplateResponse",
    ".rete.v1.RenderHandoutRequest",
    ".rete.v1.RenderHandoutResponse",
];
