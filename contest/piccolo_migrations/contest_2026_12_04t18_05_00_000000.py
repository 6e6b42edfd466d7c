from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-04T18:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "One open attempt per contestant, kept by an index: an attempt starts in one statement, without a lock"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contest", description=DESCRIPTION)

    async def one_open():
        from contest.attempts.tables import Attempt

        # Starts took an advisory lock per contestant until now, so no contestant has two open attempts; an
        # organiser's previews (one per round, kept open) are not contestants' attempts.
        await Attempt.raw(
            "CREATE UNIQUE INDEX IF NOT EXISTS attempt_one_open ON attempt (contestant) WHERE status = 'open' AND NOT preview"
        )

    manager.add_raw(one_open)
    return manager
