"""The lineage web UI in real Chromium against a live collector loaded with ``mllineage demo``:
the questions a newcomer asks, answered by clicking. Each test writes its view's screenshot to
docs/ui/ (the README shows them)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from playwright.sync_api import Locator, Page, expect

from mllineage.client.demo import BEFORE_RETRAINING, NODES
from tests.ui.conftest import API_KEY, HUB_READERS, Console, screenshot

pytestmark = pytest.mark.xdist_group("browser")

MODEL = NODES["model"]
BEFORE = BEFORE_RETRAINING.isoformat().replace("+00:00", "Z")
AFTER = "2024-06-03T00:00:00Z"


def url(base: str, path: str, **params: object) -> str:
    return f"{base}{path}?{urlencode(params)}" if params else f"{base}{path}"


def node(page: Page, name: str) -> Locator:
    """The drawn graph node of the dataset or job ``name``."""
    return page.locator(f'svg.graph-svg g.node[data-name="{name}"]')


def drawn_labels(page: Page, within: str = "body") -> set[str]:
    """Names of the drawn nodes (labels show a shortened name; ``data-name`` the whole one)."""
    nodes = page.locator(within).locator("svg.graph-svg g.node[data-name]")
    return set(nodes.evaluate_all("nodes => nodes.map(n => n.dataset.name)"))


def test_search_finds_the_model_and_counts_kinds(page: Page, demo_server: str) -> None:
    page.goto(url(demo_server, "/"))
    expect(page.locator(".kind-counts")).to_contain_text("Model")
    page.get_by_role("searchbox", name="Search lineage").fill("churn-class")
    hit = page.locator(".hit", has_text="models/churn-classifier")
    expect(hit).to_be_visible()
    expect(hit.locator(".chip")).to_have_text("Model")
    expect(page.locator(".hit", has_text="churn-classifier-prod").locator(".chip")).to_have_text(
        "Endpoint"
    )
    expect(page.locator(".failed-runs, .state.empty").first).to_be_visible()
    screenshot(page, "search")
    hit.get_by_role("link", name="models/churn-classifier").click()
    expect(page).to_have_url(url(demo_server, "/ui/model", nodeId=MODEL))
    expect(page.locator(".timeline .version")).to_have_count(2)


def test_lineage_of_the_model_shows_its_feature_groups_and_endpoint(
    page: Page, demo_server: str
) -> None:
    page.goto(url(demo_server, "/ui/lineage", nodeId=MODEL))
    groups = page.locator("g.node[data-kind=feature_group] text.label")
    expect(groups).to_have_count(2)
    assert set(groups.all_text_contents()) == {"engagement", "support_signals"}
    endpoint = page.locator("g.node[data-kind=endpoint]")
    expect(endpoint.locator("text.label")).to_have_text("churn-classifier-prod")
    expect(page.locator("g.node[data-kind=model].focus")).to_have_count(1)
    expect(page.locator(".details")).to_contain_text("val_auc")
    expect(endpoint.locator("text.sub")).to_have_text("endpoint · serves v2")  # notes arrived
    screenshot(page, "lineage")

    endpoint.click()  # details of the endpoint: which model version it serves
    expect(page.locator(".details h2")).to_have_text("churn-classifier-prod")
    expect(page.locator(".details")).to_contain_text("serves model version")
    page.get_by_role("button", name="Fit to view").click()  # the whole chain in view
    node(page, "support.tickets").click(modifiers=["Shift"])  # path between the two
    expect(page.locator("g.node.on-path")).to_have_count(9)
    expect(page.locator("path.edge.lit")).to_have_count(8)

    page.emulate_media(color_scheme="dark")
    screenshot(page, "lineage-dark")


def test_expanding_and_collapsing_a_node(page: Page, demo_server: str) -> None:
    page.goto(url(demo_server, "/ui/lineage", nodeId=MODEL, depth=2))
    train = node(page, "datasets/churn_train")
    expect(train).to_have_count(1)
    assert "engagement" not in drawn_labels(page)

    train.locator("[data-action=toggle]").click()  # at the depth frontier: expand in place
    expect(node(page, "engagement")).to_have_count(1)
    expect(node(page, "build_churn_trainset")).to_have_count(1)
    expect(node(page, "churn-classifier-prod")).to_have_count(1)

    train.locator("[data-action=toggle]").click()  # collapse: what lies behind it goes
    expect(node(page, "engagement")).to_have_count(0)
    expect(node(page, "datasets/churn_train")).to_have_count(1)
    train.focus()
    page.keyboard.press("e")  # and the keyboard brings it back
    expect(node(page, "engagement")).to_have_count(1)


def test_as_of_before_the_retraining_shows_v1_inputs_after_shows_v2(
    page: Page, demo_server: str
) -> None:
    page.goto(url(demo_server, "/ui/lineage", nodeId=MODEL, asOf=BEFORE))
    expect(node(page, "customer_profile")).to_have_count(1)
    expect(node(page, "models/churn-classifier").locator("text.sub")).to_have_text("model · v1")
    expect(node(page, "churn-classifier-prod").locator("text.sub")).to_have_text(
        "endpoint · serves v1"
    )
    labels = drawn_labels(page)
    assert "support_signals" not in labels
    assert "engagement" in labels

    page.goto(url(demo_server, "/ui/lineage", nodeId=MODEL, direction="upstream", asOf=AFTER))
    expect(node(page, "support_signals")).to_have_count(1)
    expect(node(page, "models/churn-classifier").locator("text.sub")).to_have_text("model · v2")
    assert "customer_profile" not in drawn_labels(page)

    page.get_by_label("Model version").select_option("1")  # version pinning redraws v1's chain
    expect(page).to_have_url(
        url(demo_server, "/ui/lineage", nodeId=MODEL, direction="upstream", asOf=AFTER, version=1)
    )
    expect(node(page, "customer_profile")).to_have_count(1)
    assert "support_signals" not in drawn_labels(page)


def test_governance_lists_v1_and_draws_its_pii_path(page: Page, demo_server: str) -> None:
    page.goto(url(demo_server, "/ui/governance", tag="pii"))
    expect(page.get_by_text("No model or endpoint has such data upstream.")).to_be_visible()
    row = page.locator("tr", has=page.locator('a[href*="churn-classifier"]')).filter(has_text="v1")
    expect(row.first).to_be_visible()
    expect(row.first).to_contain_text("email")
    # The model declares no column lineage: v1 is reached from the tagged email at job level.
    expect(row.first.locator(".badge.evidence-job")).to_have_text("job")
    expect(page.locator("table.tagged th", has_text="evidence").first).to_be_visible()
    row.first.click()
    evidence = page.locator(".evidence")
    expect(evidence.locator("g.node.on-path").first).to_be_visible()
    labels = drawn_labels(page, ".evidence")
    assert {"public.customers", "customer_profile", "models/churn-classifier"} <= labels
    screenshot(page, "governance")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "governance-dark")


def test_model_impact_and_feature_views(page: Page, demo_server: str, console: Console) -> None:
    page.goto(url(demo_server, "/ui/model", nodeId=MODEL))
    expect(page.locator(".timeline .version")).to_have_count(2)
    expect(page.locator(".diff-added")).to_contain_text("support_signals")
    expect(page.locator(".diff-removed")).to_contain_text("customer_profile")
    screenshot(page, "model")

    page.goto(url(demo_server, "/ui/impact", nodeId=NODES["source"]))
    expect(page.locator(".impact-group[data-kind=endpoint]")).to_contain_text(
        "churn-classifier-prod"
    )
    expect(page.locator(".impact-group[data-kind=feature_group]")).to_contain_text("engagement")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV (all rows)").click()
    csv = download.value.path().read_text().splitlines()
    assert csv[0].startswith("kind,node_id")
    assert any("churn-classifier-prod" in line for line in csv[1:])
    screenshot(page, "impact")

    page.goto(url(demo_server, "/ui/features", nodeId=NODES["feature"], asOf=BEFORE))
    expect(page.locator(".role-source")).to_contain_text("email")
    expect(page.locator(".role-consumer")).to_contain_text("models/churn-classifier")
    screenshot(page, "features")

    console.expect("status of 404")  # an unknown node is a located error, not a blank page
    page.goto(url(demo_server, "/ui/lineage", nodeId="dataset:nowhere:missing"))
    expect(page.get_by_role("alert")).to_contain_text("HTTP 404")
    expect(page.get_by_role("alert")).to_contain_text("dataset:nowhere:missing")


def test_with_api_keys_a_401_asks_for_a_key_and_the_view_carries_on(
    page: Page, keyed_server: str, console: Console
) -> None:
    console.expect("status of 401")
    page.goto(url(keyed_server, "/ui/lineage", nodeId=MODEL))
    dialog = page.get_by_role("dialog", name="API key needed")
    expect(dialog).to_be_visible()
    dialog.get_by_label("API key").fill("not-a-key")
    dialog.get_by_role("button", name="Use key").click()
    expect(dialog).to_contain_text("That key was refused (unknown API key)")
    dialog.get_by_label("API key").fill(API_KEY)
    dialog.get_by_role("button", name="Use key").click()
    expect(node(page, "churn-classifier-prod")).to_have_count(1)
    page.goto(url(keyed_server, "/"))  # the key is kept for the session
    expect(page.locator(".kind-counts")).to_contain_text("Endpoint")
    expect(dialog).to_be_hidden()


def test_a_wide_fan_out_collapses_into_a_searchable_more_node(page: Page, hub_server: str) -> None:
    page.goto(
        url(hub_server, "/ui/lineage", nodeId="dataset:postgres://warehouse:5432:public.customers")
    )
    more = page.locator("g.node.kind-more")
    expect(more.locator("text.label")).to_have_text(f"+{HUB_READERS} more")
    assert drawn_labels(page) == {"public.customers"}, "the readers wait behind +N more"

    more.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Collapsed neighbours")
    dialog.get_by_role("searchbox", name="Filter neighbours").fill("reader_017")
    expect(dialog.locator(".more-items li")).to_have_count(1)
    dialog.get_by_role("button", name="reader_017").click()
    expect(node(page, "reader_017")).to_have_count(1)
    expect(node(page, "reader_017_out")).to_have_count(1)
    expect(more.locator("text.label")).to_have_text(f"+{HUB_READERS - 1} more")
    screenshot(page, "fan-out")
