"""Observed adoption data: the shipped series, the loader's checks, Bass fits, `run.py data`."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.calibration import (
    SHIPPED_DATA,
    fit_bass_offset,
    holdout_rmse,
    load_adoption,
    shipped_series,
)
from sim.calibration.bass import bass_share
from sim.errors import InputError

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str, name: str = "adoption.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def curve_csv(values: list[float], column: str = "share_adopted", start: int = 2000) -> str:
    rows = "".join(f"{start + i},{v}\n" for i, v in enumerate(values))
    return f"year,{column}\n{rows}"


# --- the shipped data --------------------------------------------------------------------


def test_shipped_file_has_ten_or_more_us_household_series_as_shares() -> None:
    data = shipped_series()
    assert data.path == SHIPPED_DATA
    assert SHIPPED_DATA.relative_to(ROOT) == Path("data/adoption/us_household_technologies.csv")
    assert len(data.series) >= 10
    assert {"colour_tv", "refrigerator", "washing_machine", "internet"} <= set(data.names)
    assert data.unit == "share" and "read as shares" in data.unit_note
    assert data.sha256 == hashlib.sha256(SHIPPED_DATA.read_bytes()).hexdigest()
    for series in data.series.values():
        assert len(series) >= 5, series.name
        assert np.all(np.diff(series.times) > 0), series.name
        assert series.shares.min() >= 0 and series.shares.max() <= 1, series.name
        assert series.source.startswith("OWID Technology Diffusion"), series.name
        assert not series.times.flags.writeable


def test_shipped_file_is_tidy_with_the_documented_columns() -> None:
    header = SHIPPED_DATA.read_text().splitlines()[0]
    assert header == "series,year,share_adopted,source"
    readme = (SHIPPED_DATA.parent / "README.md").read_text()
    for name in shipped_series().names:  # every shipped series is documented
        assert f"`{name}`" in readme


def test_the_series_kept_out_of_development_read_as_published() -> None:
    """data/adoption/other_technologies.csv: the 13 entities of the same OWID file left
    out of the shipped selection, documented in the README, percent / 100 exactly
    (OWID: Radial tires 1975 = 42.5, Landline 2014 = 65, RTGS adoption 1971 = 0.57)."""
    other = load_adoption(SHIPPED_DATA.parent / "other_technologies.csv")
    assert len(other.names) == 13 and not set(other.names) & set(shipped_series().names)
    readme = (SHIPPED_DATA.parent / "README.md").read_text()
    for name in other.names:
        assert f"`{name}`" in readme
    assert other.get("radial_tires").shares[3] == pytest.approx(0.425)
    assert other.get("landline").shares[-1] == pytest.approx(0.65)
    assert other.get("rtgs_central_banks").shares[1] == pytest.approx(0.0057)
    assert sum(len(other.get(name)) for name in other.names) == 424


def test_shipped_data_as_a_tidy_frame() -> None:
    frame = shipped_series().to_frame()
    assert list(frame.columns) == ["series", "time", "share_adopted", "source"]
    assert len(frame) == len(SHIPPED_DATA.read_text().splitlines()) - 1


def test_colour_tv_reads_as_published() -> None:
    """OWID publishes percent: Colour TV 1966 = 10, 1974 = 57, 2005 = 96."""
    tv = shipped_series().get("colour_tv")
    assert (tv.times[0], tv.times[-1], len(tv)) == (1966, 2005, 40)
    assert tv.shares[tv.times == 1974][0] == pytest.approx(0.57)
    assert tv.shares[0] == pytest.approx(0.10) and tv.shares[-1] == pytest.approx(0.96)


# --- reading a user's file ---------------------------------------------------------------


def test_percent_is_detected_divided_and_said(tmp_path: Path) -> None:
    data = load_adoption(write(tmp_path, curve_csv([5, 12, 30, 55, 70, 78], "adoption")))
    assert data.unit == "percent"
    assert data.unit_note == "adoption: largest value 78 > 1, read as percent and divided by 100"
    np.testing.assert_allclose(data.get().shares, [0.05, 0.12, 0.30, 0.55, 0.70, 0.78])


def test_shares_are_detected_and_kept(tmp_path: Path) -> None:
    data = load_adoption(write(tmp_path, curve_csv([0.05, 0.12, 0.3, 0.55, 1.0], "share")))
    assert data.unit == "share"
    assert data.unit_note == "share: largest value 1 <= 1, read as shares in [0, 1]"
    np.testing.assert_allclose(data.get().shares, [0.05, 0.12, 0.3, 0.55, 1.0])


def test_unit_given_overrides_detection(tmp_path: Path) -> None:
    """A product that never passed 1 % reads as shares unless the unit is said."""
    path = write(tmp_path, curve_csv([0.1, 0.2, 0.4, 0.6, 0.9], "percent"))
    data = load_adoption(path, unit="percent")
    assert data.unit == "percent" and "(--unit percent)" in data.unit_note
    np.testing.assert_allclose(data.get().shares, [0.001, 0.002, 0.004, 0.006, 0.009])


def test_owid_layout_is_read_without_naming_columns(tmp_path: Path) -> None:
    """OWID's own CSV: Entity, Year and a long value column whose name says 'Diffusion'."""
    rows = "".join(f"Colour TV,{1966 + i},{v}\n" for i, v in enumerate([10, 15, 21, 25, 31]))
    rows += "".join(f"Internet,{1993 + i},{v}\n" for i, v in enumerate([10, 11, 13, 16, 19, 25]))
    header = "Entity,Year,Technology Diffusion (Comin and Hobijn (2004) and others)\n"
    data = load_adoption(write(tmp_path, header + rows))
    assert (data.series_column, data.time_column) == ("Entity", "Year")
    assert data.adoption_column.startswith("Technology Diffusion")
    assert data.names == ["Colour TV", "Internet"] and data.unit == "percent"
    assert data.get("Internet").shares[-1] == pytest.approx(0.25)


