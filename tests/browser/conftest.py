"""What the browser tests share: system Chromium with its own fake microphone (a periodic
beep, as a test machine's page gets)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.browser.test_page import launch


@pytest.fixture
async def chromium() -> AsyncIterator[object]:
    async with launch() as browser:
        yield browser
