"""JSON Schemas of the mllineage_* OpenLineage facets, shipped as package data."""
