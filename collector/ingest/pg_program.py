"""The projection as one SQL program inside PostgreSQL: ``mllineage_project(hashes, now)``.

The function projects the raw events whose content hashes it is given (rows of
``lineage_events``, read as JSONB) into the graph tables, with the same result as the Python fold
(``ingest.fold`` + ``ingest.store``) applied to the same events in the same order: one call is one
batch, everything happens in the caller's transaction, nothing commits. It stages the batch once
into temporary tables (events, dataset mentions, facet winners, runs), then runs one set-based
statement per table family: namespaces, datasets, jobs, dataset facets and what derives from them
(column lineage, tags, symlinks, kinds), versions, job facets (job type), runs, run facets
(parent), run I/O, static lineage, current runs and job edges.

Rules it mirrors (see ``ingest.fold``): "latest" is ``(event_time, event_hash)``; inside one
batch, ties between mentions of one event go to the first mention (event order = the order of
``hashes``, then inputs before outputs), exactly as the fold's strict comparisons do; ``_deleted:
true`` retracts a facet (NULL); a run belongs to the job of its earliest event; run state is the
greatest ``(terminal, time, hash)``; versions come from the ``version`` / ``mllineage_model``
facets or, for outputs of a COMPLETE event, the run id; a run's I/O facets follow the fold's
``RunIOFold.merge`` (the last event that was the newest so far when it was folded and carried
facets). Every insert is issued in key order, so concurrent projectors take row locks in the same
order and cannot deadlock on them.

A rule added to the Python fold must be added here too (and installed by a new migration that
runs ``PROJECT_FUNCTION`` again): ``tests/collector/test_pg_projection.py`` projects the same
events both ways and compares every graph table.
"""

from __future__ import annotations

#: Name and signature of the installed function.
FUNCTION_NAME = "mllineage_project"

