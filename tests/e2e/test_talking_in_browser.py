"""Talking in Chromium: a WAV of a spoken booking (Piper's voice, made here) plays as the
microphone (`--use-file-for-fake-audio-capture`). Push-to-talk records it in the chat box; a
live call streams it over the WebSocket and answers when the caller pauses. Either way it is
heard by Whisper on the server, booked, and the reply comes back as audio on the page."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from agent_core.voice.audio import AudioLimits, read_clip, wav_bytes
from agent_core.voice.offline import PiperSpeaker
from agent_core.voice.speech import Delivery
from tests.conftest import service_missing
from tests.e2e.conftest import CHROMIUM_FLAGS, running_dashboard, shoot

pytestmark = pytest.mark.browser

SAID = "Book a tour for John Smith on March fifteenth, 2027, in Paris."


@pytest.fixture
def microphone(tmp_path: Path, piper: PiperSpeaker) -> Path:
    """The booking spoken, a second of silence before and six after (Chromium plays the file
    in a loop), as a 16 kHz WAV."""
    spoken = read_clip(piper.speak(SAID, Delivery()), AudioLimits(10_000_000, 60))
    path = tmp_path / "said.wav"
    silence = b"\x00\x00" * 16_000
    pcm = (spoken.samples * 32767).astype("<i2").tobytes()
    path.write_bytes(wav_bytes(silence + pcm + silence * 6, 16_000))
    return path


@pytest.fixture
def talking_page(microphone: Path) -> Iterator[Page]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        service_missing("Chromium is not installed (apt-get install chromium)")
    flags = [
        *CHROMIUM_FLAGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}",
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=flags)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, permissions=["microphone"])
        yield context.new_page()
        context.close()
        browser.close()


def test_a_spoken_booking_is_heard_booked_and_answered_aloud(talking_page: Page, tmp_path: Path) -> None:
    page = talking_page
    with running_dashboard(tmp_path / "talk.sqlite3") as url:
        page.goto(url)
        expect(page.get_by_role("heading", name="Chat · Demo Tours")).to_be_visible(timeout=30_000)
        page.get_by_test_id("stChatInputMicButton").click()
        page.wait_for_timeout(6_500)  # the whole sentence, from the fake microphone
        page.get_by_role("button", name="Submit recording").click()
        expect(page.get_by_text("book_tour succeeded")).to_be_visible(timeout=60_000)
        # What was heard is the caller's message; the reply is written and spoken.
        messages = page.get_by_test_id("stChatMessage")
        expect(messages.filter(has_text="tour for John Smith on March 15, 2027").first).to_be_visible()
        expect(page.get_by_text("I've booked a tour for John Smith on Monday 15 March 2027")).to_be_visible()
        expect(page.get_by_text("spoken", exact=False).first).to_be_visible()
        expect(page.get_by_test_id("stAudio")).to_have_count(1, timeout=30_000)
        shoot(page, "talk")
        # The Conversations page plays back what the caller said and what was answered.
        conversation = parse_qs(urlparse(page.url).query)["conversation"][0]
        page.goto(f"{url}/conversations?conversation={conversation}")
        expect(page.get_by_text("first audio after", exact=False)).to_be_visible(timeout=30_000)
        expect(page.get_by_test_id("stAudio")).to_have_count(2, timeout=30_000)
        page.get_by_test_id("stAudio").last.scroll_into_view_if_needed()
        shoot(page, "recordings")


def test_a_live_call_answers_when_the_caller_pauses(talking_page: Page, tmp_path: Path) -> None:
    page = talking_page
    with running_dashboard(tmp_path / "call.sqlite3") as url:
        page.goto(url)
        expect(page.get_by_role("heading", name="Chat · Demo Tours")).to_be_visible(timeout=30_000)
        page.get_by_text("Live call").click()
        page.get_by_role("button", name="Start call").click()
        log = page.locator(".vam-call-log")
        expect(log).to_contain_text("book_tour succeeded", timeout=60_000)
        expect(log).to_contain_text("Assistant: Done: I've booked a tour for John Smith", timeout=30_000)
        # The reply opened its conversation: what was heard and answered is in the transcript.
        messages = page.get_by_test_id("stChatMessage")
        expect(messages.filter(has_text="tour for John Smith on March 15, 2027").first).to_be_visible(
            timeout=30_000
        )
        shoot(page, "live-call")
        page.get_by_role("button", name="End call").click()
        expect(page.get_by_role("button", name="Start call")).to_be_visible()
