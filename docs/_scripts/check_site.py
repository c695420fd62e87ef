"""Check the built documentation in a real browser, offline: ``make docs-check``.

Usage::

    python docs/_scripts/check_site.py docs/_build/html --screenshots docs/_build/screenshots

1. **Links** (the whole tree, no browser): every ``href``/``src`` to a local file
   must exist, and every ``#anchor`` must be an ``id`` (or ``name``) of its
   target page; no page may load a script, stylesheet, image or font from the
   network (no CDN).
2. **Pages** (headless Chromium driven over its DevTools protocol on a pipe,
   standard library only): the landing page, two tutorials, one theory note,
   four API pages and the reproducing page are served from a localhost HTTP
   server, with every other host unresolvable. On each page: MathJax has rendered every equation (each
   ``.math`` element holds an ``mjx-container``, and the visible text holds no
   raw ``\\frac``-like TeX, ``$$`` or ``:math:``), every image has loaded
   (``naturalWidth > 0``), no request left localhost, and the console holds no
   JavaScript error. A full-page screenshot of each is saved.

Exit status 0 when every check passes; otherwise the failures are listed.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import functools
import html.parser
import http.server
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

#: The pages checked in the browser: (name of the screenshot, path in the build).
PAGES = (
    ("landing", "index.html"),
    ("tutorial", "tutorials/03_gaussian_score.html"),
    ("tutorial-schedules", "tutorials/10_searched_schedules.html"),
    ("theory", "theory/22_lp_sensitivities.html"),
    ("api-lewis-weights", "api/generated/sciddm.sensitivity.lewis_weights.html"),
    ("api-noisy-gaussian-mixture", "api/generated/sciddm.ambient.NoisyGaussianMixture.html"),
    ("api-allocate", "api/generated/sciddm.equitable.allocate.html"),
    ("api-fit-scaling-law", "api/generated/sciddm.ambient.fit_scaling_law.html"),
    ("reproducing", "reproducing/index.html"),
)
#: Pages that must show at least one rendered equation.
MATH_PAGES = {name for name, _ in PAGES if name != "reproducing"}
#: Pages that must show at least one image (a figure of the page itself).
FIGURE_PAGES = {"landing", "tutorial", "tutorial-schedules"}

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
    # every host but the local server fails to resolve: the network is off
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1",
)


# ----------------------------------------------------------------------------- links
class _Refs(html.parser.HTMLParser):
    """Collects ids/names and the URLs a page links to or loads."""

    LOADS = {("script", "src"), ("img", "src"), ("link", "href"), ("source", "src")}

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[tuple[str, str, str]] = []  # (tag, attribute, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if value is None:
                continue
            if key in ("id", "name"):
                self.ids.add(value)
            if key in ("href", "src"):
                self.links.append((tag, key, value))


@functools.cache
def _parse(path: Path) -> _Refs:
    p = _Refs()
    p.feed(path.read_text(encoding="utf-8", errors="replace"))
    return p


def check_links(root: Path) -> tuple[list[str], int]:
    """Broken local links and network loads in every HTML file under ``root``."""
    problems: list[str] = []
    n = 0
    for page in sorted(root.rglob("*.html")):
        if page.relative_to(root).parts[0] in ("_static", "_sources", "_downloads"):
            continue  # theme templates and copies, not pages
        refs = _parse(page)
        for tag, attr, url in refs.links:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https") or url.startswith("//"):
                loads = (tag, attr) in _Refs.LOADS
                if loads and not (tag == "link" and attr == "href" and _is_plain_link(page, url)):
                    problems.append(f"{page.relative_to(root)}: loads {url} from the network")
                continue
            if parts.scheme in ("mailto", "data", "javascript") or parts.scheme:
                continue
            n += 1
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                problems.append(f"{page.relative_to(root)}: broken link {url}")
                continue
            frag = unquote(parts.fragment)
            if frag and target.suffix == ".html" and frag not in _parse(target).ids:
                problems.append(f"{page.relative_to(root)}: missing anchor {url}")
    return problems, n


def _is_plain_link(page: Path, url: str) -> bool:
    """A ``<link href=...>`` that is not a stylesheet/preload (e.g. rel=canonical)."""
    text = page.read_text(encoding="utf-8", errors="replace")
    i = text.find(f'href="{url}"')
    start = text.rfind("<link", 0, i)
    tag = text[start : text.find(">", i) + 1]
    return not any(r in tag for r in ("stylesheet", "preload", "icon", "modulepreload"))


# ----------------------------------------------------------------------------- browser
class Browser:
    """Chromium over the DevTools protocol on ``--remote-debugging-pipe`` (fds 3 and 4)."""

    def __init__(self, executable: str, profile: str) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # move the child's ends above 4 so that dup2 onto 3 and 4 cannot clobber them
        hi_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
        hi_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_child_r)
        os.close(from_child_w)

        def child_fds() -> None:
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        self.proc = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe"],
            preexec_fn=child_fds,
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(hi_r)
        os.close(hi_w)
        self._id = 0
        self._replies: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buf = b""
        with os.fdopen(self._from_child, "rb", buffering=0) as f:
            while chunk := f.read(65536):
                buf += chunk
                while b"\0" in buf:
                    raw, buf = buf.split(b"\0", 1)
                    msg = json.loads(raw)
                    if "id" in msg:
                        with self._lock:
                            q = self._replies.get(msg["id"])
                        if q is not None:
                            q.put(msg)
                    else:
                        self.events.put(msg)

    def send(
        self, method: str, session: str | None = None, timeout: float = 60, **params: Any
    ) -> dict[str, Any]:
        with self._lock:
            self._id += 1
            mid = self._id
            q: queue.Queue[dict[str, Any]] = queue.Queue()
            self._replies[mid] = q
        msg: dict[str, Any] = {"id": mid, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        try:
            reply = q.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no reply to {method} in {timeout} s") from None
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.send("Browser.close", timeout=5)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(OSError):
            os.close(self._to_child)


#: Run in the page once MathJax is done: what the checks need, as JSON.
PAGE_PROBE = r"""
(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
    if (MathJax.typesetPromise) { await MathJax.typesetPromise(); }
  }
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => {
      i.addEventListener('load', r); i.addEventListener('error', r); })));
  const clone = document.querySelector('main') || document.body;
  const copy = clone.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, mjx-container, mjx-assistive-mml, .highlight, textarea')
      .forEach(e => e.remove());
  const math = [...document.querySelectorAll('.math')];
  return JSON.stringify({
    title: document.title,
    text: copy.innerText,
    mathjax: !!window.MathJax,
    n_math: math.length,
    n_unrendered: math.filter(e => !e.querySelector('mjx-container')).length,
    unrendered: math.filter(e => !e.querySelector('mjx-container')).slice(0, 3).map(e => e.textContent.slice(0, 80)),
    n_mjx: document.querySelectorAll('mjx-container').length,
    images: imgs.map(i => ({src: i.currentSrc || i.src, w: i.naturalWidth, ok: i.complete && i.naturalWidth > 0})),
    height: Math.ceil(Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)),
  });
})()
"""

#: Raw TeX or MyST/RST maths markup that must not be visible once MathJax has run.
RAW_MATH = (
    r"\frac",
    r"\sum",
    r"\mathbb",
    r"\mathrm",
    r"\left",
    r"\sigma",
    "$$",
    ":math:",
    r"\(",
    r"\[",
)


def _serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, int]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def _drain(events: queue.Queue[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    while True:
        try:
            out.append(events.get_nowait())
        except queue.Empty:
            return out


def check_page(
    browser: Browser, session: str, base: str, name: str, path: str, shots: Path
) -> list[str]:
    """Load one page and return its problems; save its screenshot."""
    problems: list[str] = []
    _drain(browser.events)
    browser.send("Page.navigate", session, url=f"{base}/{path}")
    seen: list[dict[str, Any]] = []
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            ev = browser.events.get(timeout=1)
        except queue.Empty:
            continue
        seen.append(ev)
        if ev.get("method") == "Page.loadEventFired" and ev.get("sessionId") == session:
            break
    else:
        problems.append(f"{name}: the page did not finish loading in 60 s")
    res = browser.send(
        "Runtime.evaluate",
        session,
        timeout=90,
        expression=PAGE_PROBE,
        awaitPromise=True,
        returnByValue=True,
    )
    if "exceptionDetails" in res:
        return [f"{name}: the page probe failed: {res['exceptionDetails']}"]
    info = json.loads(res["result"]["value"])
    time.sleep(0.3)  # late console messages
    for ev in seen + _drain(browser.events):
        method, params = ev.get("method"), ev.get("params", {})
        if method == "Runtime.exceptionThrown":
            d = params.get("exceptionDetails", {})
            desc = d.get("exception", {}).get("description") or d.get("text")
            problems.append(f"{name}: JavaScript exception: {desc}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = " ".join(
                str(a.get("value", a.get("description", ""))) for a in params.get("args", [])
            )
            problems.append(f"{name}: console error: {args}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            e = params["entry"]
            problems.append(f"{name}: browser error: {e.get('text')} {e.get('url', '')}")
        elif method == "Network.requestWillBeSent":
            url = params.get("request", {}).get("url", "")
            if not (url.startswith(base) or url.startswith("data:") or url.startswith("about:")):
                problems.append(f"{name}: request to the network: {url}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            problems.append(f"{name}: a resource failed to load: {params.get('errorText')}")
        elif method == "Network.responseReceived":
            status = params.get("response", {}).get("status", 200)
            if status >= 400:
                problems.append(f"{name}: HTTP {status} for {params['response'].get('url')}")
    # maths
    if name in MATH_PAGES and info["n_math"] == 0:
        problems.append(f"{name}: no equation on the page")
    if info["n_math"] and not info["mathjax"]:
        problems.append(f"{name}: equations but MathJax did not load")
    if info["n_unrendered"]:
        problems.append(
            f"{name}: {info['n_unrendered']} of {info['n_math']} equations not rendered by "
            f"MathJax, e.g. {info['unrendered']}"
        )
    if info["n_math"] and info["n_mjx"] == 0:
        problems.append(f"{name}: no MathJax output (mjx-container) on the page")
    for raw in RAW_MATH:
        if raw in info["text"]:
            i = info["text"].index(raw)
            problems.append(
                f"{name}: raw maths {raw!r} visible: ...{info['text'][max(0, i - 40) : i + 40]!r}..."
            )
    # figures
    bad = [im["src"] for im in info["images"] if not im["ok"]]
    if bad:
        problems.append(f"{name}: images that did not load: {bad}")
    if name in FIGURE_PAGES and not info["images"]:
        problems.append(f"{name}: no figure on the page")
    # screenshot of the whole page (capped at 12000 px)
    height = min(max(int(info["height"]), 800), 12000)
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        session,
        width=1280,
        height=height,
        deviceScaleFactor=1,
        mobile=False,
    )
    time.sleep(0.3)
    shot = browser.send(
        "Page.captureScreenshot", session, timeout=90, format="png", captureBeyondViewport=True
    )
    (shots / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        session,
        width=1280,
        height=900,
        deviceScaleFactor=1,
        mobile=False,
    )
    print(
        f"  {name:<24} {info['n_math']:>4} equations ({info['n_mjx']} rendered), "
        f"{len(info['images'])} images, {'OK' if not problems else f'{len(problems)} problem(s)'}"
    )
    return problems


def check_pages(root: Path, shots: Path, executable: str) -> list[str]:
    server, port = _serve(root)
    base = f"http://127.0.0.1:{port}"
    profile = tempfile.mkdtemp(prefix="sciddm-chromium-")
    browser = Browser(executable, profile)
    problems: list[str] = []
    try:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session)
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=1280,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        for name, path in PAGES:
            if not (root / path).exists():
                problems.append(f"{name}: {path} is not in the build")
                continue
            problems += check_page(browser, session, base, name, path, shots)
    finally:
        browser.close()
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("html", type=Path, help="the built HTML tree (docs/_build/html)")
    ap.add_argument("--screenshots", type=Path, default=Path("docs/_build/screenshots"))
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = ap.parse_args(argv)
    root = args.html.resolve()
    if not (root / "index.html").exists():
        print(f"{root} holds no index.html: build the docs first (make docs)", file=sys.stderr)
        return 2
    if not Path(args.chromium).exists():
        print(f"no Chromium at {args.chromium}: apt-get install -y chromium", file=sys.stderr)
        return 2
    args.screenshots.mkdir(parents=True, exist_ok=True)
    for old in args.screenshots.glob("*.png"):  # screenshots of an earlier page list
        old.unlink()
    print(f"links: crawling {root}")
    problems, n_links = check_links(root)
    print(f"  {n_links} local links checked, {len(problems)} problem(s)")
    print(f"pages: {args.chromium}, network off, screenshots in {args.screenshots}")
    problems += check_pages(root, args.screenshots, args.chromium)
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for p in problems:
            print(f"- {p}")
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
