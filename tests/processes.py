"""Stopping test processes for good: a process and every descendant (an RQ work horse leaves its worker's group)."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time

import psutil


def kill_tree(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Signal a process and every descendant (an RQ work horse is in a process group of its own)."""
    if proc.poll() is not None:
        return
    family: list[psutil.Process] = []
    with contextlib.suppress(psutil.NoSuchProcess):
        family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        for p in reversed(family):  # children first: a worker must not see its horse die and carry on
            with contextlib.suppress(psutil.NoSuchProcess):
                p.send_signal(sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(10)
    # Orphans are reaped by whoever is PID 1 (in a container, maybe nobody): a zombie counts as dead.
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in family[1:]) and time.monotonic() < deadline:
        time.sleep(0.01)


def _alive(p: psutil.Process) -> bool:
    try:
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
