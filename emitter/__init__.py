"""mllineage emitter: OpenLineage facets and a Python API for machine-learning lineage."""
