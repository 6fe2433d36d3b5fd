#!/usr/bin/env python3
"""Writes notes.jsonl: operator notes as desks for foreign residents write
them, with every piece of personal data labelled by kind and byte span, and
the text that must survive scrubbing listed under "keep".

The personal data is synthetic: codici fiscali and IBANs are made up with
correct check characters, phone numbers and e-mails are random.

After the templated and handwritten notes come families of hard cases
(`families()`), drawn from their own fixed seed so that the notes before
them never move: codici fiscali in odd groupings and with omocodia,
abbreviated street types (glued, in capitals, in lowercase), phone numbers
in international and pasted spacing, spelled e-mails, names in Cyrillic,
Arabic and Chinese and spelled glued or apart, dates of birth in several
forms, spaced IBANs, short names that are everyday words, and near misses
that must be kept.
Run: python3 tests/corpus/gen_notes.py > tests/corpus/notes.jsonl
"""
import json
import random
import re
import sys
import unicodedata

R = random.Random(20261125)

FIRST = ["Fatima", "Mohamed", "Aïcha", "Ndèye", "Oleksandr", "Olena", "Wei", "Xiaoling", "Muhammad",
         "Ayesha", "Arben", "Elira", "Ionuț", "Andreea", "Rajesh", "Priya", "Chukwuemeka", "Blessing",
         "José", "María", "Nguyễn", "Şükrü", "Amadou", "Mariam", "Kwame", "Abena", "Tetiana", "Dmytro",
         "Jamal", "Samira", "Hassan", "Yousra", "Kofi", "Esperanza", "Anil", "Sunita", "Bogdan", "Ilinca",
         "Faisal", "Nasrin", "Tariq", "Zainab", "Ousmane", "Khadija", "Lamin", "Awa", "Ermal", "Jonida"]
LAST = ["El Amrani", "Benali", "Diop", "Ndiaye", "Shevchenko", "Kovalenko", "Zhang", "Wang", "Hussain",
        "Khan", "Hoxha", "Krasniqi", "Popescu", "Ionescu", "Sharma", "Patel", "Okafor", "Adeyemi",
        "Quispe", "Núñez", "Trần", "Yılmaz", "Traoré", "Coulibaly", "Mensah", "Boateng", "Bondarenko",
        "Melnyk", "Haddad", "Sayed", "Chowdhury", "Rahman", "Sow", "Fall", "Gjoka", "Dervishi",
        "Rodríguez", "Gómez", "Mahmoud", "Abdullah", "Ceesay", "Jallow", "Mărgărit", "Ozturk", "Begum", "Akter"]

STREETS = ["via Milano", "Via Milano", "via Cremona", "Corso Garibaldi", "corso Zanardelli", "Via San Faustino",
           "viale Venezia", "Viale Piave", "piazza della Loggia", "Piazza Vittoria", "via Trento",
           "Via dei Mille", "via Lamarmora", "Via Vittorio Emanuele II", "vicolo dell'Ortaglia", "via Sostegno",
           "Via Orzinuovi", "via Corsica", "Via XX Settembre", "largo Formentone", "via Fratelli Ugoni",
           "Via Industriale", "via Chiusure", "Piazzale Garibaldi", "via della Volta", "Via Triumplina"]
CITIES = ["Brescia", "Rezzato", "Castel Mella", "Roncadelle", "Gussago", "Concesio", "Lumezzane", "Ghedi"]

LAWS = ["art. 5 D.Lgs. 286/1998", "L. 91/1992", "art. 9 L. 91/1992", "art. 29 D.Lgs. 286/1998",
        "art. 5 comma 9 D.Lgs. 286/1998", "DPR 394/1999", "art. 19 D.Lgs. 286/1998", "D.L. 20/2023",
        "art. 22 D.Lgs. 286/1998", "art. 4 comma 2 L. 91/1992", "art. 30 D.Lgs. 286/1998", "art. 9 D.Lgs. 286/1998"]
AMOUNTS = ["€ 70,46", "40 euro", "€ 16", "30,46 euro", "€ 250", "100 €", "€ 12,50", "80,46 €", "€ 1.200",
           "16 euro", "€ 40", "€ 130", "250 euro", "€ 9.360,00", "€ 300 al mese"]
PROCS = ["permesso.rinnovo.lavoro", "ricongiungimento.nulla_osta", "cittadinanza.residenza",
         "permesso.kit_postale", "scuola.iscrizione", "casa.servizi_abitativi", "permesso.ue_lungo_periodo",
         "ricongiungimento.idoneita_alloggio", "welfare.assegno_unico", "sanita.iscrizione_ssr",
         "anagrafe.iscrizione", "cittadinanza.matrimonio", "lingua.corsi_italiano", "lavoro.decreto_flussi",
         "permesso.protezione_speciale", "fisco.codice_fiscale"]
HOURS = ["9:00-12:30", "14:00-17:00", "9.00-12.30", "8:30-12:00", "15:00-18:00", "10:00-13:00"]
APPTS = ["appuntamento il 12/12/2026", "appuntamento il 03/02/2027", "appuntamento il 15/01/2027",
         "appuntamento il 7/3/2027", "appointment on 12/12/2026", "appuntamento il 21.01.2027",
         "appuntamento il 2027-02-10"]
KEEP_SLOTS = {
    "KIDS": ["2 figli", "3 figli minori", "1 figlio di 4 anni", "2 figli di 3 e 7 anni"],
    "LEVEL": ["livello A2", "livello B1", "livello A1", "level A2", "level B1"],
    "YEARS": ["da 10 anni", "dal 2015", "da 3 anni", "since 2019"],
    "ROOMS": ["60 mq", "4 persone", "2 camere", "75 mq per 5 persone"],
    "INCOME": ["reddito 2025", "CUD 2025", "ISEE 2026", "contratto di 12 mesi"],
}

ODD = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
               [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8,
                12, 14, 16, 10, 22, 25, 24, 23]))


def cf_check(s):
    total = 0
    for i, c in enumerate(s):
        total += ODD[c] if i % 2 == 0 else (int(c) if c.isdigit() else ord(c) - 65)
    return chr(65 + total % 26)


def strip_accents(s):
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))


def consonants(s):
    s = strip_accents(s).upper()
    cons = [c for c in s if c.isalpha() and c not in "AEIOU"]
    vows = [c for c in s if c in "AEIOU"]
    return "".join((cons + vows + ["X"] * 3)[:3])


def codice_fiscale(first, last):
    year = R.randint(40, 99) if R.random() < .8 else R.randint(0, 8)
    day = R.randint(1, 28) + (40 if R.random() < .5 else 0)
    town = R.choice("ZZZZZABCDEFGHL") + "%03d" % R.randint(100, 999)
    body = consonants(last) + consonants(first) + "%02d" % year + R.choice("ABCDEHLMPRST") + "%02d" % day + town
    body = list(body)
    if R.random() < .15:  # omocodia from the rightmost digit
        for p in [14, 13, 12, 10, 9, 7, 6][:R.randint(1, 3)]:
            body[p] = "LMNPQRSTUV"[int(body[p])]
    body = "".join(body)
    code = body + cf_check(body)
    r = R.random()
    if r < .15:
        code = code.lower()
    elif r < .25:
        code = " ".join([code[:3], code[3:6], code[6:11], code[11:]])
    return code


