"""Hostile sweep over the CLI (issue 16): ~100 bad inputs, in process; counts tracebacks (an exception out
of ``vigil.cli.main``), silent accepts (exit 0) and rejections that are not one ``error:`` line.
Usage: ``python scripts/hostile_sweep.py WORKDIR``."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

from vigil.cli import main

EX = Path(__file__).resolve().parents[1] / "examples"
BAD_NUM = ["nan", "inf", "-inf", "1e400", "abc", ""]


def cases(w: Path) -> list[list[str]]:
    fly = ["fly", "notional-srbm-1stage", "--quiet"]
    ok = {"--lat": "34", "--lon": "36", "--azimuth": "180"}
    out = []
    for flag, bad in (
        [("--lat", v) for v in BAD_NUM + ["200", "-91"]]
        + [("--lon", v) for v in BAD_NUM + ["181", "-400"]]
        + [("--azimuth", v) for v in BAD_NUM + ["361", "-1"]]
    ):
        args = dict(ok, **{flag: bad})
        out.append(fly + [x for kv in args.items() for x in kv])
    for loft in ["-30", "nan", "inf", "91"]:
        out.append(fly + ["--lat", "0", "--lon", "0", "--azimuth", "10", "--loft", loft])
    cov = [
        "coverage",
        "--constellation",
        str(EX / "constellations" / "north.tle"),
        "--start",
        "2026-03-01T00:00:00Z",
    ]
    for flag, vals in [
        ("--hours", ["nan", "inf", "-1", "0"]),
        ("--step-s", ["nan", "0", "-60", "inf"]),
        ("--grid-deg", ["nan", "0", "-1", "1e-9"]),
        ("--min-elevation-deg", ["nan", "-91", "91"]),
    ]:
        out += [cov + [flag, v, "--quiet"] for v in vals]
    out.append(["coverage", "--constellation", str(w / "missing.tle"), "--quiet"])
    out.append(cov[:3] + ["--start", "yesterday", "--quiet"])
    u16 = w / "obs16.jsonl"
    u16.write_bytes('{"time": 1}\n'.encode("utf-16"))
    garbage = w / "garbage.yaml"
    garbage.write_bytes(b"\xff\xfe\x00: [unclosed")
    empty = w / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    listy = w / "list.yaml"
    listy.write_text("- 1\n- 2\n", encoding="utf-8")
    for f in [u16, garbage, empty, listy, w / "nope.yaml", w, Path("/proc/self/mem")]:
        out.append(["simulate", str(f), "--out", str(w / "o1")])
        out.append(["run", str(f), "--out", str(w / "o2")])
        out.append(["fuse", str(f), "--out", str(w / "o3.json")])
        out.append(["campaign", str(f), "--out", str(w / "o4"), "--workers", "1"])
        out.append(["audit", "verify", str(f), "--key", str(f)])
        out.append(["node", "--config", str(f)])
        out.append(["report", str(f), "--out", str(w / "r.html")])
    sc = str(EX / "scenarios" / "two-partner.yaml")
    for flag, v in [
        ("--seed", "-5"),
        ("--seed", "nan"),
        ("--out", "/proc/x"),
        ("--db", "mysql://x"),
        ("--db", "sqlite:///proc/x"),
        ("--bus", "http://x"),
    ]:
        out.append(["run", sc, "--out", str(w / "o5"), flag, v] if flag != "--out" else ["run", sc, flag, v])
    out.append(["keys", "generate", "--node", "North!", "--out", str(w / "k")])
    out.append(["keys", "generate", "--node", "north", "--out", "/proc/k"])
    return out


def main_sweep(w: Path) -> int:
    w.mkdir(parents=True, exist_ok=True)
    tb = silent = notone = 0
    all_cases = cases(w)
    for argv in all_cases:
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                rc = main(argv)
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else 1
        except BaseException as e:  # noqa: BLE001 - the sweep counts what escapes
            tb += 1
            print("TRACEBACK", argv, type(e).__name__, e)
            continue
        lines = [ln for ln in err.getvalue().splitlines() if ln.strip() and not ln.startswith("warning:")]
        if rc == 0:
            silent += 1
            print("ACCEPTED", argv)
        elif len(lines) != 1 or not lines[0].startswith("error: ") or "Traceback" in err.getvalue():
            notone += 1
            print("NOT ONE LINE", argv, rc, err.getvalue()[-300:])
    print(
        f"{len(all_cases)} bad inputs: {tb} tracebacks, {silent} silent accepts, {notone} not one error line"
    )
    return 1 if tb or silent or notone else 0


if __name__ == "__main__":
    sys.exit(main_sweep(Path(sys.argv[1])))
