"""Turn a request body into validated OpenLineage events, or say exactly what is wrong and where.

Contract: ``parse_body`` returns the decoded JSON (object or array) or raises ``UnreadableBody``;
``validate_event`` returns a ``ParsedEvent`` (with the warnings a lenient collector records) or
raises ``InvalidEvent`` whose details carry JSON-pointer locations such as ``/run/runId``.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError

from mllineage.collector.errors import BodyTooLarge, ErrorDetail, InvalidEvent, UnreadableBody
from mllineage.collector.ingest.limits import MAX_NESTING, EventLimits, event_problems
from mllineage.collector.ingest.ml_facets import MLFacetValidator
from mllineage.collector.ingest.shape import conforms
from mllineage.collector.schemas.facets import STANDARD_FACETS, Position, format_ok, format_problems
from mllineage.collector.schemas.openlineage import (
    EVENT_MODELS,
    AnyEvent,
    EventKind,
    event_kind,
)


@dataclass(slots=True)
class ParsedEvent:
    """A validated event plus what ingestion needs: canonical bytes, content hash, UTC time.

    ``payload`` is the event as decoded (its shape already checked); ``model`` its pydantic model,
    built only when something asks for ``event`` (the Python fold of the projection): the ingest
    path reads what it needs from the dict through the accessors below.
    """

    kind: EventKind
    payload: dict[str, Any]
    canonical: bytes
    digest: bytes
    event_time: datetime
    warnings: list[ErrorDetail] = field(default_factory=list)
    model: AnyEvent | None = None

    @property
    def event(self) -> AnyEvent:
        """The pydantic model of the event (built on first use; the payload was validated)."""
        if self.model is None:
            self.model = EVENT_MODELS[self.kind].model_validate(self.payload)
        return self.model

    @property
    def event_type(self) -> str | None:
        if self.kind != "run":
            return None
        event_type: str | None = self.payload.get("eventType")
        return event_type

    @property
    def producer(self) -> str:
        producer: str = self.payload["producer"]
        return producer

    @property
    def run_id(self) -> str | None:
        """``run.runId`` of a RunEvent, as sent; None for the other kinds."""
        if self.kind != "run":
            return None
        run_id: str = self.payload["run"]["runId"]
        return run_id

    @property
    def job(self) -> tuple[str, str] | None:
        """(namespace, name) of the event's job; None for a DatasetEvent."""
        if self.kind == "dataset":
            return None
        job = self.payload["job"]
        return job["namespace"], job["name"]

    def namespaces(self) -> set[str]:
        """The namespaces this event writes to: its job's and its datasets'."""
        payload = self.payload
        if self.kind == "dataset":
            return {payload["dataset"]["namespace"]}
        found = {payload["job"]["namespace"]}
        for side in ("inputs", "outputs"):
            found.update(item["namespace"] for item in payload.get(side) or ())
        return found


def decode_body(body: bytes, content_encoding: str | None, max_bytes: int) -> bytes:
    """Undo ``Content-Encoding: gzip``/``deflate``, refusing anything larger than ``max_bytes``."""
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("", "identity"):
        if len(body) > max_bytes:
            raise BodyTooLarge(f"request body exceeds {max_bytes} bytes")
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise UnreadableBody(f"unsupported Content-Encoding {content_encoding!r}")
    wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
    decompressor = zlib.decompressobj(wbits)
    try:
        data = decompressor.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise UnreadableBody(f"body is not valid {encoding}: {exc}") from exc
    if len(data) > max_bytes or decompressor.unconsumed_tail:
        raise BodyTooLarge(f"decompressed request body exceeds {max_bytes} bytes")
    return data


