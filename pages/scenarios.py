"""A tenant's scenarios: write them, run them against the live prompt, the draft or any
version, and read each run's transcript and checks beside the live prompt's results."""

from __future__ import annotations

from uuid import UUID

import streamlit as st
import yaml

from agent_core.access.models import Action
from agent_core.domain import StoredScenario
from agent_core.errors import AgentCoreError
from agent_core.scenarios.results import SuiteReport
from agent_core.scenarios.spec import MAX_REPETITIONS
from agent_core.tenant_settings import settings_from
from dashboard import gate, render
from dashboard.state import current_tenant, get_runtime, get_workspace, session_key
from dashboard.views import local_time, passed_word, runs_frame, scenario_outline

NO_TOOL = "no tool"
TABS, SCENARIOS_TAB, RUNS_TAB = "tab", "Scenarios", "Runs"
TEMPLATE = """name: Books a tour from one message
description: What this scenario protects.
steps:
  - say: Book a tour for John Smith on {today+30} in Paris
    expect:
      tools:
        - name: book_tour
          arguments: {name: John Smith, date: {days_from_today: 30}, location: Paris}
      reply_contains: [booked]
"""

runtime = get_runtime()
workspace = get_workspace(runtime)
tenant = current_tenant(workspace)
zone = settings_from(tenant.settings).zone(runtime.settings.zone)
may_edit = workspace.may(Action.EDIT_PROMPT, tenant.id)
suite = workspace.scenarios.suite(tenant.id)
runs = workspace.scenarios.runs(tenant.id)

st.header(f"Scenarios · {tenant.name}")
st.caption(
    "Conversations the agent must keep getting right. Each runs in a sandbox (nothing real is written)"
    " and every reply is also checked for claiming a booking, note or change that no tool completed."
    " Publishing a prompt runs them all first."
)
notice_key = session_key(tenant, "scenario_notice")
if notice := st.session_state.pop(notice_key, None):
    st.success(notice, icon=":material/check_circle:")


def run_panel() -> None:
    """Run the suite against a chosen prompt."""
    versions = workspace.prompts.versions(tenant.id)
    draft = workspace.prompts.draft(tenant.id)
    targets: dict[str, str | int] = {f"Live (version {versions[0].version})": "live"}
    if draft is not None:
        targets["Draft"] = "draft"
    targets |= {f"Version {v.version}": v.version for v in versions[1:]}
    with st.form(session_key(tenant, "run_form"), border=True):
        left, right = st.columns([3, 1])
        chosen = left.selectbox("Prompt to test", list(targets))
        repetitions = right.number_input(
            "Runs of each",
            min_value=1,
            max_value=MAX_REPETITIONS,
            value=1,
            help="For a model that answers differently each time: every run must pass.",
        )
        submitted = st.form_submit_button(
            "Run scenarios", type="primary", icon=":material/play_arrow:", disabled=not may_edit
        )
    if not may_edit:
        st.caption("Running scenarios needs an operator or admin role.")
    if submitted:
        try:
            run = workspace.scenarios.run(
                tenant.id,
                targets[chosen],
                repetitions=int(repetitions),
                on_progress=gate.progress_bar(chosen.lower()),
            )
        except AgentCoreError as exc:
            st.error(str(exc), icon=":material/warning:")
        else:
            st.session_state[session_key(tenant, "open_run")] = run.id
            st.session_state[TABS] = RUNS_TAB  # show what the run found
            st.rerun()


def new_scenario() -> None:
    """The common case as a form (one message, one expectation); anything else as YAML."""
    tools = [NO_TOOL, *(spec.name for spec in runtime.agent.tools.specs)]
    with st.form(session_key(tenant, "new_scenario"), clear_on_submit=False):
        name = st.text_input("Name", max_chars=120, placeholder="e.g. Books from one complete message")
        say = st.text_area(
            "The caller says",
            max_chars=runtime.settings.max_message_chars,
            help="Write {today+7} for the date a week after the day the scenario runs.",
        )
        tool = st.selectbox("The agent must call", tools)
        contains = st.text_input("Its reply must contain (optional)", max_chars=500)
        excludes = st.text_input("Its reply must not contain (optional)", max_chars=500)
        if st.form_submit_button("Add scenario", icon=":material/add:"):
            expect: dict[str, object] = {"no_tools": True} if tool == NO_TOOL else {"tools": [{"name": tool}]}
            if contains.strip():
                expect["reply_contains"] = [contains.strip()]
            if excludes.strip():
                expect["reply_excludes"] = [excludes.strip()]
            save({"name": name, "steps": [{"say": say, "expect": expect}]}, None, "Scenario added.")
    with (
        st.expander(
            "Or write a scenario in YAML (several messages, argument checks)", icon=":material/code:"
        ),
        st.form(session_key(tenant, "new_yaml")),
    ):
        text = st.text_area("Scenario", value=TEMPLATE, height=260)
        if st.form_submit_button("Add scenario from YAML"):
            save_yaml(text, None, "Scenario added.")


def save(data: object, scenario_id: UUID | None, notice: str) -> None:
    try:
        workspace.scenarios.save(tenant.id, data, scenario_id)
    except AgentCoreError as exc:
        st.error(str(exc), icon=":material/warning:")
    else:
        st.session_state[notice_key] = notice
        st.rerun()


def save_yaml(text: str, scenario_id: UUID | None, notice: str) -> None:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        st.error(f"Not YAML: {exc}", icon=":material/warning:")
        return
    save(data, scenario_id, notice)


