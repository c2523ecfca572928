"""Every benchmark of the project, one after the other, in one report.

Runs each `benchmarks/NAME.py` (files starting with `_` and this one excepted) as a
child process, passing `--quick` on when given, and takes the last JSON object each one
prints on stdout. Prints a table (benchmark, key figures, seconds), then one JSON
document: {"benchmarks": {name: figures}, "failed": [{name, returncode, stderr_tail}],
"seconds": total}. A benchmark that fails is reported and the others still run; the
exit status is 1 if any failed.

    dosar bench all [--quick] [--only inbox,search] [--skip ocr] [--timeout 3600]
                    [--pass "inbox=--tasks 2000 --backend sqlite"]
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# The figures worth a glance in the table; the JSON document keeps them all.
KEY_FIGURES = {
    "engine": ["http_complete_task_per_s", "raw_engine_tasks_per_s", "ratio_http_to_raw",
               "history_growth_ratio"],
    "engine_http": ["http_complete_task_per_s", "p95_ms", "clients", "errors"],
    "inbox": ["tasks", "sqlite_p95_ms", "mariadb_p95_ms", "sqlite_load_s", "mariadb_load_s"],
    "registry": ["registrations_per_s", "gaps", "duplicates", "errors"],
    "search": ["documents", "query_p50_ms", "query_p95_ms", "index_docs_per_s"],
    "ocr": ["tesseract_raw_s", "pipeline_s", "overhead_ratio"],
    "crash": ["kills", "gaps", "duplicates", "lost_tasks", "jobs_lost", "timers_missed"],
    "bpmn_corpus": ["files", "deployed", "refused_with_message", "crashed",
                    "ran_to_completion", "stuck", "skipped"],
}
OBJECT_START = re.compile(r"(?m)^\{")


def discover() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.py")
                  if not p.stem.startswith("_") and p.stem != "all")


def last_json(stdout: str) -> dict | None:
    """The last top-level JSON object in the output (one line or indented)."""
    decoder = json.JSONDecoder()
    for match in reversed(list(OBJECT_START.finditer(stdout))):
        try:
            found, _end = decoder.raw_decode(stdout, match.start())
        except ValueError:
            continue
        if isinstance(found, dict):
            return found
    return None


def key_figures(name: str, figures: dict) -> dict:
    wanted = KEY_FIGURES.get(name)
    if wanted is None:      # a benchmark added later: its first few plain figures
        wanted = [k for k, v in figures.items()
                  if isinstance(v, (int, float, bool)) and not isinstance(v, bool)][:4]
    return {k: figures[k] for k in wanted if k in figures}


def run_one(name: str, quick: bool, timeout: float,
            extra: list[str]) -> tuple[dict | None, dict | None, float]:
    """(figures, failure, seconds) of one benchmark."""
    command = [sys.executable, str(HERE / f"{name}.py"), *(["--quick"] if quick else []), *extra]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    start = time.perf_counter()
    try:
        run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired as err:
        tail = (err.stderr or b"")[-2000:]
        return None, {"name": name, "returncode": None,
                      "stderr_tail": f"timed out after {timeout:.0f} s\n"
                                     + (tail.decode(errors="replace") if isinstance(tail, bytes)
                                        else tail)}, time.perf_counter() - start
    seconds = time.perf_counter() - start
    figures = last_json(run.stdout)
    if run.returncode != 0 or figures is None:
        tail = (run.stderr or "")[-2000:] or (run.stdout or "")[-2000:]
        if figures is None and run.returncode == 0:
            tail = "no JSON object on stdout\n" + tail
        return figures, {"name": name, "returncode": run.returncode,
                         "stderr_tail": tail}, seconds
    return figures, None, seconds


def table(rows: list[tuple[str, str, str]]) -> str:
    header = ("benchmark", "key figures", "seconds")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(tuple("-" * w for w in widths)),
                      *(line(r) for r in rows)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="each benchmark's quick run")
    parser.add_argument("--only", help="comma-separated benchmarks to run (default: all)")
    parser.add_argument("--skip", help="comma-separated benchmarks to leave out")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per benchmark")
    parser.add_argument("--pass", dest="passed", action="append", default=[],
                        metavar="NAME=ARGS", help="more arguments for one benchmark")
    args = parser.parse_args()
    names = discover()
    extra = {}
    for item in args.passed:
        name, _, rest = item.partition("=")
        extra.setdefault(name.strip(), []).extend(shlex.split(rest))
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in names]
        if unknown:
            parser.error(f"unknown benchmark(s): {', '.join(unknown)}; "
                         f"available: {', '.join(names)}")
        names = [n for n in names if n in wanted]
    if args.skip:
        skipped = {n.strip() for n in args.skip.split(",")}
        names = [n for n in names if n not in skipped]

    started = time.perf_counter()
    results, failed, rows = {}, [], []
    for name in names:
        print(f"… {name}", file=sys.stderr, flush=True)
        figures, failure, seconds = run_one(name, args.quick, args.timeout, extra.get(name, []))
        if figures is not None:
            results[name] = figures
        if failure is not None:
            failed.append(failure)
            print(f"{name} FAILED (exit {failure['returncode']}):\n{failure['stderr_tail']}",
                  file=sys.stderr, flush=True)
        shown = key_figures(name, figures or {})
        summary = ", ".join(f"{k}={v}" for k, v in shown.items()) or "—"
        rows.append((name + (" (FAILED)" if failure else ""), summary, f"{seconds:.1f}"))
    print(table(rows))
    print(json.dumps({"benchmarks": results, "failed": failed,
                      "seconds": round(time.perf_counter() - started, 1),
                      "quick": args.quick}, ensure_ascii=False))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
