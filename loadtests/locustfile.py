"""Locust: contestants (the whole journey through /api/v1 and the contest page), board watchers, commune officials.

The users live in loadtests/users.py (its docstring lists every LOCUST_* knob). The usual way to run them is
`python -m loadtests.run_load`, which starts a whole system, runs Locust headless and checks the data afterwards
(see loadtests/README.md). By hand, against a system started with rate limits off:

    CONTEST_RATE_LIMIT=0 make run        # in another terminal
    LOCUST_THINK_SECONDS=0.5 .venv/bin/locust -f loadtests/locustfile.py --headless -u 200 -r 20 --run-time 2m \
        --host http://127.0.0.1:8000

LOCUST_SHAPE=spike selects the DeadlineSpike shape (steady load, a surge of starts before the round closes);
LOCUST_SHAPE=opening the OpeningSpike (everyone arrives within a minute of the opening; starts beyond
CONTEST_START_RATE wait in line, 202 + Retry-After, and start when let in);
Official users take part only when LOCUST_OFFICIALS_FILE names their accounts (run_load creates them).
A headless run started without --run-time stops after LOCUST_MAX_RUN_TIME seconds (default 600).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from locust import events
from locust.env import Environment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `loadtests` as a package, wherever locust runs

from loadtests.users import OFFICIALS_FILE, BoardWatcher, Contestant  # noqa: E402

__all__ = ["BoardWatcher", "Contestant"]

if OFFICIALS_FILE:
    from loadtests.users import Official  # noqa: E402

    __all__ += ["Official"]

if os.environ.get("LOCUST_SHAPE", "steady") == "spike":
    from loadtests.users import DeadlineSpike  # noqa: E402

    __all__ += ["DeadlineSpike"]
elif os.environ.get("LOCUST_SHAPE") == "opening":
    from loadtests.users import OpeningSpike  # noqa: E402

    __all__ += ["OpeningSpike"]

MAX_RUN_TIME = int(os.environ.get("LOCUST_MAX_RUN_TIME", "600"))


@events.init.add_listener
def _bound_the_run(environment: Environment, **_: Any) -> None:
    """A headless run must stop by itself: without --run-time it is capped at LOCUST_MAX_RUN_TIME seconds."""
    opts = environment.parsed_options
    if opts is not None and opts.headless and not opts.worker and not opts.run_time and MAX_RUN_TIME > 0:
        opts.run_time = MAX_RUN_TIME
