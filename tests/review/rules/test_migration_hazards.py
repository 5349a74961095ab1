"""The squawk / strong_migrations / django-migration-linter hazards, one dialect at a time."""

from __future__ import annotations

from app.review.diff import parse_diff
from app.review.file_context import FileContext, FileText
from app.review.findings import Finding, Severity
from app.review.rules import RuleContext, run_rules
from tests.review.rules.builders import added, modified, of, review

SQL = "db/migrations/0042_change.sql"
ALEMBIC = "alembic/versions/3f2a9c1b7d4e_change.py"
DJANGO = "shop/migrations/0008_change.py"
RAILS = "db/migrate/20240101120000_change.rb"
KNEX = "migrations/20240101120000_change.js"


def sql(body: str, path: str = SQL) -> list[Finding]:
    return review(added(path, body))


def alembic(upgrade: str) -> list[Finding]:
    body = (
        "import sqlalchemy as sa\nfrom alembic import op\n\n\ndef upgrade():\n"
        f"{upgrade}\n\n\ndef downgrade():\n    op.drop_table('undo')\n"
    )
    return review(added(ALEMBIC, body))


def django(*operations: str, extra: str = "") -> str:
    ops = "".join(f"        {op},\n" for op in operations)
    return added(
        DJANGO,
        "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n"
        f'    dependencies = [("shop", "0007")]\n    operations = [\n{ops}    ]\n',
    )


def rails(body: str) -> list[Finding]:
    lines = "".join(f"    {ln}\n" for ln in body.split("\n"))
    return review(
        added(
            RAILS, f"class Change < ActiveRecord::Migration[7.1]\n  def change\n{lines}  end\nend"
        )
    )


def knex(body: str) -> list[Finding]:
    return review(
        added(
            KNEX,
            f"exports.up = function (knex) {{\n{body}\n}};\n"
            "exports.down = function (knex) {\n  return knex.schema.dropTable('undo');\n};\n",
        )
    )


_DRIFT = ("migration-without-model", "model-without-migration")


def rules(findings: list[Finding]) -> list[tuple[str, str | None]]:
    """(rule, line) of the migration hazards found (model/migration drift is another test's)."""
    return sorted(
        (f.rule, f.where.lines)
        for f in findings
        if f.category == "migrations" and f.rule not in _DRIFT
    )


# ---- plain SQL (golang-migrate, Flyway, Prisma, TypeORM all end here)


def test_sql_set_not_null_and_its_safe_form() -> None:
    found = sql("ALTER TABLE users ALTER COLUMN email SET NOT NULL;")
    assert rules(found) == [("migration-set-not-null", "1")]
    validated = (
        "ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;\n"
        "ALTER TABLE users ALTER COLUMN email SET NOT NULL;"
    )
    assert rules(sql(validated)) == []
    new_table = "CREATE TABLE users (id int);\nALTER TABLE users ALTER COLUMN id SET NOT NULL;"
    assert rules(sql(new_table)) == []


def test_sql_drop_index_needs_concurrently_on_postgres_only() -> None:
    pg = sql("DROP INDEX idx_users_email;\nCREATE TABLE t (id BIGSERIAL);")
    found = of(pg, "migration-index-not-concurrent")
    assert [(f.severity, f.type, f.title[:13]) for f in found] == [
        (Severity.MAJOR, "evidence", "Index dropped")
    ]
    assert (
        of(
            sql("DROP INDEX CONCURRENTLY IF EXISTS idx_users_email;"),
            "migration-index-not-concurrent",
        )
        == []
    )
    assert of(sql("DROP INDEX idx_users_email ON users;"), "migration-index-not-concurrent") == []
    plain = of(sql("DROP INDEX idx_users_email;"), "migration-index-not-concurrent")
    assert [f.type for f in plain] == ["question"]


def test_sql_type_change_on_its_own() -> None:
    found = of(
        sql("ALTER TABLE users ALTER COLUMN age TYPE bigint;"), "migration-column-type-change"
    )
    assert [(f.severity, f.type) for f in found] == [(Severity.MAJOR, "evidence")]
    widen = sql('ALTER TABLE "User" ALTER COLUMN "bio" SET DATA TYPE TEXT;')
    found = of(widen, "migration-column-type-change")
    assert [(f.severity, f.type) for f in found] == [(Severity.INFO, "question")]
    using = sql("ALTER TABLE t ALTER COLUMN n TYPE text USING n::text;")
    assert [f.type for f in of(using, "migration-column-type-change")] == ["evidence"]


