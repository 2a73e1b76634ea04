"""Measure handouts against plain WeasyPrint on synthetic leaflets, in one run.

    python benchmarks/bench.py                 # 100 articles, all cores
    python benchmarks/bench.py -n 5            # a smoke run (CI does this)
    python benchmarks/bench.py --big-pack 500  # also: peak memory of a 500-leaflet pack
    python benchmarks/bench.py --json results.json

Every figure is measured in this run on this machine, and targets are ratios
against a baseline measured in the same run, so a busy or slow machine moves
both sides. Each build runs in its own process, as a user would run it.

Baseline: the same leaflets' HTML, rendered one after another in one process
by plain ``weasyprint.HTML(...).write_pdf()`` calls with the same stylesheet
and the same PDF standard (tagged PDF/UA-1) — the floor that handouts adds
its work to.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

WORDS = (
    "you your nurse doctor wound dressing medicine tablet pain swelling skin wash hands "
    "clean dry water rest walk eat drink sleep day night week hospital ward home call "
    "help if when after before take keep change check ask team appointment follow-up "
    "signs infection red warm fever temperature bleeding breathing chest leg arm back "
    "stitches bath shower carefully slowly gently every two three hours morning evening"
).split()


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 16))]
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 5)))


def markdown_body(rng: random.Random) -> str:
    """About two A4 pages at 14 pt: sections, a list and a table."""
    parts = [paragraph(rng)]
    for section in range(4):
        parts.append(f"## Section {section + 1}: {sentence(rng)[:-1]}")
        parts.extend(paragraph(rng) for _ in range(2))
        if section == 1:
            parts.append("\n".join(f"- {sentence(rng)}" for _ in range(4)))
        if section == 2:
            rows = "\n".join(f"| {sentence(rng)[:30]} | {sentence(rng)[:40]} |" for _ in range(3))
            parts.append(f"| What you notice | What to do |\n|---|---|\n{rows}")
    return "\n\n".join(parts)


def make_workspace(root: Path, count: int, seed: int = 1) -> Path:
    """A workspace of ``count`` articles in all three shapes, like a trust's library."""
    rng = random.Random(seed)
    (root / "content").mkdir(parents=True)
    shutil.copytree(REPO / "assets", root / "assets")
    (root / "handouts.yaml").write_text(
        textwrap.dedent("""\
            organisation: {name: Benchmark Hospital, department: Surgery, phone: 01632 960 000,
                           website: www.bench.example, logo: assets/logo.svg}
            sources: {QuickTakes: {url: https://quicktakes.io}}
        """)
    )
    for number in range(count):
        slug = f"leaflet-{number:04d}"
        title = f"{sentence(rng)[:-1]} ({number})"
        body = markdown_body(rng)
        shape = number % 3
        if shape == 0:
            text = (
                f'---\ntitle: "{title}"\nauthor: Nursing team\ndate: 2025-06-01\n'
                f"source: Benchmark Hospital\n---\n\n{body}\n"
            )
            (root / "content" / f"{slug}.md").write_text(text)
        elif shape == 1:
            answer = body.replace("\n", "\\n")
            text = (
                f"---\ntitle: >-\n    {title}\ndate: 2025-06-01\n"
                "seo:\n  title: QuickTakes | Medicine\n"
                f"author: QuickTakes\nanswer: >-\n    {answer}\nurl: /learn/{slug}\n---\n\n&nbsp;\n"
            )
            (root / "content" / f"{slug}.txt").write_text(text)
        else:
            plain = body.replace("## ", "").replace("- ", "• ")
            plain = "\n".join(line for line in plain.splitlines() if not line.startswith("|"))
            text = f"{title}\n\nJun 1, 2025 Source: Health Site\nDr. Ada Lovelace\n{plain}\n"
            (root / "content" / f"{slug}.txt").write_text(text)
    return root


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, str]:
    """Run a command in a fresh process; return wall seconds and its stdout."""
    started = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"benchmark step failed: {' '.join(args)}\n{done.stdout}\n{done.stderr}")
    return seconds, done.stdout


