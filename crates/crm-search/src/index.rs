//! [`TantivySearchIndex`]: the index on disk (a directory beside the database) or in RAM.
//! One writer, behind a mutex, applies a batch of changes as one commit whose payload is
//! the change feed's position, so the position on disk always describes the documents on
//! disk; the reader is reloaded after each commit (a change is searchable once `apply`
//! returns). Reads and writes run on tokio's blocking pool.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use crm_core::ids::TenantId;
use crm_core::ports::{
    DocumentKind, IndexChange, SearchDocument, SearchError, SearchHit, SearchIndex, SearchQuery, SearchResults,
};
use crm_core::text::{phonetic_codes, words};
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::schema::Value;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};
use uuid::Uuid;

use crate::highlight;
use crate::query;
use crate::schema::{Fields, digits_of, primary_language, register, schema};

/// Memory the writer fills before it writes a segment.
const WRITER_MEMORY: usize = 64 * 1024 * 1024;

/// The tantivy index.
#[derive(Clone)]
pub struct TantivySearchIndex {
    index: Index,
    fields: Fields,
    reader: IndexReader,
    writer: Arc<Mutex<IndexWriter<TantivyDocument>>>,
    position: Arc<Mutex<Option<String>>>,
}

impl fmt::Debug for TantivySearchIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TantivySearchIndex").finish_non_exhaustive()
    }
}

fn backend(e: impl std::error::Error + Send + Sync + 'static) -> SearchError {
    SearchError::Backend(Box::new(e))
}

fn poisoned() -> SearchError {
    SearchError::Backend("search index mutex poisoned".into())
}