def test_sql_update_inside_a_cte_is_a_backfill() -> None:
    cte = (
        "WITH latest AS (SELECT user_id, max(at) AS at FROM logins GROUP BY user_id)\n"
        "UPDATE users SET last_login = latest.at FROM latest WHERE users.id = latest.user_id;"
    )
    found = of(sql(cte), "migration-unbatched-backfill")
    assert [f.where.lines for f in found] == ["1"]
    whole = sql("WITH x AS (SELECT 1) UPDATE users SET flag = true;")
    assert [f.type for f in of(whole, "migration-unbatched-backfill")] == ["evidence"]
    batch = (
        "WITH batch AS (SELECT id FROM users WHERE flag IS NULL LIMIT 1000)\n"
        "UPDATE users SET flag = false WHERE id IN (SELECT id FROM batch);"
    )
    assert of(sql(batch), "migration-unbatched-backfill") == []
    select_only = "WITH x AS (SELECT 1) SELECT * FROM x;"
    assert of(sql(select_only), "migration-unbatched-backfill") == []


def test_sql_renames_volatile_defaults_and_constraints() -> None:
    body = (
        "ALTER TABLE users RENAME TO accounts;\n"
        "ALTER TABLE orders RENAME COLUMN total TO amount;\n"
        "ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();\n"
        "ALTER TABLE orders ADD COLUMN seen_at timestamptz NOT NULL DEFAULT now();\n"
        "ALTER TABLE orders ADD CONSTRAINT positive CHECK (amount > 0);\n"
        "ALTER TABLE orders ADD CONSTRAINT one_ref UNIQUE (ref);\n"
        "ALTER TABLE orders ADD CONSTRAINT checked CHECK (amount < 10) NOT VALID;\n"
        "ALTER TABLE orders ADD CONSTRAINT uniq UNIQUE USING INDEX orders_ref_idx;\n"
        "ALTER INDEX orders_ref_idx RENAME TO orders_ref_key;"
    )
    assert rules(sql(body)) == [
        ("migration-constraint-lock", "5"),
        ("migration-constraint-lock", "6"),
        ("migration-rename", "1"),
        ("migration-rename", "2"),
        ("migration-volatile-default", "3"),
    ]


def test_prisma_and_typeorm_migrations_are_read_as_sql() -> None:
    prisma = (
        '-- AlterTable\nALTER TABLE "Post" ALTER COLUMN "title" SET NOT NULL;\n\n'
        '-- DropIndex\nDROP INDEX "Post_slug_key";'
    )
    found = sql(prisma, "prisma/migrations/20240101_change/migration.sql")
    assert [r for r, _ in rules(found)] == [
        "migration-index-not-concurrent",
        "migration-set-not-null",
    ]
    typeorm = added(
        "src/migrations/1700000000000-Change.ts",
        "export class Change1700000000000 implements MigrationInterface {\n"
        "  public async up(queryRunner: QueryRunner): Promise<void> {\n"
        '    await queryRunner.query(`ALTER TABLE "user" ALTER COLUMN "name" SET NOT NULL`);\n'
        "  }\n"
        "  public async down(queryRunner: QueryRunner): Promise<void> {\n"
        '    await queryRunner.query(`ALTER TABLE "user" ALTER COLUMN "name" DROP NOT NULL`);\n'
        "  }\n}\n",
    )
    assert rules(review(typeorm)) == [("migration-set-not-null", "3")]


def test_schema_dumps_are_not_migrations() -> None:
    dump = modified(
        "db/structure.sql",
        " CREATE TABLE users (\n-    name text\n+    name text NOT NULL\n );\n",
    )
    assert rules(review(dump)) == []
    schema_rb = modified("db/schema.rb", '-  t.string "name"\n+  t.string "name", null: false\n')
    assert rules(review(schema_rb)) == []


# ---- Alembic


