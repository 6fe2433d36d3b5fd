//! Pseudonyms: the same visitor gets the same 64-hex-character value at
//! every desk of the federation within a calendar year, so that repeat
//! visits can be counted, but nobody without the federation secret can go
//! from a pseudonym back to a person, and a new year starts new pseudonyms
//! so that visits cannot be chained across years.
//!
//! HMAC-SHA256 keyed with the secret, over a versioned, length-prefixed
//! message: year, then either the codice fiscale or, when the visitor has
//! none yet, name, surname and birth date. Each part is normalised first so
//! that the way an operator types it does not split one visitor into two.

use std::fmt;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::scrub::fold::fold;

#[cfg(test)]
mod tests;

/// Key length in bytes.
pub const SECRET_LEN: usize = 32;

/// The key shared by every desk of the federation (never by the hub, which
/// only sees pseudonyms). `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct FederationSecret([u8; SECRET_LEN]);

/// A secret file that cannot be read. The message says what is wrong with
/// the file, never what it contains.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("federation secret file must hold {expected} hexadecimal characters ({SECRET_LEN} bytes), it holds {found}", expected = SECRET_LEN * 2)]
    Length { found: usize },
    #[error("federation secret file must hold only hexadecimal characters (0-9, a-f); character {position} is not one")]
    NotHex { position: usize },
}

impl FederationSecret {
    /// A new random secret from the operating system's generator (through
    /// `rand`'s thread generator, a CSPRNG seeded from the OS).
    pub fn generate() -> Self {
        let mut key = [0u8; SECRET_LEN];
        rand::rng().fill_bytes(&mut key);
        FederationSecret(key)
    }

    pub fn from_bytes(key: [u8; SECRET_LEN]) -> Self {
        FederationSecret(key)
    }

    /// The key as 64 lowercase hexadecimal characters and a newline.
    pub fn to_file_text(&self) -> String {
        let mut text = hex(&self.0);
        text.push('\n');
        text
    }

    /// Reads what `to_file_text` wrote; surrounding whitespace and
    /// uppercase digits are accepted.
    pub fn from_file_text(text: &str) -> Result<Self, SecretError> {
        let text = text.trim();
        let found = text.chars().count();
        if found != SECRET_LEN * 2 {
            return Err(SecretError::Length { found });
        }
        let mut key = [0u8; SECRET_LEN];
        let mut nibbles = text.bytes().enumerate().map(|(i, b)| {
            char::from(b)
                .to_digit(16)
                .map(|d| d as u8)
                .ok_or(SecretError::NotHex { position: i + 1 })
        });
        for byte in &mut key {
            let (Some(high), Some(low)) = (nibbles.next(), nibbles.next()) else {
                return Err(SecretError::Length { found });
            };
            *byte = (high? << 4) | low?;
        }
        Ok(FederationSecret(key))
    }
}

impl fmt::Debug for FederationSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FederationSecret(<redacted>)")
    }
}

/// Tells the message's version apart from any later scheme.
const DOMAIN: &[u8] = b"rete-sportelli/pseudonym/v1";

/// The visitor's pseudonym for `year`: from the codice fiscale when there
/// is one (uppercase, spaces removed), otherwise from name, surname and
/// birth date (`name_and_birth` = (name, surname, birth date), compared
/// without case, accents or punctuation). `None` when neither is usable.
pub fn pseudonym(
    secret: &FederationSecret,
    year: i32,
    codice_fiscale: Option<&str>,
    name_and_birth: Option<(&str, &str, &str)>,
) -> Option<String> {
    let cf = codice_fiscale
        .map(|cf| {
            cf.chars()
                .filter(|c| !c.is_whitespace())
                .flat_map(char::to_uppercase)
                .collect::<String>()
        })
        .filter(|cf| !cf.is_empty());
    let parts: Vec<String> = match (cf, name_and_birth) {
        (Some(cf), _) => vec!["cf".to_owned(), cf],
        (None, Some((name, surname, birth))) => {
            let parts = vec![
                "nb".to_owned(),
                name_key(name),
                name_key(surname),
                birth.trim().to_owned(),
            ];
            if parts.iter().any(String::is_empty) {
                return None;
            }
            parts
        }
        (None, None) => return None,
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret.0).ok()?;
    mac.update(DOMAIN);
    mac.update(&year.to_be_bytes());
    for part in &parts {
        // Length-prefixed so that ("ab", "c") and ("a", "bc") differ.
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    Some(hex(&mac.finalize().into_bytes()))
}

/// Words of a name, folded, joined by single spaces: "D'Amico",
/// "d amico" and "D’AMICO" give the same key.
fn name_key(name: &str) -> String {
    fold(name)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// 64 lowercase hexadecimal characters: the only form a pseudonym takes.
pub fn is_pseudonym(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
