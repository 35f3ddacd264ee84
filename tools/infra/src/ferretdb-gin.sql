-- Installed by @chat/infra (pg-local.ts) into the `ferretdb` database of the local PostgreSQL,
-- at every start (idempotent), so an existing cluster gets the current version.
--
-- Why: FerretDB v1.24's PostgreSQL backend pushes a top-level scalar equality down as
-- `_jsonb->'field' @> value`, but it declares each Mongo index as a btree on `(_jsonb->'field')`,
-- and no btree serves `@>`: without help every pushed-down query, `{_id: x}` included, is a
-- sequential scan. For each btree FerretDB creates, this adds a GIN index (jsonb_path_ops, which
-- serves `@>`) on its first key, when that is a `_jsonb -> 'field'`: equality on the first key is
-- what the same index serves on MongoDB, and the product keys every read that way (its
-- mongo-portability.ts, rule 2). A twin for every key would cost every insert and update an index
-- entry that no query of ours can use: measured, it was most of the database's work per write. The services only declare Mongo indexes;
-- this dev-database workaround stays here, out of the product code.
--
-- Everything lives in the schema chat_infra: FerretDB ignores schemas without its metadata table.

CREATE SCHEMA IF NOT EXISTS chat_infra;

-- The GIN twins of one btree index; returns how many it created. Our GIN indexes carry a comment
-- starting with 'chat_infra gin' so that chat_infra.gin_prune() can tell them from others.
CREATE OR REPLACE FUNCTION chat_infra.gin_for_index(idx oid) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  tbl oid;
  am name;
  ncols integer;
  expr text;
  schema_name name;
  table_name name;
  gin_name text;
  created integer := 0;
BEGIN
  SELECT i.indrelid, a.amname, i.indnkeyatts INTO tbl, am, ncols
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
  WHERE i.indexrelid = idx;
  -- Only btree: our own CREATE INDEX ... USING gin fires this trigger again, and must stop here.
  IF NOT FOUND OR am <> 'btree' THEN
    RETURN 0;
  END IF;
  SELECT n.nspname, c.relname INTO schema_name, table_name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = tbl;
  FOR k IN 1..LEAST(ncols, 1) LOOP
    expr := pg_get_indexdef(idx, k, true);
    -- Top-level fields only, as FerretDB writes them: `_jsonb -> 'userId'::text`. A dotted field
    -- is pushed down as `_jsonb #> '{a,b}'`, which an index on `_jsonb -> 'a' -> 'b'` cannot serve.
    CONTINUE WHEN expr !~ '^\(?_jsonb -> ''([^'']|'''')*''::text\)?$';
    -- Deterministic, at most 62 characters, unique per table and expression (index names are
    -- per schema, and FerretDB's own names end in _idx).
    gin_name := left(table_name, 45) || '_' || left(md5(table_name || ' ' || expr), 12) || '_gin';
    CONTINUE WHEN to_regclass(format('%I.%I', schema_name, gin_name)) IS NOT NULL;
    EXECUTE format('CREATE INDEX %I ON %I.%I USING gin ((%s) jsonb_path_ops)', gin_name, schema_name, table_name, expr);
    EXECUTE format('COMMENT ON INDEX %I.%I IS %L', schema_name, gin_name, 'chat_infra gin for ' || expr);
    created := created + 1;
  END LOOP;
  RETURN created;
END
$$;

-- Drops our GIN indexes whose expression no btree index of their table has as its first key any more
-- (FerretDB dropped the Mongo index), so a removed index costs no writes. Returns how many.
CREATE OR REPLACE FUNCTION chat_infra.gin_prune() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  dropped integer := 0;
BEGIN
  FOR r IN
    SELECT g.indexrelid, g.indrelid, n.nspname, c.relname, pg_get_indexdef(g.indexrelid, 1, true) AS expr
    FROM pg_index g
    JOIN pg_class c ON c.oid = g.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE obj_description(g.indexrelid, 'pg_class') LIKE 'chat_infra gin%'
  LOOP
    CONTINUE WHEN EXISTS (
      SELECT 1
      FROM pg_index b
      JOIN pg_class bc ON bc.oid = b.indexrelid
      JOIN pg_am a ON a.oid = bc.relam AND a.amname = 'btree'
      CROSS JOIN LATERAL generate_series(1, LEAST(b.indnkeyatts, 1)) AS k
      WHERE b.indrelid = r.indrelid AND pg_get_indexdef(b.indexrelid, k, true) = r.expr
    );
    -- Our DROP INDEX fires on_drop_index again, whose nested prune may already have dropped an
    -- index this loop (whose rows were read before) still lists: a failure here would fail
    -- FerretDB's dropIndexes.
    CONTINUE WHEN to_regclass(format('%I.%I', r.nspname, r.relname)) IS NULL;
    EXECUTE format('DROP INDEX IF EXISTS %I.%I', r.nspname, r.relname);
    dropped := dropped + 1;
  END LOOP;
  RETURN dropped;
END
$$;

-- GIN twins for every btree index that exists already (indexes made before this file was
-- installed, or while the trigger was disabled). Returns how many it created.
CREATE OR REPLACE FUNCTION chat_infra.gin_backfill() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  created integer := 0;
BEGIN
  FOR r IN
    SELECT i.indexrelid FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'chat_infra') AND n.nspname NOT LIKE 'pg_toast%'
  LOOP
    created := created + chat_infra.gin_for_index(r.indexrelid);
  END LOOP;
  RETURN created;
END
$$;

CREATE OR REPLACE FUNCTION chat_infra.on_create_index() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE object_type = 'index' LOOP
    PERFORM chat_infra.gin_for_index(r.objid);
  END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION chat_infra.on_drop_index() RETURNS event_trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- Our own DROP INDEX in gin_prune fires this again; the nested prune finds at most what the
  -- outer one would drop next, and the outer one skips what is gone.
  IF EXISTS (SELECT 1 FROM pg_event_trigger_dropped_objects() WHERE object_type = 'index') THEN
    PERFORM chat_infra.gin_prune();
  END IF;
END
$$;

DROP EVENT TRIGGER IF EXISTS chat_infra_gin_on_create_index;
CREATE EVENT TRIGGER chat_infra_gin_on_create_index ON ddl_command_end
  WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION chat_infra.on_create_index();

DROP EVENT TRIGGER IF EXISTS chat_infra_gin_on_drop_index;
CREATE EVENT TRIGGER chat_infra_gin_on_drop_index ON sql_drop
  WHEN TAG IN ('DROP INDEX') EXECUTE FUNCTION chat_infra.on_drop_index();

SELECT chat_infra.gin_backfill();

-- Twins left by an earlier version of this file (one per key, not only the first) go now.
SELECT chat_infra.gin_prune();