def test_alembic_alter_column_nullable_false() -> None:
    found = alembic("    op.alter_column('users', 'email', nullable=False)")
    assert rules(found) == [("migration-set-not-null", "6")]
    unchanged = "    op.alter_column('users', 'email', type_=sa.Text(), existing_nullable=False,"
    unchanged += " nullable=False, existing_type=sa.String(50))"
    assert rules(alembic(unchanged)) == [("migration-column-type-change", "6")]
    assert of(alembic(unchanged), "migration-column-type-change")[0].type == "question"
    batch = (
        "    with op.batch_alter_table('users') as batch_op:\n"
        "        batch_op.alter_column('email', existing_type=sa.String(), nullable=False)"
    )
    assert rules(alembic(batch)) == [("migration-set-not-null", "7")]


def test_alembic_type_change_rewrites_unless_it_widens() -> None:
    widen = "op.alter_column('t', 'c', existing_type=sa.String(50), type_=sa.String(200))"
    assert [f.type for f in alembic("    " + widen)] == ["question"]
    rewrite = "op.alter_column('t', 'n', existing_type=sa.Integer(), type_=sa.BigInteger())"
    assert [f.type for f in of(alembic("    " + rewrite), "migration-column-type-change")] == [
        "evidence"
    ]


def test_alembic_index_drop_rename_volatile_and_constraints() -> None:
    body = (
        "    op.drop_index('ix_users_email', table_name='users')\n"
        "    op.drop_index('ix_ok', table_name='users', postgresql_concurrently=True)\n"
        "    op.rename_table('users', 'accounts')\n"
        "    op.add_column('orders', sa.Column('token', sa.Uuid(),"
        " server_default=sa.text('gen_random_uuid()')))\n"
        "    op.add_column('orders', sa.Column('at', sa.DateTime(), nullable=False,"
        " server_default=sa.func.now()))\n"
        "    op.create_check_constraint('positive', 'orders', 'amount > 0')\n"
        "    op.create_unique_constraint('uq_ref', 'orders', ['ref'])"
    )
    assert rules(alembic(body)) == [
        ("migration-concurrently-in-transaction", "7"),  # no autocommit_block
        ("migration-constraint-lock", "11"),
        ("migration-constraint-lock", "12"),
        ("migration-index-not-concurrent", "6"),
        ("migration-rename", "8"),
        ("migration-volatile-default", "9"),
    ]


# ---- Django


def test_django_blank_char_field_has_an_implied_default() -> None:
    blank = "migrations.AddField('order', 'note', models.CharField(blank=True, max_length=200))"
    assert rules(review(django(blank))) == []
    blank_int = "migrations.AddField('order', 'n', models.IntegerField(blank=True))"
    assert rules(review(django(blank_int))) == [("migration-not-null-without-default", "7")]
    one_off = (
        "migrations.AddField(model_name='order', name='n', "
        "field=models.IntegerField(default=0), preserve_default=False)"
    )
    auto = "migrations.AddField('order', 'at', models.DateTimeField(auto_now_add=True))"
    assert rules(review(django(one_off, auto))) == []


def test_django_alter_field_is_judged_against_the_old_model() -> None:
    alter = "migrations.AlterField('order', 'email', models.EmailField(max_length=254))"
    assert rules(review(django(alter))) == []  # the old field is not in view: say nothing
    model = modified(
        "shop/models.py",
        " class Order(models.Model):\n"
        "-    email = models.EmailField(max_length=254, null=True)\n"
        "+    email = models.EmailField(max_length=254)\n",
    )
    assert rules(review(django(alter), model)) == [("migration-set-not-null", "7")]
    shrink = "migrations.AlterField('order', 'code', models.CharField(max_length=10))"
    model_code = modified(
        "shop/models.py",
        " class Order(models.Model):\n"
        "-    code = models.CharField(\n-        max_length=40,\n-    )\n"
        "+    code = models.CharField(max_length=10)\n",
    )
    assert rules(review(django(shrink), model_code)) == [("migration-column-type-change", "7")]
    grow = shrink.replace("10", "80")
    assert rules(review(django(grow), model_code.replace("=10", "=80"))) == []


