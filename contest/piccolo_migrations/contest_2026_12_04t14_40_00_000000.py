from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-04T14:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "certificates withdrawn when their round's results are reopened free their holder's place for a new award"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contest", description=DESCRIPTION)

    async def one_current_per_holder():
        from contest.certificates.tables import Certificate

        # In one raw step: Piccolo runs raw steps before added columns, and has no partial unique constraint.
        await Certificate.raw("ALTER TABLE certificate ADD COLUMN superseded boolean NOT NULL DEFAULT false")
        # One certificate per holder, contest and kind among those not superseded (an organiser's own revocation
        # keeps the place taken, so a re-award never undoes it).
        await Certificate.raw("ALTER TABLE certificate DROP CONSTRAINT one_per_holder_and_kind")
        await Certificate.raw(
            "CREATE UNIQUE INDEX one_per_holder_and_kind ON certificate (contest, kind, subject) WHERE NOT superseded"
        )

    manager.add_raw(one_current_per_holder)
    return manager