IBAN_LEN = {"IT": 27, "RO": 24, "DE": 22, "FR": 27, "ES": 24, "MA": 28, "SN": 28, "AL": 28, "GB": 22, "PK": 24,
            "UA": 29, "TN": 24, "EG": 29}


def iban():
    cc = R.choice(["IT"] * 6 + list(IBAN_LEN))
    n = IBAN_LEN[cc] - 4
    if cc == "IT":
        bban = R.choice("ABCDEFGHILMNOPQRSTUVZ") + "".join(R.choice("0123456789") for _ in range(n - 1))
    elif cc in ("GB", "PK", "AL", "RO"):
        bban = "".join(R.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + "".join(
            R.choice("0123456789") for _ in range(n - 4))
    else:
        bban = "".join(R.choice("0123456789") for _ in range(n))
    num = "".join(str(int(c, 36)) for c in bban + cc + "00")
    code = cc + "%02d" % (98 - int(num) % 97) + bban
    r = R.random()
    if r < .45:
        code = " ".join(code[i:i + 4] for i in range(0, len(code), 4))
    elif r < .5:
        code = code.lower()
    return code


def digits(n):
    return "".join(R.choice("0123456789") for _ in range(n))


def phone():
    mob = "3" + R.choice("2345679") + R.choice("0123456789")
    rest = digits(7)
    forms = [
        f"{mob} {rest}", f"{mob}{rest}", f"{mob}-{rest}", f"{mob}.{rest[:3]}.{rest[3:]}",
        f"+39 {mob} {rest}", f"+39{mob}{rest}", f"0039 {mob} {rest}", f"+39 {mob} {rest[:3]} {rest[3:]}",
        f"030 {digits(7)}", f"030/{digits(7)}", f"(030) {digits(6)}", f"030-{digits(7)}", f"02 {digits(8)}",
        f"+212 6{digits(2)} {digits(3)} {digits(3)}", f"+92 3{digits(2)} {digits(7)}", f"+380 {digits(2)} {digits(3)} {digits(4)}",
        f"+221 77 {digits(3)} {digits(2)} {digits(2)}", f"+40 7{digits(2)} {digits(3)} {digits(3)}",
        f"0039 030 {digits(7)}", f"+86 1{digits(2)} {digits(4)} {digits(4)}",
    ]
    return R.choice(forms)


def email(first, last):
    f = strip_accents(first).lower().replace(" ", "")
    l = strip_accents(last).lower().replace(" ", "")
    user = R.choice([f"{f}.{l}", f"{f}{R.randint(1, 99)}", f"{l}_{f[0]}", f"{f[0]}{l}{R.randint(70, 2005)}", f"info.{l}"])
    return user + "@" + R.choice(["gmail.com", "libero.it", "hotmail.it", "yahoo.fr", "outlook.com", "pec.it", "mail.ru", "qq.com", "virgilio.it"])


def address():
    s = R.choice(STREETS)
    num = str(R.randint(1, 180)) + R.choice(["", "", "", "/B", "a", "/2"])
    r = R.random()
    if r < .25:
        return f"{s} {num}, 251{R.randint(21, 36)} {R.choice(CITIES)}"
    if r < .35:
        return f"{s}, {num}"
    if r < .45:
        return f"{s} n. {num}"
    return f"{s} {num}"


MONTHS_IT = ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]


def dob_date(english=False):
    y, m, d = R.randint(1950, 2012), R.randint(1, 12), R.randint(1, 28)
    forms = [f"{d}/{m}/{y}", f"{d:02d}/{m:02d}/{y}", f"{d:02d}.{m:02d}.{y}", f"{d}-{m}-{y}", f"{y}-{m:02d}-{d:02d}"]
    if english:
        forms += [f"{d} {MONTHS_EN[m - 1]} {y}", f"{MONTHS_EN[m - 1]} {d}, {y}"]
    else:
        forms += [f"{d} {MONTHS_IT[m - 1]} {y}"]
    return R.choice(forms)


def document():
    letters = lambda n: "".join(R.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(n))
    forms = [
        ("CIE ", f"CA{digits(5)}{letters(2)}"),
        ("carta d'identità ", f"{letters(2)}{digits(7)}"),
        ("passaporto ", f"Y{R.choice('ABC')}{digits(7)}"),
        ("passaporto ", f"{letters(2)}{digits(7)}"),
        ("permesso di soggiorno ", f"I{digits(8)}"),
        ("PdS n. ", f"{letters(1)}{digits(8)}"),
        ("passaporto n. ", digits(9)),
        ("passport no. ", f"{letters(1)}{digits(7)}"),
        ("ricevuta n. ", digits(12)),
        ("documento: ", f"{letters(2)} {digits(7)}"),
        ("passaporto ", f"{letters(2)}{digits(6)}"),
    ]
    return R.choice(forms)


def name_variant(n):
    r = R.random()
    if r < .6:
        return n
    if r < .75:
        return n.upper()
    if r < .85:
        return n.lower()
    return strip_accents(n)


