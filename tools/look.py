"""Look at what the project shows a reader, as pictures in scratch/look/ (asserts nothing; open the PNGs):

    python tools/look.py report   # the HTML report in headless Chromium (full page) and each PDF page
    python tools/look.py lab      # JupyterLab: 01 training with a widget progress bar, 04's box answering 12/7=

Needs Debian's `chromium` and `poppler-utils` (`apt-get install chromium poppler-utils`) and, for the browser,
playwright driving that Chromium (`pip install -e '.[look]'`; `make look` does both pip steps). Nothing is
downloaded: playwright is pointed at /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "scratch" / "look"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def browser(playwright):
    if CHROMIUM is None:
        sys.exit("look: no chromium on PATH (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])


def report() -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        page = browser(p).new_page(viewport={"width": 1100, "height": 1400})
        page.goto((ROOT / "reports" / "report.html").as_uri())
        page.screenshot(path=OUT / "report_html_top.png")
        page.screenshot(path=OUT / "report_html_full.png", full_page=True)
    if shutil.which("pdftoppm") is None:
        sys.exit("look: no pdftoppm (apt-get install poppler-utils)")
    subprocess.run(["pdftoppm", "-r", "60", "-png", ROOT / "reports" / "report.pdf", OUT / "report_pdf"], check=True)
    print(f"look: {OUT}/report_html_*.png and report_pdf-*.png")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lab_copy(name: str, params: dict) -> Path:
    """A copy of a notebook under scratch/look/ with some parameters changed (literals in its parameters cell)."""
    nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    lines = "".join(cell["source"]).splitlines()
    for key, value in params.items():
        lines = [
            f"{key} = {value!r}  # changed by tools/look.py" if line.split(":")[0] == key else line for line in lines
        ]
    cell["source"] = "\n".join(lines)
    path = OUT / f"{name}.ipynb"
    path.write_text(json.dumps(nb))
    return path


def lab() -> None:
    from playwright.sync_api import sync_playwright

    overfit = _lab_copy(
        "01_overfit", {"max_iters": 3000, "seeds": [7], "compare_cosine": False, "jobs": 1, "force": True}
    )
    # 04 trained briefly in scratch/ (a minute, not the registry's runs, lasting ones included): enough to see the box answer
    grokking = _lab_copy(
        "04_grokking", {"seeds": [0], "fractions": [0.5], "max_steps": 400, "lasting_steps": 400, "jobs": 1}
    )
    port, log = _free_port(), (OUT / "lab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--IdentityProvider.token=",
         "--ServerApp.password=", f"--ServerApp.root_dir={ROOT}", "--allow-root"],
        env={**os.environ, "GROKGPT_ROOT": str(ROOT)}, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        for _ in range(240):  # the server can take a minute to start on a busy machine
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        with sync_playwright() as p:
            page = browser(p).new_page(viewport={"width": 1400, "height": 1000})
            try:
                _drive(page, port, overfit, grokking)
            except Exception:
                page.screenshot(path=OUT / "lab_failed.png")  # what the browser showed when it gave up
                raise
    finally:
        server.terminate()


def _drive(page, port: int, overfit: Path, grokking: Path) -> None:
    for path, shot, typed in [(overfit, "lab_01_progress.png", None), (grokking, "lab_04_ask.png", "12/7=")]:
        page.goto(f"http://127.0.0.1:{port}/lab/tree/{path.relative_to(ROOT)}")
        page.wait_for_selector(".jp-Notebook", timeout=60_000)
        time.sleep(3)
        page.keyboard.press("Escape")
        if page.get_by_role("button", name="No").count():  # JupyterLab's "news?" notice
            page.get_by_role("button", name="No").first.click()
        page.get_by_text("Run", exact=True).first.click()
        page.get_by_text("Run All Cells", exact=True).first.click()
        if typed is None:  # 01: catch the progress bar while it trains
            page.get_by_text(re.compile(r"step/s")).first.wait_for(timeout=180_000)
            time.sleep(2)
        else:  # 04: wait for the box, type an equation into it
            box = page.locator(".widget-text input").first
            box.wait_for(timeout=300_000)
            box.fill(typed)
            box.press("Enter")
            time.sleep(2)
            box.scroll_into_view_if_needed()
        page.screenshot(path=OUT / shot)
        print(f"look: {OUT / shot}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["report", "lab"])
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    {"report": report, "lab": lab}[args.what]()


if __name__ == "__main__":
    main()