def test_columns_can_be_named_and_series_chosen(tmp_path: Path) -> None:
    text = "product,when,what\n" + "".join(
        f"{k},{t},{v}\n" for k in "ab" for t, v in zip(range(5), [1, 2, 4, 8, 9], strict=True)
    )
    path = write(tmp_path, text)
    data = load_adoption(path, series="b", time_column="when", adoption_column="what")
    assert (data.series_column, data.time_column, data.adoption_column) == (
        "product",
        "when",
        "what",
    )
    assert data.names == ["b"] and data.unit == "percent"
    assert data.get().shares[-1] == pytest.approx(0.09)


def test_a_series_column_can_be_named(tmp_path: Path) -> None:
    text = "tech,year,share\n" + "".join(
        f"{k},{2000 + i},0.{i + 1}\n" for k in "xy" for i in range(5)
    )
    path = write(tmp_path, text)
    with pytest.raises(InputError, match="strictly increasing"):  # 'tech' is not a known name
        load_adoption(path)
    data = load_adoption(path, series_column="tech")
    assert data.names == ["x", "y"] and data.series_column == "tech"


def test_several_series_need_one_chosen_where_one_is_needed(tmp_path: Path) -> None:
    text = "series,year,share\n" + "".join(
        f"{s},{2000 + i},{0.1 * (i + 1)}\n" for s in ("tv", "radio") for i in range(5)
    )
    path = write(tmp_path, text)
    data = load_adoption(path)
    assert data.names == ["tv", "radio"]
    assert data.get("radio").name == "radio"
    with pytest.raises(InputError) as err:
        data.get()
    assert str(err.value) == (
        f"{path}: --series: the file holds 2 series: expected one chosen with --series, "
        "one of 'tv', 'radio'"
    )


def test_gaps_stay_gaps(tmp_path: Path) -> None:
    path = write(tmp_path, "year,share\n1950,0.1\n1960,0.3\n1961,0.4\n1975,0.7\n1990,0.8\n")
    np.testing.assert_array_equal(load_adoption(path).get().times, [1950, 1960, 1961, 1975, 1990])