IT_TEMPLATES = [
    "{FULL} chiede informazioni sul rinnovo ({PROC}), {LAW}. Lasciato numero {PHONE} per richiamata.",
    "Sig.ra {SURNAME} presenta kit postale, pagato {AMOUNT}. CF {CF}. {APPT} in Questura.",
    "Utente {NAME} {SURNAME}, nato il {DOB}, chiede {PROC}. Orari sportello {HOURS}.",
    "Ricongiungimento per moglie e {KIDS}: verificata idoneità alloggio in {ADDR}. Rif. {LAW}.",
    "{NAME} vuole iscrivere il figlio a scuola ({PROC}); scrivere a {EMAIL} quando esce la graduatoria.",
    "Pratica cittadinanza {LAW}: residenza continuativa {YEARS}. Contributo {AMOUNT}. Tel. {PHONE}.",
    "Bonifico affitto arretrato su IBAN {IBAN}, la padrona di casa chiede {AMOUNT}.",
    "Richiesta assegno unico: serve IBAN intestato ({IBAN}) e ISEE. {APPT}.",
    "Il sig. {SURNAME} ha perso il {DOCW}{DOC}; consigliata denuncia ai Carabinieri.",
    "Verificati documenti per {PROC}: {DOCW}{DOC} valido, manca contratto di lavoro.",
    "Domicilio cambiato: ora abita in {ADDR}. Aggiornare anagrafe ({PROC}).",
    "{FULL} (data di nascita {DOB}) chiede se può lavorare con ricevuta. Risposto sì, {LAW}.",
    "Telefonata di {NAME}: richiamare al {PHONE} dopo le 17. Sportello aperto {HOURS}.",
    "Madre di {NAME} {SURNAME}, e-mail {EMAIL}, chiede corso di italiano {LEVEL}.",
    "Compilato modulo per {PROC}, {APPT}; portare marca da bollo {AMOUNT}.",
    "Accompagnato in Questura; codice fiscale {CF} non corrisponde a quello sul permesso.",
    "Contratto di affitto registrato, indirizzo {ADDR}; serve per {PROC}.",
    "{SURNAME} {NAME}, CF {CF}, tel {PHONE}, chiede informazioni su {PROC}.",
    "Nata il {DOB} a Casablanca, la signora {SURNAME} chiede permesso per motivi familiari ({LAW}).",
    "Segnalato sfratto in {ADDR}: inviato a servizi abitativi. Orario {HOURS}.",
    "Richiesta nulla osta per ricongiungimento, {LAW}; reddito minimo {AMOUNT}.",
    "{NAME} non ha ancora il codice fiscale: accompagnata all'Agenzia delle Entrate ({PROC}).",
    "Rimborso su conto {IBAN} non arrivato; consigliato contatto INPS.",
    "La scuola non risponde alle e-mail di {NAME} ({EMAIL}); mediatrice chiamerà la segreteria.",
    "Rinnovo permesso per attesa occupazione: {DOCW}{DOC}, scadenza fra 2 mesi. {LAW}.",
    "{FULL} chiede aiuto per la domanda di casa popolare; punteggio ISEE basso. Tel {PHONE}.",
    "Utente arrivato senza appuntamento; fissato {APPT}. Contatto: {EMAIL}.",
    "Sig. {SURNAME} (DOB {DOB}) vuole convertire permesso studio in lavoro ({PROC}).",
    "Certificato di idoneità alloggiativa per {ADDR}: {ROOMS}, superficie ok.",
    "Dati per richiamata: {PHONE} oppure {EMAIL}. Chiedere di {NAME}.",
    "Residenza in {ADDR} dal 2021; domanda {PROC}, {LAW}.",
    "{NAME} porta foto e {DOCW}{DOC}; manca la ricevuta del pagamento di {AMOUNT}.",
    "Cittadinanza per matrimonio: marito italiano, residenza a Brescia. CF moglie {CF}.",
    "Iscrizione SSN per {NAME} {SURNAME}: serve codice fiscale {CF} e permesso.",
    "Famiglia {SURNAME}: {KIDS} in età scolare, chiesta iscrizione ({PROC}). {APPT}.",
    "Chiamare la signora al {PHONE} o al {PHONE}, preferisce WhatsApp.",
    "Spiegato {LAW}: il permesso UE per soggiornanti di lungo periodo richiede reddito e alloggio.",
    "Inviata via mail la lista documenti per {PROC}. Costo totale circa {AMOUNT}.",
    "{NAME} chiede se il contratto a chiamata basta per il rinnovo ({INCOME}). {LAW}.",
    "Nessun dato personale: richiesta generica su orari ({HOURS}) e costi ({AMOUNT}).",
    "Ha ricevuto lettera dalla Prefettura, {APPT}; accompagnare con mediatore arabo.",
    "Aperta pratica {PROC} per {FULL}; documento {DOC}.",
    "Indirizzo di ospitalità: {ADDR}, ospitante cittadino italiano.",
    "Pagamento bollettino {AMOUNT} per permesso elettronico; ricevuta n. {RICEVUTA}.",
    "data di nascita {DOB}, nazionalità marocchina, chiede {PROC}.",
    "{SURNAME} ha cambiato numero: ora {PHONE}.",
    "Consegna kit compilato per {NAME}; controllare firma. Sportello {HOURS}.",
    "Ricongiungimento figlio minore: {LAW}; {APPT}; serve traduzione atto di nascita.",
    "L'utente dice di essere nato il {DOB}, ma sul passaporto c'è un'altra data.",
    "{NAME} {SURNAME}: richiesta rimborso tassa {AMOUNT} pagata due volte; IBAN {IBAN}.",
]

# Notes whose numbers and street words are not personal data, and personal
# data in less tidy forms.
HARD_TEMPLATES = [
    "Iscritta al corso di italiano 2 volte a settimana, {LEVEL}; inviato programma via mail 3 giorni fa.",
    "Pratica in via di definizione; la Questura ha detto 30-60 giorni. {APPT}.",
    "Protocollo Prefettura 2026/0012345 del 10/01/2026: istanza {PROC} in lavorazione.",
    "Arrivato in Italia il 3/4/2015, residente a Brescia {YEARS}. {LAW}.",
    "Sportello aperto lun-ven {HOURS}, sabato 9:00-12:00. Costo {AMOUNT}.",
    "Codice pratica {PROC}; totale {AMOUNT} + {AMOUNT}; rate da 3 mesi.",
    "Corso Zanardelli chiuso per lavori, spostarsi in Piazza Loggia. {APPT}.",
    "Permesso scade il 31/12/2026, chiedere rinnovo 60 giorni prima ({LAW}).",
    "Ha {KIDS}; il più piccolo è nato nel 2020 e va alla scuola dell'infanzia ({PROC}).",
    "Scrivere a {EMAIL} o chiamare {PHONE} (ore pasti).",
    "cell.{PHONE} - email:{EMAIL}",
    "Abita in {ADDR} con {KIDS}; affitto {AMOUNT}; {ROOMS}.",
    "IBAN:{IBAN} (conto cointestato).",
    "{NAME}, {NAME} e ancora {NAME}: ha chiamato 3 volte oggi.",
    "Per {PROC} servono 2 marche da bollo da € 16 e {AMOUNT} di bollettino; orari {HOURS}.",
    "Il datore di lavoro ha sede in {ADDR}; contratto CCNL colf, {INCOME}.",
    "Numero verde 800 123 456 dell'INPS; il sito non funziona. {PROC}.",
    "Appuntamento slittato: {APPT} ore 10:30, sala 2, sportello 4.",
    "Figlio nato a Brescia il {DOB} (non è il richiedente); iscrizione {PROC}.",
    "CF del figlio {CF}, da inserire in domanda {PROC}.",
    "{FULL} — tel. {PHONE} — nata il {DOB}.",
]

EN_TEMPLATES = [
    "{FULL} asked about renewing the work permit ({PROC}); told them about {LAW}. Phone {PHONE}.",
    "Client born {DOB}, needs {PROC}. Office hours {HOURS}.",
    "Mr {SURNAME} lost his passport {DOC}; advised to report it to the police.",
    "Send the list of documents to {EMAIL}; {APPT}.",
    "Lives at {ADDR} with {KIDS}; asked about housing support ({PROC}).",
    "Refund to account {IBAN} still pending after 3 months.",
    "{NAME} called from {PHONE}, wants to book an appointment; fee {AMOUNT}.",
    "DOB {DOB}, tax code {CF}; registered with the health service ({PROC}).",
    "Family reunification for {NAME} {SURNAME}: {LAW}, minimum income {AMOUNT}.",
    "Mrs {SURNAME} (email {EMAIL}) asked for an Italian course, {LEVEL}.",
    "Date of birth {DOB}; permit card number {DOC}.",
    "No personal details: general question about {PROC} and {LAW}.",
    "{FULL} moved to {ADDR}; residence change needed.",
    "Call back {NAME} on {PHONE} after 5 pm. {APPT}.",
    "Citizenship application under {LAW}; fee {AMOUNT}; codice fiscale {CF}.",
]

