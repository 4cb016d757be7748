"""Core ``Table`` handles of the ORM models, for set-based ingestion and read queries."""

from __future__ import annotations

from sqlalchemy import Table

from mllineage.collector.db import models


def _table(model: type[models.Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


events_t = _table(models.LineageEvent)
digests_t = _table(models.EventDigest)
backlog_t = _table(models.ProjectionBacklog)
namespaces_t = _table(models.Namespace)
datasets_t = _table(models.Dataset)
facet_contents_t = _table(models.FacetContent)
dataset_facets_t = _table(models.DatasetFacet)
versions_t = _table(models.DatasetVersion)
symlinks_t = _table(models.DatasetSymlink)
tags_t = _table(models.DatasetTag)
column_lineage_t = _table(models.ColumnLineage)
jobs_t = _table(models.Job)
job_facets_t = _table(models.JobFacet)
static_io_t = _table(models.JobStaticIO)
job_edges_t = _table(models.JobEdge)
runs_t = _table(models.Run)
run_facets_t = _table(models.RunFacet)
run_io_t = _table(models.RunIO)
forward_cursors_t = _table(models.ForwardCursor)
forward_parked_t = _table(models.ForwardParked)
inferred_io_t = _table(models.InferredIO)
