"""The bot as users get it: `python -m bot` in its own process, configured by environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fake_bot_api import TOKEN, FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent


class BotProcess:
    def __init__(self, fake: FakeBotAPI, workdir: Path, **env: str) -> None:
        self.fake = fake
        self.workdir = workdir
        self.log_path = workdir / "bot.log"
        self.database = workdir / "data" / "bot.sqlite3"
        self.env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": fake.base_url,
            "DATABASE_PATH": str(self.database),
            "LOG_LEVEL": "DEBUG",  # the most talkative level: the token must still not appear
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.proc: subprocess.Popen | None = None

    def start(self, *, ready: bool = True, timeout: float = 30.0) -> BotProcess:
        mark = self.fake.mark()
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "bot"], cwd=ROOT, env=self.env,
                                     stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        if ready:  # commands registered (post_init ran) and polling started
            self.fake.wait_for_sync("setMyCommands", after=mark, timeout=timeout)
            self.fake.wait_for_sync("getUpdates", after=mark, timeout=timeout)
        return self

    def stop(self, timeout: float = 20.0) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        code, self.proc = self.proc.returncode, None
        return code

    def logs(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.proc.poll()