SPECIAL = [
    # Other scripts; the visitor's name written in it.
    ("السيدة فاطمة سألت عن تجديد تصريح الإقامة، رقم الهاتف {PHONE}. {LAW}.", ["فاطمة", "Benali"]),
    ("客户王伟来咨询居留许可续签，电话{PHONE}，{APPT}。", ["王伟", "Wang Wei"]),
    ("محمد حسین نے کہا کہ ان کا نمبر {PHONE} ہے اور ای میل {EMAIL}۔ {LAW}", ["محمد", "حسین"]),
    ("Пані Олена Ковальова просить допомогти з {PROC}; телефон {PHONE}.", ["Олена", "Ковальова"]),
    ("{FULL} parla solo urdu; mediatore presente. Ha detto: میرا شناختی کارڈ گم ہو گیا. {PROC}.", None),
    ("Utente cinese, nome 李娜, chiede {PROC}. Tel {PHONE}.", ["李娜", "Li Na"]),
    ("Sig.ra {FULL} – 👶 nato il figlio, chiede iscrizione anagrafica ({PROC}) 🙏", None),
]


def render(template, first, last, english=False, names=None):
    text = ""
    spans = []
    keep = []

    def add(value, kind=None):
        nonlocal text
        start = len(text.encode())
        text += value
        if kind:
            spans.append({"start": start, "end": len(text.encode()), "kind": kind})

    for piece in re.split(r"(\{[A-Z]+\})", template):
        m = re.fullmatch(r"\{([A-Z]+)\}", piece)
        if not m:
            add(piece)
            continue
        slot = m.group(1)
        if slot == "FULL":
            order = R.random() < .7
            a, b = (first, last) if order else (last, first)
            add(name_variant(a) + " " + name_variant(b), "NOME")
        elif slot == "NAME":
            add(name_variant(first), "NOME")
        elif slot == "SURNAME":
            add(name_variant(last), "NOME")
        elif slot == "CF":
            add(codice_fiscale(first, last), "CODICE_FISCALE")
        elif slot == "IBAN":
            add(iban(), "IBAN")
        elif slot == "PHONE":
            add(phone(), "TELEFONO")
        elif slot == "EMAIL":
            add(email(first, last), "EMAIL")
        elif slot == "ADDR":
            add(address(), "INDIRIZZO")
        elif slot == "DOB":
            add(dob_date(english), "DATA_NASCITA")
        elif slot == "DOCW":
            pass
        elif slot == "DOC":
            if "{DOCW}" in template:
                word, code = document()
                add(word)
            else:
                word, code = document()
            add(code, "DOCUMENTO")
        elif slot == "RICEVUTA":
            add(digits(12), "DOCUMENTO")
        else:
            value = R.choice({"LAW": LAWS, "AMOUNT": AMOUNTS, "PROC": PROCS, "HOURS": HOURS, "APPT": APPTS,
                              **KEEP_SLOTS}[slot])
            if english and slot == "APPT":
                value = "appointment on " + value.split(" il ")[-1]
            add(value)
            keep.append(value)
    return {"text": text, "names": names if names is not None else [first, last], "spans": spans, "keep": keep}


def handwritten():
    """handwritten.txt: one note per line, `name|surname|text` (spellings of
    a name separated by `/`), personal data
    marked «KIND|text», keep-list items marked ⟦text⟧."""
    path = __file__.rsplit("/", 1)[0] + "/handwritten.txt"
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        first, last, body = line.split("|", 2)
        text, spans, keep = "", [], []
        for piece in re.split(r"(«[A-Z_]+\|[^»]*»|⟦[^⟧]*⟧)", body):
            m = re.fullmatch(r"«([A-Z_]+)\|([^»]*)»", piece)
            k = re.fullmatch(r"⟦([^⟧]*)⟧", piece)
            if m:
                start = len(text.encode())
                text += m.group(2)
                spans.append({"start": start, "end": len(text.encode()), "kind": m.group(1)})
            elif k:
                text += k.group(1)
                keep.append(k.group(1))
            else:
                text += piece
        yield {"text": text, "names": first.split("/") + last.split("/"), "spans": spans, "keep": keep}


# ---------------------------------------------------------------------------
# Families of hard cases (issue 14), appended after every note above so the
# earlier lines stay byte-identical. They draw from their own generator: a
# change here never moves the notes above.

F = random.Random(20261206)


class Builder:
    """A note built piece by piece, each piece personal data of a kind, a
    keep-list item, or plain text."""

    def __init__(self, names):
        self.text, self.spans, self.keep, self.names = "", [], [], names

    def add(self, value, kind=None):
        start = len(self.text.encode())
        self.text += value
        if kind == "KEEP":
            self.keep.append(value)
        elif kind:
            self.spans.append({"start": start, "end": len(self.text.encode()), "kind": kind})

    def fill(self, template, slots):
        """`template` with `{SLOT}`s; `slots[SLOT]()` gives (value, kind)."""
        for piece in re.split(r"(\{[A-Z]+\})", template):
            m = re.fullmatch(r"\{([A-Z]+)\}", piece)
            if m:
                self.add(*slots[m.group(1)]())
            else:
                self.add(piece)
        return self

    def note(self):
        return {"text": self.text, "names": self.names, "spans": self.spans, "keep": self.keep}


def f_digits(n):
    return "".join(F.choice("0123456789") for _ in range(n))


def f_case(s):
    r = F.random()
    return s.lower() if r < .25 else s


def cf_with_omocodia(first, last, substituted):
    """A codice fiscale whose `substituted` rightmost digits are omocodia
    letters, as the office assigns them: from the rightmost digit position
    leftwards."""
    year = F.randint(0, 99)
    day = F.randint(1, 31) + (40 if F.random() < .5 else 0)
    town = F.choice("ZABCDEFGHL") + "%03d" % F.randint(1, 999)
    body = list(consonants(last) + consonants(first) + "%02d" % year + F.choice("ABCDEHLMPRST") + "%02d" % day + town)
    for p in [14, 13, 12, 10, 9, 7, 6][:substituted]:
        body[p] = "LMNPQRSTUV"[int(body[p])]
    body = "".join(body)
    return body + cf_check(body)


