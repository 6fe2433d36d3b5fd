//! Notes per second through the scrubber, on 500-character notes like the
//! ones operators write (some personal data, mostly plain text), and on
//! notes with no personal data at all (the common case).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use domain::scrub::scrub;

const NOTE_LEN: usize = 500;

/// A note padded or cut to exactly `NOTE_LEN` characters.
fn note(parts: &[&str]) -> String {
    let filler =
        " Spiegato l'iter, consegnato elenco documenti; richiamerà se servono chiarimenti.";
    let mut text: String = parts.concat();
    while text.chars().count() < NOTE_LEN {
        text.push_str(filler);
    }
    text.chars().take(NOTE_LEN).collect()
}

fn notes() -> (Vec<String>, Vec<String>) {
    let personal = vec![
        note(&["Fatima El Amrani (CF RSSMRA85T10A562S) chiede rinnovo, art. 5 D.Lgs. 286/1998; tel +39 333 123 4567, fatima.elamrani@gmail.com, abita in via Milano 12, 25126 Brescia. Nata il 03.04.1990. Passaporto YA1234567. ", "Appuntamento il 12/12/2026, kit € 70,46."]),
        note(&["Mr Okafor was born 3 April 1990, lives at Corso Garibaldi 45; refund to IT60 X054 2811 1010 0000 0123 456. ", "Office hours 9:00-12:30. Call 030 2451876 or 0039 320 555 1234."]),
        note(&["السيدة فاطمة سألت عن تجديد تصريح الإقامة، رقم الهاتف +39 351 234 5678. ", "客户王伟来咨询居留许可续签，电话3331234567。"]),
    ];
    let plain = vec![
        note(&["Richiesta nulla osta per ricongiungimento, art. 29 D.Lgs. 286/1998; reddito minimo € 9.360,00; 2 figli minori. ", "Orari 9:00-12:30, appuntamento il 03/02/2027."]),
        note(&["Citizenship under art. 9 L. 91/1992: residence since 2015, fee 250 euro, Italian level B1 required. "]),
    ];
    (personal, plain)
}

fn bench(c: &mut Criterion) {
    let (personal, plain) = notes();
    let names = ["Fatima", "El Amrani"];
    let mut group = c.benchmark_group("scrub_500_chars");
    group.throughput(Throughput::Elements(personal.len() as u64));
    group.bench_function("with_personal_data", |b| {
        b.iter(|| {
            for n in &personal {
                black_box(scrub(black_box(n), &names));
            }
        })
    });
    group.throughput(Throughput::Elements(plain.len() as u64));
    group.bench_function("without_personal_data", |b| {
        b.iter(|| {
            for n in &plain {
                black_box(scrub(black_box(n), &names));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
