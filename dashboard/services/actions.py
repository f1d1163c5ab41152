"""What the dashboard's buttons do, through engine.api: ask a question, generate demo traffic,
reset the adaptive state, rotate the log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dashboard.services.cache import settings, store
from engine import analysis, api

# Large enough that the treatment boundary adapts at least once with the simulator (200 gave
# none, 400 about 3; 500 ran in 2-6 s in-process here), small enough to finish within ~15 s.
DEMO_DEFAULT_N = 500
DEMO_MAX_N = 5000


def traits() -> tuple[str, ...]:
    """The traits the Ask form offers (the ones `ask` knows)."""
    return tuple(api.TRAITS)


def ask(question: str, trait: str) -> api.AskResult:
    """Send one question through the loop (InputError on bad input)."""
    return api.ask(question, trait, origin="ask")


def simulate(n: int, seed: int, on_progress: Callable[[int, int], None] | None = None) -> api.SimulateSummary:
    """Generate n demo questions through the loop; `on_progress(done, total)` after each answer."""
    done = 0

    def step(_result: api.AskResult) -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(done, n)

    return api.simulate(n, seed=seed, progress=step)


def demo_seed() -> int:
    """A seed that differs from one demo batch to the next (the number of answers logged so far)."""
    return analysis.compute_response_count(store())


def reset_adaptive_state() -> Path | None:
    """Delete the adaptive state (the A/B test restarts); returns the removed path or None."""
    return api.reset_adaptive_state()


def rotate_log() -> api.RotationResult:
    """Move the log to a dated gzip beside it; the store notices the new file on its next refresh."""
    return api.rotate_log(settings().paths.log)