# Groupings people use: the office's 3-3-5-5, the parts of the code
# (surname, name, year, month, day, town, check), fours as on some cards,
# pairs as read out on the phone, and two halves.
CF_GROUPINGS = [[3, 3, 5, 5], [6, 5, 5], [3, 3, 2, 1, 2, 4, 1], [4, 4, 4, 4], [6, 10], [3, 3, 10],
                [2] * 8, [6, 2, 1, 2, 4, 1], [11, 5], [6, 2, 3, 5], [3, 3, 2, 3, 4, 1]]
CF_SEPARATORS = [" ", " ", " ", "  ", "-", " - "]


def cf_grouped(first, last):
    code = cf_with_omocodia(first, last, F.choice([0, 0, 0, 1, 1, 2, 3, 7]))
    groups, at = [], 0
    for n in F.choice(CF_GROUPINGS):
        groups.append(code[at:at + n])
        at += n
    sep = F.choice(CF_SEPARATORS)
    return f_case(sep.join(groups))


def cf_omocodia_one_piece(first, last):
    return f_case(cf_with_omocodia(first, last, F.randint(1, 7)))


def family_codice_fiscale():
    templates = [
        "CF {CF} (scritto a mano sul modulo), chiede {PROC}.",
        "C.F.: {CF}; {LAW}.",
        "codice fiscale {CF} - verificato all'Agenzia delle Entrate.",
        "Cod. fisc. {CF}, {APPT}.",
        "Tax code {CF}; needs {PROC}.",
        "Sulla tessera sanitaria c'è {CF}, ma il permesso riporta un codice diverso.",
        "{NAME} ha dettato il codice al telefono: {CF}.",
        "Codice fiscale del figlio: {CF}; iscrizione {PROC}.",
        "Omocodia: l'Agenzia ha assegnato {CF} al posto del codice vecchio.",
    ]
    notes = []
    for i in range(36):
        first, last = F.choice(FIRST), F.choice(LAST)
        cf = (lambda: (cf_grouped(first, last), "CODICE_FISCALE")) if i % 3 else \
             (lambda: (cf_omocodia_one_piece(first, last), "CODICE_FISCALE"))
        notes.append(Builder([first, last]).fill(F.choice(templates), {
            "CF": cf, "NAME": lambda: (first, "NOME"), **KEEP_FILL}).note())
    return notes


def keep_of(values):
    return lambda: (F.choice(values), "KEEP")


KEEP_FILL = {"LAW": keep_of(LAWS), "AMOUNT": keep_of(AMOUNTS), "PROC": keep_of(PROCS), "HOURS": keep_of(HOURS),
             "APPT": keep_of(APPTS), **{k: keep_of(v) for k, v in KEEP_SLOTS.items()}}

# Abbreviated street types with the names that go with them in Brescia.
ABBREVIATED_STREETS = [
    ("c.so", ["Trento", "Magenta", "Zanardelli", "Garibaldi", "Cavour", "Mameli", "Palestro", "Vittorio Emanuele II"]),
    ("v.le", ["Venezia", "Piave", "Italia", "Europa", "dei Mille", "Duca degli Abruzzi", "della Stazione"]),
    ("p.za", ["Loggia", "della Loggia", "Vittoria", "Paolo VI", "Tebaldo Brusato"]),
    ("p.zza", ["Loggia", "Vittoria", "del Mercato", "Tebaldo Brusato"]),
    ("p.le", ["Garibaldi", "della Repubblica", "Cesare Battisti"]),
    ("v.", ["Milano", "Cremona", "Trento", "San Faustino", "dei Mille", "XX Settembre", "Fratelli Ugoni", "Sostegno"]),
    ("l.go", ["Formentone", "Torrelunga"]),
    ("vic.", ["San Clemente", "dell'Ortaglia"]),
]


def abbreviated_address():
    abbr, names = F.choice(ABBREVIATED_STREETS)
    name = F.choice(names)
    r = F.random()
    if r < .2:
        abbr, name = abbr.upper(), name.upper()
        sep = F.choice([" ", ""]) if abbr.endswith(".") else " "
    else:
        if r < .55:
            abbr = abbr[0].upper() + abbr[1:]
        # Glued to the name ("c.soTrento", "v.leDei Mille"): people who
        # skip the blank still capitalise the name, particle included.
        glued = F.random() < .45
        if glued:
            name = name[0].upper() + name[1:]
        sep = "" if glued else " "
    if r > .85 and abbr.lower() in ("v.le", "p.za", "p.zza", "p.le", "l.go", "c.so") and sep == " ":
        # Typed in a hurry: the name in lowercase too.
        name = name.lower()
    civic = str(F.randint(1, 199))
    civic = F.choice([civic, civic, f"n. {civic}", f"n.{civic}", f"nr. {civic}", f"n° {civic}",
                      f"{civic}/B", f"{civic}a", f", {civic}"])
    if civic.startswith(","):
        text = f"{abbr}{sep}{name}{civic}"
    else:
        text = f"{abbr}{sep}{name} {civic}"
    if F.random() < .25:
        text += f", 251{F.randint(21, 36)} {F.choice(CITIES)}"
    return text


def family_addresses():
    templates = [
        "Abita in {ADDR} con {KIDS}; affitto {AMOUNT}.",
        "Nuovo domicilio: {ADDR}. Aggiornare anagrafe ({PROC}).",
        "Ospitata da un'amica in {ADDR}, dichiarazione di ospitalità da fare.",
        "Idoneità alloggiativa per {ADDR}: {ROOMS}.",
        "Lives at {ADDR}; asked about {PROC}.",
        "Residenza {ADDR} {YEARS}; {LAW}.",
        "Sfratto in {ADDR}, segnalato ai servizi sociali. Orari {HOURS}.",
        "Indirizzo sul contratto: {ADDR} (il proprietario abita altrove).",
    ]
    notes = []
    for _ in range(36):
        first, last = F.choice(FIRST), F.choice(LAST)
        notes.append(Builder([first, last]).fill(F.choice(templates), {
            "ADDR": lambda: (abbreviated_address(), "INDIRIZZO"), **KEEP_FILL}).note())
    return notes


