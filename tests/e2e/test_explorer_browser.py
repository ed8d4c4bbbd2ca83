"""The explorer in a real browser: headless Chromium (Debian's ``chromium`` and its
``chromium-driver``, installed by ``make``) driven by selenium, against ``tributary serve``
on its devnet while ``tributary demo`` runs.

The home page, opened before the demo, shows every demo order's settlement transaction
without being reloaded (the status stream); each order's page shows the transaction the
trades endpoint recorded for it; one order's route picture opens from the keyboard and is
saved as a screenshot (``EXPLORER_SCREENSHOT=docs/explorer.png`` to refresh the README's,
``make screenshot``); the page does not overflow a 360 px wide screen.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import demo_command
from tests.e2e.serve_node import served_node

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if (CHROMIUM is None or DRIVER is None) and not os.environ.get("CI"):
    pytest.skip(
        "no chromium and chromedriver: `make install` installs them (as root: apt-get install "
        "-y chromium chromium-driver)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    assert CHROMIUM is not None and DRIVER is not None, "chromium/chromedriver not installed"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(flag)  # no sandbox: CI runs as root
    options.add_argument("--window-size=1280,1000")
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def api(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def until(driver: webdriver.Chrome, check: Callable[[webdriver.Chrome], Any], what: str) -> Any:
    # the live page re-renders as events arrive: an element read mid-render is stale, so
    # the check is tried again rather than failing
    wait = WebDriverWait(
        driver, 30, poll_frequency=0.25, ignored_exceptions=(StaleElementReferenceException,)
    )
    return wait.until(check, what)


def test_the_explorer_shows_each_demo_order_settled_and_its_route(
    tmp_path: Path, browser: webdriver.Chrome
) -> None:
    with served_node(tmp_path) as node:
        url, deployment, log = node.url, tmp_path / "devnet.json", node.log
        browser.get(f"{url}/explorer")
        until(browser, lambda d: "Live" in d.find_element(By.ID, "main").text, "live stream")

        demo = subprocess.run(
            demo_command(url, deployment), capture_output=True, text=True, timeout=90, check=True
        )
        uids = re.findall(r"^posted .+: (0x[0-9a-f]{112})$", demo.stdout, re.M)
        assert len(uids) == 5, demo.stdout
        trades = {uid: api(f"{url}/api/v2/trades?orderUid={uid}") for uid in uids}
        txs = {uid: [t["txHash"] for t in found] for uid, found in trades.items()}
        assert all(len(t) >= 1 for t in txs.values()), (txs, log.read_text()[-3000:])

        # the home page, never reloaded, lists every settlement with its orders
        def settlements(d: webdriver.Chrome) -> bool:
            text = d.find_element(By.ID, "content").text
            links = {a.get_attribute("href") for a in d.find_elements(By.CSS_SELECTOR, "a")}
            return all(f"{url}/explorer/orders/{u}" in links for u in uids) and "settled" in text

        until(browser, settlements, "every demo order in the settlements, live")
        cells = browser.find_elements(By.CSS_SELECTOR, "td .mono")
        shown = {e.get_attribute("title") for e in cells}
        assert {tx for hashes in txs.values() for tx in hashes} <= shown

        for uid in uids:
            browser.get(f"{url}/explorer/orders/{uid}")
            until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".settlement-tx"), uid)
            cells = browser.find_elements(By.CSS_SELECTOR, ".settlement-tx")
            assert [c.text for c in cells] == txs[uid]
            history = browser.find_element(By.CSS_SELECTOR, "ol.history").text
            assert f"in transaction {txs[uid][0][:8]}" in history

        # the CoW pair's seller of WETH: its route, opened from the keyboard
        browser.get(f"{url}/explorer/orders/{uids[1]}")
        summary = until(
            browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#route-details summary"), "route"
        )[0]
        body = browser.find_element(By.TAG_NAME, "body")
        for _ in range(40):  # tab to the summary, as a keyboard user would
            if browser.switch_to.active_element == summary:
                break
            body.send_keys(Keys.TAB)
        assert browser.switch_to.active_element == summary
        summary.send_keys(Keys.ENTER)
        figure = until(browser, lambda d: d.find_element(By.ID, "route"), "route picture")
        assert figure.is_displayed()
        picture = figure.find_element(By.TAG_NAME, "svg").get_attribute("textContent") or ""
        assert "you pay" in picture and "you receive" in picture and "WETH" in picture
        assert re.search(r"uniswapV[23] 0x", picture) or "matched with" in picture, picture
        shot = Path(os.environ.get("EXPLORER_SCREENSHOT") or tmp_path / "explorer.png")
        shot.parent.mkdir(parents=True, exist_ok=True)
        height = browser.execute_script("return document.body.scrollHeight")
        browser.set_window_size(1280, min(int(height) + 160, 2400))
        browser.execute_script("window.scrollTo(0, 0)")
        assert browser.save_screenshot(str(shot))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000

        # readable on a small phone: nothing wider than the screen but the scrolling picture
        browser.set_window_size(360, 800)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        inner = browser.execute_script("return window.innerWidth")
        assert width <= inner, (width, inner)
