"""`.venv/bin/dg dev -w workspace.yaml` (what `make dev` runs, without an activated venv)
serves the asset graph: a real webserver on loopback, asked over GraphQL."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT

pytestmark = [pytest.mark.xdist_group("dagster_ui"), pytest.mark.slow]

QUERY = """{ assetNodes { assetKey { path } groupName hasAssetChecks isPartitioned }
             repositoriesOrError { ... on RepositoryConnection { nodes {
               schedules { name cronSchedule } sensors { name } } } }
             workspaceOrError { ... on Workspace { locationEntries {
               name locationOrLoadError { __typename } } } } }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ask(port: int) -> dict | None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": QUERY}).encode(),
        headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)["data"]
    except OSError:
        return None


def test_dg_dev_serves_the_asset_graph(tmp_path):
    port = _free_port()
    venv_bin = Path(sys.executable).parent
    # PATH without the venv, as when someone runs .venv/bin/dg from a plain shell
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if Path(p) != venv_bin)
    env = {**os.environ, "PATH": path, "DAGSTER_HOME": str(tmp_path)}
    env.pop("VIRTUAL_ENV", None)
    log = open(tmp_path / "dg.log", "w")
    server = subprocess.Popen(
        [str(venv_bin / "dg"), "dev", "-w", "workspace.yaml", "-p", str(port)],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        data = None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            data = _ask(port)
            entries = (data or {}).get("workspaceOrError", {}).get("locationEntries") or []
            loaded = [e for e in entries if e["locationOrLoadError"]]
            if loaded:
                break
            time.sleep(3)
        assert data, (tmp_path / "dg.log").read_text()[-3000:]
        [entry] = data["workspaceOrError"]["locationEntries"]
        assert entry["name"] == "billing"
        assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", \
            (tmp_path / "dg.log").read_text()[-3000:]
        data = _ask(port)
        groups = {node["groupName"] for node in data["assetNodes"]}
        assert {"inputs", "staging", "intermediate", "marts", "documents"} <= groups
        keys = {"/".join(node["assetKey"]["path"]) for node in data["assetNodes"]}
        assert {"catalog/plans", "landing/events", "invoices", "fees",
                "invoice_documents"} <= keys
        assert any(node["hasAssetChecks"] for node in data["assetNodes"]
                   if node["assetKey"]["path"] == ["invoices"])
        # the close is partitioned by billing day, with its daily schedule and its sensor
        assert all(node["isPartitioned"] for node in data["assetNodes"]
                   if node["groupName"] != "reference"), [
            node["assetKey"] for node in data["assetNodes"] if not node["isPartitioned"]]
        [repository] = data["repositoriesOrError"]["nodes"]
        assert repository["schedules"] == [{"name": "daily_close", "cronSchedule": "0 12 * * *"}]
        assert repository["sensors"] == [{"name": "new_event_files"}]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
