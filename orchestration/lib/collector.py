"""The garbage collector of the two short-lived processes of a close: `billing` and its dbt.

Each holds a few hundred thousand long-lived Python objects (Dagster's definitions and run
events; dbt's parsed project and results) and ends when the close ends. With CPython's
default thresholds the collector's full passes walk all of them several times during a
close, and the interpreter walks them again on its way out, freeing nothing that the exit
would not free: on the 10-million-event benchmark, about 1 s in `billing` during the close,
1.2 s at its exit, and 1 s in dbt (README.md, "Benchmark"). So these processes make full
passes ten times rarer and freeze what is left when they exit (gc.freeze moves it out of the
collector's sight; the exit still runs every atexit handler and closes every file). Young
objects are collected as usual. Code that runs a close in a longer-lived process (the tests
call `close()`, `dg dev` serves the UI) keeps CPython's defaults.
"""
from __future__ import annotations

import atexit
import gc

# CPython's default is 10: a full pass after every ten middle-generation passes (and once the
# objects that survived since the last one are a quarter of those that survived it).
FULL_PASS_EVERY = 100


def tune_for_one_command() -> None:
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_PASS_EVERY)
    # registered before any other: atexit runs handlers last-in first-out, so this runs last
    atexit.register(gc.freeze)