def test_django_alter_field_reads_the_whole_model_file_when_gathered() -> None:
    alter = "migrations.AlterField('order', 'ref', models.IntegerField())"
    base = "class Order(models.Model):\n    ref = models.CharField(max_length=20)\n    n = 1\n"
    head = base.replace("models.CharField(max_length=20)", "models.IntegerField()")
    model = modified(
        "shop/models.py",
        " class Order(models.Model):\n-    ref = models.CharField(max_length=20)\n"
        "+    ref = models.IntegerField()\n",
    )
    files = FileContext.of([FileText("shop/models.py", head, base)])
    found = run_rules(parse_diff(django(alter) + model), RuleContext(), files)
    assert rules(found) == [("migration-column-type-change", "7")]


def test_django_index_rename_and_constraints() -> None:
    found = review(
        django(
            "migrations.RemoveIndex(model_name='order', name='order_ref_idx')",
            "migrations.RemoveIndexConcurrently(model_name='order', name='order_x_idx')",
            "migrations.RenameField('order', 'total', 'amount')",
            "migrations.AddConstraint('order', models.UniqueConstraint(fields=['ref'], name='u'))",
            "migrations.DeleteModel(name='Legacy')",
        )
    )
    assert rules(found) == [
        ("migration-concurrently-in-transaction", "8"),  # the migration is atomic
        ("migration-constraint-lock", "10"),
        ("migration-index-not-concurrent", "7"),
        ("migration-rename", "9"),
    ]


# ---- Rails


def test_rails_change_column_null_and_its_safe_form() -> None:
    assert rules(rails("change_column_null :users, :email, false")) == [
        ("migration-set-not-null", "3")
    ]
    assert rules(rails("change_column_null :users, :email, true")) == []
    safe = (
        "validate_check_constraint :users, name: 'users_email_null'\n"
        "change_column_null :users, :email, false"
    )
    assert rules(rails(safe)) == []


def test_rails_index_removal_type_change_and_rename() -> None:
    found = rails(
        "remove_index :users, :email\n"
        "remove_index :users, :name, algorithm: :concurrently\n"
        "rename_column :users, :name, :full_name\n"
        "add_reference :orders, :user\n"
        "add_reference :orders, :shop, index: false"
    )
    assert rules(found) == [
        ("migration-concurrently-in-transaction", "4"),  # no disable_ddl_transaction!
        ("migration-index-not-concurrent", "3"),
        ("migration-index-not-concurrent", "6"),
        ("migration-rename", "5"),
    ]
    retype = rails("change_column :users, :age, :bigint")
    assert ("migration-column-type-change", "3") in rules(retype)


def test_rails_implied_defaults_and_multi_line_options() -> None:
    multi = "add_column :users, :role, :string,\n  null: false"
    assert rules(rails(multi)) == [("migration-not-null-without-default", "3")]
    with_default = "add_column :users, :role, :string,\n  null: false, default: 'member'"
    assert rules(rails(with_default)) == []
    volatile = 'add_column :users, :token, :uuid, default: -> { "gen_random_uuid()" }'
    assert rules(rails(volatile)) == [("migration-volatile-default", "3")]
    stable = 'add_column :users, :seen_at, :datetime, default: -> { "now()" }'
    assert rules(rails(stable)) == []


def test_rails_change_table_block() -> None:
    found = rails(
        "change_table :users do |t|\n"
        "  t.remove_index :email\n"
        "  t.rename :name, :full_name\n"
        "  t.string :role, null: false\n"
        "  t.string :nick\n"
        "end\n"
        "add_column :users, :x, :string"
    )
    assert rules(found) == [
        ("migration-index-not-concurrent", "4"),
        ("migration-not-null-without-default", "6"),
        ("migration-rename", "5"),
    ]


# ---- Knex


def test_knex_alter_drop_index_and_rename_table() -> None:
    found = knex(
        "  await knex.schema.alterTable('users', (t) => {\n"
        "    t.string('email').notNullable().alter();\n"
        "    t.dropIndex(['name']);\n"
        "  });\n"
        "  return knex.schema.renameTable('users', 'accounts');"
    )
    assert rules(found) == [
        ("migration-column-type-change", "3"),
        ("migration-index-not-concurrent", "4"),
        ("migration-rename", "6"),
        ("migration-set-not-null", "3"),
    ]
    assert {f.type for f in of(found, "migration-column-type-change")} == {"question"}