# every bad input: (file text or None for no file, keyword arguments, parts of the message)
SERIES_AB = "series,year,share\n" + "".join(
    f"{s},{2000 + i},{0.1 * (i + 1):.1f}\n" for s in "ab" for i in range(5)
)
BAD = {
    "missing file": (None, {}, ["no such file", "expected a CSV file"]),
    "binary, not a CSV": (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", {}, ["not a text file (not UTF-8)"]),
    "empty file": ("", {}, ["empty file", "expected a CSV file"]),
    "ragged rows": ("year,share\n2000,0.1,7\n", {}, ["line 2: has 3 fields, the header has 2"]),
    "header only": ("year,share\n", {}, ["no data rows below the header", "at least 5"]),
    "no time column": (
        "yr,share\n2000,0.1\n",
        {},
        [
            "time column: none of the columns 'yr', 'share'",
            "expected one named year, time",
            "--time-column",
        ],
    ),
    "unknown time column given": (
        curve_csv([0.1, 0.2, 0.3, 0.4, 0.5]),
        {"time_column": "when"},
        ["--time-column = 'when'", "expected one of the file's columns 'year', 'share_adopted'"],
    ),
    "no adoption column": (
        "year,foo\n2000,0.1\n",
        {},
        [
            "adoption column: none of the columns 'year', 'foo'",
            "share_adopted",
            "--adoption-column",
        ],
    ),
    "two adoption candidates": (
        "year,share_a,adopted_pct\n2000,0.1,3\n",
        {},
        ["several columns could be it ('share_a', 'adopted_pct')", "--adoption-column"],
    ),
    "non-numeric share": (
        "year,share\n2000,0.1\n2001,abc\n",
        {},
        ["share (line 3) = 'abc'", "expected a number"],
    ),
    "NaN share": (
        "year,share\n2000,0.1\n2001,NaN\n",
        {},
        ["share (line 3) = 'NaN'", "expected a number"],
    ),
    "empty share": (
        "year,share\n2000,0.1\n2001,\n",
        {},
        ["share (line 3) = ''", "leave a gap out as a row"],
    ),
    "infinite share": (
        "year,share\n2000,0.1\n2001,inf\n",
        {},
        ["share (line 3) = 'inf'", "finite"],
    ),
    "date as time": (
        "year,share\n1999-01-01,0.1\n",
        {},
        ["year (line 2) = '1999-01-01'", "expected a number (a year or a period index"],
    ),
    "time repeated": (
        "year,share\n2000,0.1\n2001,0.2\n2001,0.3\n2003,0.4\n2004,0.5\n",
        {},
        ["year (line 4) = 2001", "expected a time after 2001 (line 3)", "strictly increasing"],
    ),
    "time decreasing": (
        "year,share\n2000,0.1\n2001,0.2\n1999,0.3\n2003,0.4\n2004,0.5\n",
        {},
        ["year (line 4) = 1999", "expected a time after 2001", "strictly increasing"],
    ),
    "share above 100": (
        "year,share\n2000,5\n2001,12\n2002,130\n",
        {},
        ["share (line 4) = 130", "expected a share in [0, 1] or a percent in [0, 100]"],
    ),
    "above 1 with unit share": (
        curve_csv([0.1, 0.2, 30, 40, 50]),
        {"unit": "share"},
        ["share_adopted (line 4) = 30", "expected a share <= 1 (--unit share)"],
    ),
    "a percent in a series of shares: that series blamed": (
        SERIES_AB.replace("b,2004,0.5", "b,2004,50"),
        {},
        ["share (line 11, series 'b') = 50", "a share like the rest of series 'b'", "mixed?"],
    ),
    "a series of shares beside one of percent": (
        SERIES_AB.replace("b,2003,0.4", "b,2003,40")
        .replace("b,2004,0.5", "b,2004,50")
        .replace("b,2000,0.1", "b,2000,10")
        .replace("b,2001,0.2", "b,2001,20")
        .replace("b,2002,0.3", "b,2002,30"),
        {},
        [
            "share (series 'a'): every value is <= 1 while series 'b' reaches 50",
            "one unit",
            "--unit",
        ],
    ),
    "a share just above 1": (
        curve_csv([0.1, 0.3, 0.6, 0.9, 1.02]),
        {},
        ["share_adopted (line 6) = 1.02", "expected a share <= 1", "not read as percent"],
    ),
    "times falling (newest first)": (
        "year,share_adopted\n2004,0.5\n2003,0.4\n2002,0.3\n2001,0.2\n2000,0.1\n",
        {},
        ["year (lines 2-6) = '2004, 2003 ... 2000'", "these fall", "sort the rows by time"],
    ),
    "percent falling (newest first) is not called mixed": (
        "year,share\n2004,60\n2003,50\n2002,40\n2001,0.5\n2000,0.2\n",
        {},
        ["year (lines 2-6)", "these fall"],
    ),
    "share mixed into percent": (
        curve_csv([5, 12, 30, 0.55, 70, 78]),
        {},
        ["share_adopted (line 5) = 0.55", "expected a percent like the rest", "--unit percent"],
    ),
    "negative share": (
        "year,share\n2000,0.1\n2001,-0.2\n",
        {},
        ["share (line 3) = -0.2", "expected a share >= 0"],
    ),
    "fewer than 5 points": (
        "year,share\n2000,0.1\n2001,0.2\n",
        {},
        ["series = 'adoption': expected at least 5 points, found 2"],
    ),
    "fewer than 5 in the chosen series": (
        SERIES_AB + "c,2000,0.1\n",
        {"series": "c"},
        ["series = 'c': expected at least 5 points, found 1"],
    ),
    "unknown series": (SERIES_AB, {"series": "tv"}, ["--series = 'tv': expected one of 'a', 'b'"]),
    "empty series name": (
        "series,year,share\n,2000,0.1\n",
        {},
        ["series (line 2) = ''", "expected a series name"],
    ),
    "unknown series column given": (
        SERIES_AB,
        {"series_column": "kind"},
        [
            "--series-column = 'kind'",
            "expected one of the file's columns 'series', 'year', 'share'",
        ],
    ),
    "unknown unit": (
        curve_csv([0.1, 0.2, 0.3, 0.4, 0.5]),
        {"unit": "fraction"},
        ["--unit = 'fraction'", "'share' or 'percent'"],
    ),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_one_line_naming_file_column_value_and_allowed(
    tmp_path: Path, case: str
) -> None:
    text, kwargs, parts = BAD[case]
    path = tmp_path / "adoption.csv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    elif text is not None:
        path.write_text(text)
    with pytest.raises(InputError) as err:
        load_adoption(path, **kwargs)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert err.value.source == str(path)
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory: expected a CSV file"):
        load_adoption(tmp_path)


# --- Bass fits ---------------------------------------------------------------------------

# Noiseless curves from the fitted model itself, entering the data mid-way (10-15 %),
# one yearly and one with gaps. The least-squares minimum is then the truth with zero
# residual, so the tolerances only absorb the solver's termination (ftol = xtol = 1e-12):
# 1e-4 relative on p, q, m and 1e-3 periods on t0 hold by orders of magnitude (the fits
# land within ~1e-10); a fit stuck in a local minimum or on the flat p-t0 valley misses
# them by far (a 1 % error in p there moves t0 by about a period).
SYNTHETIC = {
    "yearly, starts at 14 %": ((0.03, 0.4, 0.9, -3.0), np.arange(1960.0, 1990.0)),
    "gaps, starts at 15 %": (
        (0.01, 0.5, 0.8, -5.0),
        np.array([1950, 1951, 1953, 1954, 1958, 1960, 1961, 1965, 1970, 1980], dtype=float),
    ),
}


@pytest.mark.parametrize("case", SYNTHETIC)
def test_bass_fit_recovers_p_q_m_and_offset_of_a_curve_seen_from_mid_way(case: str) -> None:
    (p, q, m, t0), times = SYNTHETIC[case]
    shares = bass_share(times - times[0], p, q, m, t0)
    assert 0.1 <= shares[0] <= 0.2  # the data start mid-way, not at launch
    fit = fit_bass_offset(times, shares)
    assert fit.converged and fit.at_bounds == ()
    assert fit.p == pytest.approx(p, rel=1e-4)
    assert fit.q == pytest.approx(q, rel=1e-4)
    assert fit.m == pytest.approx(m, rel=1e-4)
    assert fit.t0 == pytest.approx(t0, abs=1e-3)
    assert fit.launch == pytest.approx(times[0] + t0, abs=1e-3)
    assert fit.rmse < 1e-8
    np.testing.assert_allclose(fit.predict(times), shares, atol=1e-8)
    assert fit.predict(times[0] + t0 - 1.0) == 0.0  # nothing before the launch
    assert fit.to_dict()["launch"] == fit.launch and fit.to_dict()["n_points"] == times.size


def test_bass_fits_of_every_shipped_series_are_finite_and_converged() -> None:
    for series in shipped_series().series.values():
        fit = fit_bass_offset(series.times, series.shares)
        values = [fit.p, fit.q, fit.m, fit.t0, fit.t_half, fit.rmse]
        assert np.all(np.isfinite(values)), series.name
        assert fit.converged, (series.name, fit.message)
        assert 0 < fit.m <= 1 and fit.rmse < 0.08, (series.name, fit)


def test_bass_fit_jacobian_matches_finite_differences() -> None:
    """The solver's hand-derived Jacobian in (p, q, m, t_half), before and after launch."""
    from scipy.optimize import approx_fprime

    from sim.calibration.bass import _jacobian, _time_to_reach

    elapsed = np.arange(-5.0, 40.0)
    for theta in ([0.02, 0.3, 0.9, 5.0], [0.001, 0.5, 0.7, 10.0], [0.1, 0.0, 0.5, 3.0]):
        theta = np.array(theta)

        def share(th: np.ndarray, i: int) -> float:
            return float(bass_share(elapsed[i], *th[:3], th[3] - _time_to_reach(0.5, *th[:2])))

        numeric = np.array([approx_fprime(theta, share, 1e-8, i) for i in range(elapsed.size)])
        np.testing.assert_allclose(_jacobian(theta, elapsed), numeric, atol=1e-6)


def test_bass_fits_of_random_noisy_curves_are_finite() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        times = np.sort(rng.choice(np.arange(100.0), size=int(rng.integers(5, 60)), replace=False))
        p, q, m, t0 = (
            10 ** rng.uniform(-3, -1),
            rng.uniform(0.05, 1),
            rng.uniform(0.2, 1),
            rng.uniform(-30, 5),
        )
        shares = np.clip(
            bass_share(times - times[0], p, q, m, t0) + rng.normal(0, 0.02, times.size), 0, 1
        )
        fit = fit_bass_offset(times, shares)
        assert np.all(np.isfinite([fit.p, fit.q, fit.m, fit.t0, fit.t_half, fit.rmse]))
        assert fit.rmse < 0.05 and np.all(np.isfinite(fit.predict(times)))


def test_bass_fit_of_a_flat_series_is_finite() -> None:
    fit = fit_bass_offset(np.arange(6.0), np.zeros(6))
    assert np.all(np.isfinite([fit.p, fit.q, fit.m, fit.t0, fit.rmse]))
    assert fit.rmse < 1e-3


def test_holdout_fits_all_but_the_last_k_and_scores_both_parts() -> None:
    tv = shipped_series().get("colour_tv")
    score = holdout_rmse(tv.times, tv.shares, 10)
    rmse_in, rmse_out, fit = score
    assert fit.n_points == len(tv) - 10
    reference = fit_bass_offset(tv.times[:-10], tv.shares[:-10])
    assert fit.p == pytest.approx(reference.p) and rmse_in == pytest.approx(reference.rmse)
    errors = fit.predict(tv.times[-10:]) - tv.shares[-10:]
    assert rmse_out == pytest.approx(float(np.sqrt(np.mean(errors**2))))
    assert np.isfinite(rmse_out) and rmse_in < 0.03


@pytest.mark.parametrize("k", [0, -1, 36, 2.5, True])
def test_holdout_k_outside_what_the_series_allows_is_an_input_error(k: object) -> None:
    tv = shipped_series().get("colour_tv")  # 40 points: k from 1 to 35
    with pytest.raises(InputError) as err:
        holdout_rmse(tv.times, tv.shares, k)  # type: ignore[arg-type]
    assert str(err.value) == (
        f"--holdout = {k!r}: expected an integer >= 1 and <= 35 "
        "(the series has 40 points and a fit needs 5)"
    )


# --- the command line --------------------------------------------------------------------


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_run_py_data_lists_the_shipped_series() -> None:
    done = run_cli("data")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "shipped data: data/adoption/us_household_technologies.csv" in out
    assert "read as shares" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    for name in shipped_series().names:
        assert name in lines
    assert lines["colour_tv"].split()[1:5] == ["1966-2005", "40", "0.100", "0.960"]
    assert "OWID Technology Diffusion - Comin and Hobijn (2004) and others: Colour TV" in out


def test_run_py_data_describes_a_users_file_and_its_unit(tmp_path: Path) -> None:
    path = write(tmp_path, curve_csv([5, 12, 30, 55, 70, 78], "adoption"), "mine.csv")
    done = run_cli("data", str(path), "--bass")
    assert done.returncode == 0, done.stderr
    assert "adoption: largest value 78 > 1, read as percent and divided by 100" in done.stdout
    assert "mine" in done.stdout and "2000-2005" in done.stdout and "bass p" in done.stdout


def test_run_py_data_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, "year,share\n2000,0.1\n2001,abc\n", "bad.csv")
    done = run_cli("data", str(path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"error: {path}: share (line 3) = 'abc': expected a number\n"


def test_run_py_data_unknown_series_through_main(capsys: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, str(ROOT))
    try:
        import run
    finally:
        sys.path.remove(str(ROOT))
    assert run.main(["data", "--series", "tv"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "--series = 'tv': expected one of 'cable_tv'" in err and "'washing_machine'" in err
