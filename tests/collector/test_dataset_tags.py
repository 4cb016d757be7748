"""The projection's Feast rules, as pure functions: tags from Feast's facets and field
descriptions, and the ``entity`` and ``feature_group`` kinds (``collector/ingest``)."""

from __future__ import annotations

from typing import Any

from mllineage.collector.ingest.dataset_tags import TagRow, dataset_tags, field_description_tags
from mllineage.collector.ingest.fold import dataset_kind


def test_feast_view_tags_field_descriptions_and_the_standard_facet_all_count() -> None:
    facets: dict[str, Any] = {
        "feast_featureView": {"name": "customer_profile", "tags": {"pii": "true", "team": "crm"}},
        "schema": {
            "fields": [
                {"name": "email_domain", "description": "domain [Tags: pii=true, owner = crm]"},
                {"name": "tenure_days", "description": "days [Tags: nonsense, =x]"},
                {"name": "spend"},
            ]
        },
        "tags": {"tags": [{"key": "pii", "value": "true", "source": "CRM"}]},
    }
    assert sorted(dataset_tags(facets)) == [
        TagRow("", "pii", "true", "CRM"),  # the standard facet's source wins for the same tag
        TagRow("", "team", "crm", "FEAST"),
        TagRow("email_domain", "owner", "crm", "FEAST"),
        TagRow("email_domain", "pii", "true", "FEAST"),
    ]
    assert dataset_tags({"feast_featureView": None, "schema": {"fields": "?"}}) == []


def test_field_description_tags_reads_every_group() -> None:
    text = "x [Tags: pii=true] [Tags: pii=true, k=a=b]"
    assert field_description_tags(text) == [("pii", "true"), ("pii", "true"), ("k", "a=b")]


def test_feast_kinds() -> None:
    assert dataset_kind({"feast_entity": {"name": "customer"}}) == "entity"
    assert dataset_kind({"feast_featureService": {"name": "churn_v1"}}) == "feature_group"
    assert dataset_kind({"feast_featureView": {}, "feast_entity": {}}) == "feature_group"
    assert dataset_kind({"feast_dataSource": {"name": "src"}}) == "dataset"
