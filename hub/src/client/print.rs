//! What the CLI prints when `--json` is not given: tables for a person at a
//! terminal. The JSON forms are the serialised values themselves.

use crate::admin::{DeskRow, Rollout};
use crate::proposals::ProposalRow;
use crate::storage::Verification;

pub fn print_desks(rows: &[DeskRow]) {
    println!(
        "{:<24} {:<10} {:>10} {:>10} {:>8}  incarnation",
        "desk", "connected", "records", "last_seq", "revoked"
    );
    for r in rows {
        // The first 8 hex digits tell incarnations apart on a screen.
        let short: String = r.incarnation.chars().take(8).collect();
        println!(
            "{:<24} {:<10} {:>10} {:>10} {:>8}  {} ({} in all)",
            r.desk_id, r.connected, r.records, r.last_seq, r.revoked, short, r.incarnations
        );
        if let Some(o) = &r.older_state {
            println!(
                "  ! {}: tornato con una copia più vecchia (aveva fino a {}, l'hub fino a {}) / came back with an older copy (held up to {}, the hub up to {})",
                o.at, o.desk_held, o.hub_held, o.desk_held, o.hub_held
            );
        }
        if r.records_lost > 0 {
            println!(
                "  ! {} visite confermate perse (hub ripristinato da un backup più vecchio) / {} acknowledged visits lost (hub restored from an older backup)",
                r.records_lost, r.records_lost
            );
        }
    }
}

pub fn print_verification(v: &Verification) {
    println!(
        "records {}  counted {}  ids {}  problems {}",
        v.records,
        v.counted,
        v.ids,
        v.problems.len()
    );
    if v.pruned > 0 {
        println!(
            "pruned {} (weeks before {}; counted and ids kept)",
            v.pruned,
            v.pruned_before.as_deref().unwrap_or("-")
        );
    }
    for p in &v.problems {
        println!("  {p}");
    }
}

pub fn print_rollout(rollout: &Rollout) {
    let c = rollout.current();
    println!(
        "in vigore / current: guidance {}  templates {}  catalogue {}",
        c.guidance, c.template, c.catalogue
    );
    for d in &rollout.desks {
        let v = d.versions();
        println!(
            "{:<24} {:<24} guidance {}  templates {}  catalogue {}{}",
            d.desk_id,
            if v == c {
                "aggiornato / up to date"
            } else {
                "indietro / behind"
            },
            v.guidance,
            v.template,
            v.catalogue,
            d.last_rejection
                .as_deref()
                .map(|r| format!("  rifiutato / refused: {r}"))
                .unwrap_or_default()
        );
    }
}