def scenario_list(stored: list[StoredScenario], latest: SuiteReport | None) -> None:
    """Each scenario with its last result, editable as YAML and deletable."""
    if not stored:
        st.info("No scenarios yet. Add one, or import a file.", icon=":material/fact_check:")
        return
    st.caption(f"{len(stored)} scenario{'s' if len(stored) != 1 else ''}, by name.")
    verdicts = {r.name: r.passed for r in latest.results} if latest else {}
    for row in stored:
        verdict = verdicts.get(row.name)
        if row.id in suite.unreadable:
            icon, state = ":material/error:", "unreadable"
        elif verdict is None:
            icon, state = ":material/help:", "not run yet"
        else:
            icon = ":material/check_circle:" if verdict else ":material/cancel:"
            state = passed_word(verdict)
        with st.expander(f"{row.name} · {state.lower()}", icon=icon):
            if row.id in suite.unreadable:
                st.error(f"This scenario cannot be read and fails every run: {suite.unreadable[row.id]}")
            if description := row.spec.get("description"):
                st.caption(str(description))
            st.text(scenario_outline(row.spec))
            st.caption(f"Last changed by {row.author}, {local_time(row.updated_at, zone)}")
            if not may_edit:
                continue
            with st.form(session_key(tenant, f"edit{row.id}")):
                text = st.text_area(
                    "Edit as YAML",
                    value=yaml.safe_dump({"name": row.name, **row.spec}, sort_keys=False, allow_unicode=True),
                    height=220,
                )
                if st.form_submit_button("Save changes"):
                    save_yaml(text, row.id, f"Scenario “{row.name}” saved.")
            confirm = st.checkbox("Yes, delete this scenario", key=session_key(tenant, f"del-ok{row.id}"))
            if st.button("Delete", disabled=not confirm, key=session_key(tenant, f"del{row.id}")):
                workspace.scenarios.delete(tenant.id, row.id)
                st.session_state[notice_key] = f"Scenario “{row.name}” deleted."
                st.rerun()


def files_panel() -> None:
    """Export the suite as YAML (for review, another tenant, or pytest in CI), or import one."""
    st.download_button(
        "Export as YAML",
        workspace.scenarios.export_file(tenant.id),
        file_name=f"{tenant.name.lower().replace(' ', '_')}.scenarios.yaml",
        mime="application/yaml",
        icon=":material/download:",
        help="Run it in CI with `pytest FILE` or `vam scenarios run --file FILE`.",
    )
    if not may_edit:
        return
    limit = get_runtime().settings.api_max_body_bytes
    uploaded = st.file_uploader(
        "Import a YAML file",
        type=["yaml", "yml"],
        key=session_key(tenant, "upload"),
        # The smallest limit the uploader takes; the real one (the API's) is checked below.
        max_upload_size=1,
        help=f"At most {limit // 1024} KB, as through the API. Scenarios with a name already"
        " in the suite replace it.",
    )
    if uploaded is not None and uploaded.size > limit:
        st.error(
            f"The file has {uploaded.size // 1024} KB; at most {limit // 1024} KB can be imported.",
            icon=":material/warning:",
        )
    elif uploaded is not None and st.button("Import", icon=":material/upload:"):
        try:
            text = uploaded.getvalue().decode("utf-8", "replace")
            added, replaced = workspace.scenarios.import_file(tenant.id, text)
        except AgentCoreError as exc:
            st.error(str(exc), icon=":material/warning:")
        else:
            st.session_state[notice_key] = f"Imported: {added} added, {replaced} replaced (matched by name)."
            st.rerun()


def runs_panel() -> None:
    """Kept runs; the chosen one in full, beside the latest run against the live prompt."""
    if not runs:
        st.caption("No runs yet.")
        return
    st.caption(f"The latest {len(runs)} run{'s' if len(runs) != 1 else ''}, newest first.")
    st.dataframe(runs_frame(runs, zone), hide_index=True, use_container_width=True)
    labels = {r.id: f"{local_time(r.created_at, zone)} · {r.target} · {r.summary}" for r in runs}
    opened = st.session_state.get(session_key(tenant, "open_run"), runs[0].id)
    ids = list(labels)
    chosen = st.selectbox(
        "Run to read", ids, index=ids.index(opened) if opened in ids else 0, format_func=labels.__getitem__
    )
    run = next(r for r in runs if r.id == chosen)
    report = SuiteReport.model_validate(run.report)
    # Beside the latest run against the live prompt, unless this is that run.
    live = next((r for r in runs if r.target.startswith("live")), None)
    (st.success if run.passed else st.error)(
        f"{passed_word(run.passed)}: {run.summary} · {run.target} · model {run.model} · by {run.started_by}"
    )
    compared = SuiteReport.model_validate(live.report) if live and live.id != run.id else None
    render.suite_report(report, compared)


latest_live = next((SuiteReport.model_validate(r.report) for r in runs if r.target.startswith("live")), None)
run_panel()
scenarios_tab, add_tab, runs_tab = st.tabs(
    [SCENARIOS_TAB, "Add or import", RUNS_TAB],
    key=TABS,
    bind="query-params",
)
with scenarios_tab:
    scenario_list(suite.stored, latest_live)
with add_tab:
    if may_edit:
        new_scenario()
    files_panel()
with runs_tab:
    runs_panel()
