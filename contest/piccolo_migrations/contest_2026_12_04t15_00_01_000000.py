from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-04T15:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Scores so far were all or nothing: points = correct answers × 60"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contest", description=DESCRIPTION)

    async def backfill():
        from contest.attempts.tables import Attempt

        # A question right in full is worth 60 sixtieths (leaderboard.scorecode.UNIT).
        for table in ("attempt", "round_result", "certificate"):
            await Attempt.raw(f"UPDATE {table} SET points = correct * 60 WHERE correct IS NOT NULL")

    manager.add_raw(backfill)
    return manager
