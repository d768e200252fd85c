//! Search engine figures (issue 29), run with
//! `CRM_BENCH_SEARCH=1 cargo bench -p crm-search --bench search`:
//! knowledge queries (3-6 words) and whole-email queries (about 2 KB) at
//! `CRM_BENCH_ARTICLES` articles (default 100,000), customer searches (prefix, typo,
//! phonetic, email) at `CRM_BENCH_CUSTOMERS` customers (default 1,000,000), the time to
//! write the index in the rebuild's batches, and its size on disk. Latencies are
//! percentiles of single queries, one at a time, after a warm-up. The data is generated
//! (a fixed seed): a bilingual vocabulary, and names from syllables.

use std::time::{Duration, Instant};

use crm_core::ids::TenantId;
use crm_core::ports::{DocumentKind, IndexChange, SearchDocument, SearchIndex, SearchQuery};
use crm_search::TantivySearchIndex;
use uuid::Uuid;

const WORDS: &[&str] = &[
    "refund",
    "payment",
    "invoice",
    "delivery",
    "parcel",
    "password",
    "account",
    "subscription",
    "cancel",
    "address",
    "billing",
    "warranty",
    "claim",
    "damaged",
    "tracking",
    "order",
    "return",
    "exchange",
    "card",
    "declined",
    "router",
    "connection",
    "internet",
    "mobile",
    "contract",
    "upgrade",
    "option",
    "roaming",
    "balance",
    "credit",
    "remboursement",
    "paiement",
    "facture",
    "livraison",
    "colis",
    "motdepasse",
    "compte",
    "abonnement",
    "résilier",
    "adresse",
    "facturation",
    "garantie",
    "réclamation",
    "endommagé",
    "suivi",
    "commande",
    "retour",
    "échange",
    "carte",
    "refusée",
    "routeur",
    "connexion",
    "forfait",
    "option",
    "itinérance",
    "solde",
    "crédit",
    "technicien",
    "rendez-vous",
    "installation",
    "fibre",
    "débit",
    "panne",
    "coupure",
    "ligne",
    "box",
    "décodeur",
    "télévision",
    "customer",
    "service",
    "agent",
    "please",
    "help",
    "urgent",
    "week",
    "days",
    "hours",
    "month",
    "price",
    "offer",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn word(&mut self) -> String {
        // Real words half the time, generated ones (a long tail of rare terms) otherwise.
        if self.next().is_multiple_of(2) {
            WORDS[self.below(WORDS.len())].to_owned()
        } else {
            let n = 2 + self.below(3);
            self.syllables(n)
        }
    }
    fn syllables(&mut self, n: usize) -> String {
        const S: &[&str] =
            &["ba", "ri", "mon", "tel", "du", "pon", "mar", "tin", "le", "fe", "vre", "ro", "sa", "ni", "ker", "lo"];
        (0..n).map(|_| S[self.below(S.len())]).collect()
    }
    fn text(&mut self, words: usize) -> String {
        (0..words).map(|_| self.word()).collect::<Vec<_>>().join(" ")
    }
}

fn percentiles(mut times: Vec<Duration>) -> String {
    times.sort();
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)].as_secs_f64() * 1000.0;
    format!("p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms ({} queries)", at(0.50), at(0.95), at(0.99), times.len())
}