impl TantivySearchIndex {
    /// The index in `dir` (created with its parents when missing). An index written with
    /// another schema (an older version of this crate) is emptied: its position is gone,
    /// and the indexer rebuilds it from the database.
    ///
    /// # Errors
    /// The directory cannot be created, opened or locked (another process writes it).
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        std::fs::create_dir_all(dir).map_err(backend)?;
        let (schema, _) = schema();
        let directory = MmapDirectory::open(dir).map_err(backend)?;
        let index = match Index::open_or_create(directory, schema.clone()) {
            Ok(index) => index,
            Err(tantivy::TantivyError::SchemaError(reason)) => {
                tracing::warn!(dir = %dir.display(), reason, "search index of another schema: emptied, to rebuild");
                for entry in std::fs::read_dir(dir).map_err(backend)? {
                    let path = entry.map_err(backend)?.path();
                    if path.is_file() {
                        std::fs::remove_file(&path).map_err(backend)?;
                    }
                }
                Index::create_in_dir(dir, schema).map_err(backend)?
            }
            Err(e) => return Err(backend(e)),
        };
        Self::with(index)
    }

    /// An empty index in RAM (tests, demos).
    ///
    /// # Errors
    /// Only if tantivy cannot allocate its writer.
    pub fn in_ram() -> Result<Self, SearchError> {
        Self::with(Index::create_in_ram(schema().0))
    }

    fn with(index: Index) -> Result<Self, SearchError> {
        register(&index);
        let (_, fields) = schema();
        let position = index.load_metas().map_err(backend)?.payload;
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY).map_err(backend)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(backend)?;
        Ok(Self {
            index,
            fields,
            reader,
            writer: Arc::new(Mutex::new(writer)),
            position: Arc::new(Mutex::new(position)),
        })
    }

    /// Bytes of the index's files on disk (0 in RAM).
    pub fn size_on_disk(dir: &Path) -> u64 {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries.filter_map(|e| e.ok()?.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum()
            })
            .unwrap_or(0)
    }

    /// Documents in the index.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn key(tenant: TenantId, kind: DocumentKind, id: Uuid) -> String {
        format!("{tenant}/{}/{id}", kind.as_str())
    }

    fn document(&self, d: &SearchDocument) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.key, Self::key(d.tenant, d.kind, d.id));
        doc.add_text(f.tenant, d.tenant.to_string());
        doc.add_text(f.kind, d.kind.as_str());
        doc.add_text(f.id, d.id.to_string());
        doc.add_text(f.title, &d.title);
        doc.add_text(f.body, &d.body);
        let language = d.language.as_deref().map(primary_language);
        let (english, french) = match language.as_deref() {
            None => (true, true),
            Some("fr") => (false, true),
            Some(_) => (true, false),
        };
        if english {
            doc.add_text(f.title_en, &d.title);
            doc.add_text(f.body_en, &d.body);
        }
        if french {
            doc.add_text(f.title_fr, &d.title);
            doc.add_text(f.body_fr, &d.body);
        }
        for word in words(&d.title).iter().filter(|w| w.chars().count() >= 4) {
            for code in phonetic_codes(word) {
                doc.add_text(f.sound, code.to_ascii_lowercase());
            }
        }
        for identifier in &d.identifiers {
            doc.add_text(f.ident, identifier.to_lowercase());
            if let Some(digits) = digits_of(identifier) {
                doc.add_text(f.ident, digits);
            }
        }
        for tag in &d.tags {
            doc.add_text(f.tags, tag);
        }
        if let Some(language) = language {
            doc.add_text(f.language, language);
        }
        if let Some(state) = &d.state {
            doc.add_text(f.state, state);
        }
        doc
    }

    fn apply_now(&self, changes: Vec<IndexChange>, position: Option<String>) -> Result<(), SearchError> {
        let mut writer = self.writer.lock().map_err(|_| poisoned())?;
        let mut last = self.position.lock().map_err(|_| poisoned())?;
        let mut payload = last.clone();
        let written = (|| -> tantivy::Result<()> {
            for change in changes {
                match change {
                    IndexChange::Upsert(d) => {
                        writer.delete_term(Term::from_field_text(self.fields.key, &Self::key(d.tenant, d.kind, d.id)));
                        writer.add_document(self.document(&d))?;
                    }
                    IndexChange::Remove { tenant, kind, id } => {
                        writer.delete_term(Term::from_field_text(self.fields.key, &Self::key(tenant, kind, id)));
                    }
                    IndexChange::Clear => {
                        writer.delete_all_documents()?;
                        payload = None;
                    }
                }
            }
            if position.is_some() {
                payload.clone_from(&position);
            }
            let mut commit = writer.prepare_commit()?;
            if let Some(p) = &payload {
                commit.set_payload(p);
            }
            commit.commit()?;
            Ok(())
        })();
        if let Err(e) = written {
            // Nothing of the batch stays: the next apply starts from the last commit.
            let _ = writer.rollback();
            return Err(backend(e));
        }
        *last = payload;
        self.reader.reload().map_err(backend)
    }

    fn search_now(&self, tenant: TenantId, q: &SearchQuery) -> Result<SearchResults, SearchError> {
        let searcher = self.reader.searcher();
        let known = |field, word: &str| searcher.doc_freq(&Term::from_field_text(field, word)).unwrap_or(0);
        let (tantivy_query, matcher) = query::build(&self.fields, tenant, q, &known)?;
        if q.limit == 0 {
            return Ok(SearchResults::default());
        }
        let limit = usize::try_from(q.limit).unwrap_or(usize::MAX);
        let offset = usize::try_from(q.offset).unwrap_or(usize::MAX);
        let collector = TopDocs::with_limit(limit.saturating_add(1)).and_offset(offset).order_by_score();
        let mut top = searcher.search(&*tantivy_query, &collector).map_err(backend)?;
        let more = top.len() > limit;
        top.truncate(limit);
        let f = &self.fields;
        let mut hits = Vec::with_capacity(top.len());
        let mut marker = highlight::Marker::new(&matcher);
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address).map_err(backend)?;
            let text = |field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            let id = Uuid::parse_str(&text(f.id)).map_err(backend)?;
            let kind = kind_of(&text(f.kind))?;
            let (snippet, highlights) = marker.of_hit(f, &text(f.title), &text(f.body));
            hits.push(SearchHit { kind, id, score, snippet, highlights });
        }
        let next_offset = more.then(|| q.offset.saturating_add(q.limit));
        Ok(SearchResults { hits, next_offset })
    }
}

fn kind_of(name: &str) -> Result<DocumentKind, SearchError> {
    [DocumentKind::Article, DocumentKind::StandardResponse, DocumentKind::Case, DocumentKind::Customer]
        .into_iter()
        .find(|k| k.as_str() == name)
        .ok_or_else(|| SearchError::Backend(format!("unknown document kind {name:?} in the index").into()))
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, SearchError> + Send + 'static,
) -> Result<T, SearchError> {
    tokio::task::spawn_blocking(work).await.map_err(backend)?
}

#[async_trait]
impl SearchIndex for TantivySearchIndex {
    async fn apply(&self, changes: Vec<IndexChange>, position: Option<String>) -> Result<(), SearchError> {
        let this = self.clone();
        blocking(move || this.apply_now(changes, position)).await
    }

    async fn position(&self) -> Result<Option<String>, SearchError> {
        Ok(self.position.lock().map_err(|_| poisoned())?.clone())
    }

    async fn search(&self, tenant: TenantId, query: &SearchQuery) -> Result<SearchResults, SearchError> {
        let this = self.clone();
        let query = query.clone();
        blocking(move || this.search_now(tenant, &query)).await
    }
}

impl TantivySearchIndex {
    /// The index's tantivy handle, for diagnostics (segment counts in benchmarks).
    pub fn tantivy(&self) -> &Index {
        &self.index
    }
}
