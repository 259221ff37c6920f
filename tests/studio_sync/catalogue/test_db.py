"""The adapter over SQLite and PostgreSQL: URLs, placeholders, transactions, the schema and its version."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio_sync.catalogue import (
    SCHEMA_VERSION,
    TABLES,
    CatalogueNotFoundError,
    CatalogueQueryError,
    CatalogueSchemaError,
    CatalogueUrlError,
    ensure_schema,
    mask_url,
    open_catalogue,
    parse_catalogue_url,
    require_schema,
)
from studio_sync.catalogue.schema import INDEXES, create_statements


@pytest.mark.parametrize("url, backend, path, dsn", [
    ("sqlite:////srv/studio/catalogue.sqlite", "sqlite", Path("/srv/studio/catalogue.sqlite"), None),
    ("sqlite:///catalogue.sqlite", "sqlite", Path("catalogue.sqlite"), None),
    ("sqlite:///:memory:", "sqlite", None, None),
    ("postgresql://onset@db.studio:5433/catalogue", "postgresql", None, "postgresql://onset@db.studio:5433/catalogue"),
    ("postgres://onset:pw@127.0.0.1/cat", "postgresql", None, "postgres://onset:pw@127.0.0.1/cat"),
])
def test_urls_name_their_backend_and_target(url, backend, path, dsn):
    parsed = parse_catalogue_url(url)
    assert (parsed.backend, parsed.path, parsed.dsn) == (backend, path, dsn)


def test_the_default_catalogue_url_of_the_studio_config_parses_to_its_absolute_path(tmp_path):
    from config.studio import StudioConfig

    config = StudioConfig.model_validate({"embedded": {"data_dir": str(tmp_path / "data")}})
    assert parse_catalogue_url(config.catalogue_url()).path == tmp_path / "catalogue.sqlite"


def test_a_home_relative_sqlite_path_expands(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert parse_catalogue_url("sqlite:///~/cat.sqlite").path == tmp_path / "cat.sqlite"


@pytest.mark.parametrize("url, words", [
    ("sqlite:///", "names no file"),
    ("sqlite://cat.sqlite", "three slashes"),
    ("postgresql://", "names no server"),
    ("mysql://user:secret@db/cat", "neither sqlite"),
])
def test_a_bad_url_says_what_a_good_one_looks_like(url, words):
    with pytest.raises(CatalogueUrlError, match=words) as refused:
        parse_catalogue_url(url)
    assert "secret" not in str(refused.value)


def test_passwords_are_masked_in_what_is_shown():
    assert mask_url("postgresql://onset:s3cret@db:5432/cat") == "postgresql://onset:***@db:5432/cat"
    assert mask_url("postgresql://onset@db/cat") == "postgresql://onset@db/cat"
    assert mask_url("sqlite:////srv/cat.sqlite") == "sqlite:////srv/cat.sqlite"


def test_a_catalogue_that_is_only_read_must_exist(tmp_path):
    with pytest.raises(CatalogueNotFoundError, match="onset studio ingest"):
        open_catalogue(f"sqlite:///{tmp_path / 'nothing.sqlite'}", create=False)
    assert not (tmp_path / "nothing.sqlite").exists()
    with open_catalogue(f"sqlite:///{tmp_path / 'sub' / 'made.sqlite'}") as catalogue:
        assert catalogue.backend == "sqlite"
    assert (tmp_path / "sub" / "made.sqlite").is_file()


def test_same_sql_same_answers_on_both_backends(catalogue_url):
    with open_catalogue(catalogue_url) as catalogue:
        catalogue.execute("CREATE TABLE t (name TEXT, n BIGINT, x DOUBLE PRECISION)")
        catalogue.executemany("INSERT INTO t (name, n, x) VALUES (?, ?, ?)",
                              [("a%b", 1796141195246512878, 0.1), ("c?d", -1, 1e-300), (None, None, None)])
        rows = catalogue.rows("SELECT name, n, x, '100%' AS pct FROM t WHERE n = ? OR name LIKE ? ORDER BY n",
                              (1796141195246512878, "c%"))
        assert rows == [{"name": "c?d", "n": -1, "x": 1e-300, "pct": "100%"},
                        {"name": "a%b", "n": 1796141195246512878, "x": 0.1, "pct": "100%"}]
        assert catalogue.scalar("SELECT COUNT(*) FROM t WHERE x IS NULL") == 1
        assert catalogue.scalar("SELECT name FROM t WHERE n = ?", (42,)) is None


def test_a_transaction_is_all_or_nothing(catalogue_url):
    with open_catalogue(catalogue_url) as catalogue:
        catalogue.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
        with catalogue.transaction():
            catalogue.execute("INSERT INTO t (k, v) VALUES (?, ?)", (1, "kept"))
        with pytest.raises(CatalogueQueryError, match="INSERT INTO t"):
            with catalogue.transaction():
                catalogue.execute("INSERT INTO t (k, v) VALUES (?, ?)", (2, "rolled back"))
                catalogue.execute("INSERT INTO t (k, v) VALUES (?, ?)", (1, "a duplicate key"))
        with pytest.raises(RuntimeError):
            with catalogue.transaction():
                catalogue.execute("DELETE FROM t")
                raise RuntimeError("the caller gave up")
        assert catalogue.rows("SELECT k, v FROM t ORDER BY k") == [{"k": 1, "v": "kept"}]
        with catalogue.transaction():
            with pytest.raises(CatalogueQueryError, match="already open"):
                with catalogue.transaction():
                    pass


def test_the_schema_is_created_once_with_its_indexes_and_version(catalogue_url):
    with open_catalogue(catalogue_url) as catalogue:
        with pytest.raises(CatalogueSchemaError, match="ingest takes into it first"):
            require_schema(catalogue)
        assert ensure_schema(catalogue) == SCHEMA_VERSION
        assert ensure_schema(catalogue) == SCHEMA_VERSION
        assert set(TABLES) <= set(catalogue.table_names())
        assert catalogue.rows("SELECT version FROM schema_version") == [{"version": SCHEMA_VERSION}]
        assert require_schema(catalogue) == SCHEMA_VERSION
        if catalogue.backend == "sqlite":
            names = {r["name"] for r in catalogue.rows("SELECT name FROM sqlite_master WHERE type = 'index'")}
        else:
            names = {r["indexname"] for r in catalogue.rows("SELECT indexname FROM pg_indexes")}
        assert {i.name for i in INDEXES} <= names
        for column in ("shot_size", "movement", "focal_length_mm", "focal_35mm_mm", "subject_distance_m"):
            assert f"frames_{column}" in names


def test_a_catalogue_of_a_newer_schema_is_refused_before_anything_is_written(catalogue_url):
    with open_catalogue(catalogue_url) as catalogue:
        ensure_schema(catalogue)
        catalogue.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                          (SCHEMA_VERSION + 1, "2030-01-01T00:00:00Z"))
        for check in (ensure_schema, require_schema):
            with pytest.raises(CatalogueSchemaError, match=f"schema version {SCHEMA_VERSION + 1}, newer"):
                check(catalogue)


def test_a_database_with_foreign_tables_of_our_names_is_refused(catalogue_url):
    with open_catalogue(catalogue_url) as catalogue:
        catalogue.execute("CREATE TABLE takes (id INTEGER)")
        with pytest.raises(CatalogueSchemaError, match="not an Onset catalogue"):
            ensure_schema(catalogue)
        assert catalogue.table_names() == ["takes"]


def test_every_column_has_a_meaning_and_the_ddl_uses_only_shared_types():
    for table in TABLES.values():
        for column in table.columns:
            assert column.doc and column.type in ("TEXT", "INTEGER", "BIGINT", "DOUBLE PRECISION"), column
        assert set(table.primary_key) <= {c.name for c in table.columns}
    for statement in create_statements():
        assert "IF NOT EXISTS" in statement


def test_a_postgresql_server_that_does_not_answer_is_one_sentence(postgres):
    with pytest.raises(CatalogueQueryError, match=r"cannot connect to the catalogue postgresql://onset:\*\*\*@"):
        open_catalogue(f"postgresql://onset:secret@127.0.0.1:{postgres.port}/no_such_database")


def test_the_documentation_lists_every_table_and_column_with_its_unit():
    text = (Path(__file__).resolve().parents[3] / "docs" / "studio-sync" / "catalogue.md").read_text()
    for table in TABLES.values():
        assert f"### `{table.name}`" in text, table.name
        for column in table.columns:
            assert f"| `{column.name}` | {column.type} | {column.unit} |" in text, (table.name, column.name)
