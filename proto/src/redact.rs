//! `Debug` for the messages that carry a visitor's personal data: their
//! shape and the values that are not personal, never a personal value, so
//! that no `{:?}` anywhere (a log line, a panic, a test failure) can print
//! a name, a codice fiscale or a phone number.

use crate::{
    RenderHandoutRequest, RenderHandoutResponse, RenderTemplateRequest, RenderTemplateResponse,
    Visit,
};
use std::fmt;

/// A personal field: whether it was given, never its value.
struct Redacted(bool);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0 { "<redacted>" } else { "\"\"" })
    }
}

fn r(value: &str) -> Redacted {
    Redacted(!value.is_empty())
}

impl fmt::Debug for Visit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Codes from closed lists are not personal; everything a person
        // typed about the visitor is.
        f.debug_struct("Visit")
            .field("procedure", &self.procedure)
            .field("channel", &self.channel)
            .field("language", &self.language)
            .field("outcome", &self.outcome)
            .field("referral", &self.referral)
            .field("minutes", &self.minutes)
            .field("name", &r(&self.name))
            .field("surname", &r(&self.surname))
            .field("birth_date", &r(&self.birth_date))
            .field("sex", &r(&self.sex))
            .field("nationality", &r(&self.nationality))
            .field("codice_fiscale", &r(&self.codice_fiscale))
            .field("document_number", &r(&self.document_number))
            .field("phone", &r(&self.phone))
            .field("email", &r(&self.email))
            .field("address", &r(&self.address))
            .field("notes", &r(&self.notes))
            .field("visited_at", &r(&self.visited_at))
            .finish()
    }
}

impl fmt::Debug for RenderTemplateRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Variable names are the template's; their values are the visitor's.
        let names: Vec<&String> = self.variables.keys().collect();
        f.debug_struct("RenderTemplateRequest")
            .field("key", &self.key)
            .field("language", &self.language)
            .field("variables", &names)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for RenderTemplateResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RenderTemplateResponse")
            .field("html", &r(&self.html))
            .field("direction", &self.direction)
            .finish()
    }
}

impl fmt::Debug for RenderHandoutRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The operator's additions for this visitor: their labels only.
        let labels: Vec<&String> = self.additions.keys().collect();
        f.debug_struct("RenderHandoutRequest")
            .field("code", &self.code)
            .field("language", &self.language)
            .field("additions", &labels)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for RenderHandoutResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The PDF carries the visitor's additions.
        f.debug_struct("RenderHandoutResponse")
            .field("pdf_bytes", &self.pdf.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_personal_value_is_printed_by_debug() {
        let visit = Visit {
            name: "Amina".into(),
            surname: "Haddad".into(),
            birth_date: "1990-04-03".into(),
            sex: "F".into(),
            nationality: "MA".into(),
            codice_fiscale: "HDDMNA90D43Z330X".into(),
            document_number: "YA1234567".into(),
            phone: "+39 333 1234567".into(),
            email: "amina@example.org".into(),
            address: "via Milano 12".into(),
            notes: "abita con la sorella".into(),
            visited_at: "2026-12-03T10:00:00Z".into(),
            procedure: "permesso.rinnovo.lavoro".into(),
            ..Default::default()
        };
        let request = crate::RecordVisitRequest {
            visit: Some(visit.clone()),
            request_id: "r-1".into(),
        };
        let render = RenderTemplateRequest {
            key: "permesso.rinnovo.lavoro/documenti".into(),
            language: "it".into(),
            variables: [("nome".to_string(), "Amina".to_string())].into(),
        };
        let rendered = RenderTemplateResponse {
            html: "<p>Gentile Amina</p>".into(),
            direction: "ltr".into(),
        };
        let handout = RenderHandoutRequest {
            code: "permesso.rinnovo.lavoro".into(),
            language: "ar".into(),
            additions: [("appuntamento".to_string(), "Amina, 3 aprile".to_string())].into(),
        };
        let pdf = RenderHandoutResponse {
            pdf: b"%PDF Amina Haddad".to_vec(),
        };
        let printed =
            format!("{visit:?} {request:?} {render:?} {rendered:?} {visit:#?} {handout:?} {pdf:?}");
        for value in [
            "Amina",
            "Haddad",
            "1990-04-03",
            "HDDMNA90D43Z330X",
            "YA1234567",
            "333",
            "amina@",
            "Milano",
            "sorella",
            "MA\"",
        ] {
            assert!(!printed.contains(value), "{value} printed: {printed}");
        }
        assert!(printed.contains("permesso.rinnovo.lavoro") && printed.contains("nome"));
    }
}
