"""The same 4-variant batch on Dask: a LocalCluster, and a real ``dask scheduler`` with two
``dask worker`` processes on loopback, started and torn down by the test."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from backprop_anim.batch import load_batch
from backprop_anim.cli import main

pytest.importorskip("distributed", reason="the dask extra is not installed")

FIXTURES = Path(__file__).parent / "batch_fixtures"
DASK = Path(sys.executable).with_name("dask")


def batch_cli(*args: str) -> Result:
    return CliRunner().invoke(main, ["batch", *args], catch_exceptions=False)


def records(out: Path) -> dict[str, dict]:
    m = json.loads((out / "manifest.json").read_text())
    return {r["name"]: r for r in m["variants"]}


def outcome(out: Path) -> dict[str, tuple]:
    """What must not depend on where a variant rendered."""
    return {
        n: (r["hash"], r["status"], r["error"], r["final_loss"], r["duration"], r["files"])
        for n, r in records(out).items()
    }


@pytest.fixture(scope="module", autouse=True)
def fresh_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Renders here start cold: no Manim cache from earlier runs (also for workers)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BACKPROP_ANIM_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, list[Path]]]:
    """A scheduler and two single-threaded workers on 127.0.0.1, each worker with its own
    temporary folder (as if on another machine's disk)."""
    procs: list[subprocess.Popen] = []
    scheduler_file = tmp_path / "scheduler.json"
    logs = tmp_path / "logs"
    logs.mkdir()
    worker_tmps = [tmp_path / f"worker{i}" for i in range(2)]
    try:
        procs.append(
            subprocess.Popen(
                [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0",
                 "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                stdout=(logs / "scheduler.log").open("w"),
                stderr=subprocess.STDOUT,
            )
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not (scheduler_file.exists() and scheduler_file.read_text().strip()):
            assert time.monotonic() < deadline, "the Dask scheduler did not start"
            assert procs[0].poll() is None, (logs / "scheduler.log").read_text()
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for i, wtmp in enumerate(worker_tmps):
            wtmp.mkdir()
            procs.append(
                subprocess.Popen(
                    [str(DASK), "worker", address, "--nthreads", "1", "--nworkers", "1",
                     "--host", "127.0.0.1", "--no-dashboard", "--name", f"worker{i}",
                     "--local-directory", str(wtmp / "dask")],
                    cwd=wtmp,
                    env={**os.environ, "TMPDIR": str(wtmp)},
                    stdout=(logs / f"worker{i}.log").open("w"),
                    stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=90)
        yield address, worker_tmps
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_dask_local_cluster_and_real_workers_agree(
    tmp_path: Path, cluster: tuple[str, list[Path]]
) -> None:
    address, worker_tmps = cluster
    folder = tmp_path / "sweep"
    shutil.copytree(FIXTURES, folder)
    sweep = str(folder / "sweep.yaml")
    expected_hash = {v.name: v.hash for v in load_batch(sweep).variants}

    local = folder / "out-local"
    ran = batch_cli(sweep, "--scheduler", "local", "-j", "2", "-o", str(local))
    assert ran.exit_code == 1, ran.output
    assert (
        ran.stdout.splitlines()[0] == "batch tiny-sweep: 3 rendered, 0 up to date, 1 failed (of 4)"
    )

    remote = folder / "out-remote"
    ran = batch_cli(sweep, "--scheduler", address, "-o", str(remote))
    assert ran.exit_code == 1, ran.output
    assert (
        ran.stdout.splitlines()[0] == "batch tiny-sweep: 3 rendered, 0 up to date, 1 failed (of 4)"
    )

    assert outcome(local) == outcome(remote)
    recs = records(remote)
    assert {n: r["hash"] for n, r in recs.items()} == expected_hash
    assert {n: r["status"] for n, r in recs.items()} == {
        "lr-0.05__act-sigmoid": "ok",
        "lr-0.5__act-tanh": "ok",
        "relu-hidden": "ok",
        "explode": "failed",
    }
    assert recs["explode"]["error"].startswith("training diverged at step ")
    for out in (local, remote):
        for rec in records(out).values():
            assert all((out / f).is_file() for f in rec["files"])
        assert not [p.name for p in out.iterdir() if p.name.startswith(".")]

    # The renders really ran on the two workers, and came back over the network: the
    # workers' own temporary folders hold nothing afterwards.
    workers = {r["worker"] for r in recs.values() if r["status"] == "ok"}
    assert len(workers) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in workers)
    for wtmp in worker_tmps:
        assert not list(wtmp.glob("backprop-anim-batch-*"))

    # Resume works the same through Dask: nothing to render the second time.
    again = batch_cli(sweep, "--scheduler", address, "-o", str(remote))
    assert again.stdout.splitlines()[0] == (
        "batch tiny-sweep: 0 rendered, 3 up to date, 1 failed (of 4)"
    )


def test_unreachable_scheduler_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backprop_anim.batch import dask_runner

    monkeypatch.setattr(dask_runner, "CONNECT_TIMEOUT", "2s")  # the default waits 10 s
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "out"
    ran = CliRunner().invoke(
        main, ["batch", str(FIXTURES / "sweep.yaml"), "--scheduler", f"tcp://127.0.0.1:{port}",
               "-o", str(out)],
    )  # fmt: skip
    assert ran.exit_code == 2
    assert ran.output.startswith(
        f"Error: --scheduler: cannot reach the Dask scheduler at tcp://127.0.0.1:{port} ("
    )
    assert ran.output.rstrip().endswith("is 'dask scheduler' running there? (see docs/batch.md)")
    assert not out.exists()
