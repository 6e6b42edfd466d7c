from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-04T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "The client's order of answers: a later answer is never overwritten by an earlier one that arrives late"


def _params():  # type: ignore[no-untyped-def]
    return {
        "default": None,
        "null": True,
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
    for table_class, table, column in (("AttemptItem", "attempt_item", "answer_seq"), ("Attempt", "attempt", "prediction_seq")):
        manager.add_column(
            table_class_name=table_class,
            tablename=table,
            column_name=column,
            db_column_name=column,
            column_class_name="BigInt",
            column_class=BigInt,
            params=_params(),
            schema=None,
        )
    return manager
