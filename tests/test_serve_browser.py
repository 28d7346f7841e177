"""The playground in a real browser: ``nextword serve`` in its own process,
driven by a headless Chromium (Debian's ``chromium`` and ``chromium-driver``,
through selenium; nothing is downloaded at test time). Type a prompt, read the
bars, click a word and see the text grow; sample; switch models.

Without a browser the test skips with the reason; in CI (``NEXTWORD_REQUIRE_SHARED=1``)
that fails instead, since ``.ci/run`` installs one, unless ``.ci/run`` could not
(it then sets ``NEXTWORD_NO_BROWSER`` to the reason).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nextword
import pytest
from conftest import require_module, skip_unless_ci

require_module("starlette", "pip install 'nextword[serve]'")
require_module("uvicorn", "pip install 'nextword[serve]'")
require_module("httpx", "pip install httpx")
require_module("selenium", "pip install selenium")

import httpx  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

TEXT = [
    "the king is dead",
    "long live the king",
    "the queen is here",
    "the king and the queen rode out",
] * 6
WAIT = 60  # seconds a page may take on a loaded machine (a limit, not an assertion)


def browser_paths() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    reason = os.environ.get("NEXTWORD_NO_BROWSER")
    message = "no chromium and chromedriver on PATH (apt-get install chromium chromium-driver)"
    if reason:
        pytest.skip(f"{message}; CI could not install them: {reason}")
    skip_unless_ci(message)
    raise AssertionError("not reached")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The server's URL and the directory of its models."""
    browser_paths()
    root = tmp_path_factory.mktemp("browser")
    (root / "t.txt").write_text("\n".join(TEXT) + "\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for order in (2, 3):
            lm = nextword.NGramLM.fit(root / "t.txt", order=order, progress=False)
            lm.save(root / f"kn{order}.nwlm")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "nextword", "serve", "kn3.nwlm", "kn2.nwlm", "--port", str(port)],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT
        while True:
            if proc.poll() is not None:
                raise AssertionError(
                    f"the server exited: {proc.stderr.read() if proc.stderr else ''}"
                )
            try:
                if httpx.get(url + "/api/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.2)
        yield url, root
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    chromium, chromedriver = browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1200,900",
    ):
        options.add_argument(arg)
    browser = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    try:
        yield browser
    finally:
        browser.quit()


def bars(driver: Any) -> list[tuple[str, str]]:
    """The bars shown: (word, probability text), read in one script so that a
    redraw in between cannot leave half a list."""
    rows = driver.execute_script(
        "return [...document.querySelectorAll('#bars .bar')].map("
        "b => [b.dataset.token, b.querySelector('.prob').textContent])"
    )
    return [(str(w), str(p)) for w, p in rows]


def wait_for(driver: Any, condition: Any) -> Any:
    # The page redraws as answers arrive: an element may go stale between two looks.
    wait = WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException,))
    return wait.until(lambda d: condition(d))


def test_type_read_the_bars_click_and_the_text_grows(server: tuple[str, Path], driver: Any) -> None:
    url, root = server
    driver.get(url)
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#model option"))
    prompt = driver.find_element(By.ID, "prompt")
    prompt.send_keys("long live")
    wait_for(driver, lambda d: "long live" in d.find_element(By.ID, "after").text)
    shown = wait_for(driver, bars)
    lm = nextword.NGramLM.load(root / "kn3.nwlm")
    expected = lm.predict("long live", k=10)
    assert [w for w, _ in shown] == [w for w, _ in expected]
    assert shown[0] == ("the", f"{100 * expected[0][1]:.1f}%")

    driver.find_element(By.CSS_SELECTOR, "#bars .bar").click()
    wait_for(
        driver, lambda d: d.find_element(By.ID, "prompt").get_attribute("value") == "long live the"
    )
    wait_for(driver, lambda d: "long live the" in d.find_element(By.ID, "after").text)
    steps = driver.find_elements(By.CSS_SELECTOR, "#steps li")
    assert len(steps) == 1 and steps[0].text.startswith("the")

    # Sample three tokens: the text grows by them, each step listed with its alternatives.
    n = driver.find_element(By.ID, "n")
    n.clear()
    n.send_keys("3")
    driver.find_element(By.ID, "sample").click()
    wait_for(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#steps li")) == 4)
    grown = driver.find_element(By.ID, "prompt").get_attribute("value")
    assert grown.startswith("long live the") and len(grown) > len("long live the")
    assert driver.find_element(By.ID, "error").text == ""


def test_switching_models_changes_the_guesses(server: tuple[str, Path], driver: Any) -> None:
    driver.get(server[0])
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#model option"))
    driver.find_element(By.ID, "prompt").send_keys("the king")
    wait_for(driver, lambda d: "the king" in d.find_element(By.ID, "after").text and bars(d))
    first = bars(driver)
    Select(driver.find_element(By.ID, "model")).select_by_value("kn2.nwlm")
    wait_for(driver, lambda d: bars(d) and bars(d) != first)
    assert "order 2" in driver.find_element(By.ID, "modelinfo").text
