"""queue at 100,000 cases: one index per /queue filter in its order (partial on open cases),
an index for reminders, and the queue_counts table with the triggers that keep it.

The trigger text is a frozen copy of storage.queue_counts as of this revision.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 14:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status <> 'closed'"

CREATE = {
    'sqlite': [
    "CREATE TRIGGER kua_queue_counts_insert AFTER INSERT ON cases BEGIN INSERT INTO queue_counts (bucket, n) SELECT k, SUM(d) FROM (SELECT 'open' AS k, 1 AS d WHERE NEW.status <> 'closed' UNION ALL SELECT 'urgent' AS k, 1 AS d WHERE NEW.status <> 'closed' AND NEW.urgent UNION ALL SELECT 'unassigned' AS k, 1 AS d WHERE NEW.status <> 'closed' AND NEW.assignee_id IS NULL UNION ALL SELECT 'mine:' || NEW.assignee_id AS k, 1 AS d WHERE NEW.status <> 'closed' AND NEW.assignee_id IS NOT NULL UNION ALL SELECT 'status:' || NEW.status AS k, 1 AS d WHERE NEW.status IS NOT NULL UNION ALL SELECT 'region:' || NEW.region AS k, 1 AS d WHERE NEW.status <> 'closed' AND NEW.region IS NOT NULL UNION ALL SELECT 'kind:' || NEW.facility_kind AS k, 1 AS d WHERE NEW.status <> 'closed' AND NEW.facility_kind IS NOT NULL) AS changes WHERE true GROUP BY k HAVING SUM(d) <> 0 ORDER BY k ON CONFLICT (bucket) DO UPDATE SET n = queue_counts.n + excluded.n; END",
    "CREATE TRIGGER kua_queue_counts_delete AFTER DELETE ON cases BEGIN INSERT INTO queue_counts (bucket, n) SELECT k, SUM(d) FROM (SELECT 'open' AS k, -1 AS d WHERE OLD.status <> 'closed' UNION ALL SELECT 'urgent' AS k, -1 AS d WHERE OLD.status <> 'closed' AND OLD.urgent UNION ALL SELECT 'unassigned' AS k, -1 AS d WHERE OLD.status <> 'closed' AND OLD.assignee_id IS NULL UNION ALL SELECT 'mine:' || OLD.assignee_id AS k, -1 AS d WHERE OLD.status <> 'closed' AND OLD.assignee_id IS NOT NULL UNION ALL SELECT 'status:' || OLD.status AS k, -1 AS d WHERE OLD.status IS NOT NULL UNION ALL SELECT 'region:' || OLD.region AS k, -1 AS d WHERE OLD.status <> 'closed' AND OLD.region IS NOT NULL UNION ALL SELECT 'kind:' || OLD.facility_kind AS k, -1 AS d WHERE OLD.status <> 'closed' AND OLD.facility_kind IS NOT NULL) AS changes WHERE true GROUP BY k HAVING SUM(d) <> 0 ORDER BY k ON CONFLICT (bucket) DO UPDATE SET n = queue_counts.n + excluded.n; END",
    "CREATE TRIGGER kua_queue_counts_update AFTER UPDATE OF status, urgent, assignee_id, region, facility_kind ON cases WHEN OLD.status IS NOT NEW.status OR OLD.urgent IS NOT NEW.urgent OR OLD.assignee_id IS NOT NEW.assignee_id OR OLD.region IS NOT NEW.region OR OLD.facility_kind IS NOT NEW.facility_kind BEGIN INSERT INTO queue_counts (bucket, n) SELECT k, SUM(d) FROM (SELECT 'open' AS k, 1 AS d WHERE NEW.status <> 'closed' UNION ALL SELECT 'urgent' AS k, 1 AS d WHERE NEW.status <> 'closed' AND NEW.urgent UNION ALL SELECT 'unassigned' AS k, 1 AS d WHERE NEW.status <> 'closed' AND NEW.assignee_id IS NULL UNION ALL SELECT 'mine:' || NEW.assignee_id AS k, 1 AS d WHERE NEW.status <> 'closed' AND NEW.assignee_id IS NOT NULL UNION ALL SELECT 'status:' || NEW.status AS k, 1 AS d WHERE NEW.status IS NOT NULL UNION ALL SELECT 'region:' || NEW.region AS k, 1 AS d WHERE NEW.status <> 'closed' AND NEW.region IS NOT NULL UNION ALL SELECT 'kind:' || NEW.facility_kind AS k, 1 AS d WHERE NEW.status <> 'closed' AND NEW.facility_kind IS NOT NULL UNION ALL SELECT 'open' AS k, -1 AS d WHERE OLD.status <> 'closed' UNION ALL SELECT 'urgent' AS k, -1 AS d WHERE OLD.status <> 'closed' AND OLD.urgent UNION ALL SELECT 'unassigned' AS k, -1 AS d WHERE OLD.status <> 'closed' AND OLD.assignee_id IS NULL UNION ALL SELECT 'mine:' || OLD.assignee_id AS k, -1 AS d WHERE OLD.status <> 'closed' AND OLD.assignee_id IS NOT NULL UNION ALL SELECT 'status:' || OLD.status AS k, -1 AS d WHERE OLD.status IS NOT NULL UNION ALL SELECT 'region:' || OLD.region AS k, -1 AS d WHERE OLD.status <> 'closed' AND OLD.region IS NOT NULL UNION ALL SELECT 'kind:' || OLD.facility_kind AS k, -1 AS d WHERE OLD.status <> 'closed' AND OLD.facility_kind IS NOT NULL) AS changes WHERE true GROUP BY k HAVING SUM(d) <> 0 ORDER BY k ON CONFLICT (bucket) DO UPDATE SET n = queue_counts.n + excluded.n; END",
],
    'postgresql': [
    "CREATE FUNCTION kua_queue_counts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP = 'INSERT' THEN INSERT INTO queue_counts (bucket, n) SELECT k, SUM(d) FROM (SELECT 'open' AS k, 1 AS d WHERE NEW.status <> 'closed' UNION ALL SELECT 'urgent' AS k, 1 AS d WHERE NEW.status <> 'closed' AND NEW.urgent UNION ALL SELECT 'unassigned' AS k, 1 AS d WHERE NEW.status <> 'closed' AND NEW.assignee_id IS NULL UNION ALL SELECT 'mine:' || NEW.assignee_id AS k, 1 AS d WHERE NEW.status <> 'closed' AND NEW.assignee_id IS NOT NULL UNION ALL SELECT 'status:' || NEW.status AS k, 1 AS d WHERE NEW.status IS NOT NULL UNION ALL SELECT 'region:' || NEW.region AS k, 1 AS d WHERE NEW.status <> 'closed' AND NEW.region IS NOT NULL UNION ALL SELECT 'kind:' || NEW.facility_kind AS k, 1 AS d WHERE NEW.status <> 'closed' AND NEW.facility_kind IS NOT NULL) AS changes WHERE true GROUP BY k HAVING SUM(d) <> 0 ORDER BY k ON CONFLICT (bucket) DO UPDATE SET n = queue_counts.n + excluded.n; ELSIF TG_OP = 'DELETE' THEN INSERT INTO queue_counts (bucket, n) SELECT k, SUM(d) FROM (SELECT 'open' AS k, -1 AS d WHERE OLD.status <> 'closed' UNION ALL SELECT 'urgent' AS k, -1 AS d WHERE OLD.status <> 'closed' AND OLD.urgent UNION ALL SELECT 'unassigned' AS k, -1 AS d WHERE OLD.status <> 'closed' AND OLD.assignee_id IS NULL UNION ALL SELECT 'mine:' || OLD.assignee_id AS k, -1 AS d WHERE OLD.status <> 'closed' AND OLD.assignee_id IS NOT NULL UNION ALL SELECT 'status:' || OLD.status AS k, -1 AS d WHERE OLD.status IS NOT NULL UNION ALL SELECT 'region:' || OLD.region AS k, -1 AS d WHERE OLD.status <> 'closed' AND OLD.region IS NOT NULL UNION ALL SELECT 'kind:' || OLD.facility_kind AS k, -1 AS d WHERE OLD.status <> 'closed' AND OLD.facility_kind IS NOT NULL) AS changes WHERE true GROUP BY k HAVING SUM(d) <> 0 ORDER BY k ON CONFLICT (bucket) DO UPDATE SET n = queue_counts.n + excluded.n; ELSE INSERT INTO queue_counts (bucket, n) SELECT k, SUM(d) FROM (SELECT 'open' AS k, 1 AS d WHERE NEW.status <> 'closed' UNION ALL SELECT 'urgent' AS k, 1 AS d WHERE NEW.status <> 'closed' AND NEW.urgent UNION ALL SELECT 'unassigned' AS k, 1 AS d WHERE NEW.status <> 'closed' AND NEW.assignee_id IS NULL UNION ALL SELECT 'mine:' || NEW.assignee_id AS k, 1 AS d WHERE NEW.status <> 'closed' AND NEW.assignee_id IS NOT NULL UNION ALL SELECT 'status:' || NEW.status AS k, 1 AS d WHERE NEW.status IS NOT NULL UNION ALL SELECT 'region:' || NEW.region AS k, 1 AS d WHERE NEW.status <> 'closed' AND NEW.region IS NOT NULL UNION ALL SELECT 'kind:' || NEW.facility_kind AS k, 1 AS d WHERE NEW.status <> 'closed' AND NEW.facility_kind IS NOT NULL UNION ALL SELECT 'open' AS k, -1 AS d WHERE OLD.status <> 'closed' UNION ALL SELECT 'urgent' AS k, -1 AS d WHERE OLD.status <> 'closed' AND OLD.urgent UNION ALL SELECT 'unassigned' AS k, -1 AS d WHERE OLD.status <> 'closed' AND OLD.assignee_id IS NULL UNION ALL SELECT 'mine:' || OLD.assignee_id AS k, -1 AS d WHERE OLD.status <> 'closed' AND OLD.assignee_id IS NOT NULL UNION ALL SELECT 'status:' || OLD.status AS k, -1 AS d WHERE OLD.status IS NOT NULL UNION ALL SELECT 'region:' || OLD.region AS k, -1 AS d WHERE OLD.status <> 'closed' AND OLD.region IS NOT NULL UNION ALL SELECT 'kind:' || OLD.facility_kind AS k, -1 AS d WHERE OLD.status <> 'closed' AND OLD.facility_kind IS NOT NULL) AS changes WHERE true GROUP BY k HAVING SUM(d) <> 0 ORDER BY k ON CONFLICT (bucket) DO UPDATE SET n = queue_counts.n + excluded.n; END IF; RETURN NULL; END $$",
    'CREATE TRIGGER kua_queue_counts AFTER INSERT OR DELETE ON cases FOR EACH ROW EXECUTE FUNCTION kua_queue_counts()',
    'CREATE TRIGGER kua_queue_counts_update AFTER UPDATE OF status, urgent, assignee_id, region, facility_kind ON cases FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.urgent IS DISTINCT FROM NEW.urgent OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id OR OLD.region IS DISTINCT FROM NEW.region OR OLD.facility_kind IS DISTINCT FROM NEW.facility_kind) EXECUTE FUNCTION kua_queue_counts()',
],
}
DROP = {
    'sqlite': [
    'DROP TRIGGER IF EXISTS kua_queue_counts_insert',
    'DROP TRIGGER IF EXISTS kua_queue_counts_delete',
    'DROP TRIGGER IF EXISTS kua_queue_counts_update',
],
    'postgresql': [
    'DROP TRIGGER IF EXISTS kua_queue_counts_update ON cases',
    'DROP TRIGGER IF EXISTS kua_queue_counts ON cases',
    'DROP FUNCTION IF EXISTS kua_queue_counts()',
],
}
FILL = "INSERT INTO queue_counts (bucket, n) SELECT 'open', COUNT(*) FROM cases WHERE status <> 'closed' UNION ALL SELECT 'urgent', COUNT(*) FROM cases WHERE status <> 'closed' AND urgent UNION ALL SELECT 'unassigned', COUNT(*) FROM cases WHERE status <> 'closed' AND assignee_id IS NULL UNION ALL SELECT 'mine:' || assignee_id, COUNT(*) FROM cases WHERE status <> 'closed' AND assignee_id IS NOT NULL GROUP BY assignee_id UNION ALL SELECT 'status:' || status, COUNT(*) FROM cases GROUP BY status UNION ALL SELECT 'region:' || region, COUNT(*) FROM cases WHERE status <> 'closed' AND region IS NOT NULL GROUP BY region UNION ALL SELECT 'kind:' || facility_kind, COUNT(*) FROM cases WHERE status <> 'closed' AND facility_kind IS NOT NULL GROUP BY facility_kind"


def _open(extra: str | None = None) -> dict[str, object]:
    where = sa.text(OPEN + (f" AND {extra}" if extra else ""))
    return {'sqlite_where': where, 'postgresql_where': where}


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_assignee')
        batch_op.drop_index('ix_cases_region_queue')
        batch_op.drop_index('ix_cases_kind_queue')
    op.create_index('ix_cases_open_queue', 'cases', ['urgent', 'created_at', 'id'], **_open())
    op.create_index('ix_cases_unassigned_queue', 'cases', ['urgent', 'created_at', 'id'],
                    **_open('assignee_id IS NULL'))
    op.create_index('ix_cases_mine_queue', 'cases', ['assignee_id', 'urgent', 'created_at', 'id'],
                    **_open())
    op.create_index('ix_cases_region_queue', 'cases', ['region', 'urgent', 'created_at', 'id'],
                    **_open())
    op.create_index('ix_cases_kind_queue', 'cases',
                    ['facility_kind', 'urgent', 'created_at', 'id'], **_open())
    op.create_index('ix_cases_reminders', 'cases', ['status', 'reminded_at', 'created_at'])
    op.create_table('queue_counts',
    sa.Column('bucket', sa.String(length=64), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', name=op.f('pk_queue_counts'))
    )
    dialect = op.get_bind().dialect.name
    op.execute(FILL)
    for statement in CREATE[dialect]:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in DROP[dialect]:
        op.execute(statement)
    op.drop_table('queue_counts')
    op.drop_index('ix_cases_reminders', table_name='cases')
    op.drop_index('ix_cases_kind_queue', table_name='cases')
    op.drop_index('ix_cases_region_queue', table_name='cases')
    op.drop_index('ix_cases_mine_queue', table_name='cases')
    op.drop_index('ix_cases_unassigned_queue', table_name='cases')
    op.drop_index('ix_cases_open_queue', table_name='cases')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_assignee', ['assignee_id', 'status'], unique=False)
        batch_op.create_index('ix_cases_region_queue',
                              ['region', 'status', 'urgent', 'created_at'], unique=False)
        batch_op.create_index('ix_cases_kind_queue',
                              ['facility_kind', 'status', 'urgent', 'created_at'], unique=False)
