//! Where this replica's search index lives (KNO-2, CUS-5) and the `search reindex` command.
//! Each replica keeps its own index, fed from the change feed by the `search-indexer`
//! worker: on disk beside a SQLite file (`crm.db.search/`) or in the `[search] dir`
//! folder; in RAM for an in-memory database, and for PostgreSQL without a `dir` (rebuilt
//! at each start from the database).
//!
//! ```toml
//! [search]
//! enabled = true                  # default
//! dir = "/var/lib/crm/search"     # default: beside a SQLite file, in RAM otherwise
//! poll_interval_ms = 200          # how long after a write it is searchable, about
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crm_core::search::IndexerSettings;
use crm_core::service::Crm;
use crm_search::TantivySearchIndex;
use serde::Deserialize;

/// The `[search]` table.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchFile {
    /// Run the search engine (default true).
    pub enabled: Option<bool>,
    /// The index's folder.
    pub dir: Option<PathBuf>,
    /// How often the indexer polls the change feed, in milliseconds (50..=5000).
    pub poll_interval_ms: Option<u64>,
}

/// The search engine's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchSettings {
    /// Run it.
    pub enabled: bool,
    /// Its folder; `None`: the default of [`default_dir`].
    pub dir: Option<PathBuf>,
    /// The indexer's tunables.
    pub indexer: IndexerSettings,
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self { enabled: true, dir: None, indexer: IndexerSettings::default() }
    }
}

impl SearchFile {
    /// The settings, defaults filled in.
    ///
    /// # Errors
    /// A poll interval out of range.
    pub fn resolve(self) -> Result<SearchSettings, String> {
        let mut settings =
            SearchSettings { enabled: self.enabled.unwrap_or(true), dir: self.dir, ..Default::default() };
        if let Some(ms) = self.poll_interval_ms {
            if !(50..=5_000).contains(&ms) {
                return Err("search.poll_interval_ms must be between 50 and 5000".into());
            }
            settings.indexer.poll_interval = Duration::from_millis(ms);
        }
        Ok(settings)
    }
}

/// The index's folder for a server on `database_url` without `[search] dir`: beside a
/// SQLite file; `None` (in RAM) otherwise.
pub fn default_dir(database_url: &str) -> Option<PathBuf> {
    let file = database_url.strip_prefix("sqlite://").or_else(|| database_url.strip_prefix("sqlite:"))?;
    match file.split('?').next() {
        Some(path) if !path.is_empty() && !path.contains(":memory:") => Some(PathBuf::from(format!("{path}.search"))),
        _ => None,
    }
}

impl SearchSettings {
    /// Opens the index (`None` when disabled).
    ///
    /// # Errors
    /// The folder cannot be created or opened, or another process holds it.
    pub fn open(&self, database_url: &str) -> Result<Option<Arc<TantivySearchIndex>>, String> {
        if !self.enabled {
            return Ok(None);
        }
        let index = match self.dir.clone().or_else(|| default_dir(database_url)) {
            Some(dir) => {
                let index = TantivySearchIndex::open(&dir).map_err(|e| describe(&dir, &e))?;
                tracing::info!(dir = %dir.display(), "search index on disk");
                index
            }
            None => {
                tracing::info!("search index in memory (set [search] dir to keep it across restarts)");
                TantivySearchIndex::in_ram().map_err(|e| format!("search index: {e}"))?
            }
        };
        Ok(Some(Arc::new(index)))
    }

    /// The use cases with the index of `database_url`, when enabled.
    ///
    /// # Errors
    /// As [`SearchSettings::open`].
    pub fn wire(&self, crm: &Crm, database_url: &str) -> Result<Crm, String> {
        Ok(match self.open(database_url)? {
            Some(index) => crm.with_search_index(index, self.indexer.clone()),
            None => crm.clone(),
        })
    }
}

fn describe(dir: &Path, e: &crm_core::ports::SearchError) -> String {
    let mut text = format!("search index {}: {e}", dir.display());
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_sits_beside_a_sqlite_file_and_in_memory_otherwise() {
        assert_eq!(default_dir("sqlite://data/crm.db?mode=rwc"), Some(PathBuf::from("data/crm.db.search")));
        assert_eq!(default_dir("sqlite::memory:"), None);
        assert_eq!(default_dir("postgres://crm@db/crm"), None);
        let bad = SearchFile { poll_interval_ms: Some(10), ..SearchFile::default() };
        assert!(bad.resolve().is_err());
    }
}
