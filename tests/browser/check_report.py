#!/usr/bin/env python3
"""Opens an HTML report in real headless Chromium over the DevTools protocol
and checks what the browser rendered: the charts are in the DOM with marks
drawn, nothing was logged to the console, no request left the file.

  check_report.py --binary PATH            writes a journal, runs `report --html`, checks it
  check_report.py --html PATH              checks an existing report
  ... --screenshot PNG                     also saves a screenshot of the page

Exits 0 when every check holds, 1 when one fails, 77 (ctest's skip) when the
browser cannot start here, saying why.
"""
import argparse
import asyncio
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

SKIP = 77
CHARTS = ["throughput", "latency-over-time", "latency-histogram", "statuses", "retries"]


def record(fields):
    """One journal line, compact like the writer's."""
    return json.dumps(fields, separators=(",", ":"))


def at(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def write_journal(path):
    """A batch of 600 rows over 5 minutes with a 429 pause, in the journal's format."""
    t0 = datetime(2026, 11, 29, 22, 0, tzinfo=timezone.utc)
    lines = [record({"journal": "invent-dispatch", "version": 1, "input": "/data/spring.csv",
                         "input_size": 1000, "input_digest": "00"}),
             record({"event": "run_start", "version": "0.1.0", "base_url": "https://api.example",
                         "shard": None, "pid": 7, "at": at(t0)})]
    for i in range(600):
        when = t0 + timedelta(milliseconds=500 * i + 250)
        kind = i % 20
        status, outcome, error, attempts = 200, "created", None, 1 + (i % 7 == 0)
        if kind == 13:
            status, outcome, error = 422, "failed", "HTTP 422: channel ch_3 is closed"
        elif kind == 17:
            status, outcome, error, attempts = 503, "failed", "HTTP 503: Service Unavailable", 5
        elif kind == 19:
            status, outcome, error = None, "unknown", "response timeout after 30000 ms"
        key = f"c/ct_{i}/ch_{i % 3}"
        lines.append(record({"line": i + 2, "key": key, "outcome": "sending", "at": at(when)}))
        lines.append(record({"line": i + 2, "key": key, "org_id": "c", "contact_id": f"ct_{i}",
                                 "channel_id": f"ch_{i % 3}", "outcome": outcome, "http_status": status,
                                 "chat_id": f"chat_{i}" if outcome == "created" else None,
                                 "chat_status": None, "chat_state": None, "chat_created_at": None, "link": None,
                                 "attempts": attempts,
                                 "latency_ms": None if status is None else 40.0 + (i * 37) % 180 + (i == 333) * 900,
                                 "error": error, "at": at(when)}))
        if i == 200:
            lines.append(record({"event": "pause", "status": 429, "until": at(when + timedelta(seconds=12)),
                                     "at": at(when)}))
    lines.append(record({"event": "run_end", "exit_code": 1, "at": at(t0 + timedelta(seconds=300))}))
    with open(path, "w") as out:
        out.write("\n".join(lines) + "\n")


def find_browser():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    def __init__(self, profile):
        self.profile = profile
        self.process = None

    def start(self):
        executable = find_browser()
        if not executable:
            return "no chromium on PATH (scripts/install-deps --test installs it)"
        self.process = subprocess.Popen(
            [executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", "--no-default-browser-check",
             f"--user-data-dir={self.profile}", "--remote-debugging-port=0", "--window-size=1280,900",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace").strip().splitlines()
                return f"chromium exited with {self.process.returncode}: {err[-1] if err else 'no message'}"
            if os.path.exists(port_file):
                with open(port_file) as f:
                    first = f.readline().strip()
                if first:
                    self.port = int(first)
                    return None
            time.sleep(0.05)
        return "chromium did not open its DevTools port within 60 s"

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Page:
    """One DevTools session on a page target: commands and the events seen."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.events = []
        self.waiting = {}

    async def pump(self):
        async for message in self.ws:
            data = json.loads(message.data)
            if "id" in data and data["id"] in self.waiting:
                self.waiting.pop(data["id"]).set_result(data)
            elif "method" in data:
                self.events.append(data)

    async def send(self, method, **params):
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.waiting[self.next_id] = future
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        reply = await asyncio.wait_for(future, 60)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    async def wait_for_event(self, method, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e["method"] == method for e in self.events):
                return
            await asyncio.sleep(0.05)
        raise RuntimeError(f"no {method} within {timeout} s")


DOM_PROBE = """JSON.stringify({
  title: document.title,
  charts: [...document.querySelectorAll('svg[data-chart]')].map(svg => {
    const box = svg.getBoundingClientRect();
    return {chart: svg.dataset.chart, width: box.width, height: box.height,
            marks: svg.querySelectorAll('rect, path, circle').length};
  }),
  pauses: document.querySelectorAll('[data-pause]').length,
  outcomeCards: document.querySelectorAll('[data-outcome]').length,
  errorRows: document.querySelectorAll('[data-section=errors] tbody tr').length,
  slowRows: document.querySelectorAll('[data-section=slowest] tbody tr').length,
  scripts: document.scripts.length,
  resources: performance.getEntriesByType('resource').map(r => r.name),
  pageWidth: document.documentElement.scrollWidth,
  viewportWidth: window.innerWidth,
  height: document.documentElement.scrollHeight
})"""


async def inspect(port, html_path, screenshot):
    import aiohttp
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/json/list") as reply:
            targets = await reply.json(content_type=None)
        target = next(t for t in targets if t.get("type") == "page")
        async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            page = Page(ws)
            pump = asyncio.create_task(page.pump())
            for domain in ("Page", "Runtime", "Log", "Network"):
                await page.send(f"{domain}.enable")
            await page.send("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1,
                            mobile=False)
            page.events.clear()
            url = "file://" + os.path.abspath(html_path)
            await page.send("Page.navigate", url=url)
            await page.wait_for_event("Page.loadEventFired")
            await asyncio.sleep(0.5)   # late console messages or requests, if any
            probe = json.loads((await page.send("Runtime.evaluate", expression=DOM_PROBE,
                                                returnByValue=True))["result"]["value"])
            pdf = await page.send("Page.printToPDF", printBackground=True)
            if screenshot:
                height = min(probe["height"], 6000)
                await page.send("Emulation.setDeviceMetricsOverride", width=1280, height=height,
                                deviceScaleFactor=1, mobile=False)
                shot = await page.send("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                                       clip={"x": 0, "y": 0, "width": 1280, "height": height, "scale": 1})
                with open(screenshot, "wb") as out:
                    out.write(base64.b64decode(shot["data"]))
            pump.cancel()
            return probe, page.events, len(base64.b64decode(pdf["data"])), url


def check(probe, events, pdf_size, url, expect_pauses):
    problems = []
    for e in events:
        m, p = e["method"], e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
            problems.append(f"console {p['type']}: {p.get('args')}")
        elif m == "Runtime.exceptionThrown":
            problems.append(f"exception: {p.get('exceptionDetails', {}).get('text')}")
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
            problems.append(f"log {p['entry']['level']}: {p['entry'].get('text')} {p['entry'].get('url', '')}")
        elif m == "Network.requestWillBeSent" and p.get("request", {}).get("url") != url:
            problems.append(f"network request: {p['request']['url']}")
    if probe["resources"]:
        problems.append(f"resources loaded: {probe['resources']}")
    if probe["scripts"]:
        problems.append(f"{probe['scripts']} script elements")
    drawn = {c["chart"]: c for c in probe["charts"]}
    for name in CHARTS:
        chart = drawn.get(name)
        if not chart:
            problems.append(f"chart {name} missing from the DOM")
        elif chart["width"] < 200 or chart["height"] < 30 or chart["marks"] == 0:
            problems.append(f"chart {name} not drawn: {chart}")
    if probe["outcomeCards"] < 5:
        problems.append(f"outcome cards: {probe['outcomeCards']}")
    if expect_pauses and probe["pauses"] == 0:
        problems.append("no rate-limit pause marked")
    if probe["pageWidth"] > probe["viewportWidth"]:
        problems.append(f"page wider than a laptop screen: {probe['pageWidth']} > {probe['viewportWidth']}")
    if pdf_size < 1000:
        problems.append(f"printing gave {pdf_size} bytes")
    return problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary")
    parser.add_argument("--html")
    parser.add_argument("--screenshot")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="invent-browser-")
    try:
        html = args.html
        expect_pauses = False
        if not html:
            journal = os.path.join(work, "spring.results.jsonl")
            write_journal(journal)
            html = os.path.join(work, "report.html")
            subprocess.run([args.binary, "report", journal, "--html", html], check=True,
                           stdout=subprocess.DEVNULL)
            expect_pauses = True
        try:
            import aiohttp  # noqa: F401
        except ImportError:
            print(f"FAIL: {sys.executable} has no aiohttp (scripts/install-deps --test installs python3-aiohttp)")
            return 1
        browser = Browser(os.path.join(work, "profile"))
        why_not = browser.start()
        if why_not:
            print(f"SKIP: the browser cannot start here: {why_not}")
            browser.stop()
            return SKIP
        try:
            probe, events, pdf_size, url = asyncio.run(inspect(browser.port, html, args.screenshot))
        finally:
            browser.stop()
        problems = check(probe, events, pdf_size, url, expect_pauses)
        for p in problems:
            print(f"FAIL: {p}")
        if not problems:
            print(f"ok: {len(probe['charts'])} charts rendered, {probe['pauses']} pauses marked, "
                  f"no console message, no request, {pdf_size} bytes printed")
        return 1 if problems else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
