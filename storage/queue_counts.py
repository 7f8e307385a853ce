"""How many cases each /queue filter holds, kept by the database itself (no count over 100,000 rows).

Table `queue_counts` has one row per key (column `bucket`); triggers on `cases` add and subtract in the same
transaction as the insert, update or delete that changes a case's place in the queue, whoever
writes it (the repositories, a bulk insert, a migration). Keys:

    open                  every open case           urgent        open and urgent
    unassigned            open, nobody has it       mine:<id>     open, that coordinator's
    status:<status>       that status (closed too)  region:<r>    open, in that region
    kind:<place kind>     open, that kind of place

The triggers add to the keys in one INSERT … ORDER BY key, so two transactions lock counter
rows in the same order (PostgreSQL: no deadlock between them).

Migration 0010 created the triggers from a frozen copy of this text; `metadata.create_all`
(tests) gets them from the listener in storage.models. A migration that recreates the `cases`
table on SQLite (batch mode "recreate") drops its triggers and must create them again.
"""

from __future__ import annotations

OPEN = "status <> 'closed'"  # also the predicate of the partial queue indexes (storage.models)


def _keys(row: str, sign: int) -> list[str]:
    open_ = f"{row}.status <> 'closed'"
    pairs = [
        ("'open'", open_),
        ("'urgent'", f"{open_} AND {row}.urgent"),
        ("'unassigned'", f"{open_} AND {row}.assignee_id IS NULL"),
        (f"'mine:' || {row}.assignee_id", f"{open_} AND {row}.assignee_id IS NOT NULL"),
        (f"'status:' || {row}.status", f"{row}.status IS NOT NULL"),
        (f"'region:' || {row}.region", f"{open_} AND {row}.region IS NOT NULL"),
        (f"'kind:' || {row}.facility_kind", f"{open_} AND {row}.facility_kind IS NOT NULL"),
    ]
    return [f"SELECT {key} AS k, {sign} AS d WHERE {cond}" for key, cond in pairs]


def _apply(new: bool, old: bool) -> str:
    parts = (_keys("NEW", 1) if new else []) + (_keys("OLD", -1) if old else [])
    # Fixed DDL text built from constants above: no value from outside ever reaches it.
    return (
        "INSERT INTO queue_counts (bucket, n) SELECT k, SUM(d) FROM ("  # noqa: S608 - constants only
        + " UNION ALL ".join(parts)
        + ") AS changes WHERE true GROUP BY k HAVING SUM(d) <> 0 ORDER BY k"
        " ON CONFLICT (bucket) DO UPDATE SET n = queue_counts.n + excluded.n"
    )


COLUMNS = ("status", "urgent", "assignee_id", "region", "facility_kind")

# The counts of the cases already stored (run once, when the table is created).
FILL = (
    "INSERT INTO queue_counts (bucket, n) "  # noqa: S608 - constants only, no outside value
    f"SELECT 'open', COUNT(*) FROM cases WHERE {OPEN} "
    f"UNION ALL SELECT 'urgent', COUNT(*) FROM cases WHERE {OPEN} AND urgent "
    f"UNION ALL SELECT 'unassigned', COUNT(*) FROM cases WHERE {OPEN} AND assignee_id IS NULL "
    "UNION ALL SELECT 'mine:' || assignee_id, COUNT(*) FROM cases "
    f"WHERE {OPEN} AND assignee_id IS NOT NULL GROUP BY assignee_id "
    "UNION ALL SELECT 'status:' || status, COUNT(*) FROM cases GROUP BY status "
    "UNION ALL SELECT 'region:' || region, COUNT(*) FROM cases "
    f"WHERE {OPEN} AND region IS NOT NULL GROUP BY region "
    "UNION ALL SELECT 'kind:' || facility_kind, COUNT(*) FROM cases "
    f"WHERE {OPEN} AND facility_kind IS NOT NULL GROUP BY facility_kind"
)


def create_statements(dialect: str) -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in COLUMNS)
    of = ", ".join(COLUMNS)
    if dialect == "postgresql":
        return [
            "CREATE FUNCTION kua_queue_counts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP = 'INSERT' THEN {_apply(True, False)}; "
            f"ELSIF TG_OP = 'DELETE' THEN {_apply(False, True)}; "
            f"ELSE {_apply(True, True)}; END IF; RETURN NULL; END $$",
            "CREATE TRIGGER kua_queue_counts AFTER INSERT OR DELETE ON cases "
            "FOR EACH ROW EXECUTE FUNCTION kua_queue_counts()",
            f"CREATE TRIGGER kua_queue_counts_update AFTER UPDATE OF {of} ON cases "
            f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION kua_queue_counts()",
        ]
    changed = changed.replace("IS DISTINCT FROM", "IS NOT")
    return [
        f"CREATE TRIGGER kua_queue_counts_insert AFTER INSERT ON cases BEGIN {_apply(True, False)}; END",
        f"CREATE TRIGGER kua_queue_counts_delete AFTER DELETE ON cases BEGIN {_apply(False, True)}; END",
        f"CREATE TRIGGER kua_queue_counts_update AFTER UPDATE OF {of} ON cases WHEN {changed} "
        f"BEGIN {_apply(True, True)}; END",
    ]


def rebuild_statements() -> list[str]:
    """Count again from the cases (after a bulk import made with the triggers dropped: on
    PostgreSQL, one transaction changing the same counter row 100,000 times is quadratic)."""
    return ["DELETE FROM queue_counts", FILL]


def drop_statements(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            "DROP TRIGGER IF EXISTS kua_queue_counts_update ON cases",
            "DROP TRIGGER IF EXISTS kua_queue_counts ON cases",
            "DROP FUNCTION IF EXISTS kua_queue_counts()",
        ]
    return [f"DROP TRIGGER IF EXISTS kua_queue_counts_{op}" for op in ("insert", "delete", "update")]
