//! The visit form as the operator fills it: every value kept as typed (so a
//! refusal loses nothing), bounded, and turned into the proto `Visit` that
//! `RecordVisit` takes. The page adds only what a person needs on top of the
//! intake rules: names resolved to codes, an age turned into a birth date.

use domain::Catalogue;
use serde::Deserialize;
use std::collections::BTreeMap;

use super::texts::Lang;

/// Longest value of any one field; the notes may be longer, as intake allows.
pub const MAX_VALUE_CHARS: usize = 200;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct VisitForm {
    pub procedure: String,
    pub channel: String,
    pub language: String,
    pub outcome: String,
    pub referral: String,
    pub minutes: String,
    pub age: String,
    pub birth_date: String,
    pub sex: String,
    pub nationality: String,
    pub notes: String,
    /// A `domain::Mediator` code, or empty when nobody said.
    pub mediator: String,
}

/// A message next to a field, by the field's form name.
pub type FieldErrors = BTreeMap<&'static str, String>;

impl VisitForm {
    /// A fresh form: the choices most visits have already made.
    pub fn fresh() -> Self {
        Self {
            channel: "walk_in".into(),
            language: "it".into(),
            outcome: "answered".into(),
            ..Default::default()
        }
    }

    /// After a save the next visitor starts clean; the channel usually stays.
    pub fn next(&self) -> Self {
        Self {
            channel: self.channel.clone(),
            ..Self::fresh()
        }
    }

