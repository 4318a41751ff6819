"""What the browser tests share: free ports, calls to the shop's API, headless Chromium (Debian's
chromium and chromium-driver, driven by python3-selenium), and stopping the shop's processes."""
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

ADMIN = ("admin@example.com", "admin-password-1")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, method, path, body=None, token=None):
    """The status and parsed JSON body of one API call to the shop on `port`."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def wait_ready(port, seconds=20):
    """Until the shop on `port` is ready and every module it names elsewhere is up."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            status, body = call(port, "GET", "/health/ready")
            if status == 200 and all(r["status"] == "up" for r in (body.get("remotes") or {}).values()):
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"eshop on port {port} did not become ready")


def chromium(profile_dir, width=1280, height=1000):
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--window-size={width},{height}", f"--user-data-dir={profile_dir}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def stop(processes):
    """SIGTERM to each, then wait (SIGKILL after 15 s): no process is left behind."""
    for p in processes:
        p.terminate()
    for p in processes:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def admin_env():
    return dict(os.environ, ESHOP_ADMIN_EMAIL=ADMIN[0], ESHOP_ADMIN_PASSWORD=ADMIN[1])
