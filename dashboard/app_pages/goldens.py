"""Goldens: record a baseline, run the golden compare (with progress), the last report's cases,
the SLO verdicts, and the pass rate across comparison files."""

from __future__ import annotations

import streamlit as st

from dashboard import services
from dashboard.components.actions import FLASH, progress_callback
from dashboard.components.charts import golden_history_chart
from dashboard.components.format import fmt_latency, fmt_pct, fmt_split

st.title("Goldens")
st.caption("Golden regression tests (runbook: Run Golden Tests) and the SLO check (runbook: Check SLOs). "
           "Goldens run in the control bucket and are not counted as traffic.")


def render_actions() -> None:
    baseline, baseline_error = services.baseline_summary()
    left, right = st.columns(2)
    with left:
        if baseline_error:
            st.error(baseline_error)
        elif baseline is None:
            st.info("No baseline yet: record one first.")
        else:
            st.caption(f"Baseline: {baseline['cases']} cases recorded {baseline['recorded_at']} "
                       f"with {baseline['provider']}" + (" (SIMULATED)" if baseline["simulated"] else ""))
        if st.button("Record baseline", key="golden_record",
                     help="Answers every golden once and writes baseline_new.json; the previous baseline "
                          "is kept as baseline_<date>.json."):
            try:
                result, backup = services.golden_record(progress_callback("Recording"))
            except services.EngineError as exc:
                st.session_state[FLASH] = ("error", f"Record failed: {exc.message}")
            else:
                if result.written:
                    kept = f"; previous kept as {backup.name}" if backup else ""
                    st.session_state[FLASH] = (
                        "success", f"Recorded {result.summary['cases']} cases to {result.path.name}{kept}.")
                else:
                    st.session_state[FLASH] = (
                        "error", "Baseline not written: no answer for " + ", ".join(result.unanswered)
                        + " (source unknown). Is the model server running?")
            st.rerun()
    with right:
        st.caption(f"Compare threshold {services.GOLDEN_THRESHOLD}: a case fails when it gets no answer or its "
                   "quality or similarity falls by more than that.")
        if st.button("Run golden compare", key="golden_compare", type="primary", disabled=baseline is None):
            try:
                result = services.golden_compare(progress_callback("Comparing"))
            except services.EngineError as exc:
                st.session_state[FLASH] = ("error", f"Compare failed: {exc.message}")
            else:
                s = result.report["summary"]
                kind = "success" if result.report["status"] == "PASS" else "warning"
                st.session_state[FLASH] = (
                    kind, f"Golden compare {result.report['status']}: {s['label']} cases pass.")
            st.rerun()


def render_report() -> None:
    report, cases, error = services.golden_report()
    if error:
        st.error(error)
        return
    if report is None:
        st.info("No golden report yet: run the golden compare.")
        return
    routing, latency = report["routing"], report["latency_ms"]
    cols = st.columns(5)
    cols[0].metric("Status", report["status"], border=True)
    cols[1].metric("Cases passing", report["summary"]["label"], border=True)
    cols[2].metric("Pass rate", fmt_pct(report["pass_rate"]), border=True)
    cols[3].metric("P95 latency", fmt_latency(latency["p95"]), border=True,
                   help=f"p50 {fmt_latency(latency['p50'])}, mean {fmt_latency(latency['mean'])}")
    cols[4].metric("Main / embedder %", fmt_split(routing["main_pct"], routing["embedder_pct"]),
                   border=True)
    st.caption(f"Finished {report['finished_at']} · similarity {report['similarity_measure']} · threshold "
               f"{report['threshold']} · provider {report['provider']}"
               + (" (SIMULATED)" if report["simulated"] else "")
               + f" · set {report['set']['hash']} · baseline {report['baseline']['hash']}")
    if report["baseline"].get("provider_changed"):
        st.warning(f"The baseline was recorded with {report['baseline']['provider']}, this compare used "
                   f"{report['provider']}: answers differ by construction. Record a new baseline.")
    st.subheader("Cases")
    st.dataframe(cases, hide_index=True, key="golden_cases_table",
                 column_config={"similarity": st.column_config.NumberColumn(format="%.2f"),
                                "quality": st.column_config.NumberColumn(format="%.3f"),
                                "baseline quality": st.column_config.NumberColumn(format="%.3f"),
                                "latency ms": st.column_config.NumberColumn(format="%.0f"),
                                "pass rate": st.column_config.NumberColumn(format="%.2f")})


def render_slos() -> None:
    st.subheader("SLOs")
    rows, notes, error = services.slo_verdicts()
    if error:
        st.warning(error)
        return
    st.dataframe(rows, hide_index=True, key="golden_slo_table",
                 column_order=["slo", "shown_value", "shown_threshold", "verdict"],
                 column_config={"slo": "SLO", "shown_value": "value", "shown_threshold": "threshold"})
    for note in notes:
        st.caption(note)
    failed = [row["slo"] for row in rows if row["verdict"] != "PASS"]
    if failed:
        st.error("SLO violation: " + ", ".join(failed) + " (README: troubleshooting, SLO alert failing)")
    else:
        st.success("All SLOs passing")


def render_history() -> None:
    st.subheader("Pass rate across comparisons")
    history = services.golden_history()
    if history.unreadable:
        st.caption(f"Skipped {len(history.unreadable)} unreadable comparison file(s): "
                   + ", ".join(history.unreadable[:5]))
    frame = history.frame
    if frame.empty:
        st.info("No comparison history yet.")
        return
    st.plotly_chart(golden_history_chart(frame), key="golden_history_chart")


render_actions()
render_report()
render_slos()
render_history()