# ---- real-commit lessons


def test_python2_migration_is_still_read() -> None:
    body = (
        "    try:\n"
        "        op.add_column('queries', sa.Column('is_draft', sa.Boolean, default=True))\n"
        "        op.execute(\"UPDATE queries SET is_draft = (name = 'New Query')\")\n"
        "    except ProgrammingError as e:\n"
        '        print "*** Skipping: the column exists"\n'
    )
    assert rules(alembic(body)) == [("migration-unbatched-backfill", "8")]
    no_downgrade = added(ALEMBIC, "def upgrade():\n    print 'x'\n    op.drop_table('t')\n")
    assert rules(review(no_downgrade)) == []  # a repaired file proves nothing missing


def test_sql_held_in_a_variable_and_a_where_that_keeps_every_row() -> None:
    body = (
        "    conn = op.get_bind()\n"
        '    update_query = """\n'
        "    update users set details = details || '{}'::jsonb\n"
        "    where 1=1\n"
        '    """\n'
        "    conn.execute(update_query)"
    )
    found = of(alembic(body), "migration-unbatched-backfill")
    assert [(f.type, f.where.lines) for f in found] == [("evidence", "11")]


def test_whitespace_only_edit_of_an_applied_migration_is_fine() -> None:
    edit = modified(
        ALEMBIC, "-    op.drop_column('users', 'x')  \n+    op.drop_column('users', 'x')\n"
    )
    assert of(review(edit), "applied-migration-edited") == []


def test_edit_judged_on_the_whole_file_when_gathered() -> None:
    base = (
        "from django.apps.registry import Apps\nfrom django.db import migrations\n\n\n"
        "def fill(apps: Apps, schema_editor):\n    '''Fill it.'''\n"
        "    apps.get_model('api', 'Check')\n"
    )
    typed = base.replace("from django.apps.registry import Apps\n", "").replace(
        "apps: Apps", "apps: 'StateApps'"
    )
    hunk = modified(
        DJANGO,
        "-from django.apps.registry import Apps\n from django.db import migrations\n \n \n"
        "-def fill(apps: Apps, schema_editor):\n+def fill(apps: 'StateApps', schema_editor):\n",
    )
    files = FileContext.of([FileText(DJANGO, typed, base)])
    found = run_rules(parse_diff(hunk), RuleContext(), files)
    assert of(found, "applied-migration-edited") == []
    changed = typed.replace("'Check'", "'Flip'")
    files = FileContext.of([FileText(DJANGO, changed, base)])
    assert of(run_rules(parse_diff(hunk), RuleContext(), files), "applied-migration-edited")
    assert of(review(hunk), "applied-migration-edited")  # without the files: an edit is an edit


def test_a_down_script_is_a_rollback_not_a_change() -> None:
    down = added("sql/migrations/2026-06-tokens/down.sql", "ALTER TABLE editor DROP COLUMN token;")
    code = modified("src/editor.js", "-const t = editor.token;\n+const t = null;\n")
    assert rules(review(down, code)) == []


def test_safety_assured_steps_are_not_repeated_but_rollback_still_counts() -> None:
    found = rails(
        "safety_assured do\n"
        "  remove_index :users, :email\n"
        "  execute <<-SQL\n"
        "    UPDATE users SET flag = true,\n"
        "      seen = false\n"
        "  SQL\n"
        "end\n"
        "remove_index :users, :name"
    )
    assert rules(found) == [
        ("migration-index-not-concurrent", "10"),
        ("migration-missing-rollback", "5"),
    ]


def test_postgres_is_known_from_the_gathered_files() -> None:
    diff = added(SQL, "CREATE INDEX idx_users_email ON users (email);")
    assert [f.type for f in of(review(diff), "migration-index-not-concurrent")] == ["question"]
    settings = FileText(
        "app/settings.py", "DATABASES = {'ENGINE': 'django.db.backends.postgresql'}", None
    )
    found = run_rules(parse_diff(diff), RuleContext(), FileContext.of([settings]))
    assert [f.type for f in of(found, "migration-index-not-concurrent")] == ["evidence"]


