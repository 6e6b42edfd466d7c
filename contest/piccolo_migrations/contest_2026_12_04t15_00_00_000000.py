from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean, Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-04T15:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Partial credit as a contest's choice: points in sixtieths of a question on attempts, results, certificates"


def _params(default, null):  # type: ignore[no-untyped-def]
    return {
        "default": default,
        "null": null,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contest", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Contest",
        tablename="contest",
        column_name="partial_credit",
        db_column_name="partial_credit",
        column_class_name="Boolean",
        column_class=Boolean,
        params=_params(False, False),
        schema=None,
    )
    for table_class, table, default, null in (
        ("Attempt", "attempt", None, True),
        ("RoundResult", "round_result", 0, False),
        ("Certificate", "certificate", None, True),
    ):
        manager.add_column(
            table_class_name=table_class,
            tablename=table,
            column_name="points",
            db_column_name="points",
            column_class_name="Integer",
            column_class=Integer,
            params=_params(default, null),
            schema=None,
        )

    return manager
