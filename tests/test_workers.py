"""Worker processes never outlive the command that started them: kill -9 of a sweep's or
a calibration's main process takes its workers (and multiprocessing's resource
tracker) with it within 5 s, and Ctrl-C at any moment, once or twice, ends the command
without a hang, a traceback or a process left behind."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.workers import is_running, processes_below

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "adoption" / "us_household_technologies.csv"

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads /proc")

SWEEP = """
[experiment]
name = "workers"
base = "{root}/scenarios/baseline.toml"
replicates = 16
steps = 200
seed = 3
keep = ["share_*"]

[set]
"market.n_customers" = 3000

[factors.lam]
key = "customers.loss_aversion_mean"
values = [1.0, 3.0]
"""


def start(command: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), *command, "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,  # its own process group: Ctrl-C reaches all of it
        # a child inherits an ignored SIGINT (a test runner started in the background):
        # give it the default, so that Python turns the signal into KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for_workers(process: subprocess.Popen, count: int, timeout: float = 120) -> list[int]:
    """Wait until ``process`` has ``count`` processes below it that have started working."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        below = processes_below(process.pid)
        if len(below) >= count:
            time.sleep(2.0)  # the workers import, load the kernels and take runs
            return processes_below(process.pid)
        time.sleep(0.1)
    raise AssertionError(f"{process.args} started fewer than {count} processes")


def assert_gone(pids: list[int], within: float) -> float:
    began = time.monotonic()
    while any(is_running(p) for p in pids) and time.monotonic() - began < within:
        time.sleep(0.05)
    left = [p for p in pids if is_running(p)]
    for pid in left:  # do not leave them behind even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left, f"still running {within} s after their parent died: {left}"
    return time.monotonic() - began


def sweep_file(tmp_path: Path) -> Path:
    path = tmp_path / "workers.toml"
    path.write_text(SWEEP.format(root=ROOT))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("what", ["sweep", "calibrate"])
def test_kill_9_of_the_main_process_takes_its_workers(tmp_path: Path, what: str) -> None:
    """Two workers and the resource tracker: all gone within 5 s of kill -9 of the parent."""
    if what == "sweep":
        command = ["sweep", str(sweep_file(tmp_path)), "--workers", "2"]
    else:
        command = ["calibrate", str(DATA), "--series", "colour_tv", "--workers", "2"]
        command += ["--budget", "3000", "--population", "50"]
    process = start([*command, "--out", str(tmp_path / "out")])
    below = wait_for_workers(process, 3)  # two workers and the resource tracker
    assert process.poll() is None, "the command ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert_gone(below, within=5.0)


@pytest.mark.slow
def test_repeated_ctrl_c_never_hangs(tmp_path: Path) -> None:
    """Ctrl-C (the whole process group) or SIGINT to the main process only, once or twice
    in quick succession, at random moments from start-up to the last runs: every time the
    command ends within 60 s, prints no traceback and leaves no process behind."""
    path = sweep_file(tmp_path)
    rng = random.Random(19)  # fixed moments: the test is the same every time
    interrupted = 0
    for attempt in range(8):
        out = tmp_path / f"out{attempt}"  # from scratch: the sweep is still running
        process = start(["sweep", str(path), "--workers", "2", "--out", str(out)])
        time.sleep(rng.uniform(1.0, 6.0))  # from run.py's start-up (not Python's) onwards
        below = processes_below(process.pid)
        send = os.killpg if attempt % 2 else os.kill
        send(process.pid, signal.SIGINT)
        if rng.random() < 0.5:
            time.sleep(rng.uniform(0.0, 0.5))
            with contextlib.suppress(ProcessLookupError):  # it may have ended already
                send(process.pid, signal.SIGINT)
        try:
            _, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError(f"attempt {attempt}: the command hung after Ctrl-C") from None
        assert b"Traceback" not in err, err.decode()
        assert process.returncode in (0, 130), (attempt, err.decode())  # 0: it had finished
        interrupted += process.returncode == 130
        assert_gone(below, within=5.0)
    assert interrupted >= 6, "the signals should stop the sweep, not arrive after its end"


@pytest.mark.slow
def test_ctrl_c_while_workers_start_prints_no_traceback(tmp_path: Path) -> None:
    """A terminal's Ctrl-C reaches the whole process group, workers too, some still
    importing Python: they are spawned with SIGINT blocked, so none prints a traceback
    (before, 3 of 15 such interrupts did)."""
    path = sweep_file(tmp_path)
    rng = random.Random(7)
    for attempt in range(6):
        process = start(
            ["sweep", str(path), "--workers", "2", "--out", str(tmp_path / f"o{attempt}")]
        )
        began = time.monotonic()
        while len(processes_below(process.pid)) < 2 and time.monotonic() - began < 60:
            time.sleep(0.01)  # the resource tracker and the first worker exist
        time.sleep(rng.uniform(0.0, 1.5))
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=60)
        assert b"Traceback" not in err, err.decode()
        assert process.returncode in (0, 130)


def test_ctrl_c_is_deferred_to_the_next_check() -> None:
    """Inside DeferredInterrupt a SIGINT only sets a flag; check() raises it, and the
    previous handler is back afterwards. One pressed after the last check is not lost."""
    from sim.workers import DeferredInterrupt

    ignored = signal.signal(signal.SIGINT, signal.default_int_handler)  # a runner may ignore it
    try:
        before = signal.getsignal(signal.SIGINT)
        with DeferredInterrupt() as interrupt:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the handler runs between bytecodes: nothing is raised here
            with pytest.raises(KeyboardInterrupt):
                interrupt.check()
            interrupt.check()  # the flag is spent
        assert signal.getsignal(signal.SIGINT) is before
        with pytest.raises(KeyboardInterrupt), DeferredInterrupt():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        assert signal.getsignal(signal.SIGINT) is before
    finally:
        signal.signal(signal.SIGINT, ignored)


HALF_SENT = """
import struct, sys, time
from pathlib import Path

from sim.workers import terminate, worker_pool


def half_sent(marker):
    '''Send the first bytes of a result and hang, as a worker killed mid-send leaves it.'''
    frame = sys._getframe()
    while "result_queue" not in frame.f_locals:
        frame = frame.f_back
    frame.f_locals["result_queue"]._writer._send(struct.pack("!i", 1000) + b"partial")
    Path(marker).write_text("sent")
    time.sleep(600)


if __name__ == "__main__":
    marker = Path(sys.argv[1])
    pool = worker_pool(1)
    pool.submit(half_sent, str(marker))
    while not marker.exists():
        time.sleep(0.05)
    time.sleep(0.5)  # the pool's manager thread now waits for the other 993 bytes
    terminate(pool)
    print("terminated", flush=True)
"""


@pytest.mark.slow
def test_a_worker_killed_mid_result_does_not_hang_the_exit(tmp_path: Path) -> None:
    """The pool's manager thread reading a result whose sender is killed would wait for
    the rest forever (this process holds the pipe's other end), and the interpreter
    with it at exit: terminate() closes that end, and the script ends at once."""
    script = tmp_path / "half_sent.py"
    script.write_text(HALF_SENT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "marker")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0 and "terminated" in done.stdout, done.stderr
