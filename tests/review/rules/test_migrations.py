from __future__ import annotations

from app.review.findings import Severity
from tests.review.rules.builders import added, modified, of, review

ALEMBIC = "app/store/migrations/versions/3f2a9c1b7d4e_add_status.py"
DJANGO = "shop/migrations/0007_order_status.py"


def alembic(upgrade: str, downgrade: str = "    op.drop_column('users', 'status')") -> str:
    return added(
        ALEMBIC,
        f'''
"""add status"""
import sqlalchemy as sa
from alembic import op

revision = "3f2a9c1b7d4e"
down_revision = "ae1027a6acf4"


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
''',
    )


# ---- rollback


def test_alembic_empty_downgrade() -> None:
    found = of(
        review(alembic("    op.add_column('users', sa.Column('s', sa.Text()))", "    pass")),
        "migration-missing-rollback",
    )
    assert len(found) == 1
    assert found[0].severity is Severity.MAJOR
    assert found[0].where.lines == "13"  # the `def downgrade` line


def test_alembic_missing_downgrade() -> None:
    diff = added(ALEMBIC, "from alembic import op\n\ndef upgrade():\n    op.drop_table('x')\n")
    assert of(review(diff), "migration-missing-rollback")


def test_alembic_real_or_explicitly_irreversible_downgrade_is_fine() -> None:
    add = "    op.add_column('users', sa.Column('s', sa.Text()))"
    assert of(review(alembic(add)), "migration-missing-rollback") == []
    irreversible = "    raise NotImplementedError('data loss')"
    assert of(review(alembic(add, irreversible)), "migration-missing-rollback") == []


def test_unparseable_python_migration_does_not_crash() -> None:
    diff = added(ALEMBIC, "def upgrade(:\n    op.drop_table('x'\n")
    assert of(review(diff), "migration-missing-rollback") == []


def test_django_runpython_and_runsql_need_a_reverse() -> None:
    body = """
from django.db import migrations


def forwards(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [("shop", "0006")]
    operations = [
        migrations.RunPython(forwards),
        migrations.RunSQL("UPDATE shop_order SET x = 1 WHERE id = 3"),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RunSQL("SELECT 1", reverse_sql="SELECT 1"),
    ]
"""
    found = of(review(added(DJANGO, body)), "migration-missing-rollback")
    assert sorted(f.where.lines or "" for f in found) == ["11", "12"]


def test_knex_and_rails_down() -> None:
    knex = added(
        "migrations/20240101120000_status.js",
        "exports.up = function (knex) {\n  return knex.schema.createTable('t', (t) => {});\n};\n",
    )
    assert of(review(knex), "migration-missing-rollback")
    knex_ok = added(
        "migrations/20240101120000_status.js",
        "exports.up = (knex) => knex.schema.createTable('t', (t) => {});\n"
        "exports.down = function (knex) {\n  return knex.schema.dropTable('t');\n};\n",
    )
    assert of(review(knex_ok), "migration-missing-rollback") == []
    rails = added(
        "db/migrate/20240101120000_add_status.rb",
        "class AddStatus < ActiveRecord::Migration[7.1]\n  def up\n"
        "    add_column :orders, :status, :string\n  end\nend\n",
    )
    assert of(review(rails), "migration-missing-rollback")
    rails_change = rails.replace("def up", "def change")
    assert of(review(rails_change), "migration-missing-rollback") == []


def test_prisma_has_no_down_migrations() -> None:
    diff = added("prisma/migrations/20240101_init/migration.sql", 'CREATE TABLE "t" ("id" INT);')
    assert of(review(diff), "migration-missing-rollback") == []


def test_golang_migrate_needs_the_down_file() -> None:
    up = added("migrations/000012_status.up.sql", "ALTER TABLE t ADD COLUMN s text;")
    down = added("migrations/000012_status.down.sql", "ALTER TABLE t DROP COLUMN s;")
    assert of(review(up), "migration-missing-rollback")
    assert of(review(up, down), "migration-missing-rollback") == []


# ---- NOT NULL, index, foreign key


def test_not_null_without_default() -> None:
    col = "    op.add_column('users', sa.Column('status', sa.Text(), nullable=False))"
    found = of(review(alembic(col)), "migration-not-null-without-default")
    assert [f.where.lines for f in found] == ["10"]
    with_default = col.replace("nullable=False", "nullable=False, server_default='active'")
    assert of(review(alembic(with_default)), "migration-not-null-without-default") == []
    sql = added("db/migrations/002.sql", "ALTER TABLE users ADD COLUMN status text NOT NULL;")
    assert of(review(sql), "migration-not-null-without-default")
    sql_ok = added(
        "db/migrations/002.sql", "ALTER TABLE users ADD COLUMN status text NOT NULL DEFAULT 'a';"
    )
    assert of(review(sql_ok), "migration-not-null-without-default") == []


def test_not_null_on_a_table_created_in_the_same_change_is_fine() -> None:
    sql = "CREATE TABLE users (id int);\nALTER TABLE users ADD COLUMN status text NOT NULL;"
    assert (
        of(review(added("db/migrations/002.sql", sql)), "migration-not-null-without-default") == []
    )


def test_index_without_concurrently_is_major_on_postgres_and_a_question_otherwise() -> None:
    pg = added(
        "db/migrations/003.sql",
        "CREATE INDEX idx_users_email ON users USING gin (email gin_trgm_ops);",
    )
    found = of(review(pg), "migration-index-not-concurrent")
    assert [(f.severity, f.type) for f in found] == [(Severity.MAJOR, "evidence")]
    plain = added("db/migrations/003.sql", "CREATE INDEX idx_users_email ON users (email);")
    found = of(review(plain), "migration-index-not-concurrent")
    assert [(f.severity, f.type) for f in found] == [(Severity.INFO, "question")]
    ok = added("db/migrations/003.sql", "CREATE INDEX CONCURRENTLY idx ON users (email);")
    assert of(review(ok), "migration-index-not-concurrent") == []