def odd_phone():
    mob = "3" + F.choice("2345679") + F.choice("0123456789")
    r7 = f_digits(7)
    forms = [
        f"+39 {mob} {r7[:2]} {r7[2:4]} {r7[4:]}", f"+39-{mob}-{r7}", f"0039.{mob}.{r7}", f"(+39) {mob} {r7}",
        f"+39 (0)30 {f_digits(7)}", f"{mob} {r7[:2]} {r7[2:4]} {r7[4:]}", f"{mob[:2]} {mob[2]}{r7[0]} {r7[1:3]} {r7[3:5]} {r7[5:]}",
        f"{mob}.{r7[:3]}.{r7[3:5]}.{r7[5:]}", f"+39 {mob[:2]} {mob[2]}{r7}", f"+44 (0) 7{f_digits(3)} {f_digits(6)}",
        f"+33 (0)6 {f_digits(2)} {f_digits(2)} {f_digits(2)} {f_digits(2)}", f"+33 6 {f_digits(2)} {f_digits(2)} {f_digits(2)} {f_digits(2)}",
        f"+212 6 {f_digits(2)} {f_digits(2)} {f_digits(2)} {f_digits(2)}", f"+212-6{f_digits(2)}-{f_digits(6)}",
        f"+380 ({F.choice(['50', '63', '67', '93'])}) {f_digits(3)}-{f_digits(2)}-{f_digits(2)}",
        f"+380 {F.choice(['50', '63', '67', '93'])} {f_digits(3)} {f_digits(2)} {f_digits(2)}",
        f"+86 1{f_digits(2)}-{f_digits(4)}-{f_digits(4)}", f"+86 1{f_digits(2)} {f_digits(4)} {f_digits(4)}",
        f"+92-3{f_digits(2)}-{f_digits(7)}", f"+92 3{f_digits(2)} {f_digits(3)} {f_digits(4)}",
        f"+234 80{f_digits(1)} {f_digits(3)} {f_digits(4)}", f"+20 10 {f_digits(4)} {f_digits(4)}",
        f"+40 (7{f_digits(2)}) {f_digits(3)} {f_digits(3)}", f"+221 77 {f_digits(3)} {f_digits(2)} {f_digits(2)}",
        f"00 39 {mob} {r7}", f"+49 15{f_digits(1)} {f_digits(8)}",
        # Pasted from a phone or WhatsApp: no-break and narrow no-break spaces.
        f"+39\u00a0{mob}\u00a0{r7[:3]}\u00a0{r7[3:]}", f"{mob}\u202f{r7[:3]}\u202f{r7[3:]}",
        f"+380\u00a0{F.choice(['50', '67'])}\u00a0{f_digits(3)}\u00a0{f_digits(4)}",
    ]
    return F.choice(forms)


def family_phones():
    templates = [
        "Richiamare al {PHONE} dopo le 17; {APPT}.",
        "Tel. {PHONE} (WhatsApp), chiede {PROC}.",
        "Numero del fratello in patria: {PHONE}.",
        "Call back on {PHONE}, fee {AMOUNT}.",
        "cell:{PHONE} - orari {HOURS}",
        "Il datore di lavoro risponde al {PHONE}; {LAW}.",
        "Lasciati due numeri: {PHONE} e {PHONE}.",
    ]
    notes = []
    for _ in range(32):
        first, last = F.choice(FIRST), F.choice(LAST)
        notes.append(Builder([first, last]).fill(F.choice(templates), {
            "PHONE": lambda: (odd_phone(), "TELEFONO"), **KEEP_FILL}).note())
    return notes


def obfuscated_email(first, last):
    f = strip_accents(first).lower().replace(" ", "")
    l = strip_accents(last).lower().replace(" ", "")
    user = F.choice([f"{f}.{l}", f"{f}{F.randint(1, 99)}", f"{l}_{f[0]}", f"{f}.{l}{F.randint(70, 2005)}"])
    domain, tld = F.choice([("gmail", "com"), ("libero", "it"), ("hotmail", "it"), ("yahoo", "fr"), ("outlook", "com"),
                            ("mail", "ru"), ("virgilio", "it"), ("ukr", "net")])
    return F.choice([
        f"{user} at {domain} dot {tld}", f"{user} AT {domain} DOT {tld}", f"{user}[at]{domain}.{tld}",
        f"{user} [at] {domain} [dot] {tld}", f"{user}(at){domain}(dot){tld}", f"{user} (at) {domain}.{tld}",
        f"{user} @ {domain}.{tld}", f"{user}@{domain}.{tld}", f"{user} @{domain}.{tld}", f"{user}@ {domain}.{tld}", f"{user} chiocciola {domain} punto {tld}",
        f"{user.capitalize()}@{domain.capitalize()}.{tld}", f"{user} at {domain}.{tld}",
    ])


def family_emails():
    templates = [
        "Scrivere a {EMAIL} per {PROC}.",
        "E-mail (scritta così dalla figlia): {EMAIL}; {APPT}.",
        "Send the document list to {EMAIL}, {LAW}.",
        "Contatto: {EMAIL} oppure passare allo sportello {HOURS}.",
        "Ha dettato la mail: {EMAIL}.",
    ]
    notes = []
    for _ in range(30):
        first, last = F.choice(FIRST), F.choice(LAST)
        notes.append(Builder([first, last]).fill(F.choice(templates), {
            "EMAIL": lambda: (obfuscated_email(first, last), "EMAIL"), **KEEP_FILL}).note())
    return notes


# Visitors whose names are written in their own script too: (given name,
# surname) in Latin letters, then in the native script.
NATIVE_NAMES = [
    (("Fatima", "El Idrissi"), ("فاطمة", "الإدريسي")),
    (("Youssef", "Haddad"), ("يوسف", "حداد")),
    (("Khadija", "Mansour"), ("خديجة", "منصور")),
    (("Omar", "Al-Hassan"), ("عمر", "الحسن")),
    (("Olena", "Kovalenko"), ("Олена", "Коваленко")),
    (("Dmytro", "Shevchenko"), ("Дмитро", "Шевченко")),
    (("Iryna", "Bondarenko"), ("Ірина", "Бондаренко")),
    (("Tetiana", "Hryhorenko"), ("Тетяна", "Григоренко")),
    (("Serhii", "Yevtushenko"), ("Сергій", "Євтушенко")),
    (("Yuliia", "Tkachuk"), ("Юлія", "Ткачук")),
    (("Oleksandr", "Zhuk"), ("Олександр", "Жук")),
    (("Wei", "Wang"), ("伟", "王")),
    (("Na", "Li"), ("娜", "李")),
    (("Xiaoling", "Zhang"), ("晓玲", "张")),
]
# Surnames with a particle that is also an ordinary word ("da 10 anni",
# "al Comune", "El" in Spanish): the particle alone is not the name.
PARTICLE_NAMES = [("João", "Da Silva"), ("Maria", "De Souza"), ("Ana", "Dos Santos"), ("Omar", "Al-Hassan"),
                  ("Ahmed", "El Amrani"), ("Lamine", "Ben Ali"), ("Sidi", "Ould Ahmed"), ("Abdou", "Abu Bakr")]


def desk_names(first, last, native, chinese):
    """What the desk knows of the visitor: the name as on the permesso, in
    Latin letters. A Ukrainian passport spells it by the national
    transliteration, so the Cyrillic spelling in a note can be matched to
    it; Arabic and Chinese spellings cannot be derived from the Latin one
    (vowels are not written, characters have many readings), so for those
    the desk must have been given the native spelling too."""
    if "\u0400" <= native[0][0] <= "\u04ff":
        return [first, last]
    return [first, last] + ([native[1] + native[0]] if chinese else list(native))


def native_full(native, chinese):
    first, last = native
    return last + first if chinese else F.choice([first + " " + last, last + " " + first])