def handouts(*args: str) -> list[str]:
    return [sys.executable, "-m", "handouts", *args]


BASELINE = """
import json, sys, time
from pathlib import Path
from handouts import load_config, read_article
from handouts.render import Renderer, find_template
config = load_config(sys.argv[1])
renderer = Renderer(config)
template = find_template("leaflet", config)
leaflets = [renderer.render(read_article(p, config), template)
            for p in sorted((config.workspace / "content").iterdir())]
import weasyprint
css = [weasyprint.CSS(filename=str(s)) for s in template.stylesheets]
started = time.perf_counter()
for leaflet in leaflets:
    weasyprint.HTML(string=leaflet.html, base_url=leaflet.base_url).write_pdf(
        stylesheets=css, pdf_variant=config.pdf_variant)
print(json.dumps({"seconds": time.perf_counter() - started}))
"""

PACK_TIMING = """
import json, sys
from handouts import build, load_config
result = build(load_config(sys.argv[1]), jobs=int(sys.argv[2]))
print(json.dumps({p.name: p.seconds for p in result.packs}))
"""


def watch_rebuilds(ws: Path, jobs: int, edits: int = 5) -> list[float]:
    """Seconds from saving an article to ``handouts watch`` reporting the rebuilt leaflet and pack.

    Measured as an editor sees it: file-change polling included. The watch is
    given a moment after starting, as a person would take before their first save.
    """
    watcher = subprocess.Popen(
        handouts("watch", "-j", str(jobs)),
        cwd=ws,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(x) for x in watcher.stdout or ()], daemon=True
    ).start()

    def next_line(prefix: str) -> str:
        while True:
            line = lines.get(timeout=120)
            if line.startswith(prefix):
                return line

    try:
        next_line("Watching")
        time.sleep(2)
        seconds = []
        article = sorted((ws / "content").glob("*.md"))[1]
        for edit in range(edits):
            article.write_text(article.read_text() + f"\nEdited at {time.time()} ({edit}).\n")
            started = time.perf_counter()
            built = next_line("Built")
            seconds.append(time.perf_counter() - started)
            if "1 rendered" not in built:
                sys.exit(f"benchmark step failed: watch rebuilt {built!r}")
            time.sleep(1)
    finally:
        watcher.send_signal(signal.SIGINT)
        try:
            watcher.wait(timeout=30)
        except subprocess.TimeoutExpired:
            watcher.kill()
            sys.exit("benchmark step failed: handouts watch did not stop on Ctrl-C")
    return seconds