def test_dropping_an_index_the_same_change_creates_is_fine() -> None:
    rebuild = (
        'CREATE TABLE "user" (id integer);\nCREATE INDEX "IDX_user_name" ON "user" (name);\n'
        'DROP INDEX "IDX_user_name";\nDROP INDEX "IDX_other";'
    )
    assert rules(sql(rebuild)) == [("migration-index-not-concurrent", "4")]


def test_comment_only_edit_is_fine_even_without_the_files() -> None:
    edit = modified(
        "db/migrations/0001_folders.sql",
        " -- Adds folders.\n--- Safe to run twice;\n+-- Safe to run twice,\n"
        " CREATE TABLE f (id int);\n",
    )
    assert of(review(edit), "applied-migration-edited") == []
    real = modified(
        "db/migrations/0001_folders.sql",
        "-CREATE TABLE f (id int);\n+CREATE TABLE f (id bigint);\n",
    )
    assert of(review(real), "applied-migration-edited")


def _typeorm(opt_out: str) -> str:
    return added(
        "src/migrations/1700000000001-Idx.ts",
        "export class Idx1700000000001 implements MigrationInterface {\n"
        f"{opt_out}"
        "  public async up(q: QueryRunner): Promise<void> {\n"
        '    await q.query(`CREATE INDEX CONCURRENTLY "ix" ON "user" ("e")`);\n'
        "  }\n"
        "  public async down(q: QueryRunner): Promise<void> {\n"
        '    await q.query(`DROP INDEX CONCURRENTLY "ix"`);\n'
        "  }\n}\n",
    )


def test_concurrently_inside_the_frameworks_transaction_fails() -> None:
    outside = (
        "    with op.get_context().autocommit_block():\n"
        "        op.create_index('ix_e', 'users', ['e'], postgresql_concurrently=True)"
    )
    assert rules(alembic(outside)) == []
    inside = "    op.execute('CREATE INDEX CONCURRENTLY ix_e ON users (e)')"
    assert rules(alembic(inside)) == [("migration-concurrently-in-transaction", "6")]
    rails_ok = added(
        RAILS,
        "class Idx < ActiveRecord::Migration[7.1]\n  disable_ddl_transaction!\n\n"
        "  def change\n    add_index :users, :email, algorithm: :concurrently\n  end\nend\n",
    )
    assert rules(review(rails_ok)) == []
    body = "CREATE INDEX CONCURRENTLY ix_e ON users (e);"
    assert rules(sql(body)) == []
    wrapped = sql(f"BEGIN;\n{body}\nCOMMIT;\nREINDEX INDEX ix_f;")
    assert rules(wrapped) == [
        ("migration-concurrently-in-transaction", "2"),
        ("migration-index-not-concurrent", "4"),
    ]
    assert rules(review(_typeorm("  public transaction = false;\n"))) == []
    assert rules(review(_typeorm(""))) == [("migration-concurrently-in-transaction", "3")]


# ---- Sequelize


def test_sequelize_query_interface_calls() -> None:
    found = review(
        added(
            "migrations/20240101120000-change-users.js",
            "module.exports = {\n"
            "  up: async (queryInterface, Sequelize) => {\n"
            "    await queryInterface.addColumn('Users', 'role', {\n"
            "      type: Sequelize.STRING,\n"
            "      allowNull: false,\n"
            "    });\n"
            "    await queryInterface.addColumn('Users', 'nick', { type: Sequelize.STRING });\n"
            "    await queryInterface.renameColumn('Users', 'name', 'fullName');\n"
            "    await queryInterface.addIndex('Users', ['email'], { concurrently: true });\n"
            "    await queryInterface.removeIndex('Users', 'users_name');\n"
            "    await queryInterface.changeColumn('Users', 'age', {\n"
            "      type: Sequelize.BIGINT,\n"
            "      allowNull: false,\n"
            "    });\n"
            "  },\n"
            "  down: async (queryInterface) => {\n"
            "    await queryInterface.removeColumn('Users', 'role');\n"
            "  },\n"
            "};\n",
        )
    )
    assert rules(found) == [
        ("migration-column-type-change", "11"),
        ("migration-index-not-concurrent", "10"),
        ("migration-not-null-without-default", "3"),
        ("migration-rename", "8"),
        ("migration-set-not-null", "11"),
    ]
