//! Country names in Italian and English for the nationality picker: the
//! record keeps only the ISO 3166-1 alpha-2 code, but an operator looks a
//! country up by the name the visitor says. Generated once from Debian's
//! iso-codes (ISO 3166-1 and its Italian translation), in the order of
//! [`crate::fields::COUNTRY_CODES`].

use crate::catalogue::fold;

#[cfg(test)]
mod tests;

/// A country as the picker shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-2, what the record holds.
    pub code: &'static str,
    pub name_it: &'static str,
    pub name_en: &'static str,
}

impl Country {
    /// The name in `language` (`en`, otherwise Italian).
    pub fn name(&self, language: &str) -> &'static str {
        if language == "en" {
            self.name_en
        } else {
            self.name_it
        }
    }
}

/// Every country of [`crate::fields::COUNTRY_CODES`], same order.
pub const COUNTRIES: [Country; 249] = [
    Country {
        code: "AD",
        name_it: "Andorra",
        name_en: "Andorra",
    },
    Country {
        code: "AE",
        name_it: "Emirati Arabi Uniti",
        name_en: "United Arab Emirates",
    },
    Country {
        code: "AF",
        name_it: "Afghanistan",
        name_en: "Afghanistan",
    },
    Country {
        code: "AG",
        name_it: "Antigua e Barbuda",
        name_en: "Antigua and Barbuda",
    },
    Country {
        code: "AI",
        name_it: "Anguilla",
        name_en: "Anguilla",
    },
    Country {
        code: "AL",
        name_it: "Albania",
        name_en: "Albania",
    },
    Country {
        code: "AM",
        name_it: "Armenia",
        name_en: "Armenia",
    },
    Country {
        code: "AO",
        name_it: "Angola",
        name_en: "Angola",
    },
    Country {
        code: "AQ",
        name_it: "Antartide",
        name_en: "Antarctica",
    },
    Country {
        code: "AR",
        name_it: "Argentina",
        name_en: "Argentina",
    },
    Country {
        code: "AS",
        name_it: "Samoa americane",
        name_en: "American Samoa",
    },
    Country {
        code: "AT",
        name_it: "Austria",
        name_en: "Austria",
    },
    Country {
        code: "AU",
        name_it: "Australia",
        name_en: "Australia",
    },
    Country {
        code: "AW",
        name_it: "Aruba",
        name_en: "Aruba",
    },
    Country {
        code: "AX",
        name_it: "Isole Åland",
        name_en: "Åland Islands",
    },
    Country {
        code: "AZ",
        name_it: "Azerbaigian",
        name_en: "Azerbaijan",
    },
    Country {
        code: "BA",
        name_it: "Bosnia-Erzegovina",
        name_en: "Bosnia and Herzegovina",
    },
    Country {
        code: "BB",
        name_it: "Barbados",
        name_en: "Barbados",
    },
    Country {
        code: "BD",
        name_it: "Bangladesh",
        name_en: "Bangladesh",
    },
    Country {
        code: "BE",
        name_it: "Belgio",
        name_en: "Belgium",
    },
    Country {
        code: "BF",
        name_it: "Burkina Faso",
        name_en: "Burkina Faso",
    },
    Country {
        code: "BG",
        name_it: "Bulgaria",
        name_en: "Bulgaria",
    },
    Country {
        code: "BH",
        name_it: "Bahrein",
        name_en: "Bahrain",
    },
    Country {
        code: "BI",
        name_it: "Burundi",
        name_en: "Burundi",
    },
    Country {
        code: "BJ",
        name_it: "Benin",
        name_en: "Benin",
    },
    Country {
        code: "BL",
        name_it: "Saint-Barthélemy",
        name_en: "Saint Barthélemy",
    },
    Country {
        code: "BM",
        name_it: "Bermuda",
        name_en: "Bermuda",
    },
    Country {
        code: "BN",
        name_it: "Brunei",
        name_en: "Brunei Darussalam",
    },
    Country {
        code: "BO",
        name_it: "Bolivia, Stato Plurinazionale della",
        name_en: "Bolivia",
    },
    Country {
        code: "BQ",
        name_it: "Paesi Bassi caraibici",
        name_en: "Bonaire, Sint Eustatius and Saba",
    },
    Country {
        code: "BR",
        name_it: "Brasile",
        name_en: "Brazil",
    },
    Country {
        code: "BS",
        name_it: "Bahamas",
        name_en: "Bahamas",
    },
    Country {
        code: "BT",
        name_it: "Bhutan",
        name_en: "Bhutan",
    },
    Country {
        code: "BV",
        name_it: "Isola Bouvet",
        name_en: "Bouvet Island",
    },
    Country {
        code: "BW",
        name_it: "Botswana",
        name_en: "Botswana",
    },
    Country {
        code: "BY",
        name_it: "Bielorussia",
        name_en: "Belarus",
    },
    Country {
        code: "BZ",
        name_it: "Belize",
        name_en: "Belize",
    },
    Country {
        code: "CA",
        name_it: "Canada",
        name_en: "Canada",
    },
    Country {
        code: "CC",
        name_it: "Isole Cocos (Keeling)",
        name_en: "Cocos (Keeling) Islands",
    },
    Country {
        code: "CD",
        name_it: "Repubblica democratica del Congo",
        name_en: "Congo, The Democratic Republic of the",
    },
    Country {
        code: "CF",
        name_it: "Repubblica Centrafricana",
        name_en: "Central African Republic",
    },
    Country {
        code: "CG",
        name_it: "Congo",
        name_en: "Congo",
    },
    Country {
        code: "CH",
        name_it: "Svizzera",
        name_en: "Switzerland",
    },
    Country {
        code: "CI",
        name_it: "Costa d'Avorio",
        name_en: "Côte d'Ivoire",
    },
    Country {
        code: "CK",
        name_it: "Isole Cook",
        name_en: "Cook Islands",
    },
    Country {
        code: "CL",
        name_it: "Cile",
        name_en: "Chile",
    },
    Country {
        code: "CM",
        name_it: "Camerun",
        name_en: "Cameroon",
    },
    Country {
        code: "CN",
        name_it: "Cina",
        name_en: "China",
    },
    Country {
        code: "CO",
        name_it: "Colombia",
        name_en: "Colombia",
    },
    Country {
        code: "CR",
        name_it: "Costa Rica",
        name_en: "Costa Rica",
    },
    Country {
        code: "CU",
        name_it: "Cuba",
        name_en: "Cuba",
    },
    Country {
        code: "CV",
        name_it: "Capo Verde",
        name_en: "Cabo Verde",
    },
    Country {
        code: "CW",
        name_it: "Curaçao",
        name_en: "Curaçao",
    },
    Country {
        code: "CX",
        name_it: "Isola di Natale",
        name_en: "Christmas Island",
    },
    Country {
        code: "CY",
        name_it: "Cipro",
        name_en: "Cyprus",
    },
    Country {
        code: "CZ",
        name_it: "Cechia",
        name_en: "Czechia",
    },
    Country {
        code: "DE",
        name_it: "Germania",
        name_en: "Germany",
    },
    Country {
        code: "DJ",
        name_it: "Gibuti",
        name_en: "Djibouti",
    },
    Country {
        code: "DK",
        name_it: "Danimarca",
        name_en: "Denmark",
    },
    Country {
        code: "DM",
        name_it: "Dominica",
        name_en: "Dominica",
    },
    Country {
        code: "DO",
        name_it: "Repubblica Dominicana",
        name_en: "Dominican Republic",
    },
    Country {
        code: "DZ",
        name_it: "Algeria",
        name_en: "Algeria",
    },
    Country {
        code: "EC",
        name_it: "Ecuador",
        name_en: "Ecuador",
    },
    Country {
        code: "EE",
        name_it: "Estonia",
        name_en: "Estonia",
    },
    Country {
        code: "EG",
        name_it: "Egitto",
        name_en: "Egypt",
    },
    Country {
        code: "EH",
        name_it: "Sahara occidentale",
        name_en: "Western Sahara",
    },
    Country {
        code: "ER",
        name_it: "Eritrea",
        name_en: "Eritrea",
    },
    Country {
        code: "ES",
        name_it: "Spagna",
        name_en: "Spain",
    },
    Country {
        code: "ET",
        name_it: "Etiopia",
        name_en: "Ethiopia",
    },
    Country {
        code: "FI",
        name_it: "Finlandia",
        name_en: "Finland",
    },
    Country {
        code: "FJ",
        name_it: "Figi",
        name_en: "Fiji",
    },
    Country {
        code: "FK",
        name_it: "Isole Falkland (Malvine)",
        name_en: "Falkland Islands (Malvinas)",
    },
    Country {
        code: "FM",
        name_it: "Micronesia",
        name_en: "Micronesia, Federated States of",
    },
    Country {
        code: "FO",
        name_it: "Isole Fær Øer",
        name_en: "Faroe Islands",
    },
    Country {
        code: "FR",
        name_it: "Francia",
        name_en: "France",
    },
    Country {
        code: "GA",
        name_it: "Gabon",
        name_en: "Gabon",
    },
    Country {
        code: "GB",
        name_it: "Regno Unito",
        name_en: "United Kingdom",
    },
    Country {
        code: "GD",
        name_it: "Grenada",
        name_en: "Grenada",
    },
    Country {
        code: "GE",
        name_it: "Georgia",
        name_en: "Georgia",
    },
    Country {
        code: "GF",
        name_it: "Guyana francese",
        name_en: "French Guiana",
    },
    Country {
        code: "GG",
        name_it: "Guernsey",
        name_en: "Guernsey",
    },
    Country {
        code: "GH",
        name_it: "Ghana",
        name_en: "Ghana",
    },
    Country {
        code: "GI",
        name_it: "Gibilterra",
        name_en: "Gibraltar",
    },
    Country {
        code: "GL",
        name_it: "Groenlandia",
        name_en: "Greenland",
    },
    Country {
        code: "GM",
        name_it: "Gambia",
        name_en: "Gambia",
    },
    Country {
        code: "GN",
        name_it: "Guinea",
        name_en: "Guinea",
    },
    Country {
        code: "GP",
        name_it: "Guadalupa",
        name_en: "Guadeloupe",
    },
    Country {
        code: "GQ",
        name_it: "Guinea equatoriale",
        name_en: "Equatorial Guinea",
    },
    Country {
        code: "GR",
        name_it: "Grecia",
        name_en: "Greece",
    },
    Country {
        code: "GS",
        name_it: "Georgia del Sud e Isole Sandwich Australi",
        name_en: "South Georgia and the South Sandwich Islands",
    },
    Country {
        code: "GT",
        name_it: "Guatemala",
        name_en: "Guatemala",
    },
    Country {
        code: "GU",
        name_it: "Guam",
        name_en: "Guam",
    },
    Country {
        code: "GW",
        name_it: "Guinea-Bissau",
        name_en: "Guinea-Bissau",
    },
    Country {
        code: "GY",
        name_it: "Guyana",
        name_en: "Guyana",
    },
    Country {
        code: "HK",
        name_it: "Hong Kong",
        name_en: "Hong Kong",
    },
    Country {
        code: "HM",
        name_it: "Isole Heard e McDonald",
        name_en: "Heard Island and McDonald Islands",
    },
    Country {
        code: "HN",
        name_it: "Honduras",
        name_en: "Honduras",
    },
    Country {
        code: "HR",
        name_it: "Croazia",
        name_en: "Croatia",
    },
    Country {
        code: "HT",
        name_it: "Haiti",
        name_en: "Haiti",
    },
    Country {
        code: "HU",
        name_it: "Ungheria",
        name_en: "Hungary",
    },
    Country {
        code: "ID",
        name_it: "Indonesia",
        name_en: "Indonesia",
    },
    Country {
        code: "IE",
        name_it: "Irlanda",
        name_en: "Ireland",
    },
    Country {
        code: "IL",
        name_it: "Israele",
        name_en: "Israel",
    },
    Country {
        code: "IM",
        name_it: "Isola di Man",
        name_en: "Isle of Man",
    },
    Country {
        code: "IN",
        name_it: "India",
        name_en: "India",
    },
    Country {
        code: "IO",
        name_it: "Territorio britannico dell'Oceano Indiano",
        name_en: "British Indian Ocean Territory",
    },
    Country {
        code: "IQ",
        name_it: "Iraq",
        name_en: "Iraq",
    },
    Country {
        code: "IR",
        name_it: "Iran",
        name_en: "Iran",
    },
    Country {
        code: "IS",
        name_it: "Islanda",
        name_en: "Iceland",
    },
    Country {
        code: "IT",
        name_it: "Italia",
        name_en: "Italy",
    },
    Country {
        code: "JE",
        name_it: "Jersey",
        name_en: "Jersey",
    },
    Country {
        code: "JM",
        name_it: "Giamaica",
        name_en: "Jamaica",
    },
    Country {
        code: "JO",
        name_it: "Giordania",
        name_en: "Jordan",
    },
    Country {
        code: "JP",
        name_it: "Giappone",
        name_en: "Japan",
    },
    Country {
        code: "KE",
        name_it: "Kenya",
        name_en: "Kenya",
    },
    Country {
        code: "KG",
        name_it: "Kirghizistan",
        name_en: "Kyrgyzstan",
    },
    Country {
        code: "KH",
        name_it: "Cambogia",
        name_en: "Cambodia",
    },
    Country {
        code: "KI",
        name_it: "Kiribati",
        name_en: "Kiribati",
    },
    Country {
        code: "KM",
        name_it: "Comore",
        name_en: "Comoros",
    },
    Country {
        code: "KN",
        name_it: "Saint Kitts e Nevis",
        name_en: "Saint Kitts and Nevis",
    },
    Country {
        code: "KP",
        name_it: "Corea del Nord",
        name_en: "North Korea",
    },
    Country {
        code: "KR",
        name_it: "Corea del Sud",
        name_en: "South Korea",
    },
    Country {
        code: "KW",
        name_it: "Kuwait",
        name_en: "Kuwait",
    },
    Country {
        code: "KY",
        name_it: "Isole Cayman",
        name_en: "Cayman Islands",
    },
    Country {
        code: "KZ",
        name_it: "Kazakistan",
        name_en: "Kazakhstan",
    },
    Country {
        code: "LA",
        name_it: "Laos",
        name_en: "Laos",
    },
    Country {
        code: "LB",
        name_it: "Libano",
        name_en: "Lebanon",
    },
    Country {
        code: "LC",
        name_it: "Saint Lucia",
        name_en: "Saint Lucia",
    },
    Country {
        code: "LI",
        name_it: "Liechtenstein",
        name_en: "Liechtenstein",
    },
    Country {
        code: "LK",
        name_it: "Sri Lanka",
        name_en: "Sri Lanka",
    },
    Country {
        code: "LR",
        name_it: "Liberia",
        name_en: "Liberia",
    },
    Country {
        code: "LS",
        name_it: "Lesotho",
        name_en: "Lesotho",
    },
    Country {
        code: "LT",
        name_it: "Lituania",
        name_en: "Lithuania",
    },
    Country {
        code: "LU",
        name_it: "Lussemburgo",
        name_en: "Luxembourg",
    },
    Country {
        code: "LV",
        name_it: "Lettonia",
        name_en: "Latvia",
    },
    Country {
        code: "LY",
        name_it: "Libia",
        name_en: "Libya",
    },
    Country {
        code: "MA",
        name_it: "Marocco",
        name_en: "Morocco",
    },
    Country {
        code: "MC",
        name_it: "Monaco",
        name_en: "Monaco",
    },
    Country {
        code: "MD",
        name_it: "Moldavia",
        name_en: "Moldova",
    },
    Country {
        code: "ME",
        name_it: "Montenegro",
        name_en: "Montenegro",
    },
    Country {
        code: "MF",
        name_it: "Saint-Martin (Francia)",
        name_en: "Saint Martin (French part)",
    },
    Country {
        code: "MG",
        name_it: "Madagascar",
        name_en: "Madagascar",
    },
    Country {
        code: "MH",
        name_it: "Isole Marshall",
        name_en: "Marshall Islands",
    },
    Country {
        code: "MK",
        name_it: "Macedonia del Nord",
        name_en: "North Macedonia",
    },
    Country {
        code: "ML",
        name_it: "Mali",
        name_en: "Mali",
    },
    Country {
        code: "MM",
        name_it: "Birmania",
        name_en: "Myanmar",
    },
    Country {
        code: "MN",
        name_it: "Mongolia",
        name_en: "Mongolia",
    },
    Country {
        code: "MO",
        name_it: "Macao",
        name_en: "Macao",
    },
    Country {
        code: "MP",
        name_it: "Isole Marianne Settentrionali",
        name_en: "Northern Mariana Islands",
    },
    Country {
        code: "MQ",
        name_it: "Martinica",
        name_en: "Martinique",
    },
    Country {
        code: "MR",
        name_it: "Mauritania",
        name_en: "Mauritania",
    },
    Country {
        code: "MS",
        name_it: "Montserrat",
        name_en: "Montserrat",
    },
    Country {
        code: "MT",
        name_it: "Malta",
        name_en: "Malta",
    },
    Country {
        code: "MU",
        name_it: "Maurizio",
        name_en: "Mauritius",
    },
    Country {
        code: "MV",
        name_it: "Maldive",
        name_en: "Maldives",
    },
    Country {
        code: "MW",
        name_it: "Malawi",
        name_en: "Malawi",
    },
    Country {
        code: "MX",
        name_it: "Messico",
        name_en: "Mexico",
    },
    Country {
        code: "MY",
        name_it: "Malaysia",
        name_en: "Malaysia",
    },
    Country {
        code: "MZ",
        name_it: "Mozambico",
        name_en: "Mozambique",
    },
    Country {
        code: "NA",
        name_it: "Namibia",
        name_en: "Namibia",
    },
    Country {
        code: "NC",
        name_it: "Nuova Caledonia",
        name_en: "New Caledonia",
    },
    Country {
        code: "NE",
        name_it: "Niger",
        name_en: "Niger",
    },
    Country {
        code: "NF",
        name_it: "Isola Norfolk",
        name_en: "Norfolk Island",
    },
    Country {
        code: "NG",
        name_it: "Nigeria",
        name_en: "Nigeria",
    },
    Country {
        code: "NI",
        name_it: "Nicaragua",
        name_en: "Nicaragua",
    },
    Country {
        code: "NL",
        name_it: "Paesi Bassi",
        name_en: "Netherlands",
    },
    Country {
        code: "NO",
        name_it: "Norvegia",
        name_en: "Norway",
    },
    Country {
        code: "NP",
        name_it: "Nepal",
        name_en: "Nepal",
    },
    Country {
        code: "NR",
        name_it: "Nauru",
        name_en: "Nauru",
    },
    Country {
        code: "NU",
        name_it: "Niue",
        name_en: "Niue",
    },
    Country {
        code: "NZ",
        name_it: "Nuova Zelanda",
        name_en: "New Zealand",
    },
    Country {
        code: "OM",
        name_it: "Oman",
        name_en: "Oman",
    },
    Country {
        code: "PA",
        name_it: "Panama",
        name_en: "Panama",
    },
    Country {
        code: "PE",
        name_it: "Perù",
        name_en: "Peru",
    },
    Country {
        code: "PF",
        name_it: "Polinesia francese",
        name_en: "French Polynesia",
    },
    Country {
        code: "PG",
        name_it: "Papua Nuova Guinea",
        name_en: "Papua New Guinea",
    },
    Country {
        code: "PH",
        name_it: "Filippine",
        name_en: "Philippines",
    },
    Country {
        code: "PK",
        name_it: "Pakistan",
        name_en: "Pakistan",
    },
    Country {
        code: "PL",
        name_it: "Polonia",
        name_en: "Poland",
    },
    Country {
        code: "PM",
        name_it: "Saint-Pierre e Miquelon",
        name_en: "Saint Pierre and Miquelon",
    },
    Country {
        code: "PN",
        name_it: "Pitcairn",
        name_en: "Pitcairn",
    },
    Country {
        code: "PR",
        name_it: "Portorico",
        name_en: "Puerto Rico",
    },
    Country {
        code: "PS",
        name_it: "Palestina, Stato di",
        name_en: "Palestine, State of",
    },
    Country {
        code: "PT",
        name_it: "Portogallo",
        name_en: "Portugal",
    },
    Country {
        code: "PW",
        name_it: "Palau",
        name_en: "Palau",
    },
    Country {
        code: "PY",
        name_it: "Paraguay",
        name_en: "Paraguay",
    },
    Country {
        code: "QA",
        name_it: "Qatar",
        name_en: "Qatar",
    },
    Country {
        code: "RE",
        name_it: "Riunione",
        name_en: "Réunion",
    },
    Country {
        code: "RO",
        name_it: "Romania",
        name_en: "Romania",
    },
    Country {
        code: "RS",
        name_it: "Serbia",
        name_en: "Serbia",
    },
    Country {
        code: "RU",
        name_it: "Russia",
        name_en: "Russian Federation",
    },
    Country {
        code: "RW",
        name_it: "Ruanda",
        name_en: "Rwanda",
    },
    Country {
        code: "SA",
        name_it: "Arabia Saudita",
        name_en: "Saudi Arabia",
    },
    Country {
        code: "SB",
        name_it: "Isole Salomone",
        name_en: "Solomon Islands",
    },
    Country {
        code: "SC",
        name_it: "Seychelles",
        name_en: "Seychelles",
    },
    Country {
        code: "SD",
        name_it: "Sudan",
        name_en: "Sudan",
    },
    Country {
        code: "SE",
        name_it: "Svezia",
        name_en: "Sweden",
    },
    Country {
        code: "SG",
        name_it: "Singapore",
        name_en: "Singapore",
    },
    Country {
        code: "SH",
        name_it: "Sant'Elena, Ascensione e Tristan da Cunha",
        name_en: "Saint Helena, Ascension and Tristan da Cunha",
    },
    Country {
        code: "SI",
        name_it: "Slovenia",
        name_en: "Slovenia",
    },
    Country {
        code: "SJ",
        name_it: "Svalbard e Jan Mayen",
        name_en: "Svalbard and Jan Mayen",
    },
    Country {
        code: "SK",
        name_it: "Slovacchia",
        name_en: "Slovakia",
    },
    Country {
        code: "SL",
        name_it: "Sierra Leone",
        name_en: "Sierra Leone",
    },
    Country {
        code: "SM",
        name_it: "San Marino",
        name_en: "San Marino",
    },
    Country {
        code: "SN",
        name_it: "Senegal",
        name_en: "Senegal",
    },
    Country {
        code: "SO",
        name_it: "Somalia",
        name_en: "Somalia",
    },
    Country {
        code: "SR",
        name_it: "Suriname",
        name_en: "Suriname",
    },
    Country {
        code: "SS",
        name_it: "Sudan del sud",
        name_en: "South Sudan",
    },
    Country {
        code: "ST",
        name_it: "São Tomé e Príncipe",
        name_en: "Sao Tome and Principe",
    },
    Country {
        code: "SV",
        name_it: "El Salvador",
        name_en: "El Salvador",
    },
    Country {
        code: "SX",
        name_it: "Sint Maarten (Olanda)",
        name_en: "Sint Maarten (Dutch part)",
    },
    Country {
        code: "SY",
        name_it: "Siria",
        name_en: "Syria",
    },
    Country {
        code: "SZ",
        name_it: "Eswatini",
        name_en: "Eswatini",
    },
    Country {
        code: "TC",
        name_it: "Isole Turks e Caicos",
        name_en: "Turks and Caicos Islands",
    },
    Country {
        code: "TD",
        name_it: "Ciad",
        name_en: "Chad",
    },
    Country {
        code: "TF",
        name_it: "Territori francesi meridionali",
        name_en: "French Southern Territories",
    },
    Country {
        code: "TG",
        name_it: "Togo",
        name_en: "Togo",
    },
    Country {
        code: "TH",
        name_it: "Thailandia",
        name_en: "Thailand",
    },
    Country {
        code: "TJ",
        name_it: "Tagikistan",
        name_en: "Tajikistan",
    },
    Country {
        code: "TK",
        name_it: "Tokelau",
        name_en: "Tokelau",
    },
    Country {
        code: "TL",
        name_it: "Timor Est",
        name_en: "Timor-Leste",
    },
    Country {
        code: "TM",
        name_it: "Turkmenistan",
        name_en: "Turkmenistan",
    },
    Country {
        code: "TN",
        name_it: "Tunisia",
        name_en: "Tunisia",
    },
    Country {
        code: "TO",
        name_it: "Tonga",
        name_en: "Tonga",
    },
    Country {
        code: "TR",
        name_it: "Türkiye",
        name_en: "Türkiye",
    },
    Country {
        code: "TT",
        name_it: "Trinidad e Tobago",
        name_en: "Trinidad and Tobago",
    },
    Country {
        code: "TV",
        name_it: "Tuvalu",
        name_en: "Tuvalu",
    },
    Country {
        code: "TW",
        name_it: "Taiwan, Repubblica di Cina",
        name_en: "Taiwan",
    },
    Country {
        code: "TZ",
        name_it: "Tanzania",
        name_en: "Tanzania",
    },
    Country {
        code: "UA",
        name_it: "Ucraina",
        name_en: "Ukraine",
    },
    Country {
        code: "UG",
        name_it: "Uganda",
        name_en: "Uganda",
    },
    Country {
        code: "UM",
        name_it: "Isole minori esterne degli Stati Uniti d'America",
        name_en: "United States Minor Outlying Islands",
    },
    Country {
        code: "US",
        name_it: "Stati Uniti",
        name_en: "United States",
    },
    Country {
        code: "UY",
        name_it: "Uruguay",
        name_en: "Uruguay",
    },
    Country {
        code: "UZ",
        name_it: "Uzbekistan",
        name_en: "Uzbekistan",
    },
    Country {
        code: "VA",
        name_it: "Santa Sede (Stato della Città del Vaticano)",
        name_en: "Holy See (Vatican City State)",
    },
    Country {
        code: "VC",
        name_it: "Saint Vincent e Grenadine",
        name_en: "Saint Vincent and the Grenadines",
    },
    Country {
        code: "VE",
        name_it: "Venezuela, Repubblica bolivariana del",
        name_en: "Venezuela",
    },
    Country {
        code: "VG",
        name_it: "Isole Vergini, Regno Unito",
        name_en: "Virgin Islands, British",
    },
    Country {
        code: "VI",
        name_it: "Isole Vergini, U.S.A.",
        name_en: "Virgin Islands, U.S.",
    },
    Country {
        code: "VN",
        name_it: "Vietnam",
        name_en: "Vietnam",
    },
    Country {
        code: "VU",
        name_it: "Vanuatu",
        name_en: "Vanuatu",
    },
    Country {
        code: "WF",
        name_it: "Wallis e Futuna",
        name_en: "Wallis and Futuna",
    },
    Country {
        code: "WS",
        name_it: "Samoa",
        name_en: "Samoa",
    },
    Country {
        code: "YE",
        name_it: "Yemen",
        name_en: "Yemen",
    },
    Country {
        code: "YT",
        name_it: "Mayotte",
        name_en: "Mayotte",
    },
    Country {
        code: "ZA",
        name_it: "Sudafrica",
        name_en: "South Africa",
    },
    Country {
        code: "ZM",
        name_it: "Zambia",
        name_en: "Zambia",
    },
    Country {
        code: "ZW",
        name_it: "Zimbabwe",
        name_en: "Zimbabwe",
    },
];

