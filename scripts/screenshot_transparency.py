"""Take docs/transparency.png: the demo's trust report, as the public page shows it.

    python scripts/screenshot_transparency.py [--lang zh|en] [--out docs/transparency.png]

Runs `xinren demo` on a throw-away SQLite file, serves it with `xinren serve` (timers off, so
nothing changes), and has Playwright drive the system's Chromium (no browser download) to
`/transparency` for the demo's period. Chinese needs a CJK font (Debian: fonts-noto-cjk or
fonts-wqy-microhei); without one, take the English page with --lang en.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.error import URLError
from urllib.parse import urlencode
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[1]
XINREN = [sys.executable, "-m", "xinren.cli.main"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urlopen(url, timeout=2):
                return
        except (URLError, OSError):
            if time.monotonic() > deadline:
                raise SystemExit(f"the server at {url} did not answer") from None
            time.sleep(0.2)


def _has_cjk_font() -> bool:
    if shutil.which("fc-list") is None:
        return True  # cannot tell; let the screenshot show it
    found = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
    return bool(found.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "transparency.png")
    parser.add_argument(
        "--chromium", default=os.environ.get("XINREN_CHROMIUM", "/usr/bin/chromium")
    )
    parser.add_argument("--width", type=int, default=1100)
    args = parser.parse_args()
    if args.lang == "zh" and not _has_cjk_font():
        raise SystemExit(
            "no CJK font is installed, so Chinese would show as boxes: apt-get install "
            "fonts-noto-cjk (or fonts-wqy-microhei), or take the English page with --lang en"
        )
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="xinren-shot-") as tmp:
        env = {**os.environ, "XINREN_DATABASE_URL": f"sqlite:///{tmp}/xinren.db"}
        env["COLUMNS"] = "120"
        demo = subprocess.run(
            [*XINREN, "demo"], cwd=tmp, env=env, capture_output=True, text=True, check=False
        )
        if demo.returncode != 0:
            raise SystemExit(f"xinren demo failed:\n{demo.stderr}")
        period = json.loads(Path(tmp, "xinren-report", "report.json").read_text("utf-8"))["period"]
        port = _free_port()
        server = subprocess.Popen(
            [*XINREN, "serve", "--port", str(port), "--tick-seconds", "0"],
            cwd=tmp,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(f"{base}/healthz")
            query = urlencode({"from": period["from"], "to": period["to"], "lang": args.lang})
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium)
                page = browser.new_page(
                    viewport={"width": args.width, "height": 900},
                    locale="zh-CN" if args.lang == "zh" else "en-GB",
                )
                page.goto(f"{base}/transparency?{query}")
                page.wait_for_load_state("networkidle")
                shot = page.screenshot(full_page=True)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=20)
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(shot)).convert("RGB")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    image.quantize(colors=128).save(args.out, optimize=True)  # text and flat colours: small
    print(f"{args.out}: the demo's report for {period['from']} to {period['to']} ({args.lang})")


if __name__ == "__main__":
    main()