async fn time_queries(index: &TantivySearchIndex, tenant: TenantId, queries: &[SearchQuery]) -> String {
    for q in queries.iter().take(20) {
        let _ = index.search(tenant, q).await;
    }
    let mut times = Vec::with_capacity(queries.len());
    for q in queries {
        let start = Instant::now();
        let r = index.search(tenant, q).await.expect("search");
        times.push(start.elapsed());
        std::hint::black_box(r);
    }
    percentiles(times)
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn build(index: &TantivySearchIndex, docs: impl Iterator<Item = SearchDocument>, total: usize) -> Duration {
    let start = Instant::now();
    let mut batch = Vec::with_capacity(2_000);
    for (n, d) in docs.enumerate() {
        batch.push(IndexChange::Upsert(d));
        if batch.len() == 2_000 {
            index.apply(std::mem::take(&mut batch), None).await.expect("apply");
            if (n + 1).is_multiple_of(100_000) {
                eprintln!("  {} of {total} written, {:.1} s", n + 1, start.elapsed().as_secs_f64());
            }
        }
    }
    index.apply(batch, Some("bench".into())).await.expect("apply");
    start.elapsed()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::var_os("CRM_BENCH_SEARCH").is_none() {
        // Minutes of work and a gigabyte of disk: only when asked.
        eprintln!("set CRM_BENCH_SEARCH=1 to run the search benchmark");
        return;
    }
    let tenant = TenantId::from_uuid(Uuid::from_u128(1));
    let articles = env("CRM_BENCH_ARTICLES", 100_000);
    let customers = env("CRM_BENCH_CUSTOMERS", 1_000_000);
    let mut rng = Rng(0x5eed_cafe);

    let dir = tempfile::tempdir().expect("temp dir");
    let index = TantivySearchIndex::open(&dir.path().join("articles")).expect("index");
    let docs: Vec<SearchDocument> = (0..articles)
        .map(|n| {
            let title_words = 3 + rng.below(5);
            let body_words = 80 + rng.below(120);
            (n, title_words, body_words)
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|(n, title_words, body_words)| SearchDocument {
            tenant,
            kind: DocumentKind::Article,
            id: Uuid::from_u128(n as u128),
            title: rng.text(title_words),
            body: rng.text(body_words),
            tags: vec![WORDS[rng.below(10)].to_owned()],
            language: Some(if n % 2 == 0 { "fr" } else { "en" }.to_owned()),
            state: Some("published".into()),
            identifiers: vec![],
        })
        .collect();
    let took = build(&index, docs.into_iter(), articles).await;
    println!(
        "articles: {articles} written in {:.1} s, {:.0} MB on disk",
        took.as_secs_f64(),
        mb(&dir.path().join("articles"))
    );
    let short: Vec<SearchQuery> = (0..2_000)
        .map(|_| {
            let words = 3 + rng.below(4);
            SearchQuery::new(rng.text(words), 20)
        })
        .collect();
    println!("knowledge query, 3-6 words: {}", time_queries(&index, tenant, &short).await);
    let typos: Vec<SearchQuery> = (0..1_000)
        .map(|_| {
            let mut w = WORDS[rng.below(WORDS.len())].to_owned();
            // A character position (the words have accents), never the first.
            let chars = w.chars().count();
            let at = w.char_indices().nth(1 + rng.below(chars - 1)).map_or(w.len(), |(i, _)| i);
            w.insert(at, 'x');
            SearchQuery::new(format!("{} {w}", rng.word()), 20)
        })
        .collect();
    println!("knowledge query with a typo: {}", time_queries(&index, tenant, &typos).await);
    let emails: Vec<SearchQuery> = (0..300).map(|_| SearchQuery::new(rng.text(300), 20)).collect();
    println!("whole-email query (~{} bytes): {}", emails[0].text.len(), time_queries(&index, tenant, &emails).await);
    drop(index);

    let index = TantivySearchIndex::open(&dir.path().join("customers")).expect("index");
    let names: Vec<(String, String)> = (0..customers)
        .map(|_| {
            let first = rng.syllables(2);
            let n = 2 + rng.below(2);
            (first, rng.syllables(n))
        })
        .collect();
    let docs = names.iter().enumerate().map(|(n, (first, last))| {
        let email = format!("{first}.{last}{n}@example.fr");
        let phone = format!("+336{:08}", n);
        SearchDocument {
            tenant,
            kind: DocumentKind::Customer,
            id: Uuid::from_u128(n as u128),
            title: format!("{first} {last}"),
            body: format!("{email} · {phone}"),
            tags: vec![],
            language: None,
            state: None,
            identifiers: vec![format!("C-{n:07}"), email, phone],
        }
    });
    let took = build(&index, docs, customers).await;
    println!(
        "customers: {customers} written in {:.1} s ({:.0}/s), {:.0} MB on disk",
        took.as_secs_f64(),
        customers as f64 / took.as_secs_f64(),
        mb(&dir.path().join("customers"))
    );
    let kinds = [DocumentKind::Customer];
    let pick = |rng: &mut Rng| &names[rng.below(names.len())];
    let prefix: Vec<SearchQuery> =
        (0..1_000).map(|_| SearchQuery::new(pick(&mut rng).1[..4].to_owned(), 20).kinds(&kinds)).collect();
    println!("customer prefix (4 letters): {}", time_queries(&index, tenant, &prefix).await);
    let full: Vec<SearchQuery> = (0..1_000)
        .map(|_| {
            let (f, l) = pick(&mut rng);
            SearchQuery::new(format!("{f} {l}"), 20).kinds(&kinds)
        })
        .collect();
    println!("customer full name: {}", time_queries(&index, tenant, &full).await);
    let fuzzy: Vec<SearchQuery> = (0..1_000)
        .map(|_| {
            let mut l = pick(&mut rng).1.clone();
            l.insert(2, 'x');
            SearchQuery::new(l, 20).kinds(&kinds)
        })
        .collect();
    println!("customer name with a typo: {}", time_queries(&index, tenant, &fuzzy).await);
    let email: Vec<SearchQuery> = (0..1_000)
        .map(|_| {
            let n = rng.below(customers);
            let (f, l) = &names[n];
            SearchQuery::new(format!("{f}.{l}{n}@exa"), 20).kinds(&kinds)
        })
        .collect();
    println!("customer email prefix: {}", time_queries(&index, tenant, &email).await);
    let phone: Vec<SearchQuery> =
        (0..1_000).map(|_| SearchQuery::new(format!("+33 6 {:08}", rng.below(customers)), 20).kinds(&kinds)).collect();
    println!("customer phone: {}", time_queries(&index, tenant, &phone).await);
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        for line in status.lines().filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS")) {
            println!("{line}");
        }
    }
}

fn mb(dir: &std::path::Path) -> f64 {
    TantivySearchIndex::size_on_disk(dir) as f64 / 1_000_000.0
}