/// One tab-separated line per cell, then the total, for pasting into a sheet.
pub fn print_stats(table: &serde_json::Value) {
    let empty = Vec::new();
    let dims: Vec<&str> = table["dims"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    println!("{}\tcount", dims.join("\t"));
    for row in table["rows"].as_array().unwrap_or(&empty) {
        let keys: Vec<&str> = dims
            .iter()
            .map(|d| row[*d].as_str().unwrap_or(""))
            .collect();
        println!("{}\t{}", keys.join("\t"), row["count"]);
    }
    println!("total\t{}", table["totals"]["all"]);
    let period = table["period"].as_str().unwrap_or("");
    let provisional = if table["provisional"] == true {
        " (provvisorio / provisional)"
    } else {
        ""
    };
    let share = table["hidden_share"]
        .as_f64()
        .map_or("x".to_owned(), |s| format!("{:.1}%", s * 100.0));
    println!(
        "periodo / period {period}{provisional}; celle nascoste / hidden cells {} of {}; \
         visite nascoste / hidden visits {share}; ricodifica / recoded: {}",
        table["hidden_cells"],
        table["cells"],
        table["recoded"].as_str().unwrap_or("asked")
    );
    if let Some(coarser) = table["coarser_period"].as_str() {
        println!(
            "più di un quinto delle celle è nascosto: provare --period {coarser} / \
             more than a fifth of the cells are hidden: try --period {coarser}"
        );
    }
    for m in table["merged"].as_array().into_iter().flatten() {
        println!(
            "unito / merged\t{}\t{} ({})",
            m["dim"].as_str().unwrap_or(""),
            m["label"].as_str().unwrap_or(""),
            m["level"].as_str().unwrap_or("")
        );
    }
}

pub fn print_proposals(rows: &[ProposalRow]) {
    if rows.is_empty() {
        println!("nessuna proposta / no proposals");
    }
    for p in rows {
        println!(
            "{}  {}  {} [{}]  sportello / desk {}  somiglianza / similarity {:.2}",
            p.id, p.state, p.key, p.language, p.desk_id, p.similarity
        );
        println!("    {}", p.diff.replace('\n', "\n    "));
    }
}

pub fn print_reports(rows: &[crate::storage::StoredReport]) {
    if rows.is_empty() {
        println!("nessuna segnalazione / no reports");
    }
    for r in rows {
        let state = match r.state.as_str() {
            crate::reports::FIXED => format!("{} v{}", r.state, r.fixed_version),
            _ => r.state.clone(),
        };
        println!(
            "{}  {state}  {} {} [{}] v{}  {}  sportello / desk {}  a / to {}",
            r.id, r.kind, r.item_id, r.language, r.item_version, r.reason, r.desk_id, r.owner
        );
        if !r.comment.is_empty() {
            println!("    {}", r.comment.replace('\n', "\n    "));
        }
    }
}

/// The listing as a translator reads it: one line per key and language.
pub fn print_templates(listing: &serde_json::Value) {
    let empty = Vec::new();
    for t in listing["templates"].as_array().unwrap_or(&empty) {
        let current = t["rollout"]["current"].as_array().map_or(0, Vec::len);
        let behind = t["rollout"]["behind"].as_array().map_or(0, Vec::len);
        println!(
            "{}  v{}  sportelli aggiornati / desks current {current}/{}",
            t["key"].as_str().unwrap_or_default(),
            t["current_version"],
            current + behind
        );
        for l in t["languages"].as_array().unwrap_or(&empty) {
            println!(
                "    {:<6} {:<10} v{}",
                l["language"].as_str().unwrap_or_default(),
                l["state"].as_str().unwrap_or_default(),
                l["version"]
            );
            if let Some(diff) = l["reference_diff"].as_str() {
                println!("           {diff}");
            }
        }
        let missing: Vec<&str> = t["missing"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .filter_map(|m| m.as_str())
            .collect();
        if !missing.is_empty() {
            println!("    mancano / missing: {}", missing.join(", "));
        }
    }
}

pub fn print_cards(rows: &[crate::cards::CardRow]) {
    for r in rows {
        println!(
            "{}  v{}  {}  verificata / verified {}  rivedere entro / review by {}",
            r.code, r.version, r.owner, r.verified_on, r.review_by
        );
        if let Some(due) = &r.due {
            println!("    DA RIVEDERE / DUE: {due}");
        }
        for l in &r.languages {
            let state = if l.stale.is_empty() {
                "aggiornata / current"
            } else {
                "da aggiornare / stale"
            };
            println!("    {:<6} v{:<5} {state}", l.language, l.version);
            for f in &l.stale {
                println!("           {}: {}", f.field, f.diff);
            }
        }
    }
}

pub fn print_gaps(g: &crate::gaps::Gaps) {
    let period = g.period.as_deref().unwrap_or("—");
    println!("periodo / period: {period}");
    println!("lingue dei visitatori / languages visitors used:");
    for l in &g.languages {
        println!(
            "    {} / {}  visite / visits {}  schede / cards {}/{}  modelli / templates {}/{}  procedure senza scheda / procedures without a card {}",
            l.language.it,
            l.language.en,
            l.visits,
            l.cards,
            l.procedures_with_card,
            l.templates,
            l.template_keys,
            l.procedures_without_card
        );
    }
    println!("richieste senza scheda nella lingua / asked in a language without a card:");
    for u in &g.uncovered {
        println!(
            "    {}  {} / {}  visite / visits {}",
            u.procedure.it, u.language.it, u.language.en, u.visits
        );
    }
    println!("mediatore necessario ma non disponibile / mediator needed but unavailable:");
    for m in g
        .mediator_unavailable_by_language
        .iter()
        .chain(&g.mediator_unavailable_by_desk)
    {
        println!("    {} / {}  {}", m.by.it, m.by.en, m.visits);
    }
    println!(
        "ricerche senza risultati (almeno {} volte) / searches that found nothing ({}+ times):",
        g.k, g.k
    );
    for s in &g.searches {
        println!("    [{}] {}  {}", s.language, s.query, s.count);
    }
    println!("schede da rivedere / cards due for review:");
    for d in &g.cards_due {
        println!("    {}  {}  {}", d.procedure.it, d.review_by, d.why);
    }
}
