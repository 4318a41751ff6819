#!/usr/bin/python3
"""Browser tests of the storefront: headless Chromium (Debian's chromium and chromium-driver)
driven by Selenium (python3-selenium) against the real binary, a monolith on its own port and data
dir: the whole purchase (browse, filter, search, product, basket, coupon, checkout, completed, my
orders), a declined card, and stock that ran out between the basket and the checkout.

  tests/browser/storefront_test.py ESHOP_BINARY [SCREENSHOT_DIR]
  ESHOP_STORE_SPLIT=AMQP_URL_FILE tests/browser/storefront_test.py ESHOP_BINARY
      the same with ordering in a process of its own (the storefront talks to the other one, which
      proxies /api/v1/orders), both on the broker whose URL is in the file
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from browser_support import ADMIN, admin_env, call, chromium, free_port, stop, wait_ready

BINARY = sys.argv[1]
SCREENSHOTS = sys.argv[2] if len(sys.argv) > 2 else None


class Shop(unittest.TestCase):
    """A shop and a browser, shared by a class's tests; no tests of its own."""
    extra_config = {}

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="eshop-store-")
        cls.port = free_port()
        env = admin_env()
        config = os.path.join(cls.dir, "config.json")
        with open(config, "w") as f:  # every test registers from 127.0.0.1: no login throttling here
            json.dump({"rateLimits": {"login": {"perSecond": 0}}, **cls.extra_config}, f)
        serve = [BINARY, "serve", "--config", config, "--host", "127.0.0.1", "--port", str(cls.port), "--data-dir",
                 os.path.join(cls.dir, "data")]
        cls.procs = []
        split = os.environ.get("ESHOP_STORE_SPLIT")
        if split:
            with open(split) as f:
                bus = ["--bus", f.read().strip(), "--bus-namespace", f"store{os.getpid()}"]
            ordering = free_port()
            serve += ["--modules", "identity,catalog,discount,basket", "--remote", f"ordering=http://127.0.0.1:{ordering}"] + bus
            cls.procs.append(subprocess.Popen(
                [BINARY, "serve", "--config", config, "--host", "127.0.0.1", "--port", str(ordering), "--data-dir",
                 os.path.join(cls.dir, "ordering"), "--modules", "ordering", "--remote", f"identity=http://127.0.0.1:{cls.port}",
                 "--trusted-proxies", "127.0.0.1"] + bus, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        cls.procs.append(subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_ready(cls.port)
        cls.admin = call(cls.port, "POST", "/api/v1/identity/login", {"email": ADMIN[0], "password": ADMIN[1]})[1]["token"]
        cls.browser = chromium(os.path.join(cls.dir, "chromium"))
        cls.base = f"http://127.0.0.1:{cls.port}/"

    @classmethod
    def tearDownClass(cls):
        cls.browser.quit()
        stop(cls.procs)
        shutil.rmtree(cls.dir, ignore_errors=True)

    # --- helpers -------------------------------------------------------------------------------
    def setUp(self):  # a fresh page with nobody logged in
        self.browser.get(self.base)
        self.browser.execute_script("localStorage.clear()")
        self.browser.refresh()

    def tearDown(self):
        result = self._outcome.result
        if SCREENSHOTS and any(test is self for test, _ in result.errors + result.failures):
            self.shot("failed-" + self._testMethodName)

    def wait(self, check, seconds=15):
        # A re-render between finding an element and reading it is normal: check again.
        return WebDriverWait(self.browser, seconds, poll_frequency=0.1,
                             ignored_exceptions=[StaleElementReferenceException]).until(lambda _: check())

    def find(self, selector):
        return self.wait(lambda: self.browser.find_element(By.CSS_SELECTOR, selector))

    def text(self, selector):
        try:  # the page re-renders as answers come: an element may go between finding and reading it
            found = self.browser.find_elements(By.CSS_SELECTOR, selector)
            return found[0].text if found else ""
        except StaleElementReferenceException:
            return ""

    def go(self, fragment):
        self.browser.get(self.base + fragment)

    def shot(self, name):
        if SCREENSHOTS:
            os.makedirs(SCREENSHOTS, exist_ok=True)
            self.browser.save_screenshot(os.path.join(SCREENSHOTS, f"storefront-{name}.png"))

    def register(self, email):
        self.go("#/register")
        self.find("#a-name").send_keys("Cat Buyer")
        self.find("#a-email").send_keys(email)
        self.find("#a-password").send_keys("password-123")
        self.find("#register button").click()
        self.wait(lambda: "Welcome" in self.text("#notice"))

    def fill_checkout(self, card):
        for field, value in (("shippingAddress-fullName", "Cat Buyer"), ("shippingAddress-street", "1 Main St"),
                             ("shippingAddress-city", "Springfield"), ("shippingAddress-postalCode", "12345"),
                             ("shippingAddress-country", "US"), ("deliveryNote", "Ring twice"),
                             ("payment-cardNumber", card), ("payment-cardHolder", "Cat Buyer"),
                             ("payment-expiry", "12/30"), ("payment-cvv", "123")):
            self.find(f"#c-{field}").send_keys(value)
        self.find("#checkout button").click()

    def price_of(self, product):
        return call(self.port, "GET", f"/api/v1/catalog/products/{product}")[1]["price"]


class Storefront(Shop):
    def test_the_whole_purchase(self):
        self.go("#/")
        self.wait(lambda: len(self.browser.find_elements(By.CSS_SELECTOR, "#products [data-product]")) == 12)
        self.assertIn("Page 1 of 6 · 64 products", self.text(".pager"))
        self.shot("products")
        # Filter by brand and sort by price: the shop's own answer, shown.
        Select(self.find("#f-brand")).select_by_visible_text("Kestrel (" + str(
            next(b["productCount"] for b in call(self.port, "GET", "/api/v1/catalog/brands")[1] if b["name"] == "Kestrel")) + ")")
        Select(self.find("#f-sort")).select_by_value("price")
        self.find(".filters button").click()
        expected = call(self.port, "GET", "/api/v1/catalog/products?brand=3&sort=price&pageSize=12")[1]
        self.wait(lambda: [e.get_attribute("data-product") for e in self.browser.find_elements(By.CSS_SELECTOR, "#products [data-product]")]
                  == [str(p["id"]) for p in expected["items"]])
        # Search.
        self.find("#q").send_keys("running shoe")
        self.find("#search button").click()
        self.wait(lambda: "Results for" in self.text("h1"))
        self.find('#products [data-product="1"] h2 a').click()
        # The product page: image, supplier, stock, the coupons that apply.
        self.wait(lambda: self.text("article.product h1") == "Trailblazer 2 Running Shoe")
        self.assertIn("in stock", self.text("#stock"))
        self.assertIn("TRAIL15", self.text(".coupons"))
        image = self.find("article.product img")
        self.wait(lambda: self.browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) == 400)
        # Adding needs an account: register, then add two.
        self.register("buyer@example.com")
        self.go("#/products/1")
        qty = self.find("#qty")
        qty.clear()
        qty.send_keys("2")
        self.find("#add").click()
        self.wait(lambda: "added to your basket" in self.text("#notice"))
        # The basket: line total, subtotal, a coupon, the total.
        self.go("#/basket")
        price = self.price_of(1)
        money = lambda cents: "${:,.2f}".format(cents / 100)
        self.wait(lambda: self.text("#subtotal") == money(2 * price))
        self.find("#coupon").send_keys("NOPE")
        self.find("#coupon").submit()
        self.wait(lambda: self.text("#notice") == "No coupon has this code.")
        self.assertEqual(self.find("#coupon").get_attribute("aria-invalid"), "true")
        coupon = self.find("#coupon")
        coupon.clear()
        coupon.send_keys("TRAIL15")
        coupon.submit()
        discount = round(2 * price * 15 / 100)
        self.wait(lambda: self.text("#total") == money(2 * price - discount))
        self.assertEqual(self.text("#discount"), "−" + money(discount))
        self.shot("basket")
        self.find("#to-checkout").click()
        self.fill_checkout("4242 4242 4242 4242")
        # The order page follows the saga to its end.
        self.wait(lambda: self.text("#order-status") == "completed", 30)
        self.shot("order")
        self.go("#/orders")
        self.wait(lambda: "2 × Trailblazer 2 Running Shoe" in self.text(".orders"))
        self.assertEqual(self.text("#nav-basket"), "Basket")  # emptied by the checkout

    def test_a_declined_card_is_said_in_words_and_the_basket_comes_back(self):
        self.register("declined@example.com")
        self.go("#/products/2")
        self.find("#add").click()
        self.wait(lambda: "added" in self.text("#notice"))
        self.go("#/checkout")
        self.fill_checkout("4000000000000002")
        self.wait(lambda: self.text("#order-status") == "cancelled", 30)
        self.assertIn("The card was declined", self.text("#order-reason"))
        self.go("#/basket")
        self.wait(lambda: self.browser.find_elements(By.CSS_SELECTOR, '[data-line="2"]'))

    def test_stock_that_ran_out_before_the_checkout_is_shown_with_what_is_left(self):
        self.register("late@example.com")
        self.go("#/products/5")
        qty = self.find("#qty")
        qty.clear()
        qty.send_keys("3")
        self.find("#add").click()
        self.wait(lambda: "added" in self.text("#notice"))
        # Meanwhile, the shop sells most of it elsewhere.
        self.assertEqual(call(self.port, "PUT", "/api/v1/catalog/products/5", {"availableStock": 1}, self.admin)[0], 200)
        token = self.browser.execute_script("return localStorage.getItem('eshop-token')")
        self.wait(lambda: call(self.port, "GET", "/api/v1/basket", token=token)[1]["items"][0]["availableStock"] == 1)
        self.go("#/checkout")
        self.fill_checkout("4242424242424242")
        self.wait(lambda: "only 1 left" in self.text("#notice"))
        self.assertTrue(self.browser.current_url.endswith("#/checkout"))
        # Adding more than there is says so too.
        self.go("#/products/5")
        qty = self.find("#qty")
        qty.clear()
        qty.send_keys("5")
        self.find("#add").click()
        self.wait(lambda: self.text("#notice") == "Only 1 of this product is available.")

    def test_a_guest_basket_is_merged_at_login(self):
        # An account with something in its basket already.
        call(self.port, "POST", "/api/v1/identity/register", {"email": "merge@example.com", "password": "password-123", "name": "M"})
        token = call(self.port, "POST", "/api/v1/identity/login", {"email": "merge@example.com", "password": "password-123"})[1]["token"]
        self.assertEqual(call(self.port, "POST", "/api/v1/basket/items", {"productId": 7, "quantity": 1}, token)[0], 200)
        # A visitor, not logged in, fills a basket.
        self.go("#/products/6")
        self.find("#add").click()
        self.wait(lambda: "added to your basket" in self.text("#notice"))
        self.go("#/basket")
        self.wait(lambda: self.browser.find_elements(By.CSS_SELECTOR, '[data-line="6"]'))
        self.assertEqual(self.text("#nav-basket"), "Basket (1)")
        # Checkout asks for an account; logging in keeps what the guest chose.
        self.find("#to-checkout").click()
        self.wait(lambda: self.browser.find_elements(By.CSS_SELECTOR, "#login"))
        self.find("#a-email").send_keys("merge@example.com")
        self.find("#a-password").send_keys("password-123")
        self.find("#login button").click()
        self.wait(lambda: self.browser.find_elements(By.CSS_SELECTOR, "#checkout"))
        self.go("#/basket")
        self.wait(lambda: self.browser.find_elements(By.CSS_SELECTOR, '[data-line="6"]') and
                  self.browser.find_elements(By.CSS_SELECTOR, '[data-line="7"]'))
        self.assertIsNone(self.browser.execute_script("return localStorage.getItem('eshop-basket-token')"))

    def test_the_first_page_is_small_and_asks_no_other_origin(self):
        self.go("#/")
        self.wait(lambda: len(self.browser.find_elements(By.CSS_SELECTOR, "#products [data-product]")) == 12)
        entries = self.browser.execute_script(
            "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
            ".map(e => ({name: e.name, size: e.transferSize || e.encodedBodySize || 0, type: e.initiatorType}))")
        for e in entries:
            self.assertTrue(e["name"].startswith(f"http://127.0.0.1:{self.port}/"), e["name"])
        weight = sum(e["size"] for e in entries if "/api/v1/catalog/images/" not in e["name"])
        self.assertLess(weight, 150 * 1024)


class SlowSaga(Shop):
    """Each saga step waits 800 ms: the order page opens before ordering has recorded the order."""
    extra_config = {"sagaStepDelayMs": 800}

    def test_the_order_page_waits_for_an_order_being_placed_and_follows_it(self):
        self.register("slow@example.com")
        self.go("#/products/8")
        self.find("#add").click()
        self.wait(lambda: "added" in self.text("#notice"))
        self.go("#/checkout")
        self.fill_checkout("4242424242424242")
        seen = []
        def follow():
            status = self.text("#order-status")
            if status and (not seen or seen[-1] != status):
                seen.append(status)
            return status == "completed"
        self.wait(follow, 30)
        self.assertNotIn("Sorry", self.text("main"))
        self.assertEqual(seen[0], "being placed")  # not "No order has this id"
        self.assertIn("submitted", seen)
        self.assertEqual(seen[-1], "completed")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
