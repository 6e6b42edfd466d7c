from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Array, Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T21:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "attempt_item.chosen_set: the options chosen for a choose-all-that-apply question"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contest", description=DESCRIPTION)

    manager.add_column(
        table_class_name="AttemptItem",
        tablename="attempt_item",
        column_name="chosen_set",
        db_column_name="chosen_set",
        column_class_name="Array",
        column_class=Array,
        params={
            "default": None,
            "base_column": Integer(
                default=0,
                null=False,
                primary_key=False,
                unique=False,
                index=False,
                index_method=IndexMethod.btree,
                choices=None,
                db_column_name=None,
                secret=False,
            ),
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