    fn values(&self) -> [(&'static str, &str, usize); 12] {
        [
            ("procedure", &self.procedure, MAX_VALUE_CHARS),
            ("channel", &self.channel, MAX_VALUE_CHARS),
            ("language", &self.language, MAX_VALUE_CHARS),
            ("outcome", &self.outcome, MAX_VALUE_CHARS),
            ("referral", &self.referral, MAX_VALUE_CHARS),
            ("minutes", &self.minutes, MAX_VALUE_CHARS),
            ("age", &self.age, MAX_VALUE_CHARS),
            ("birth_date", &self.birth_date, MAX_VALUE_CHARS),
            ("sex", &self.sex, MAX_VALUE_CHARS),
            ("nationality", &self.nationality, MAX_VALUE_CHARS),
            ("notes", &self.notes, domain::anonymise::MAX_NOTES_LEN),
            ("mediator", &self.mediator, MAX_VALUE_CHARS),
        ]
    }

    /// The proto visit, or a message for every field the page itself can
    /// already tell is wrong. Everything else is for intake to judge.
    pub fn to_visit(
        &self,
        catalogue: &Catalogue,
        today: chrono::NaiveDate,
        lang: Lang,
    ) -> Result<proto::Visit, FieldErrors> {
        let en = lang == Lang::En;
        let mut errors = FieldErrors::new();
        for (field, value, max) in self.values() {
            if value.chars().count() > max {
                errors.insert(
                    field,
                    if en {
                        format!("at most {max} characters")
                    } else {
                        format!("al massimo {max} caratteri")
                    },
                );
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let procedure = resolve_procedure(&self.procedure, catalogue, en)
            .map_err(|m| errors.insert("procedure", m))
            .unwrap_or_default();
        let nationality = resolve_country(&self.nationality, en)
            .map_err(|m| errors.insert("nationality", m))
            .unwrap_or_default();
        let minutes = match self.minutes.trim() {
            "" => {
                errors.insert(
                    "minutes",
                    (if en {
                        "how many minutes the visit took"
                    } else {
                        "indica quanti minuti è durata la visita"
                    })
                    .into(),
                );
                0
            }
            m => m.parse::<u32>().unwrap_or_else(|_| {
                errors.insert(
                    "minutes",
                    (if en {
                        "a whole number of minutes, e.g. 15"
                    } else {
                        "un numero intero di minuti, per esempio 15"
                    })
                    .into(),
                );
                0
            }),
        };
        let birth_date = birth_date_of(self.age.trim(), self.birth_date.trim(), today, en)
            .map_err(|(field, m)| errors.insert(field, m))
            .unwrap_or_default();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(proto::Visit {
            procedure,
            channel: self.channel.trim().into(),
            language: self.language.trim().into(),
            outcome: self.outcome.trim().into(),
            referral: self.referral.trim().into(),
            minutes,
            birth_date,
            sex: self.sex.trim().into(),
            nationality,
            notes: self.notes.trim().into(),
            mediator: self.mediator.trim().into(),
            ..Default::default()
        })
    }
}

/// `Name (code)` as the pickers fill it, or the code or name alone.
fn trailing_code(input: &str) -> Option<&str> {
    let inner = input.trim().strip_suffix(')')?;
    let open = inner.rfind('(')?;
    Some(inner[open + 1..].trim())
}

/// The catalogue code for what was typed: a code, a picked `Name (code)`,
/// or words that name exactly one procedure (the `ListProcedures` search).
fn resolve_procedure(input: &str, catalogue: &Catalogue, en: bool) -> Result<String, String> {
    let input = input.trim();
    if input.is_empty() {
        return Err(if en {
            "choose the procedure the visit was about".into()
        } else {
            "scegli la procedura di cui si è parlato".into()
        });
    }
    let code = trailing_code(input).unwrap_or(input);
    if catalogue.contains(code) {
        return Ok(code.into());
    }
    let hits = catalogue.search(input);
    match hits.as_slice() {
        [one] => Ok(one.code.clone()),
        [] => Err(if en {
            "no procedure of the catalogue matches: try other words or pick from the list".into()
        } else {
            "nessuna procedura del catalogo corrisponde: prova altre parole o scegli dall'elenco"
                .into()
        }),
        many => {
            let names: Vec<String> = many
                .iter()
                .take(5)
                .map(|p| {
                    let name = if en { &p.name_en } else { &p.name_it };
                    format!("{name} ({})", p.code)
                })
                .collect();
            Err(if en {
                format!(
                    "{} procedures match; pick one: {}",
                    many.len(),
                    names.join("; ")
                )
            } else {
                format!(
                    "corrispondono {} procedure; scegline una: {}",
                    many.len(),
                    names.join("; ")
                )
            })
        }
    }
}

/// The ISO code for a country typed or picked; empty stays empty (the
/// nationality is optional).
fn resolve_country(input: &str, en: bool) -> Result<String, String> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(String::new());
    }
    let candidate = trailing_code(input).unwrap_or(input);
    if let Some(code) = domain::country_code(candidate) {
        return Ok(code.into());
    }
    match domain::search_countries(input).as_slice() {
        [one] => Ok(one.code.into()),
        [] => Err(if en {
            "no country has this name: type it in Italian or English".into()
        } else {
            "nessun paese ha questo nome: scrivilo in italiano o in inglese".into()
        }),
        many => {
            let names: Vec<&str> = many
                .iter()
                .take(5)
                .map(|c| if en { c.name_en } else { c.name_it })
                .collect();
            Err(if en {
                format!("several countries match: {}", names.join(", "))
            } else {
                format!("corrispondono più paesi: {}", names.join(", "))
            })
        }
    }
}

/// The birth date intake needs for the age band: the one given, or, from an
/// age in years, the latest birth date of someone that age today. Either
/// stays in memory only; intake keeps just the band.
fn birth_date_of(
    age: &str,
    birth_date: &str,
    today: chrono::NaiveDate,
    en: bool,
) -> Result<String, (&'static str, String)> {
    match (age, birth_date) {
        ("", b) => Ok(b.into()),
        (_, b) if !b.is_empty() => Err((
            "age",
            if en {
                "give the age or the birth date, not both".into()
            } else {
                "indica l'età oppure la data di nascita, non entrambe".into()
            },
        )),
        (a, _) => {
            let max = domain::anonymise::MAX_AGE_YEARS;
            let years = a.parse::<u32>().ok().filter(|y| *y <= max).ok_or_else(|| {
                (
                    "age",
                    if en {
                        format!("a whole number of years from 0 to {max}")
                    } else {
                        format!("un numero intero di anni da 0 a {max}")
                    },
                )
            })?;
            let date = today
                .checked_sub_months(chrono::Months::new(years * 12))
                .ok_or_else(|| ("age", "out of range".to_string()))?;
            Ok(date.format("%Y-%m-%d").to_string())
        }
    }
}

/// Which form field an intake refusal (`field `x`: message`) belongs to.
pub fn intake_error_field(message: &str) -> (&'static str, String) {
    const FORM_FIELDS: [&str; 12] = [
        "procedure",
        "channel",
        "language",
        "outcome",
        "referral",
        "minutes",
        "birth_date",
        "sex",
        "nationality",
        "notes",
        "visited_at",
        "mediator",
    ];
    let parsed = message.strip_prefix("field `").and_then(|rest| {
        let (field, msg) = rest.split_once("`: ")?;
        let field = FORM_FIELDS.iter().find(|f| **f == field)?;
        Some((*field, msg.to_string()))
    });
    parsed.unwrap_or(("visit", message.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default()
    }

    #[test]
    fn names_and_picked_labels_resolve_to_codes() {
        let c = Catalogue::seed();
        let form = VisitForm {
            procedure: "Rinnovo permesso per lavoro (permesso.rinnovo.lavoro)".into(),
            nationality: "Marocco".into(),
            minutes: "12".into(),
            age: "30".into(),
            ..VisitForm::fresh()
        };
        let v = form.to_visit(&c, day(), Lang::It).expect("valid form");
        assert_eq!(v.procedure, "permesso.rinnovo.lavoro");
        assert_eq!(v.nationality, "MA");
        assert_eq!(v.birth_date, "1996-11-20");
        assert_eq!(v.minutes, 12);
        assert_eq!(v.mediator, "", "nobody said");
        let form = VisitForm {
            mediator: "needed_unavailable".into(),
            ..form
        };
        let v = form.to_visit(&c, day(), Lang::It).expect("valid form");
        assert_eq!(v.mediator, "needed_unavailable");
    }

    #[test]
    fn every_wrong_field_is_named_at_once() {
        let c = Catalogue::seed();
        let form = VisitForm {
            procedure: "zzz nothing".into(),
            nationality: "Atlantide".into(),
            minutes: "dieci".into(),
            age: "200".into(),
            ..VisitForm::fresh()
        };
        let e = form.to_visit(&c, day(), Lang::It).expect_err("refused");
        let fields: Vec<_> = e.keys().copied().collect();
        assert_eq!(fields, ["age", "minutes", "nationality", "procedure"]);
    }

    #[test]
    fn intake_messages_land_on_their_field() {
        assert_eq!(
            intake_error_field("field `language`: must be a language tag").0,
            "language"
        );
        assert_eq!(intake_error_field("something else").0, "visit");
    }
}