#: ``CREATE OR REPLACE FUNCTION mllineage_project(bytea[], timestamptz)``; idempotent.
PROJECT_FUNCTION = r"""
CREATE OR REPLACE FUNCTION mllineage_project(p_hashes bytea[], p_now timestamptz)
RETURNS integer
LANGUAGE plpgsql
-- Sorts and hashes of a batch of thousands of events stay in memory; no JIT: the planner's
-- guesses for jsonb_each/jsonb_array_elements are huge, and compiling cost more than running.
SET work_mem = '64MB'
SET jit = off
AS $fn$
DECLARE
    projected integer;
    -- Statistics of the staged tables steer the joins of large batches away from nested loops
    -- over misestimated rows; for small batches taking them costs more than it saves.
    with_stats boolean;
BEGIN
    DROP TABLE IF EXISTS pg_temp._pe, pg_temp._pm, pg_temp._ptouch, pg_temp._pds,
        pg_temp._pjob, pg_temp._pdf, pg_temp._pdf_changed, pg_temp._pv, pg_temp._pjf,
        pg_temp._pjf_changed, pg_temp._prun, pg_temp._pranks, pg_temp._prf,
        pg_temp._prf_changed, pg_temp._pio, pg_temp._pbest, pg_temp._prebuild,
        pg_temp._pedges;

    -- The batch: each event once, in the order given (the fold's processing order).
    CREATE TEMP TABLE _pe ON COMMIT DROP AS
    SELECT h.ord, e.event_hash AS hash, e.event_time AS at, e.event_type AS etype, e.kind,
           e.run_uuid, e.job_namespace AS job_ns, e.job_name, e.payload
    FROM (SELECT hash, min(ord) AS ord FROM unnest(p_hashes) WITH ORDINALITY AS u(hash, ord)
          GROUP BY hash) h
    CROSS JOIN LATERAL (
        SELECT * FROM lineage_events le WHERE le.event_hash = h.hash LIMIT 1
    ) e;
    GET DIAGNOSTICS projected = ROW_COUNT;
    IF projected = 0 THEN
        RETURN 0;
    END IF;
    with_stats := projected >= 500;
    IF with_stats THEN ANALYZE _pe; END IF;

    -- Dataset mentions: a DatasetEvent's dataset, a RunEvent's or JobEvent's inputs then outputs.
    -- pos orders the mentions of one event as the fold visits them.
    CREATE TEMP TABLE _pm ON COMMIT DROP AS
    SELECT e.ord, d.pos, e.hash, e.at, e.kind, e.etype, e.run_uuid, d.dir,
           d.v->>'namespace' AS ns, d.v->>'name' AS name,
           (e.kind = 'dataset' OR (e.kind = 'run' AND d.dir = 'out')) AS written,
           coalesce(d.v->'facets', '{}'::jsonb) AS facets,
           CASE WHEN d.v->(CASE d.dir WHEN 'in' THEN 'inputFacets' ELSE 'outputFacets' END)
                     IN ('{}'::jsonb, 'null'::jsonb) THEN NULL
                ELSE d.v->(CASE d.dir WHEN 'in' THEN 'inputFacets' ELSE 'outputFacets' END)
           END AS io_facets
    FROM _pe e
    CROSS JOIN LATERAL (
        SELECT 'in'::text AS dir, i.n AS pos, i.v
        FROM jsonb_array_elements(coalesce(e.payload->'inputs', '[]'::jsonb))
             WITH ORDINALITY AS i(v, n)
        WHERE e.kind <> 'dataset'
        UNION ALL
        SELECT 'out', 1000000 + o.n, o.v
        FROM jsonb_array_elements(coalesce(e.payload->'outputs', '[]'::jsonb))
             WITH ORDINALITY AS o(v, n)
        WHERE e.kind <> 'dataset'
        UNION ALL
        SELECT 'dataset', 0, e.payload->'dataset' WHERE e.kind = 'dataset'
    ) d;
    IF with_stats THEN ANALYZE _pm; END IF;

    -- Every dataset the batch touches: mentions, and the inputs named by columnLineage facets
    -- (each distinct facet expanded once, at the earliest time it was seen).
    CREATE TEMP TABLE _ptouch ON COMMIT DROP AS
    SELECT ns, name, at, written FROM _pm
    UNION ALL
    SELECT src->>'namespace', src->>'name', l.at, false
    FROM (SELECT facets->'columnLineage' AS facet, min(at) AS at FROM _pm
          WHERE facets ? 'columnLineage' GROUP BY 1) l
    CROSS JOIN LATERAL jsonb_each(
        CASE WHEN jsonb_typeof(l.facet->'fields') = 'object'
             THEN l.facet->'fields' ELSE '{}'::jsonb END) AS f(field, spec)
    CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(f.spec->'inputFields') = 'array'
             THEN f.spec->'inputFields' ELSE '[]'::jsonb END) AS src;
    IF with_stats THEN ANALYZE _ptouch; END IF;

    INSERT INTO namespaces (name, created_at)
    SELECT n, p_now FROM (
        SELECT ns AS n FROM _ptouch
        UNION SELECT job_ns FROM _pe WHERE kind <> 'dataset'
    ) names ORDER BY n
    ON CONFLICT (name) DO NOTHING;

    -- Datasets: new ones inserted; written ones move updated_at forward.
    CREATE TEMP TABLE _pds ON COMMIT DROP AS
    SELECT t.ns, t.name, n.id AS ns_id, min(t.at) AS created_at,
           max(t.at) FILTER (WHERE t.written) AS written_at, NULL::bigint AS id
    FROM _ptouch t JOIN namespaces n ON n.name = t.ns
    GROUP BY t.ns, t.name, n.id;

    INSERT INTO datasets (namespace_id, name, kind, created_at, updated_at)
    SELECT ns_id, name, 'dataset', created_at, created_at FROM _pds
    WHERE written_at IS NULL ORDER BY ns_id, name
    ON CONFLICT (namespace_id, name) DO NOTHING;

    INSERT INTO datasets AS d (namespace_id, name, kind, created_at, updated_at)
    SELECT ns_id, name, 'dataset', created_at, written_at FROM _pds
    WHERE written_at IS NOT NULL ORDER BY ns_id, name
    ON CONFLICT (namespace_id, name) DO UPDATE SET updated_at = excluded.updated_at
    WHERE excluded.updated_at > d.updated_at;

    UPDATE _pds p SET id = d.id FROM datasets d
    WHERE d.namespace_id = p.ns_id AND d.name = p.name;
    CREATE UNIQUE INDEX ON _pds (ns, name);
    IF with_stats THEN ANALYZE _pds; END IF;

    -- Jobs of RunEvents and JobEvents.
    CREATE TEMP TABLE _pjob ON COMMIT DROP AS
    SELECT e.job_ns AS ns, e.job_name AS name, n.id AS ns_id, min(e.at) AS created_at,
           max(e.at) AS updated_at, NULL::bigint AS id
    FROM _pe e JOIN namespaces n ON n.name = e.job_ns
    WHERE e.kind <> 'dataset'
    GROUP BY e.job_ns, e.job_name, n.id;

    INSERT INTO jobs AS j (namespace_id, name, created_at, updated_at)
    SELECT ns_id, name, created_at, updated_at FROM _pjob ORDER BY ns_id, name
    ON CONFLICT (namespace_id, name) DO UPDATE SET updated_at = excluded.updated_at
    WHERE excluded.updated_at > j.updated_at;

    UPDATE _pjob p SET id = j.id FROM jobs j WHERE j.namespace_id = p.ns_id AND j.name = p.name;
    CREATE UNIQUE INDEX ON _pjob (ns, name);
    IF with_stats THEN ANALYZE _pjob; END IF;

    -- Dataset facets: per (dataset, key) the latest mention wins; _deleted: true is NULL.
    CREATE TEMP TABLE _pdf ON COMMIT DROP AS
    SELECT x.*, mllineage_facet_digest(x.facet) AS digest FROM (
    SELECT w.owner, w.key, w.at, w.hash,
           CASE WHEN m.facets->w.key->'_deleted' = 'true'::jsonb THEN NULL
                ELSE m.facets->w.key END AS facet
    FROM (
        -- the winning mention per (dataset, key), chosen on narrow rows
        SELECT DISTINCT ON (d.id, k.key) d.id AS owner, k.key, m.at, m.hash, m.ord, m.pos
        FROM _pm m
        JOIN _pds d ON d.ns = m.ns AND d.name = m.name
        CROSS JOIN LATERAL jsonb_object_keys(m.facets) AS k(key)
        ORDER BY d.id, k.key, m.at DESC, m.hash DESC, m.ord, m.pos
    ) w
    JOIN _pm m ON m.ord = w.ord AND m.pos = w.pos) x;
    IF with_stats THEN ANALYZE _pdf; END IF;

    -- Versions: named by the version / mllineage_model facets, or a COMPLETE run's output.
    -- The producer's report outranks a reader's sighting; then the latest event wins.
    CREATE TEMP TABLE _pv ON COMMIT DROP AS
    WITH candidates AS (
        SELECT d.id AS dataset_id, m.at, m.hash, m.ord, m.pos, m.facets,
               coalesce(m.facets->'version'->>'datasetVersion',
                        m.facets->'mllineage_model'->>'version',
                        CASE WHEN m.dir = 'out' AND m.etype = 'COMPLETE' THEN m.run_uuid END)
                   AS version,
               CASE WHEN m.kind = 'run' AND m.dir = 'out' THEN m.run_uuid END AS run_uuid
        FROM _pm m JOIN _pds d ON d.ns = m.ns AND d.name = m.name
        WHERE m.kind <> 'job'
    )
    SELECT DISTINCT ON (dataset_id, version) dataset_id, version,
           min(at) OVER (PARTITION BY dataset_id, version) AS created_at,
           run_uuid, facets,
           (SELECT coalesce(jsonb_object_agg(k.key,
                                             encode(mllineage_facet_digest(k.value), 'hex')),
                            '{}'::jsonb)
            FROM jsonb_each(facets) AS k) AS facet_digests,
           at, hash, NULL::bigint AS id
    FROM candidates WHERE version IS NOT NULL
    ORDER BY dataset_id, version, run_uuid IS NOT NULL DESC, at DESC, hash DESC, ord, pos;
    IF with_stats THEN ANALYZE _pv; END IF;

    -- Job facets and run facets: the latest event wins; _deleted: true is NULL.
    CREATE TEMP TABLE _pjf ON COMMIT DROP AS
    SELECT x.*, mllineage_facet_digest(x.facet) AS digest FROM (
    SELECT DISTINCT ON (j.id, f.key) j.id AS owner, f.key, e.at, e.hash,
           CASE WHEN f.value->'_deleted' = 'true'::jsonb THEN NULL ELSE f.value END AS facet
    FROM _pe e
    JOIN _pjob j ON j.ns = e.job_ns AND j.name = e.job_name
    CROSS JOIN LATERAL jsonb_each(coalesce(e.payload->'job'->'facets', '{}'::jsonb)) AS f
    WHERE e.kind <> 'dataset'
    ORDER BY j.id, f.key, e.at DESC, e.hash DESC, e.ord) x;
    IF with_stats THEN ANALYZE _pjf; END IF;

    CREATE TEMP TABLE _prf ON COMMIT DROP AS
    SELECT x.*, mllineage_facet_digest(x.facet) AS digest FROM (
    SELECT DISTINCT ON (e.run_uuid, f.key) e.run_uuid AS owner, f.key, e.at, e.hash,
           CASE WHEN f.value->'_deleted' = 'true'::jsonb THEN NULL ELSE f.value END AS facet
    FROM _pe e
    CROSS JOIN LATERAL jsonb_each(coalesce(e.payload->'run'->'facets', '{}'::jsonb)) AS f
    WHERE e.kind = 'run'
    ORDER BY e.run_uuid, f.key, e.at DESC, e.hash DESC, e.ord) x;
    IF with_stats THEN ANALYZE _prf; END IF;

    -- Facet bodies, once per distinct content (db/facet_bodies.py): every winner of the batch,
    -- in one statement in digest order (concurrent projectors wait on new bodies alike).
    INSERT INTO facet_contents (digest, body)
    SELECT DISTINCT ON (digest) digest, body FROM (
        SELECT digest, facet AS body FROM _pdf WHERE facet IS NOT NULL
        UNION ALL SELECT digest, facet FROM _pjf WHERE facet IS NOT NULL
        UNION ALL SELECT digest, facet FROM _prf WHERE facet IS NOT NULL
        UNION ALL SELECT mllineage_facet_digest(k.value), k.value
                  FROM _pv CROSS JOIN LATERAL jsonb_each(_pv.facets) AS k
    ) b
    ORDER BY digest
    ON CONFLICT (digest) DO NOTHING;

    CREATE TEMP TABLE _pdf_changed ON COMMIT DROP AS
    WITH written AS (
        INSERT INTO dataset_facets AS o (dataset_id, key, event_time, event_hash, facet_digest)
        SELECT owner, key, at, hash, digest FROM _pdf ORDER BY owner, key
        ON CONFLICT (dataset_id, key) DO UPDATE
        SET event_time = excluded.event_time, event_hash = excluded.event_hash,
            facet_digest = excluded.facet_digest
        WHERE (excluded.event_time, excluded.event_hash) > (o.event_time, o.event_hash)
          AND o.facet_digest IS DISTINCT FROM excluded.facet_digest
        RETURNING o.dataset_id AS owner, o.key
    )
    SELECT w.owner, w.key, p.facet FROM written w JOIN _pdf p USING (owner, key);
    IF with_stats THEN ANALYZE _pdf_changed; END IF;

    -- Same content seen in a newer event: only the stamp moves.
    UPDATE dataset_facets o SET event_time = p.at, event_hash = p.hash
    FROM _pdf p
    WHERE o.dataset_id = p.owner AND o.key = p.key
      AND (p.at, p.hash) > (o.event_time, o.event_hash)
      AND NOT EXISTS (SELECT 1 FROM _pdf_changed c WHERE c.owner = p.owner AND c.key = p.key);

    -- Derived from changed facets: column lineage, tags, symlinks (replaced whole), kinds.
    DELETE FROM column_lineage
    WHERE dataset_id IN (SELECT owner FROM _pdf_changed WHERE key = 'columnLineage');
    INSERT INTO column_lineage (dataset_id, field, input_dataset_id, input_field, transformations)
    SELECT DISTINCT ON (c.owner, f.field, d.id, src.v->>'field')
           c.owner, f.field, d.id, src.v->>'field', NULLIF(src.v->'transformations', 'null')
    FROM _pdf_changed c
    CROSS JOIN LATERAL jsonb_each(
        CASE WHEN jsonb_typeof(c.facet->'fields') = 'object'
             THEN c.facet->'fields' ELSE '{}'::jsonb END) AS f(field, spec)
    CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(f.spec->'inputFields') = 'array'
             THEN f.spec->'inputFields' ELSE '[]'::jsonb END) WITH ORDINALITY AS src(v, n)
    JOIN _pds d ON d.ns = src.v->>'namespace' AND d.name = src.v->>'name'
    WHERE c.key = 'columnLineage'
    ORDER BY c.owner, f.field, d.id, src.v->>'field', src.n DESC;

    -- Tags (ingest/dataset_tags.py): recomputed from the current tag-bearing facets of every
    -- dataset one of them changed for (only those: their facet rows by key, their bodies by
    -- digest); rank 3 (the tags facet) > 2 (schema field descriptions) > 1 (Feast facets' tags)
    -- for the same (field, key, value).
    DELETE FROM dataset_tags WHERE dataset_id IN (
        SELECT owner FROM _pdf_changed
        WHERE key IN ('tags', 'schema', 'feast_featureView', 'feast_featureService',
                      'feast_dataSource', 'feast_entity'));
    WITH current AS (
        SELECT f.dataset_id, f.key, b.body AS facet
        FROM (SELECT DISTINCT owner FROM _pdf_changed
              WHERE key IN ('tags', 'schema', 'feast_featureView', 'feast_featureService',
                            'feast_dataSource', 'feast_entity')) r
        JOIN dataset_facets f
          ON f.dataset_id = r.owner
         AND f.key IN ('tags', 'schema', 'feast_featureView', 'feast_featureService',
                       'feast_dataSource', 'feast_entity')
        JOIN facet_contents b ON b.digest = f.facet_digest
    )
    INSERT INTO dataset_tags (dataset_id, field, key, value, source)
    SELECT DISTINCT ON (owner, field, key, value) owner, field, key, value, source
    FROM (
        SELECT f.dataset_id AS owner, coalesce(t.v->>'field', '') AS field, t.v->>'key' AS key,
               t.v->>'value' AS value, t.v->>'source' AS source, 3 AS rank, t.n
        FROM current f
        CROSS JOIN LATERAL jsonb_array_elements(
            CASE WHEN jsonb_typeof(f.facet->'tags') = 'array'
                 THEN f.facet->'tags' ELSE '[]'::jsonb END) WITH ORDINALITY AS t(v, n)
        WHERE f.key = 'tags' AND jsonb_typeof(t.v) = 'object' AND t.v ? 'key' AND t.v ? 'value'
        UNION ALL
        SELECT f.dataset_id, coalesce(fld.v->>'name', ''),
               btrim(split_part(e.entry, '=', 1), E' \t\r\n'),
               btrim(substr(e.entry, position('=' in e.entry) + 1), E' \t\r\n'),
               'FEAST', 2, 0
        FROM current f
        CROSS JOIN LATERAL jsonb_array_elements(
            CASE WHEN jsonb_typeof(f.facet->'fields') = 'array'
                 THEN f.facet->'fields' ELSE '[]'::jsonb END) AS fld(v)
        CROSS JOIN LATERAL regexp_matches(
            CASE WHEN jsonb_typeof(fld.v) = 'object'
                  AND jsonb_typeof(fld.v->'description') = 'string'
                 THEN fld.v->>'description' ELSE '' END, '\[Tags:([^]]*)\]', 'g') AS g(m)
        CROSS JOIN LATERAL regexp_split_to_table(g.m[1], ',') AS e(entry)
        WHERE f.key = 'schema' AND position('=' in e.entry) > 0
          AND btrim(split_part(e.entry, '=', 1), E' \t\r\n') <> ''
        UNION ALL
        SELECT f.dataset_id, '', t.key, t.value, 'FEAST', 1, 0
        FROM current f
        CROSS JOIN LATERAL jsonb_each_text(
            CASE WHEN jsonb_typeof(f.facet->'tags') = 'object'
                 THEN f.facet->'tags' ELSE '{}'::jsonb END) AS t(key, value)
        WHERE f.key IN ('feast_featureView', 'feast_featureService', 'feast_dataSource',
                        'feast_entity')
          AND t.value IS NOT NULL
    ) tag
    ORDER BY owner, field, key, value, rank DESC, n DESC;

    DELETE FROM dataset_symlinks
    WHERE dataset_id IN (SELECT owner FROM _pdf_changed WHERE key = 'symlinks');
    INSERT INTO dataset_symlinks (dataset_id, namespace, name, type)
    SELECT DISTINCT ON (c.owner, s.v->>'namespace', s.v->>'name')
           c.owner, s.v->>'namespace', s.v->>'name', s.v->>'type'
    FROM _pdf_changed c
    CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(c.facet->'identifiers') = 'array'
             THEN c.facet->'identifiers' ELSE '[]'::jsonb END) WITH ORDINALITY AS s(v, n)
    WHERE c.key = 'symlinks'
    ORDER BY c.owner, s.v->>'namespace', s.v->>'name', s.n DESC;

    UPDATE datasets d SET kind = k.kind
    FROM (
        SELECT c.owner,
               CASE WHEN bool_or(f.key = 'mllineage_model')
                         OR bool_or(f.key = 'datasetType'
                                    AND upper(coalesce(b.body->>'datasetType', '')) = 'MODEL')
                    THEN 'model'
                    WHEN bool_or(f.key = 'mllineage_endpoint') THEN 'endpoint'
                    WHEN bool_or(f.key IN ('mllineage_featureGroup', 'feast_featureView',
                                           'feast_featureService'))
                    THEN 'feature_group'
                    WHEN bool_or(f.key = 'feast_entity') THEN 'entity'
                    ELSE 'dataset' END AS kind
        FROM (SELECT DISTINCT owner FROM _pdf_changed
              WHERE key IN ('mllineage_model', 'mllineage_featureGroup', 'mllineage_endpoint',
                            'feast_featureView', 'feast_featureService', 'feast_entity',
                            'datasetType')) c
        LEFT JOIN dataset_facets f
               ON f.dataset_id = c.owner AND f.facet_digest IS NOT NULL
              AND f.key IN ('mllineage_model', 'mllineage_featureGroup', 'mllineage_endpoint',
                            'feast_featureView', 'feast_featureService', 'feast_entity',
                            'datasetType')
        LEFT JOIN facet_contents b ON b.digest = f.facet_digest AND f.key = 'datasetType'
        GROUP BY c.owner
    ) k
    WHERE d.id = k.owner;

    WITH written AS (
        INSERT INTO dataset_versions AS o
            (dataset_id, version, created_at, run_uuid, facet_digests, event_time, event_hash)
        SELECT dataset_id, version, created_at, run_uuid, facet_digests, at, hash FROM _pv
        ORDER BY dataset_id, version
        ON CONFLICT (dataset_id, version) DO UPDATE SET
            created_at = LEAST(excluded.created_at, o.created_at),
            run_uuid = CASE WHEN (excluded.run_uuid IS NOT NULL AND o.run_uuid IS NULL)
                                 OR ((excluded.run_uuid IS NULL) = (o.run_uuid IS NULL)
                                     AND (excluded.event_time, excluded.event_hash)
                                         > (o.event_time, o.event_hash))
                            THEN excluded.run_uuid ELSE o.run_uuid END,
            facet_digests = CASE WHEN (excluded.run_uuid IS NOT NULL AND o.run_uuid IS NULL)
                               OR ((excluded.run_uuid IS NULL) = (o.run_uuid IS NULL)
                                   AND (excluded.event_time, excluded.event_hash)
                                       > (o.event_time, o.event_hash))
                          THEN excluded.facet_digests ELSE o.facet_digests END,
            event_time = CASE WHEN (excluded.run_uuid IS NOT NULL AND o.run_uuid IS NULL)
                                   OR ((excluded.run_uuid IS NULL) = (o.run_uuid IS NULL)
                                       AND (excluded.event_time, excluded.event_hash)
                                           > (o.event_time, o.event_hash))
                              THEN excluded.event_time ELSE o.event_time END,
            event_hash = CASE WHEN (excluded.run_uuid IS NOT NULL AND o.run_uuid IS NULL)
                                   OR ((excluded.run_uuid IS NULL) = (o.run_uuid IS NULL)
                                       AND (excluded.event_time, excluded.event_hash)
                                           > (o.event_time, o.event_hash))
                              THEN excluded.event_hash ELSE o.event_hash END
        RETURNING o.dataset_id, o.version, o.id
    )
    UPDATE _pv p SET id = w.id FROM written w
    WHERE p.dataset_id = w.dataset_id AND p.version = w.version;

    -- Job facets and the job type they carry.
    CREATE TEMP TABLE _pjf_changed ON COMMIT DROP AS
    WITH written AS (
        INSERT INTO job_facets AS o (job_id, key, event_time, event_hash, facet_digest)
        SELECT owner, key, at, hash, digest FROM _pjf ORDER BY owner, key
        ON CONFLICT (job_id, key) DO UPDATE
        SET event_time = excluded.event_time, event_hash = excluded.event_hash,
            facet_digest = excluded.facet_digest
        WHERE (excluded.event_time, excluded.event_hash) > (o.event_time, o.event_hash)
          AND o.facet_digest IS DISTINCT FROM excluded.facet_digest
        RETURNING o.job_id AS owner, o.key
    )
    SELECT w.owner, w.key, p.facet FROM written w JOIN _pjf p USING (owner, key);
    IF with_stats THEN ANALYZE _pjf_changed; END IF;

    UPDATE job_facets o SET event_time = p.at, event_hash = p.hash
    FROM _pjf p
    WHERE o.job_id = p.owner AND o.key = p.key
      AND (p.at, p.hash) > (o.event_time, o.event_hash)
      AND NOT EXISTS (SELECT 1 FROM _pjf_changed c WHERE c.owner = p.owner AND c.key = p.key);

    UPDATE jobs j SET job_type = c.facet->>'jobType'
    FROM _pjf_changed c WHERE c.key = 'jobType' AND j.id = c.owner;

    -- Runs: job of the earliest event, greatest (terminal, time, hash) state, first START.
    CREATE TEMP TABLE _prun ON COMMIT DROP AS
    WITH first_event AS (
        SELECT DISTINCT ON (run_uuid) run_uuid, job_ns, job_name
        FROM _pe WHERE kind = 'run' ORDER BY run_uuid, at, ord
    ), state AS (
        SELECT DISTINCT ON (run_uuid) run_uuid, etype AS state, at AS state_time,
               etype IN ('COMPLETE', 'FAIL', 'ABORT') AS state_terminal, hash AS state_hash
        FROM _pe
        WHERE kind = 'run' AND etype IN ('START', 'RUNNING', 'COMPLETE', 'FAIL', 'ABORT')
        ORDER BY run_uuid, etype IN ('COMPLETE', 'FAIL', 'ABORT') DESC, at DESC, hash DESC
    ), span AS (
        SELECT run_uuid, min(at) AS first_event_time, max(at) AS last_event_time,
               min(at) FILTER (WHERE etype = 'START') AS started_at
        FROM _pe WHERE kind = 'run' GROUP BY run_uuid
    )
    SELECT s.run_uuid AS uuid, j.id AS job_id, st.state, st.state_time,
           coalesce(st.state_terminal, false) AS state_terminal, st.state_hash,
           s.started_at,
           CASE WHEN st.state_terminal THEN st.state_time END AS ended_at,
           s.first_event_time, s.last_event_time,
           (SELECT r.job_id FROM runs r WHERE r.uuid = s.run_uuid) AS previous_job
    FROM span s
    JOIN first_event f USING (run_uuid)
    JOIN _pjob j ON j.ns = f.job_ns AND j.name = f.job_name
    LEFT JOIN state st USING (run_uuid);
    IF with_stats THEN ANALYZE _prun; END IF;

    CREATE TEMP TABLE _pranks ON COMMIT DROP AS
    WITH written AS (
        INSERT INTO runs AS o (uuid, job_id, state, state_time, state_terminal, state_hash,
                               started_at, ended_at, first_event_time, last_event_time,
                               created_at)
        SELECT uuid, job_id, state, state_time, state_terminal, state_hash, started_at,
               ended_at, first_event_time, last_event_time, p_now
        FROM _prun ORDER BY uuid
        ON CONFLICT (uuid) DO UPDATE SET
            job_id = CASE WHEN excluded.first_event_time < o.first_event_time
                          THEN excluded.job_id ELSE o.job_id END,
            state = CASE WHEN excluded.state IS NOT NULL AND (o.state IS NULL
                              OR (excluded.state_terminal, excluded.state_time,
                                  excluded.state_hash)
                                 > (o.state_terminal, o.state_time, o.state_hash))
                         THEN excluded.state ELSE o.state END,
            state_time = CASE WHEN excluded.state IS NOT NULL AND (o.state IS NULL
                              OR (excluded.state_terminal, excluded.state_time,
                                  excluded.state_hash)
                                 > (o.state_terminal, o.state_time, o.state_hash))
                         THEN excluded.state_time ELSE o.state_time END,
            state_terminal = CASE WHEN excluded.state IS NOT NULL AND (o.state IS NULL
                              OR (excluded.state_terminal, excluded.state_time,
                                  excluded.state_hash)
                                 > (o.state_terminal, o.state_time, o.state_hash))
                         THEN excluded.state_terminal ELSE o.state_terminal END,
            state_hash = CASE WHEN excluded.state IS NOT NULL AND (o.state IS NULL
                              OR (excluded.state_terminal, excluded.state_time,
                                  excluded.state_hash)
                                 > (o.state_terminal, o.state_time, o.state_hash))
                         THEN excluded.state_hash ELSE o.state_hash END,
            ended_at = CASE WHEN excluded.state IS NOT NULL AND (o.state IS NULL
                              OR (excluded.state_terminal, excluded.state_time,
                                  excluded.state_hash)
                                 > (o.state_terminal, o.state_time, o.state_hash))
                         THEN excluded.ended_at ELSE o.ended_at END,
            started_at = LEAST(excluded.started_at, o.started_at),
            first_event_time = LEAST(excluded.first_event_time, o.first_event_time),
            last_event_time = GREATEST(excluded.last_event_time, o.last_event_time)
        RETURNING o.uuid, o.job_id, o.state, o.ended_at, o.last_event_time
    )
    SELECT uuid, job_id, coalesce(state = 'COMPLETE', false) AS completed,
           CASE WHEN state = 'COMPLETE' THEN ended_at ELSE last_event_time END AS at
    FROM written;
    IF with_stats THEN ANALYZE _pranks; END IF;

    -- Run facets (the latest event wins) and the parent run they name.
    CREATE TEMP TABLE _prf_changed ON COMMIT DROP AS
    WITH written AS (
        INSERT INTO run_facets AS o (run_uuid, key, event_time, event_hash, facet_digest)
        SELECT owner, key, at, hash, digest FROM _prf ORDER BY owner, key
        ON CONFLICT (run_uuid, key) DO UPDATE
        SET event_time = excluded.event_time, event_hash = excluded.event_hash,
            facet_digest = excluded.facet_digest
        WHERE (excluded.event_time, excluded.event_hash) > (o.event_time, o.event_hash)
          AND o.facet_digest IS DISTINCT FROM excluded.facet_digest
        RETURNING o.run_uuid AS owner, o.key
    )
    SELECT w.owner, w.key, p.facet FROM written w JOIN _prf p USING (owner, key);
    IF with_stats THEN ANALYZE _prf_changed; END IF;

    UPDATE run_facets o SET event_time = p.at, event_hash = p.hash
    FROM _prf p
    WHERE o.run_uuid = p.owner AND o.key = p.key
      AND (p.at, p.hash) > (o.event_time, o.event_hash)
      AND NOT EXISTS (SELECT 1 FROM _prf_changed c WHERE c.owner = p.owner AND c.key = p.key);

    UPDATE runs r SET
        parent_run_uuid = CASE
            WHEN c.facet IS NULL OR c.facet = '{}'::jsonb THEN NULL
            WHEN length(c.facet->'run'->>'runId') = 36
                 AND length(c.facet->'run'->>'runId')
                     - length(replace(c.facet->'run'->>'runId', '-', '')) = 4
            THEN lower(c.facet->'run'->>'runId')
            ELSE c.facet->'run'->>'runId' END,
        parent_job_namespace = c.facet->'job'->>'namespace',
        parent_job_name = c.facet->'job'->>'name'
    FROM _prf_changed c WHERE c.key = 'parent' AND r.uuid = c.owner;

    -- Run I/O per (run, direction, dataset): the version of the latest mention naming one;
    -- the stamp of the latest mention; the facets as RunIOFold.merge folds them in order: those
    -- of the last mention that was the newest so far when folded and carried facets.
    CREATE TEMP TABLE _pio ON COMMIT DROP AS
    WITH mentions AS (
        SELECT m.run_uuid, m.dir, d.id AS dataset_id, m.at, m.hash, m.ord, m.pos, m.io_facets,
               coalesce(m.facets->'version'->>'datasetVersion',
                        m.facets->'mllineage_model'->>'version',
                        CASE WHEN m.dir = 'out' AND m.etype = 'COMPLETE' THEN m.run_uuid END)
                   AS version,
               (to_char(m.at AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISSUS')
                || encode(m.hash, 'hex')) COLLATE "C" AS stamp
        FROM _pm m JOIN _pds d ON d.ns = m.ns AND d.name = m.name
        WHERE m.kind = 'run'
    ), ranked AS (
        SELECT *,
               stamp > coalesce(max(stamp) OVER (
                   PARTITION BY run_uuid, dir, dataset_id ORDER BY ord, pos
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), '') AS newest_so_far
        FROM mentions
    ), latest AS (
        SELECT DISTINCT ON (run_uuid, dir, dataset_id) run_uuid, dir, dataset_id, at, hash
        FROM ranked ORDER BY run_uuid, dir, dataset_id, at DESC, hash DESC
    ), named AS (
        SELECT DISTINCT ON (run_uuid, dir, dataset_id) run_uuid, dir, dataset_id, version
        FROM ranked WHERE version IS NOT NULL
        ORDER BY run_uuid, dir, dataset_id, at DESC, hash DESC, ord, pos
    ), faceted AS (
        SELECT DISTINCT ON (run_uuid, dir, dataset_id) run_uuid, dir, dataset_id, io_facets
        FROM ranked WHERE newest_so_far AND io_facets IS NOT NULL
        ORDER BY run_uuid, dir, dataset_id, ord DESC, pos DESC
    )
    SELECT l.run_uuid, l.dir, l.dataset_id, v.id AS version_id, l.at, l.hash, f.io_facets
    FROM latest l
    LEFT JOIN named n
           ON n.run_uuid = l.run_uuid AND n.dir = l.dir AND n.dataset_id = l.dataset_id
    LEFT JOIN _pv v ON v.dataset_id = l.dataset_id AND v.version = n.version
    LEFT JOIN faceted f
           ON f.run_uuid = l.run_uuid AND f.dir = l.dir AND f.dataset_id = l.dataset_id;
    IF with_stats THEN ANALYZE _pio; END IF;

    INSERT INTO run_io AS o
        (run_uuid, direction, dataset_id, version_id, event_time, event_hash, facets)
    SELECT run_uuid, dir, dataset_id, version_id, at, hash, io_facets FROM _pio
    ORDER BY run_uuid, dir, dataset_id
    ON CONFLICT (run_uuid, direction, dataset_id) DO UPDATE SET
        version_id = CASE WHEN excluded.version_id IS NOT NULL
                               AND (o.version_id IS NULL
                                    OR (excluded.event_time, excluded.event_hash)
                                       > (o.event_time, o.event_hash))
                          THEN excluded.version_id ELSE o.version_id END,
        event_time = CASE WHEN (excluded.event_time, excluded.event_hash)
                               > (o.event_time, o.event_hash)
                          THEN excluded.event_time ELSE o.event_time END,
        event_hash = CASE WHEN (excluded.event_time, excluded.event_hash)
                               > (o.event_time, o.event_hash)
                          THEN excluded.event_hash ELSE o.event_hash END,
        facets = CASE WHEN (excluded.event_time, excluded.event_hash)
                           > (o.event_time, o.event_hash) AND excluded.facets IS NOT NULL
                      THEN excluded.facets ELSE o.facets END
    -- A row the batch's mentions would leave as it is is not rewritten (no dead tuple, no
    -- index update): only a newer stamp or a version for a row without one changes it.
    WHERE (excluded.event_time, excluded.event_hash) > (o.event_time, o.event_hash)
       OR (excluded.version_id IS NOT NULL AND o.version_id IS NULL);

    -- Static (design-time) lineage of JobEvents.
    INSERT INTO job_static_io (job_id, direction, dataset_id)
    SELECT DISTINCT j.id, m.dir, d.id
    FROM _pm m
    JOIN _pe e ON e.ord = m.ord
    JOIN _pjob j ON j.ns = e.job_ns AND j.name = e.job_name
    JOIN _pds d ON d.ns = m.ns AND d.name = m.name
    WHERE m.kind = 'job'
    ORDER BY 1, 2, 3
    ON CONFLICT DO NOTHING;

    -- Current runs: the batch's best run per job advances the job's current run when it
    -- outranks it (completed beats not completed, then later beats earlier) or is it.
    CREATE TEMP TABLE _pbest ON COMMIT DROP AS
    SELECT DISTINCT ON (job_id) job_id, uuid, completed, at
    FROM _pranks ORDER BY job_id, completed DESC, at DESC, uuid COLLATE "C" DESC;
    IF with_stats THEN ANALYZE _pbest; END IF;

    UPDATE jobs j SET current_run_uuid = b.uuid, current_run_complete = b.completed,
                      current_run_time = b.at
    FROM _pbest b
    WHERE j.id = b.job_id
      AND (j.current_run_uuid IS NULL OR j.current_run_uuid = b.uuid
           OR (b.completed, b.at) > (j.current_run_complete, j.current_run_time));

    -- Jobs that lost a run to another job pick their current run again from scratch.
    UPDATE jobs j SET current_run_uuid = best.uuid, current_run_complete = best.completed,
                      current_run_time = best.at
    FROM (
        SELECT moved.job_id, pick.uuid, pick.completed, pick.at
        FROM (SELECT DISTINCT previous_job AS job_id FROM _prun p JOIN _pranks r USING (uuid)
              WHERE p.previous_job IS NOT NULL AND p.previous_job <> r.job_id) moved
        LEFT JOIN LATERAL (
            SELECT r.uuid, r.state = 'COMPLETE' AS completed,
                   CASE WHEN r.state = 'COMPLETE' THEN r.ended_at ELSE r.last_event_time END
                       AS at
            FROM runs r WHERE r.job_id = moved.job_id
            ORDER BY r.state = 'COMPLETE' DESC,
                     CASE WHEN r.state = 'COMPLETE' THEN r.ended_at ELSE r.last_event_time END
                         DESC,
                     r.uuid DESC
            LIMIT 1
        ) pick ON true
    ) best
    WHERE j.id = best.job_id;

    -- Edges: rebuilt for jobs whose current run is in the batch (from that run's I/O), jobs
    -- without a current run that gained static lineage, and jobs that lost a run.
    CREATE TEMP TABLE _prebuild ON COMMIT DROP AS
    SELECT j.id AS job_id, j.current_run_uuid AS run_uuid
    FROM jobs j
    WHERE j.id IN (
        SELECT job_id FROM _pbest
        UNION SELECT j2.id FROM _pm m JOIN _pe e ON e.ord = m.ord
              JOIN _pjob j2 ON j2.ns = e.job_ns AND j2.name = e.job_name WHERE m.kind = 'job'
        UNION SELECT previous_job FROM _prun p JOIN _pranks r USING (uuid)
              WHERE p.previous_job IS NOT NULL AND p.previous_job <> r.job_id
    )
    AND (j.current_run_uuid IS NULL
         OR j.current_run_uuid IN (SELECT uuid FROM _prun)
         OR j.id IN (SELECT previous_job FROM _prun p JOIN _pranks r USING (uuid)
                     WHERE p.previous_job IS NOT NULL AND p.previous_job <> r.job_id));
    IF with_stats THEN ANALYZE _prebuild; END IF;

    -- The edges these jobs should have; only the stale ones are deleted and only the missing
    -- ones inserted (a job's next run mostly reads and writes what the last one did).
    CREATE TEMP TABLE _pedges ON COMMIT DROP AS
    SELECT b.job_id, io.direction, io.dataset_id
    FROM _prebuild b JOIN run_io io ON io.run_uuid = b.run_uuid
    UNION
    SELECT b.job_id, s.direction, s.dataset_id
    FROM _prebuild b JOIN job_static_io s ON s.job_id = b.job_id
    WHERE b.run_uuid IS NULL;
    IF with_stats THEN ANALYZE _pedges; END IF;

    DELETE FROM job_edges e
    WHERE e.job_id IN (SELECT job_id FROM _prebuild)
      AND NOT EXISTS (SELECT 1 FROM _pedges n WHERE n.job_id = e.job_id
                      AND n.direction = e.direction AND n.dataset_id = e.dataset_id);
    INSERT INTO job_edges (job_id, direction, dataset_id)
    SELECT job_id, direction, dataset_id FROM _pedges
    ORDER BY 1, 2, 3
    ON CONFLICT DO NOTHING;

    RETURN projected;
END
$fn$;
"""

#: Undoes ``PROJECT_FUNCTION`` (for the migration's downgrade).
DROP_FUNCTION = "DROP FUNCTION IF EXISTS mllineage_project(bytea[], timestamptz)"
