"""Make docs/playground.png: the playground over a Kneser-Ney model of
tinyshakespeare with its corpus index, after a click and a sampled run.

    NEXTWORD_SHARED=../shared python docs/playground_screenshot.py

Needs nextword[serve], selenium, Debian's chromium and chromium-driver, and Pillow.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import nextword
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

OUT = Path(__file__).resolve().parent / "playground.png"


def main() -> None:
    shared = Path(os.environ.get("NEXTWORD_SHARED", "../shared"))
    corpus = shared / "corpora/en/tinyshakespeare.txt"
    work = Path(tempfile.mkdtemp())
    nextword.NGramLM.fit(corpus, order=4, progress=False).save(work / "shakespeare-kn4.nwlm")
    nextword.NGramLM.fit(corpus, order=2, progress=False).save(work / "shakespeare-kn2.nwlm")
    nextword.CorpusIndex.build(corpus, path=work / "shakespeare.idx", progress=False)
    server = subprocess.Popen(
        [sys.executable, "-m", "nextword", "serve", "shakespeare-kn4.nwlm",
         "shakespeare-kn2.nwlm", "--index", "shakespeare.idx", "--port", "8765"],
        cwd=work,
    )  # fmt: skip
    try:
        for _ in range(300):
            try:
                httpx.get("http://127.0.0.1:8765/api/models", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for arg in ("--headless=new", "--no-sandbox", "--window-size=1150,860"):
            options.add_argument(arg)
        driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
        wait = WebDriverWait(driver, 60)
        driver.get("http://127.0.0.1:8765")
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#model option"))
        driver.find_element(By.ID, "prompt").send_keys("First Citizen: we are")
        wait.until(lambda d: "we are" in d.find_element(By.ID, "after").text)
        driver.find_elements(By.CSS_SELECTOR, "#bars .bar")[0].click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#steps li")) == 1)
        n = driver.find_element(By.ID, "n")
        n.clear()
        n.send_keys("12")
        driver.execute_script("document.getElementById('top_p').value = 0.8")
        driver.find_element(By.ID, "sample").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#steps li")) == 13)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#story .seen, #story .novel"))
        time.sleep(1)
        shot = work / "shot.png"
        driver.save_screenshot(str(shot))
        driver.quit()
    finally:
        server.terminate()
        server.wait()
    image = Image.open(shot).convert("RGB")
    image = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.LANCZOS)
    image.quantize(colors=64).save(OUT, optimize=True)
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
