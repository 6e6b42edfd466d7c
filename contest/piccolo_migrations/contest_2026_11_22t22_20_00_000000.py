from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T22:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "backfill question.normalized for questions made before it existed"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contest", description=DESCRIPTION)

    async def backfill():
        from contest.questions.tables import Question
        from contest.text import fold

        rows = await Question.raw("SELECT id, text FROM question WHERE normalized = ''")
        for row in rows:
            await Question.raw("UPDATE question SET normalized = {} WHERE id = {}", fold(row["text"]), row["id"])

    manager.add_raw(backfill)
    return manager