def peak_rss_mb() -> float:
    """Peak resident memory of the largest finished child process so far (Linux: KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def measure(count: int, jobs: int, big_pack: int | None) -> dict[str, float | int]:
    results: dict[str, float | int] = {"articles": count, "jobs": jobs}
    with tempfile.TemporaryDirectory(prefix="handouts-bench-") as temporary:
        base = Path(temporary)
        ws = make_workspace(base / "ws", count)

        seconds, out = run([sys.executable, "-c", BASELINE, str(ws)], cwd=base)
        baseline = json.loads(out)["seconds"]
        results["baseline_leaflets_per_s"] = count / baseline

        for label, job_count in (("cold_1_job", 1), ("cold_all_cores", jobs)):
            shutil.rmtree(ws / "output", ignore_errors=True)
            seconds, _ = run(handouts("build", "-q", "--no-pack", "-j", str(job_count)), ws)
            results[f"{label}_s"] = seconds
            results[f"{label}_leaflets_per_s"] = count / seconds
        results["speedup_all_cores_vs_baseline"] = (
            results["cold_all_cores_leaflets_per_s"] / results["baseline_leaflets_per_s"]
        )

        # The full cold build, with the pack of every article: through the library
        # API, in a process of its own, so that it can say how long the pack took.
        shutil.rmtree(ws / "output", ignore_errors=True)
        cold, out = run([sys.executable, "-c", PACK_TIMING, str(ws), str(jobs)], cwd=base)
        results["cold_build_with_pack_s"] = cold
        results["cold_build_peak_rss_mb"] = peak_rss_mb()
        assembly = json.loads(out)["leaflet-pack"]
        results["pack_assembly_s"] = assembly
        results["pack_assembly_vs_cold"] = assembly / cold

        seconds, _ = run(handouts("build", "-q", "-j", str(jobs)), ws)
        results["rebuild_no_change_s"] = seconds

        changed = sorted((ws / "content").glob("*.md"))[0]
        changed.write_text(changed.read_text() + "\nOne more sentence, added.\n")
        seconds, _ = run(handouts("build", "-q", "-j", str(jobs)), ws)
        results["rebuild_one_changed_s"] = seconds
        results["rebuild_one_changed_vs_cold"] = seconds / cold

        edits = watch_rebuilds(ws, jobs)
        results["watch_one_changed_s"] = statistics.median(edits)
        results["watch_one_changed_vs_cold"] = statistics.median(edits) / cold

        # A new print date remakes the pack alone, from the reused leaflets; this
        # includes starting a renderer for its cover, as nothing else needs one.
        env = {**os.environ, "SOURCE_DATE_EPOCH": "1900000000"}
        _, out = run([sys.executable, "-c", PACK_TIMING, str(ws), str(jobs)], cwd=base, env=env)
        results["pack_remade_alone_s"] = json.loads(out)["leaflet-pack"]

        output = ws / "output"
        pack = (output / "leaflet-pack.pdf").stat().st_size
        leaflets = sum(p.stat().st_size for p in output.glob("leaflet-0*.pdf"))
        results["pack_bytes"] = pack
        results["leaflets_bytes"] = leaflets
        results["pack_vs_leaflets_size"] = pack / leaflets

        if big_pack:
            big = make_workspace(base / "big", big_pack, seed=2)
            run(handouts("build", "-q", "--no-pack", "-j", str(jobs)), big)
            before = peak_rss_mb()
            _, out = run([sys.executable, "-c", PACK_TIMING, str(big), str(jobs)], cwd=base)
            # ru_maxrss is a high-water mark over all children: it only says
            # something about the pack step if that step set a new maximum.
            results[f"pack_{big_pack}_assembly_s"] = json.loads(out)["leaflet-pack"]
            results[f"pack_{big_pack}_peak_rss_mb_at_most"] = max(before, peak_rss_mb())
    return results


TARGETS = (
    ("speedup_all_cores_vs_baseline", ">=", 1.7, "cold build, all cores, vs plain WeasyPrint"),
    ("rebuild_no_change_s", "<", 2.0, "rebuild with no change (s)"),
    ("watch_one_changed_vs_cold", "<", 0.10, "one article changed (handouts watch), vs cold build"),
    ("pack_assembly_vs_cold", "<", 0.10, "pack assembly in the cold build, vs cold build"),
    ("pack_vs_leaflets_size", "<=", 1.0, "pack size, vs its leaflets together"),
)


def report(results: dict[str, float | int]) -> str:
    lines = ["| measure | value |", "|---|---|"]
    for key, value in results.items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        lines.append(f"| {key} | {shown} |")
    lines += ["", "| target | measured | goal | met |", "|---|---|---|---|"]
    for key, op, goal, label in TARGETS:
        value = float(results[key])
        met = {"<": value < goal, "<=": value <= goal, ">=": value >= goal}[op]
        lines.append(f"| {label} | {value:.3f} | {op} {goal} | {'yes' if met else 'NO'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--articles", type=int, default=100)
    parser.add_argument("-j", "--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument(
        "--big-pack",
        type=int,
        default=None,
        metavar="N",
        help="also build a pack of N leaflets and report its peak memory",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    options = parser.parse_args()
    results = measure(options.articles, options.jobs, options.big_pack)
    print(report(results))
    if options.json:
        options.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