/// The country with code `code` (any case).
pub fn country(code: &str) -> Option<&'static Country> {
    let code = code.trim().to_ascii_uppercase();
    COUNTRIES.iter().find(|c| c.code == code)
}

/// Countries whose code, Italian or English name contain every word of
/// `query`, ignoring case and accents ("costa avorio", "ivory", "CI"), an
/// exact code first; an empty query matches every country.
pub fn search_countries(query: &str) -> Vec<&'static Country> {
    let folded = fold(query);
    let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    let mut hits: Vec<&'static Country> = COUNTRIES
        .iter()
        .filter(|c| {
            let haystack = fold(&format!("{} {} {}", c.code, c.name_it, c.name_en));
            words.iter().all(|w| haystack.contains(w))
        })
        .collect();
    let exact = query.trim().to_ascii_uppercase();
    hits.sort_by_key(|c| c.code != exact);
    hits
}

/// The country code for what an operator typed or picked: the code itself,
/// or a name in Italian or English, ignoring case and accents.
pub fn country_code(input: &str) -> Option<&'static str> {
    let wanted = fold(input);
    if wanted.is_empty() {
        return None;
    }
    COUNTRIES
        .iter()
        .find(|c| fold(c.code) == wanted || fold(c.name_it) == wanted || fold(c.name_en) == wanted)
        .map(|c| c.code)
}
