"""mllineage read client and command line."""

from mllineage.client.lineage_client import (
    LineageClient,
    LineageClientError,
    dataset_id,
    field_id,
    job_id,
)

__all__ = ["LineageClient", "LineageClientError", "dataset_id", "field_id", "job_id"]
