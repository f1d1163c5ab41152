"""The buttons that act through the engine: Ask, Generate demo traffic, Reset state, Rotate log.

Each button has a stable key. An action's outcome is kept in session state and shown after the
rerun that follows it, so every figure on the page is drawn from the changed log.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from dashboard import services
from dashboard.components.format import fmt_boundary, fmt_latency, fmt_quality, fmt_simulation

FLASH = "_action_flash"


def _flash(kind: str, text: str) -> None:
    st.session_state[FLASH] = (kind, text)


def render_flash() -> None:
    """Show (once) the outcome of the last action."""
    item = st.session_state.pop(FLASH, None)
    if item:
        kind, text = item
        getattr(st, kind)(text)


def progress_callback(label: str) -> Callable[[int, int], None]:
    """A progress bar under `label`, and the `(done, total)` callback that moves it."""
    bar = st.progress(0.0, text=label)

    def on_progress(done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"{label} {done} / {total}")

    return on_progress


def render_generate_demo(key: str) -> None:
    n = st.number_input("Demo questions", min_value=1, max_value=services.DEMO_MAX_N,
                        value=services.DEMO_DEFAULT_N, step=50, key=f"{key}_n")
    if st.button("Generate demo traffic", key=key, type="primary"):
        bar = st.progress(0.0, text="Generating demo traffic…")

        def on_progress(done: int, total: int) -> None:
            bar.progress(min(done / max(total, 1), 1.0), text=f"{done} / {total} questions")

        try:
            summary = services.simulate(int(n), seed=services.demo_seed(), on_progress=on_progress)
        except services.EngineError as exc:
            _flash("error", f"Demo traffic failed: {exc.message}")
        else:
            _flash("success", f"Generated {fmt_simulation(summary)}.")
        st.rerun()


def render_ask() -> None:
    """Question + trait -> the answer with its route, bucket, quality and latency."""
    with st.form("ask_form", clear_on_submit=False):
        question = st.text_area("Question", key="ask_question", height=80)
        trait = st.selectbox("Trait", services.traits(), key="ask_trait")
        submitted = st.form_submit_button("Ask", key="ask_button")
    if submitted:
        try:
            result = services.ask(question, trait)
        except services.EngineError as exc:
            st.error(exc.message)
            return
        st.session_state["ask_result"] = result
        # Rerun so every figure above (drawn before this form ran) includes the new answer.
        st.rerun()
    result = st.session_state.get("ask_result")
    if result is None:
        return
    if result.error_code:
        st.error(f"No model answered: {result.error_code} ({result.error_message or 'no detail'})")
    else:
        st.success(result.answer)
    cols = st.columns(4)
    cols[0].metric("Route", result.route)
    cols[1].metric("Bucket", result.bucket)
    cols[2].metric("Quality", fmt_quality(result.quality), help=f"Quality method: {result.quality_method}")
    cols[3].metric("Latency", fmt_latency(result.latency_ms))
    st.caption(f"answered by {result.source} · message {result.message_id} · complexity "
               f"{fmt_boundary(result.complexity)} vs boundary {fmt_boundary(result.boundary)} · provider "
               f"{result.provider}" + (" (SIMULATED)" if result.simulated else ""))


def render_reset() -> None:
    confirmed = st.checkbox("I understand: this deletes the adaptive state and restarts the A/B test",
                            key="reset_confirm")
    if st.button("Reset adaptive state", key="reset_state", disabled=not confirmed):
        try:
            removed = services.reset_adaptive_state()
        except services.EngineError as exc:
            _flash("error", f"Reset failed: {exc.message}")
        else:
            _flash("success", f"Adaptive state reset ({removed} removed)." if removed
                   else "There was no adaptive state to reset.")
        st.session_state.pop("reset_confirm", None)
        st.rerun()


def render_rotate() -> None:
    if st.button("Rotate log", key="rotate_log"):
        try:
            result = services.rotate_log()
        except (services.EngineError, OSError) as exc:
            _flash("error", f"Rotation failed: {exc}")
        else:
            _flash("success" if result.archive else "info", result.message)
        st.rerun()