def parse_body(data: bytes) -> Any:
    """Decode JSON; ``UnreadableBody`` says where parsing stopped."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise UnreadableBody(f"body is not valid JSON: {exc}") from exc


class EventValidator:
    """Validates events against the core models, the standard facets and our own facets."""

    def __init__(
        self,
        *,
        strict: bool = False,
        ml_facets: MLFacetValidator | None = None,
        limits: EventLimits | None = None,
    ) -> None:
        self.strict = strict
        self.ml_facets = ml_facets or MLFacetValidator()
        self.limits = limits or EventLimits()
        self._verdicts: dict[tuple[str, str, bytes], _Verdict] = {}

    def validate(self, payload: Any) -> ParsedEvent:
        if not isinstance(payload, dict):
            raise InvalidEvent(
                "an OpenLineage event must be a JSON object",
                [ErrorDetail("", f"got {type(payload).__name__}")],
            )
        if not {"run", "job", "dataset"} & payload.keys():
            raise InvalidEvent(
                "not an OpenLineage event",
                [
                    ErrorDetail(
                        "",
                        "needs 'run' and 'job' (RunEvent), 'dataset' (DatasetEvent) or 'job' (JobEvent)",
                    )
                ],
            )
        kind = event_kind(payload)
        canonical = _canonical(payload)
        # Nesting deeper than the limit needs more containers than the limit: count their
        # openers in the serialised event (fast, in C; braces inside strings only add to it)
        # and skip the walk when there are too few.
        shallow = canonical is not None and _openers(canonical) <= MAX_NESTING
        too_big = event_problems(payload, self.limits, shallow=shallow)
        if too_big:
            raise InvalidEvent(f"{_KIND_NAMES[kind]} exceeds the collector's limits", too_big)
        model: AnyEvent | None = None
        if not conforms(payload, kind):  # not the common shape: pydantic decides and explains
            try:
                model = EVENT_MODELS[kind].model_validate(payload)
            except ValidationError as exc:
                raise InvalidEvent(
                    f"not a valid OpenLineage {_KIND_NAMES[kind]}", _pydantic_details(exc)
                ) from exc

        errors: list[ErrorDetail] = []
        warnings: list[ErrorDetail] = []
        event_time = _event_time(payload["eventTime"], errors, warnings)
        _check_envelope(kind, payload, warnings)
        for pointer, position, key, facet in _facets_of(kind, payload):
            self._check_facet(pointer, position, key, facet, errors, warnings)
        if self.strict and warnings:
            errors.extend(warnings)
        if errors:
            raise InvalidEvent(f"not a valid OpenLineage {_KIND_NAMES[kind]}", errors)

        if canonical is None:  # not serialisable: raises here, as it always did
            canonical = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
        if (
            b"\\u0000" in canonical
        ):  # cheap pre-check; the walk confirms (an escaped "\\" may match)
            where = _nul_character(payload)
            if where is not None:
                raise InvalidEvent(
                    f"not a valid OpenLineage {_KIND_NAMES[kind]}",
                    [ErrorDetail(where, "contains the character U+0000, which cannot be stored")],
                )
        return ParsedEvent(
            kind=kind,
            payload=payload,
            canonical=canonical,
            digest=hashlib.sha256(canonical).digest(),
            event_time=event_time,
            warnings=warnings,
            model=model,
        )

    def _check_facet(
        self,
        pointer: str,
        position: Position,
        key: str,
        facet: dict[str, Any],
        errors: list[ErrorDetail],
        warnings: list[ErrorDetail],
    ) -> None:
        if not isinstance(facet, dict):
            errors.append(ErrorDetail(pointer, "a facet must be a JSON object"))
            return
        if facet.get("_deleted") is True:
            return  # a retraction carries no body to validate
        if key.startswith("mllineage_") or key in STANDARD_FACETS[position]:
            # Producers resend identical facets (a dataset's schema on every run): check each
            # distinct facet once. The verdict depends only on (position, key, content); the
            # content is remembered by a 16-byte digest, so the memo's size stays bounded.
            content = hashlib.blake2b(orjson.dumps(facet), digest_size=16).digest()
            memo_key = (position, key, content)
            verdict = self._verdicts.get(memo_key)
            if verdict is None:
                if len(self._verdicts) >= _VERDICT_CACHE_SIZE:
                    self._verdicts.clear()
                verdict = self._verdicts[memo_key] = self._facet_verdict(position, key, facet)
        else:
            verdict = _base_facet_verdict(facet)
        bad, odd = verdict
        errors.extend(ErrorDetail(pointer + loc, msg) for loc, msg in bad)
        warnings.extend(ErrorDetail(pointer + loc, msg) for loc, msg in odd)

    def _facet_verdict(self, position: Position, key: str, facet: dict[str, Any]) -> _Verdict:
        """(errors, warnings) of one facet, locations relative to the facet."""
        warnings = list(_base_facet_verdict(facet)[1])
        if key.startswith("mllineage_"):
            warnings.extend(self.ml_facets.problems(key, facet))
            return (), tuple(warnings)
        try:
            parsed = STANDARD_FACETS[position][key].model_validate(facet)
        except ValidationError as exc:
            return tuple((d.loc, d.msg) for d in _pydantic_details(exc)), tuple(warnings)
        warnings.extend(format_problems(parsed))
        warnings.extend(parsed.spec_deviations())
        return (), tuple(warnings)


def _check_envelope(kind: EventKind, payload: dict[str, Any], warnings: list[ErrorDetail]) -> None:
    schema_url = payload.get("schemaURL")
    if schema_url is None:
        warnings.append(ErrorDetail("/schemaURL", "missing (required by the spec)"))
    elif not format_ok("uri", schema_url):
        warnings.append(ErrorDetail("/schemaURL", f"{schema_url!r} is not a valid uri"))
    producer = payload["producer"]
    if not format_ok("uri", producer):
        warnings.append(ErrorDetail("/producer", f"{producer!r} is not a valid uri"))
    if kind == "run":
        run_id = payload["run"]["runId"]
        if not format_ok("uuid", run_id):
            warnings.append(ErrorDetail("/run/runId", f"{run_id!r} is not a valid uuid"))


def _canonical(payload: dict[str, Any]) -> bytes | None:
    """The event's canonical bytes (sorted keys), or None if orjson cannot serialise it."""
    try:
        return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return None


