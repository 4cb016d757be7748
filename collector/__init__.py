"""mllineage collector: an OpenLineage-compatible lineage service for ML (FastAPI, Postgres/SQLite)."""
