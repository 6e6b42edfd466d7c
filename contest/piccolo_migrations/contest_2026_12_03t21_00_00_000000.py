from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text, Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T21:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "A round closed now or suspended by an organiser, with the reason"


def _params(default: object, null: bool) -> dict:
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
    for name, column_class, default, null in (
        ("stopped_at", Timestamptz, None, True),
        ("stop_reason", Text, "", False),
        ("suspended_at", Timestamptz, None, True),
        ("suspend_reason", Text, "", False),
    ):
        manager.add_column(
            table_class_name="Round",
            tablename="round",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=_params(default, null),
            schema=None,
        )
    return manager