def test_alembic_index_on_new_table_is_fine_and_concurrently_flag_counts() -> None:
    new_table = (
        "    op.create_table('things', sa.Column('id', sa.Integer()))\n"
        "    op.create_index('ix_things_id', 'things', ['id'])"
    )
    assert of(review(alembic(new_table)), "migration-index-not-concurrent") == []
    concurrent = "    op.create_index('ix', 'users', ['e'], postgresql_concurrently=True)"
    assert of(review(alembic(concurrent)), "migration-index-not-concurrent") == []
    plain = "    op.create_index('ix', 'users', ['e'])"
    assert of(review(alembic(plain)), "migration-index-not-concurrent")


def test_foreign_key_without_not_valid() -> None:
    sql = "ALTER TABLE orders ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id);"
    found = of(review(added("db/migrations/004.sql", sql)), "migration-fk-not-valid")
    assert len(found) == 1
    ok = sql.replace(";", " NOT VALID;")
    assert of(review(added("db/migrations/004.sql", ok)), "migration-fk-not-valid") == []


# ---- backfill


def test_unbatched_backfill() -> None:
    whole = added("db/migrations/005.sql", "UPDATE users SET status = 'active';")
    found = of(review(whole), "migration-unbatched-backfill")
    assert [(f.severity, f.type) for f in found] == [(Severity.MAJOR, "evidence")]
    filtered = added("db/migrations/005.sql", "UPDATE users SET status = 'a' WHERE status IS NULL;")
    found = of(review(filtered), "migration-unbatched-backfill")
    assert [(f.severity, f.type) for f in found] == [(Severity.INFO, "question")]
    one_row = added("db/migrations/005.sql", "UPDATE settings SET v = 'x' WHERE id = 1;")
    assert of(review(one_row), "migration-unbatched-backfill") == []


def test_alembic_execute_update_inside_a_loop_is_batched() -> None:
    loop = (
        "    for lo in range(0, 10**6, 1000):\n"
        "        op.execute(f'UPDATE users SET s = 1 WHERE id >= {lo}')\n"
        "    op.execute('UPDATE users SET s = 1')"
    )
    found = of(review(alembic(loop)), "migration-unbatched-backfill")
    assert [f.where.lines for f in found] == ["12"]


# ---- expand-contract, edits


def test_drop_column_with_code_in_the_same_change() -> None:
    drop = alembic(
        "    op.drop_column('users', 'legacy')",
        "    op.add_column('users', sa.Column('legacy', sa.Text()))",
    )
    code = modified("app/users.py", " def f():\n-    return u.legacy\n+    return u.name\n")
    found = of(review(drop, code), "migration-expand-contract")
    assert len(found) == 1
    assert "app/users.py" in found[0].evidence
    assert of(review(drop), "migration-expand-contract") == []
    tests_only = modified("tests/test_users.py", "-x = 1\n+x = 2\n")
    assert of(review(drop, tests_only), "migration-expand-contract") == []


def test_rename_and_type_change_in_sql() -> None:
    sql = added(
        "db/migrations/006.sql",
        "ALTER TABLE users RENAME COLUMN name TO full_name;\n"
        "ALTER TABLE users ALTER COLUMN age TYPE bigint;",
    )
    code = modified("app/users.py", "-name = u.name\n+name = u.full_name\n")
    findings = review(sql, code)
    assert [f.where.lines for f in of(findings, "migration-rename")] == ["1"]
    assert "app/users.py" in of(findings, "migration-rename")[0].evidence
    assert [f.where.lines for f in of(findings, "migration-column-type-change")] == ["2"]
    assert of(findings, "migration-expand-contract") == []  # a drop is its job, not these


def test_editing_an_existing_migration() -> None:
    edit = modified(
        DJANGO,
        "     operations = [\n-        migrations.AddField('o', 'a', models.IntegerField()),\n"
        "+        migrations.AddField('o', 'a', models.IntegerField(null=True)),\n",
        10,
    )
    found = of(review(edit), "applied-migration-edited")
    assert [(f.where.lines, f.where.side) for f in found] == [("11", "RIGHT")]
    assert of(review(alembic("    pass")), "applied-migration-edited") == []


# ---- model and migration in step


def test_django_model_field_without_migration() -> None:
    model = modified(
        "shop/models.py",
        " class Order(models.Model):\n"
        "+    status = models.CharField(max_length=20, default='new')\n",
    )
    found = of(review(model), "model-without-migration")
    assert [(f.severity, f.where.lines) for f in found] == [(Severity.MINOR, "2")]
    mig = added(
        DJANGO,
        "from django.db import migrations\n\nclass Migration(migrations.Migration):\n"
        "    operations = []\n",
    )
    assert of(review(model, mig), "model-without-migration") == []
    method = modified(
        "shop/models.py", " class Order(models.Model):\n+    def total(self):\n+        return 1\n"
    )
    assert of(review(method), "model-without-migration") == []


def test_migration_without_model_is_a_question() -> None:
    add = alembic("    op.add_column('users', sa.Column('nick', sa.Text()))")
    found = of(review(add), "migration-without-model")
    assert [(f.severity, f.type) for f in found] == [(Severity.INFO, "question")]
    model = modified("app/store/models.py", "+    nick: Mapped[str] = mapped_column(Text)\n")
    assert of(review(add, model), "migration-without-model") == []
    index_only = alembic("    op.create_index('ix', 'users', ['e'], postgresql_concurrently=True)")
    assert of(review(index_only), "migration-without-model") == []
