"""The lessons' claims: measured (every variant on every seed), and kept per version of
the code.

Measuring every lesson over 100 seeds takes about 35 s of computing, too long to wait
for at every start of the classroom's server. So the claims are kept in
``results/lessons/claims/NAME-DIGEST.json``, where DIGEST fingerprints everything the
numbers depend on: the source of every module of the ``sim`` package (the model, the
lessons' settings and templates, this code), the seeds and the versions of the
packages (:func:`claims_digest`). Any change to any of them gives another digest, so
a kept file is used only by the very code that measured it; older files are removed.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..files import write_atomic
from ..paths import RESULTS
from ..progress import progress_bar
from ..provenance import package_versions
from ..workers import terminate, worker_pool
from .claims import SEEDS, LessonClaims, run_metrics
from .lessons import LESSONS, Lesson

__all__ = ["CACHE", "claims_digest", "lesson_claims", "measure"]

PACKAGE = Path(__file__).resolve().parents[1]
CACHE = RESULTS / "lessons" / "claims"


def _measure_chunk(name: str, key: str, seeds: Sequence[int]) -> list[dict[str, Any]]:
    """Runs of one lesson's variant on ``seeds`` (in a worker process: by name)."""
    lesson = LESSONS[name]
    changes = lesson.variant(key).changes
    return [run_metrics(lesson, changes, seed) for seed in seeds]


def measure(
    lessons: Iterable[Lesson],
    seeds: Sequence[int] = SEEDS,
    *,
    workers: int = 1,
    progress: Any = None,
) -> dict[str, LessonClaims]:
    """Every variant of every lesson on every seed: the lessons' claims, by lesson name.

    ``workers`` > 1 spreads the runs over that many processes (lessons are looked up by
    name there); each run depends only on its seed, so the result is the same.
    ``progress`` (a bar with ``update(n)``) counts runs.
    """
    lessons = list(lessons)
    jobs = [(lesson.name, v.key) for lesson in lessons for v in lesson.variants]
    chunks = max(1, min(len(seeds), 4 * workers))
    parts = [list(seeds[i::chunks]) for i in range(chunks)]
    results: dict[tuple[str, str], dict[int, dict[str, Any]]] = {job: {} for job in jobs}
    if workers <= 1:
        for job in jobs:
            for part in parts:
                for seed, run in zip(part, _measure_chunk(*job, part), strict=True):
                    results[job][seed] = run
                if progress is not None:
                    progress.update(len(part))
    else:
        pool = worker_pool(workers)
        try:
            futures = {
                pool.submit(_measure_chunk, *job, part): (job, part)
                for job in jobs
                for part in parts
            }
            for future in cf.as_completed(futures):
                job, part = futures[future]
                for seed, run in zip(part, future.result(), strict=True):
                    results[job][seed] = run
                if progress is not None:
                    progress.update(len(part))
        finally:
            terminate(pool)
    return {
        lesson.name: LessonClaims.from_runs(
            lesson,
            list(seeds),
            {v.key: [results[(lesson.name, v.key)][s] for s in seeds] for v in lesson.variants},
        )
        for lesson in lessons
    }


def claims_digest(package: Path = PACKAGE) -> str:
    """SHA-256 of every ``.py`` file of ``package`` (by relative path and content), the
    seeds and the package versions."""
    sha = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        sha.update(path.relative_to(package).as_posix().encode() + b"\0")
        sha.update(path.read_bytes() + b"\0")
    sha.update(json.dumps([list(SEEDS), package_versions()], sort_keys=True).encode())
    return sha.hexdigest()


def default_workers() -> int:
    """Processes to measure with: the machine's cores, at most 4."""
    return max(1, min(os.cpu_count() or 1, 4))


def lesson_claims(
    names: Iterable[str] | None = None,
    *,
    workers: int | None = None,
    refresh: bool = False,
    cache: Path | None = CACHE,
    quiet: bool = False,
) -> dict[str, LessonClaims]:
    """The claims of the lessons ``names`` (default: all), by name: kept ones where the
    code has not changed since (unless ``refresh``), the others measured now and kept.
    ``cache=None`` keeps nothing."""
    names = list(LESSONS if names is None else names)
    digest = claims_digest()[:20]
    found: dict[str, LessonClaims] = {}
    if cache is not None and not refresh:
        for name in names:
            path = cache / f"{name}-{digest}.json"
            try:
                found[name] = LessonClaims.from_json(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, KeyError, TypeError):
                continue
    missing = [LESSONS[name] for name in names if name not in found]
    if missing:
        runs = sum(len(lesson.variants) for lesson in missing) * len(SEEDS)
        if not quiet:
            print(
                f"Measuring the numbers of lesson {', '.join(m.name for m in missing)} over "
                f"{len(SEEDS)} seeds ({runs} runs; once for this version of the code)...",
                file=sys.stderr,
                flush=True,
            )
        with progress_bar(runs, "lesson runs", enabled=not quiet) as bar:
            fresh = measure(missing, SEEDS, workers=workers or default_workers(), progress=bar)
        found.update(fresh)
        if cache is not None:
            _keep(cache, digest, fresh)
    return {name: found[name] for name in names}


def _keep(cache: Path, digest: str, claims: dict[str, LessonClaims]) -> None:
    """Write the claims; remove the same lessons' files of other digests. A folder that
    cannot be written is no error: the claims are measured again next time."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
        for name, measured in claims.items():
            for old in cache.glob(f"{name}-*.json"):
                if old.name != f"{name}-{digest}.json":
                    old.unlink(missing_ok=True)
            data = json.dumps({"digest": digest, **measured.to_json()}).encode()
            write_atomic(cache / f"{name}-{digest}.json", data)
    except OSError:
        pass
