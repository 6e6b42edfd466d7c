from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-04T18:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "Units other than communes: a contest ranks communes (every existing contest) or its own units; contestants and "
    "officials bound to units; one collective code per contestant for the boards and counters"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contest", description=DESCRIPTION)

    async def units():
        from contest import db

        # In one raw step: Piccolo runs raw steps before added tables and columns, and has no generated column.
        for sql in (
            "ALTER TABLE contest ADD COLUMN collectives varchar(10) NOT NULL DEFAULT 'communes'",
            """CREATE TABLE unit (
                id serial PRIMARY KEY,
                contest integer NOT NULL REFERENCES contest (id) ON DELETE CASCADE ON UPDATE CASCADE,
                parent integer REFERENCES unit (id) ON DELETE SET NULL ON UPDATE CASCADE,
                code varchar(40) NOT NULL,
                name varchar(200) NOT NULL,
                headcount integer,
                position integer NOT NULL DEFAULT 0,
                CONSTRAINT one_code_per_contest UNIQUE (contest, code))""",
            "CREATE INDEX unit_contest ON unit (contest)",
            # Boards and pages find a unit by its collective code (minus its id) through the view `place`.
            "CREATE INDEX unit_collective ON unit ((-id))",
            "ALTER TABLE contestant ALTER COLUMN commune DROP NOT NULL",
            "ALTER TABLE contestant ADD COLUMN unit integer REFERENCES unit (id) ON DELETE RESTRICT ON UPDATE CASCADE",
            "CREATE INDEX contestant_unit ON contestant (unit)",
            # Every existing contestant keeps their commune's code: their boards and counters stay as they are.
            "ALTER TABLE contestant ADD COLUMN collective integer GENERATED ALWAYS AS (coalesce(-unit, commune)) STORED",
            "CREATE INDEX contestant_contest_collective ON contestant (contest, collective)",
            """CREATE VIEW place AS
                SELECT code, name, province, population, NULL::integer AS contest FROM commune
                UNION ALL SELECT -id, name, NULL::integer, headcount, contest FROM unit""",
            """CREATE TABLE staff_unit (
                id serial PRIMARY KEY,
                staff integer NOT NULL REFERENCES staff (id) ON DELETE CASCADE ON UPDATE CASCADE,
                unit integer NOT NULL REFERENCES unit (id) ON DELETE CASCADE ON UPDATE CASCADE,
                CONSTRAINT one_unit_binding UNIQUE (staff, unit))""",
            "CREATE INDEX staff_unit_staff ON staff_unit (staff)",
        ):
            await db.raw(sql)

    manager.add_raw(units)
    return manager