# (given name, surname on the permesso, how notes write the surname).
SPELLED_APART = [("Mamadou", "N'Diaye", ["Ndiaye", "NDIAYE", "N'DIAYE"]), ("Moussa", "Ndiaye", ["N'Diaye", "N’Diaye"]),
                 ("Ahmed", "El Amrani", ["Elamrani", "ELAMRANI", "El-Amrani"]), ("Rachid", "Elamrani", ["El Amrani"]),
                 ("Omar", "Al-Hassan", ["Alhassan", "Al Hassan"]), ("Sofia", "D'Souza", ["Dsouza", "D Souza"])]


def family_names():
    notes = []
    for _ in range(12):
        first, last, spellings = F.choice(SPELLED_APART)
        template = F.choice(["Sig. {SPELT} ({NAME}) chiede {PROC}.", "{NAME} {SPELT}: {LAW}; {APPT}.",
                             "Pratica {SPELT}, {YEARS}: manca il contratto."])
        notes.append(Builder([first, last]).fill(template, {
            "SPELT": lambda: (F.choice(spellings), "NOME"), "NAME": lambda: (first, "NOME"), **KEEP_FILL}).note())
    latin_templates = [
        "{FULL} chiede {PROC}; {APPT}.",
        "Sig.ra {SURNAME}, {NAME} (così sul passaporto), {LAW}.",
        "{SURNAMEUP} {NAME}: richiesta {PROC}, {AMOUNT}.",
        "Mr {SURNAME} ({FULL}) asked about {PROC}.",
        "Pratica di {FULL}: manca il contratto, {YEARS}.",
    ]
    for _ in range(24):
        (first, last), native = F.choice(NATIVE_NAMES)
        chinese = first in ("Wei", "Na", "Xiaoling")
        names = desk_names(first, last, native, chinese)
        template = F.choice(latin_templates + [
            "Utente {FULL}, in caratteri originali {NATIVE}, chiede {PROC}.",
            "{NATIVE} ({FULL}) ha portato la traduzione dell'atto di nascita; {LAW}.",
            "Nome sul passaporto: {NATIVE}; traslitterato {FULL}. {APPT}.",
        ])
        order = F.random() < .5
        notes.append(Builder(names).fill(template, {
            "FULL": lambda: ((first + " " + last) if order else (last.upper() + " " + first), "NOME"),
            "NAME": lambda: (first, "NOME"),
            "SURNAME": lambda: (last, "NOME"),
            "SURNAMEUP": lambda: (last.upper(), "NOME"),
            "NATIVE": lambda: (native_full(native, chinese), "NOME"),
            **KEEP_FILL}).note())
    native_templates = [
        ("客户{NATIVE}来咨询居留许可续签，{APPT}。", True),
        ("المراجع {NATIVE} يسأل عن {PROC}، {LAW}.", False),
        ("Клієнт {NATIVE} просить допомогти з {PROC}; {HOURS}.", False),
    ]
    for _ in range(12):
        template, chinese = F.choice(native_templates)
        pool = [p for p in NATIVE_NAMES if (p[0][0] in ("Wei", "Na", "Xiaoling")) == chinese
                and (not template.startswith("المراجع") or "\u0600" <= p[1][0][0] <= "\u06ff")
                and (not template.startswith("Клієнт") or "\u0400" <= p[1][0][0] <= "\u04ff")]
        (first, last), native = F.choice(pool)
        names = desk_names(first, last, native, chinese)
        notes.append(Builder(names).fill(template, {
            "NATIVE": lambda: (native_full(native, chinese), "NOME"), **KEEP_FILL}).note())
    particle_templates = [
        "{FULL} è in Italia {KEEPDA}; chiede {PROC} al Comune.",
        "Il sig. {FULL} chiede il rinnovo: residente {KEEPDA}, va al Comune il {KEEPDATE}.",
        "{SURNAME} ha chiesto al mediatore di accompagnarlo al Comune; {LAW}.",
        "{FULL} came with the family ({KIDS}); {APPT}.",
    ]
    for _ in range(16):
        first, last = F.choice(PARTICLE_NAMES)
        notes.append(Builder([first, last]).fill(F.choice(particle_templates), {
            "FULL": lambda: (F.choice([first + " " + last, last + " " + first, last.upper() + " " + first]), "NOME"),
            "SURNAME": lambda: (last, "NOME"),
            "KEEPDA": lambda: (F.choice(["da 10 anni", "dal 2015", "da 3 anni"]), "KEEP"),
            "KEEPDATE": lambda: (F.choice(["12/12/2026", "3 marzo"]), "KEEP"),
            **KEEP_FILL}).note())
    return notes


def dob_forms(english):
    y, m, d = F.randint(1950, 2012), F.randint(1, 12), F.randint(1, 28)
    forms = [f"{d:02d}/{m:02d}/{y % 100:02d}", f"{d}/{m}/{y % 100:02d}", f"{d:02d}-{m:02d}-{y}", f"{d:02d}.{m:02d}.{y}",
             f"{d}.{m}.{y % 100:02d}", f"{y}-{m:02d}-{d:02d}", f"{d:02d}/{m:02d}/{y}"]
    if english:
        forms += [f"{d} {MONTHS_EN[m - 1]} {y}", f"{MONTHS_EN[m - 1]} {d}, {y}", f"{d} {MONTHS_EN[m - 1][:3]} {y}",
                  f"{MONTHS_EN[m - 1][:3]} {d}, {y}", f"{d:02d}-{MONTHS_EN[m - 1][:3].upper()}-{y}"]
    else:
        forms += [f"{d} {MONTHS_IT[m - 1]} {y}", f"{d} {MONTHS_IT[m - 1][:3]}. {y}", f"{d} {MONTHS_IT[m - 1]} '{y % 100:02d}",
                  f"{d} {MONTHS_IT[m - 1]} del {y}"]
    return F.choice(forms)


def family_birth_dates():
    it = [
        "nato il {DOB}, chiede {PROC}.",
        "Nata a Dakar il {DOB}; {LAW}.",
        "n. {DOB} a Lahore, {APPT}.",
        "{FULL} {DOB}, chiede {PROC}.",
        "{FULL} ({DOB}) - {LAW}.",
        "{SURNAME} {NAME}, {DOB}: rinnovo {PROC}.",
        "d.n. {DOB}; residente {YEARS}.",
        "data di nascita: {DOB}; {APPT}.",
        "Figlia nata il {DOB}, iscrizione {PROC}.",
        "{FULL} – {DOB} – chiede info, orari {HOURS}.",
        "Documenti del figlio: {DOB} (data di nascita), {PROC}.",
        "Sul modulo: {DOB} data di nascita, {LAW}.",
    ]
    en = [
        "b. {DOB}, needs {PROC}.",
        "DOB: {DOB}; {LAW}.",
        "Mr {SURNAME}, born {DOB}, asked about {PROC}.",
        "{FULL} ({DOB}) called about the appointment; {APPT}.",
        "Date of birth {DOB}, fee {AMOUNT}.",
        "Born on {DOB} in Lagos; {PROC}.",
    ]
    notes = []
    for i in range(40):
        first, last = F.choice(FIRST), F.choice(LAST)
        english = i % 3 == 0
        order = F.random() < .6
        notes.append(Builder([first, last]).fill(F.choice(en if english else it), {
            "DOB": lambda: (dob_forms(english), "DATA_NASCITA"),
            "FULL": lambda: ((first + " " + last) if order else (last.upper() + " " + first), "NOME"),
            "NAME": lambda: (first, "NOME"),
            "SURNAME": lambda: (last, "NOME"),
            **KEEP_FILL}).note())
    return notes


