"""Drive the real page with Playwright and Debian's Chromium: ask for a song, hear it, make it faster."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from live_server import OUT, live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]


@pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian chromium is not installed")
def test_song_then_faster_in_the_browser(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with live_server(tmp_path / "home", ui=True) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        outside: list[str] = []
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((base, "data:", "blob:")) else None)
        page.goto(base, wait_until="domcontentloaded")
        box = page.locator("#ts-input textarea")
        box.wait_for(timeout=60_000)
        box.fill("make a short happy pop song about coffee")
        box.press("Enter")
        expect(page.locator("#ts-chat audio").first).to_be_attached(timeout=240_000)  # the reply's player
        expect(page.locator("#ts-downloads")).to_contain_text(".musicxml", timeout=60_000)
        mix = page.locator("#ts-mix audio[src]")
        expect(mix.first).to_be_attached(timeout=60_000)
        page.screenshot(path=str(OUT / "browser_first_song.png"), full_page=True)
        mp3_link = page.locator('#ts-downloads a[href$="song.mp3"]')
        first_href = mp3_link.first.get_attribute("href")
        page.wait_for_timeout(1000)  # let the player settle after the last update
        played = mix.first.evaluate("""async el => {
            const size = (await (await fetch(el.src)).arrayBuffer()).byteLength;
            el.muted = true; await el.play(); await new Promise(r => setTimeout(r, 1500));
            const t = el.currentTime; el.pause(); return {size, t, d: el.duration};
        }""")
        assert played["size"] > 10_000 and played["t"] > 0.2 and played["d"] > 5, played
        expect(page.locator("#ts-thought")).to_contain_text("Musical thought")
        box.fill("make it faster")
        box.press("Enter")
        expect(page.locator("#ts-chat")).to_contain_text("Version 2", timeout=240_000)
        expect(page.locator("#ts-downloads")).to_contain_text(".musicxml", timeout=60_000)
        page.wait_for_function("old => { const a = document.querySelector('#ts-downloads a[href$=\"song.mp3\"]');"
                               " return a && a.getAttribute('href') !== old; }", arg=first_href, timeout=60_000)
        page.locator("#ts-thought").click()
        expect(page.locator("#ts-thought")).to_contain_text("Form:", timeout=30_000)
        page.screenshot(path=str(OUT / "browser_second_version.png"), full_page=True)
        sessions = httpx.get(f"{base}/v1/sessions", timeout=10).json()["data"]
        detail = httpx.get(f"{base}/v1/sessions/{sessions[0]['id']}", timeout=10).json()
        assert len(detail["versions"]) == 2
        tempos = [a["data"]["manifest"]["tempo_bpm"] for a in detail["artifacts"] if a["kind"] == "song"]
        assert tempos[1] > tempos[0]
        # sessions survive a reload (and a restart: they live in the store) and can be reopened
        page.reload(wait_until="domcontentloaded")
        page.locator("#ts-sessions input").click(timeout=60_000)
        page.get_by_role("option").first.click()
        expect(page.locator("#ts-chat")).to_contain_text("Version 2", timeout=60_000)
        expect(page.locator("#ts-downloads")).to_contain_text(".musicxml", timeout=60_000)
        page.screenshot(path=str(OUT / "browser_restored_session.png"), full_page=True)
        browser.close()
        assert not outside, f"the page fetched from outside: {outside[:3]}"
