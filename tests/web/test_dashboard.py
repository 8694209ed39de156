"""The dashboard in a real browser: Debian's Chromium (SwiftShader WebGL, no GPU) driven by playwright.

``vigil serve`` runs in this process on a free loopback port over a real run, replaying the run's
warnings at a speed that makes new versions arrive over the stream while the page is open. The test
asserts that the globe's canvas is drawn (pixels differ from a blank canvas), that the warnings list ends
with every event of the run, that some versions arrived through the live stream, that each event's
live track is drawn (one track entity per event at the clock's instant, with exactly the samples of the
event's latest version as the server holds it, and hiding the tracks changes the globe's pixels), that
the legend lies inside the 1280×720 viewport, that each card shows its latest version's class reason, that every request the page made went to the server itself
(no outside host, no Cesium ion), and saves a screenshot under out/. The browser comes from ``make chromium`` (apt-get); the globe's files from ``make web`` (npm).
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

from vigil.api import ReplayClock, create_app
from vigil.api.app import WEB_DIR
from vigil.api.source import RunSource

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = REPO / "out" / "console-dashboard.png"
REPLAY_WALL_S = 25.0  # the whole run's warnings replayed in this many wall seconds
TIMEOUT_S = 90.0
BACKGROUND_DELTA = 24  # a pixel is "drawn" when a channel differs from the page background by more
TRACK_MIN_PIXELS = 300  # a 3-pixel polyline over a few hundred pixels of globe changes more than this
VIEWPORT = {"width": 1280, "height": 720}


class HeldClock(ReplayClock):
    """A replay held at ``start_s`` until :meth:`release` (the page's load time on two shared cores varies from
    seconds to tens of seconds; the replay must not be over before the page listens)."""

    def __init__(self, speed: float, start_s: float) -> None:
        super().__init__(speed, start_s)
        self.released: float | None = None

    def release(self) -> None:
        self.released = time.monotonic()

    def now_s(self) -> float:
        if self.released is None:
            return self.start_s
        return self.start_s + (time.monotonic() - self.released) * float(self.speed or 1.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(run_dir: Path):
    import uvicorn

    assert CHROMIUM.exists(), "Chromium missing: run `make chromium` (apt-get install chromium)"
    assert (WEB_DIR / "cesium" / "Cesium.js").exists(), "CesiumJS not built: run `make web`"
    source = RunSource(run_dir)
    issued = [w["issued_s"] for w in source.view(None).warnings]
    span = max(issued) - min(issued)
    clock = HeldClock(span / REPLAY_WALL_S, min(issued) + 0.3 * span)
    app = create_app(source, clock=clock)
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20.0
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield f"http://127.0.0.1:{port}", source, clock
    srv.should_exit = True
    thread.join(10.0)


def drawn_fraction(png: bytes) -> float:
    """Share of pixels differing from the top-left (background) pixel by more than BACKGROUND_DELTA."""
    import io

    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return float((np.abs(img - img[0, 0]).max(axis=2) > BACKGROUND_DELTA).mean())


def changed_pixels(a: bytes, b: bytes) -> int:
    """Pixels where two screenshots of the same size differ by more than BACKGROUND_DELTA in a channel."""
    import io

    from PIL import Image

    x, y = (np.asarray(Image.open(io.BytesIO(p)).convert("RGB")).astype(int) for p in (a, b))
    return int((np.abs(x - y).max(axis=2) > BACKGROUND_DELTA).sum())


def latest_tracks(source: RunSource) -> dict[str, int]:
    """Event id → number of track samples of its latest version (what the page must draw at the live edge)."""
    latest: dict[str, dict] = {}
    for w in source.view(None).warnings:
        latest[w["event_id"]] = w
    return {e: len(w.get("track") or []) for e, w in latest.items()}


def test_dashboard_renders_the_globe_lists_every_event_and_stays_on_loopback(server) -> None:
    from playwright.sync_api import sync_playwright

    base, source, clock = server
    events = {w["event_id"] for w in source.view(None).warnings}
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--use-angle=swiftshader"]
        )
        page = browser.new_page(viewport=VIEWPORT)
        page.on("request", lambda r: requests.append(r.url))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/")
        page.wait_for_function("window.vigil && window.vigil.ready", timeout=TIMEOUT_S * 1000)
        page.wait_for_function("window.vigil.streamState === 'connected'", timeout=TIMEOUT_S * 1000)
        before = page.evaluate("[...window.vigil.events.values()].reduce((n, v) => n + v.length, 0)")
        clock.release()  # the rest of the run is issued while the page listens
        page.wait_for_function(
            f"document.querySelectorAll('#warnings li').length >= {len(events)}", timeout=TIMEOUT_S * 1000
        )
        page.wait_for_function("window.vigil.viewer.scene.globe.tilesLoaded", timeout=TIMEOUT_S * 1000)
        total = len(source.view(None).warnings)  # the replay ends: every version has reached the page
        page.wait_for_function(
            f"[...window.vigil.events.values()].reduce((n, v) => n + v.length, 0) >= {total}",
            timeout=TIMEOUT_S * 1000,
        )
        listed = set(page.eval_on_selector_all("#warnings li", "els => els.map(e => e.dataset.eventId)"))
        reasons = page.eval_on_selector_all(  # the class reason under each card's class line, as text
            "#warnings li",
            "els => Object.fromEntries(els.map(e => [e.dataset.eventId, "
            "(e.querySelector('.reason') || {textContent: ''}).textContent]))",
        )
        streamed = page.evaluate("window.vigil.streamed")
        tracks = page.evaluate("window.vigil.visibleTracks()")
        page.wait_for_timeout(1000)  # a few frames with the last versions drawn
        globe = page.locator("#globe canvas").first
        globe_png = globe.screenshot()
        page.evaluate("window.vigil.showTracks(false)")
        page.wait_for_timeout(1000)
        no_tracks_png = globe.screenshot()
        page.evaluate("window.vigil.showTracks(true)")
        page.wait_for_timeout(1000)
        legend = page.locator("#legend").bounding_box()
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))
        browser.close()
    assert not errors, errors
    assert listed == events
    latest_reason = {w["event_id"]: w.get("class_reason", "") for w in source.view(None).warnings}
    assert reasons == latest_reason and any(reasons.values())
    assert 0 < before < len(source.view(None).warnings)
    assert (
        streamed == len(source.view(None).warnings) - before
    )  # every later version came over /api/v1/stream
    assert drawn_fraction(globe_png) > 0.10
    expected = latest_tracks(source)
    assert all(n >= 2 for n in expected.values()), expected  # the run's own fusion gives every event a track
    assert {t["id"].split("/")[1]: t["samples"] for t in tracks} == expected
    assert len(tracks) == len(
        expected
    )  # one per event: older versions' tracks are not shown at the live edge
    track_pixels = changed_pixels(globe_png, no_tracks_png)
    print(f"track pixels: {track_pixels}, drawn fraction {drawn_fraction(globe_png):.3f}")
    assert track_pixels > TRACK_MIN_PIXELS, track_pixels
    assert legend is not None and legend["x"] >= 0 and legend["y"] >= 0
    assert (
        legend["x"] + legend["width"] <= VIEWPORT["width"]
        and legend["y"] + legend["height"] <= VIEWPORT["height"]
    )
    hosts = {urlsplit(u).netloc for u in requests if not u.startswith(("data:", "blob:"))}
    assert hosts == {urlsplit(base).netloc}, hosts
    assert not any("ion" in urlsplit(u).netloc or "cesium.com" in u for u in requests)
