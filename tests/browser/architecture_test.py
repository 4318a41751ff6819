#!/usr/bin/python3
"""Browser test of the live architecture page: headless Chromium (Debian's chromium and
chromium-driver) driven by Selenium (python3-selenium), against a real split shop: the gateway
process (identity, catalog, discount, basket) and ordering in a process of its own, on the test
broker. The page must show both processes and their modules, and a counter must move after a
checkout. Run by ctest as `browser: ...` with the broker fixture.

  tests/browser/architecture_test.py ESHOP_BINARY AMQP_URL_FILE
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from browser_support import ADMIN, admin_env, call, chromium, free_port, stop, wait_ready

BINARY, URL_FILE = sys.argv[1], sys.argv[2]


class ArchitecturePage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="eshop-browser-")
        with open(URL_FILE) as f:
            bus = f.read().strip()
        namespace = f"browser{os.getpid()}"
        cls.gw, cls.ord = free_port(), free_port()
        env = admin_env()
        common = ["--host", "127.0.0.1", "--bus", bus, "--bus-namespace", namespace]
        cls.procs = [
            subprocess.Popen([BINARY, "serve", "--port", str(cls.gw), "--data-dir", os.path.join(cls.dir, "gw"),
                              "--modules", "identity,catalog,discount,basket",
                              "--remote", f"ordering=http://127.0.0.1:{cls.ord}"] + common,
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
            subprocess.Popen([BINARY, "serve", "--port", str(cls.ord), "--data-dir", os.path.join(cls.dir, "ord"),
                              "--modules", "ordering", "--remote", f"identity=http://127.0.0.1:{cls.gw}",
                              "--trusted-proxies", "127.0.0.1"] + common,
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        ]
        wait_ready(cls.gw)
        wait_ready(cls.ord)
        status, answer = call(cls.gw, "POST", "/api/v1/identity/login", {"email": ADMIN[0], "password": ADMIN[1]})
        assert status == 200, answer
        cls.admin = answer["token"]
        cls.browser = chromium(os.path.join(cls.dir, "chromium"), width=1400)

    @classmethod
    def tearDownClass(cls):
        cls.browser.quit()
        stop(cls.procs)
        shutil.rmtree(cls.dir, ignore_errors=True)

    def text(self, selector):
        try:  # the page is redrawn every second: an element may go between finding and reading it
            found = self.browser.find_elements(By.CSS_SELECTOR, selector)
            return found[0].text if found else None
        except StaleElementReferenceException:
            return None

    def wait_for(self, check, seconds=20):
        # A re-render between finding an element and reading it is normal: check again.
        return WebDriverWait(self.browser, seconds, poll_frequency=0.1,
                             ignored_exceptions=[StaleElementReferenceException]).until(lambda _: check())

    def test_shows_both_processes_and_a_counter_moves_after_a_checkout(self):
        self.browser.get(f"http://127.0.0.1:{self.gw}/architecture#token={self.admin}")
        gw, od = f"http://127.0.0.1:{self.gw}", f"http://127.0.0.1:{self.ord}"
        self.wait_for(lambda: len(self.browser.find_elements(By.CSS_SELECTOR, '[data-process][data-status="up"]')) == 2)
        # The token left the address bar at once.
        self.assertNotIn("token", self.browser.current_url)
        for module in ("identity", "catalog", "discount", "basket"):
            self.assertEqual(self.browser.find_element(
                By.CSS_SELECTOR, f'[data-process="{gw}"] [data-module="{module}"]').get_attribute("data-location"), "local")
        self.assertEqual(self.browser.find_element(
            By.CSS_SELECTOR, f'[data-process="{gw}"] [data-module="ordering"]').get_attribute("data-location"), "remote")
        self.assertEqual(self.browser.find_element(
            By.CSS_SELECTOR, f'[data-process="{od}"] [data-module="ordering"]').get_attribute("data-location"), "local")
        self.assertEqual(self.text('[data-gauge="orders:completed"]'), "0")

        # A customer checks out through the gateway.
        call(self.gw, "POST", "/api/v1/identity/register", {"email": "b@example.com", "password": "password-123", "name": "B"})
        token = call(self.gw, "POST", "/api/v1/identity/login", {"email": "b@example.com", "password": "password-123"})[1]["token"]
        self.assertEqual(call(self.gw, "POST", "/api/v1/basket/items", {"productId": 1, "quantity": 1}, token)[0], 200)
        status, _ = call(self.gw, "POST", "/api/v1/basket/checkout", {
            "shippingAddress": {"fullName": "B B", "street": "1 St", "city": "X", "postalCode": "1", "country": "US"},
            "payment": {"cardNumber": "4242424242424242", "cardHolder": "B", "expiry": "12/30", "cvv": "123"}}, token)
        self.assertEqual(status, 202)
        self.wait_for(lambda: self.text('[data-gauge="orders:completed"]') == "1")
        # basket asked catalog for the product, in-process, and the page counted it.
        self.wait_for(lambda: int(self.text('[data-counter="seam-total:basket>catalog"]') or 0) >= 1)
        self.assertIsNotNone(self.browser.find_element(By.CSS_SELECTOR, '[data-event="basket.checked_out.v1"]'))
        if os.environ.get("ESHOP_BROWSER_SCREENSHOT"):  # to look at the page, e.g. for the docs
            self.browser.save_screenshot(os.environ["ESHOP_BROWSER_SCREENSHOT"])

    def test_without_a_token_the_page_asks_an_admin_to_log_in(self):
        self.browser.get(f"http://127.0.0.1:{self.gw}/architecture")
        self.browser.execute_script("sessionStorage.clear()")
        self.browser.get(f"http://127.0.0.1:{self.gw}/architecture")
        form = self.wait_for(lambda: self.browser.find_element(By.ID, "login"))
        self.wait_for(lambda: form.is_displayed())
        self.browser.find_element(By.ID, "email").send_keys(ADMIN[0])
        self.browser.find_element(By.ID, "password").send_keys(ADMIN[1])
        self.browser.find_element(By.CSS_SELECTOR, "#login button").click()
        self.wait_for(lambda: len(self.browser.find_elements(By.CSS_SELECTOR, '[data-process][data-status="up"]')) == 2)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