def _openers(canonical: bytes) -> int:
    return canonical.count(b"{") + canonical.count(b"[")


_Verdict = tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]
_VERDICT_CACHE_SIZE = 50_000  # ~10 MB of digests and verdicts
_BASE_FIELDS_OK: _Verdict = ((), ())


def _base_facet_verdict(facet: dict[str, Any]) -> _Verdict:
    if "_producer" in facet and "_schemaURL" in facet:
        return _BASE_FIELDS_OK
    missing = tuple(
        (f"/{name}", "missing (required by the spec)")
        for name in ("_producer", "_schemaURL")
        if name not in facet
    )
    return (), missing


_KIND_NAMES: dict[EventKind, str] = {
    "run": "RunEvent",
    "dataset": "DatasetEvent",
    "job": "JobEvent",
}


def _event_time(value: str, errors: list[ErrorDetail], warnings: list[ErrorDetail]) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        errors.append(ErrorDetail("/eventTime", f"{value!r} is not an ISO 8601 date-time"))
        return datetime.min.replace(tzinfo=UTC)
    if parsed.tzinfo is None:
        warnings.append(ErrorDetail("/eventTime", f"{value!r} has no time zone; read as UTC"))
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is in year 0 in UTC
        errors.append(ErrorDetail("/eventTime", f"{value!r} is outside the years 1-9999 in UTC"))
        return datetime.min.replace(tzinfo=UTC)


def _facets_of(
    kind: EventKind, payload: dict[str, Any]
) -> Iterator[tuple[str, Position, str, dict[str, Any]]]:
    """Every facet of the (shape-checked) event with its JSON pointer and spec position."""

    def each(prefix: str, position: Position, facets: dict[str, Any] | None) -> Iterator[Any]:
        for key, facet in (facets or {}).items():
            yield f"{prefix}/{_escape(key)}", position, key, facet

    if kind == "dataset":
        yield from each("/dataset/facets", "dataset", payload["dataset"].get("facets"))
        return
    if kind == "run":
        yield from each("/run/facets", "run", payload["run"].get("facets"))
    yield from each("/job/facets", "job", payload["job"].get("facets"))
    for index, dataset in enumerate(payload.get("inputs") or ()):
        yield from each(f"/inputs/{index}/facets", "dataset", dataset.get("facets"))
        yield from each(f"/inputs/{index}/inputFacets", "inputFacets", dataset.get("inputFacets"))
    for index, out in enumerate(payload.get("outputs") or ()):
        yield from each(f"/outputs/{index}/facets", "dataset", out.get("facets"))
        yield from each(f"/outputs/{index}/outputFacets", "outputFacets", out.get("outputFacets"))


def _nul_character(value: Any, pointer: str = "") -> str | None:
    """JSON pointer of the first string (value or key) holding U+0000, which PostgreSQL's text
    and JSONB types refuse; rejecting it here keeps both databases answering alike."""
    if isinstance(value, str):
        return pointer if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return f"{pointer}/{_escape(key)}"
            found = _nul_character(item, f"{pointer}/{_escape(key)}")
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_character(item, f"{pointer}/{index}")
            if found is not None:
                return found
    return None


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _pydantic_details(exc: ValidationError, prefix: str = "") -> list[ErrorDetail]:
    details = []
    for error in exc.errors(include_url=False):
        loc = "".join(f"/{_escape(str(part))}" for part in error["loc"])
        details.append(ErrorDetail(prefix + loc, error["msg"]))
    return details