def spaced_iban():
    code = iban_of(F.choice(["IT", "IT", "IT", "DE", "FR", "MA", "UA", "GB", "RO", "TN", "ES", "SN"]))
    r = F.random()
    if r < .35:
        text = " ".join(code[i:i + 4] for i in range(0, len(code), 4))
    elif r < .5 and code.startswith("IT"):
        # As Italian banks print it: country and check, CIN, ABI, CAB, account.
        text = " ".join([code[:4], code[4], code[5:10], code[10:15], code[15:]])
    elif r < .6 and code.startswith("IT"):
        text = " ".join([code[:2], code[2:4], code[4], code[5:10], code[10:15], code[15:]])
    elif r < .7:
        text = "-".join(code[i:i + 4] for i in range(0, len(code), 4))
    elif r < .8:
        text = "  ".join(code[i:i + 4] for i in range(0, len(code), 4))
    elif r < .9:
        text = code[:4] + " " + code[4:]
    else:
        text = code
    return f_case(text)


def iban_of(cc):
    n = IBAN_LEN[cc] - 4
    if cc == "IT":
        bban = F.choice("ABCDEFGHILMNOPQRSTUVZ") + "".join(F.choice("0123456789") for _ in range(n - 1))
    elif cc in ("GB", "RO"):
        bban = "".join(F.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + f_digits(n - 4)
    else:
        bban = f_digits(n)
    num = "".join(str(int(c, 36)) for c in bban + cc + "00")
    return cc + "%02d" % (98 - int(num) % 97) + bban


def family_ibans():
    templates = [
        "IBAN {IBAN} per l'assegno unico; {PROC}.",
        "Bonifico affitto su {IBAN}, il proprietario chiede {AMOUNT}.",
        "IBAN:{IBAN}",
        "Refund to {IBAN} pending; {LAW}.",
        "Conto estero {IBAN} non accettato da INPS, serve conto italiano.",
    ]
    notes = []
    for _ in range(26):
        first, last = F.choice(FIRST), F.choice(LAST)
        notes.append(Builder([first, last]).fill(F.choice(templates), {
            "IBAN": lambda: (spaced_iban(), "IBAN"), **KEEP_FILL}).note())
    return notes


# Notes whose dotted abbreviations, numbers and particles are no personal
# data: the detectors widened above must leave them alone.
NEAR_MISSES = [
    "Corso di italiano {LEVEL} 2 volte a settimana, v. allegato 3; costo {AMOUNT}.",
    "Dato il via libera 3 giorni fa; {APPT}.",
    "c.so di italiano serale, {KEEPFREE} {AMOUNT}.",
    "Vedi p.es. art. 5 comma 2; v. Allegato 3 e Prot. n. 12/2026. {LAW}.",
    "Lo sportello di p.za Loggia è chiuso il sabato; orari {HOURS}.",
    "Telefonato al Comune 3 volte, nessuna risposta; {APPT}.",
    "Permesso scaduto il 10.03.2025, rinnovo entro 60 giorni ({LAW}).",
    "Pagati {AMOUNT} at the post office on 12/11/2026; receipt kept by the client.",
    "Ha {KIDS}; al Comune serve lo stato di famiglia. {PROC}.",
    "Orari: lun-ven {HOURS}, sab 9.00-12.00; tel. centralino non disponibile.",
    "Told the client to look at www.comune.brescia.it for the forms; {APPT}.",
    "Iscritta al c.so base 2 giorni a settimana, {LEVEL}.",
    "Permesso scade il 12/12/2026 (data di nascita sul permesso da correggere), {LAW}.",
]


# Short names that are everyday words in Italian or English ("ma", "li",
# "su", "he"): in lowercase on their own they are not the visitor.
SHORT_NAMES = [("Lin", "Ma"), ("Na", "Li"), ("Wei", "He"), ("Mei", "Su"), ("Jun", "Ma")]


def family_short_names():
    templates = [
        "{FULL} ha chiamato ma non era in ufficio; li richiamo domani su WhatsApp. {APPT}.",
        "Sig. {SURNAME}: la moglie è arrivata ma il figlio no; li accompagna il mediatore. {PROC}.",
        "{FULL} asked if he can renew; he has {KIDS}. {LAW}.",
    ]
    notes = []
    for _ in range(10):
        first, last = F.choice(SHORT_NAMES)
        notes.append(Builder([first, last]).fill(F.choice(templates), {
            "FULL": lambda: (F.choice([first + " " + last, last + " " + first, last.upper() + " " + first]), "NOME"),
            "SURNAME": lambda: (last, "NOME"), **KEEP_FILL}).note())
    return notes


def family_near_misses():
    notes = []
    for template in NEAR_MISSES:
        for _ in range(2):
            first, last = F.choice(FIRST), F.choice(LAST)
            notes.append(Builder([first, last]).fill(template, {
                "KEEPFREE": lambda: ("gratuito, marca da bollo", "KEEP"), **KEEP_FILL}).note())
    return notes


def families():
    return (family_codice_fiscale() + family_addresses() + family_phones() + family_emails() + family_names()
            + family_birth_dates() + family_ibans() + family_near_misses() + family_short_names())


def main():
    notes = []
    for i in range(260):
        first, last = R.choice(FIRST), R.choice(LAST)
        notes.append(render(R.choice(IT_TEMPLATES), first, last))
    for i in range(60):
        first, last = R.choice(FIRST), R.choice(LAST)
        notes.append(render(R.choice(HARD_TEMPLATES), first, last))
    for i in range(70):
        first, last = R.choice(FIRST), R.choice(LAST)
        notes.append(render(R.choice(EN_TEMPLATES), first, last, english=True))
    for template, names in SPECIAL:
        for _ in range(3):
            first, last = R.choice(FIRST), R.choice(LAST)
            note = render(template, first, last, names=names)
            if names:
                # Label the visitor's name where the template wrote it literally.
                b = note["text"].encode()
                for n in names:
                    nb = n.encode()
                    at = b.find(nb)
                    while at >= 0:
                        note["spans"].append({"start": at, "end": at + len(nb), "kind": "NOME"})
                        at = b.find(nb, at + 1)
                note["spans"].sort(key=lambda s: s["start"])
            notes.append(note)
    notes.extend(handwritten())
    notes.extend(families())
    for note in notes:
        sys.stdout.write(json.dumps(note, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
