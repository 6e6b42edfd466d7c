from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T21:00:02:000000"
VERSION = "1.38.0"
DESCRIPTION = "preview stand-ins leave their contests: marked, belonging to none, one per organiser"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contest", description=DESCRIPTION)

    async def move_previews():
        from contest.people.tables import Contestant

        # The stand-ins made so far (phone "p<staff id>", never a real number) leave their contests.
        await Contestant.raw("UPDATE contestant SET preview = true, contest = NULL WHERE phone ~ '^p[0-9]+$'")
        await Contestant.raw(
            "ALTER TABLE contestant ADD CONSTRAINT preview_has_no_contest CHECK (preview = (contest IS NULL))"
        )
        # One stand-in per organiser (it was one per contest): the oldest keeps every preview attempt.
        await Contestant.raw(
            "UPDATE attempt a SET contestant = k.keep FROM (SELECT id, min(id) OVER (PARTITION BY phone) AS keep "
            "FROM contestant WHERE preview) k WHERE a.contestant = k.id AND k.id <> k.keep"
        )
        await Contestant.raw(
            "DELETE FROM contestant p USING contestant q WHERE p.preview AND q.preview AND q.phone = p.phone AND q.id < p.id"
        )
        await Contestant.raw("CREATE UNIQUE INDEX one_preview_per_organiser ON contestant (phone) WHERE preview")

    manager.add_raw(move_previews)
    return manager
