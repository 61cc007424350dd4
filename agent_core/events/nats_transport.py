"""Listener runs carried by NATS JetStream, so every process (on any machine) shares them.

The store stays the record of each run: events and their pending runs are written in the
transaction of the change they describe (the outbox), and a run is claimed in the store before
it starts, so it executes once however often JetStream delivers it. JetStream adds what one
database's processes cannot do alone: a run committed in one process is taken by whichever
process is free, at once, and one that dies holding a message has it delivered elsewhere.

- After each commit the bus sends each run here; it is published to `vam.runs.<listener>` with
  the run's id as the message id, so a second sending within the stream's duplicate window
  is dropped by the server.
- Each listener is a durable pull consumer shared by every process; a failed attempt is
  delivered again after the retry policy's back-off (a negative acknowledgement with delay),
  and the store's count of attempts decides when it has failed for good.
- When NATS cannot take a run (down, or not yet connected) the run is run by this process,
  as without NATS; runs left pending by a process that died before sending them are sent
  again by the reconcilers once older than the lease.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Final
from uuid import UUID

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StorageType, StreamConfig

from agent_core.domain import Event

log = logging.getLogger(__name__)

STREAM: Final = "VAM_RUNS"
SUBJECTS: Final = "vam.runs"
DUPLICATE_WINDOW_SECONDS: Final = 120.0


def encode_event(event: Event) -> bytes:
    """The message body of a run: its event."""
    return json.dumps(
        {
            "id": str(event.id),
            "tenant_id": str(event.tenant_id),
            "name": event.name,
            "payload": event.payload,
            "created_at": event.created_at.isoformat(),
            "seq": event.seq,
        }
    ).encode()


def decode_event(body: bytes) -> Event:
    """The event a message carries; ValueError (or KeyError) when it is not one of ours."""
    data = json.loads(body)
    return Event(
        UUID(data["id"]),
        UUID(data["tenant_id"]),
        str(data["name"]),
        dict(data["payload"]),
        datetime.fromisoformat(data["created_at"]),
        int(data["seq"]),
    )


class NatsRunTransport:
    """A `RunTransport` on NATS JetStream (see the module docstring for what it promises)."""

    name = "nats"

    def __init__(
        self,
        url: str,
        *,
        ack_wait: float = 30.0,
        max_deliver: int = 20,
        publish_timeout: float = 2.0,
        connect_wait: float = 3.0,
    ) -> None:
        self._url = url
        self._ack_wait = ack_wait
        # A bound on deliveries of one message (redeliveries after crashes included); the
        # store's attempt count decides failure well before it.
        self._max_deliver = max_deliver
        self._publish_timeout = publish_timeout
        self._connect_wait = connect_wait
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="nats-transport", daemon=True)
        self._client: Client | None = None
        self._jetstream: JetStreamContext | None = None
        self._ready = threading.Event()
        self._closing: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._run: Callable[[str, Event], float | None] | None = None
        self._run_here: Callable[[Event, str], None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._connecting: Future[None] | None = None

    def start(
        self,
        listeners: Sequence[str],
        run: Callable[[str, Event], float | None],
        run_here: Callable[[Event, str], None],
    ) -> None:
        """Connect (waiting a little, then going on in the background) and consume."""
        self._run, self._run_here = run, run_here
        self._executor = ThreadPoolExecutor(max(1, len(listeners)), thread_name_prefix="nats-listener")
        self._thread.start()
        self._connecting = asyncio.run_coroutine_threadsafe(self._connect(list(listeners)), self._loop)
        if not self._ready.wait(self._connect_wait):
            log.warning("NATS at %s not reachable yet: this process runs its own events meanwhile", self._url)

    def send(self, runs: Sequence[tuple[Event, str]], *, again: bool = False) -> None:
        """Publish the runs from the transport's thread; the caller does not wait."""
        if not runs:
            return
        if not self._thread.is_alive() or self._loop.is_closed():
            self._fall_back(runs)
            return
        asyncio.run_coroutine_threadsafe(self._publish(list(runs), again), self._loop)

    def status(self) -> tuple[bool, str]:
        """Whether the client is connected, and what the health check says."""
        connected = self._client is not None and self._client.is_connected and self._ready.is_set()
        if connected:
            return True, f"NATS JetStream at {self._url}, stream {STREAM}"
        return False, f"NATS at {self._url} unreachable: each process runs its own events meanwhile"

    def close(self, timeout: float) -> None:
        """Stop consuming, let runs in hand finish within `timeout`, disconnect, and close the
        event loop (never started or not: it holds a selector and a socket pair)."""
        if not self._thread.is_alive():
            self._loop.close()
            return
        if self._connecting is not None:
            # Still trying to reach the server: stop trying.
            self._connecting.cancel()
        stopping = asyncio.run_coroutine_threadsafe(self._stop(timeout), self._loop)
        try:
            stopping.result(timeout + 2)
        except Exception:
            log.exception("NATS transport did not stop cleanly")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(2)
        if not self._thread.is_alive():
            self._loop.close()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def _connect(self, listeners: list[str]) -> None:
        self._closing = closing = asyncio.Event()
        while not closing.is_set():
            try:
                self._client = await nats.connect(
                    self._url,
                    connect_timeout=2,
                    reconnect_time_wait=0.5,
                    max_reconnect_attempts=-1,
                    error_cb=self._on_error,
                )
                self._jetstream = jetstream = self._client.jetstream(timeout=self._publish_timeout)
                await self._ensure_stream(jetstream)
                break
            except Exception as exc:
                log.warning("NATS at %s: %s; trying again in 1 s", self._url, exc)
                if self._client is not None:
                    await self._client.close()
                    self._client = None
                await asyncio.sleep(1.0)
        else:
            return
        self._tasks = [asyncio.create_task(self._consume(jetstream, closing, name)) for name in listeners]
        self._ready.set()

    @staticmethod
    async def _on_error(exc: Exception) -> None:
        log.warning("NATS: %s", exc)

    async def _ensure_stream(self, jetstream: JetStreamContext) -> None:
        config = StreamConfig(
            name=STREAM,
            subjects=[f"{SUBJECTS}.*"],
            # A message leaves the stream once its listener's consumer acknowledged it.
            retention=RetentionPolicy.WORK_QUEUE,
            # On disk: a restarted server still holds what it accepted.
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
        )
        try:
            await jetstream.add_stream(config)
        except nats.js.errors.BadRequestError:
            # Made before with other settings (by an operator, say): use it as it is.
            await jetstream.stream_info(STREAM)

    async def _publish(self, runs: list[tuple[Event, str]], again: bool) -> None:
        jetstream, client = self._jetstream, self._client
        if jetstream is None or client is None or not client.is_connected or not self._ready.is_set():
            self._fall_back(runs)
            return

        async def one(event: Event, listener: str) -> None:
            # A run sent again must not be dropped as a duplicate of its first sending.
            headers = None if again else {"Nats-Msg-Id": f"{event.id}.{listener}"}
            try:
                await jetstream.publish(
                    f"{SUBJECTS}.{listener}",
                    encode_event(event),
                    timeout=self._publish_timeout,
                    stream=STREAM,
                    headers=headers,
                )
            except Exception as exc:
                log.warning("NATS did not take run %s of %s (%s): running it here", listener, event.id, exc)
                self._fall_back([(event, listener)])

        await asyncio.gather(*(one(event, listener) for event, listener in runs))

    def _fall_back(self, runs: Sequence[tuple[Event, str]]) -> None:
        assert self._run_here is not None
        for event, listener in runs:
            self._run_here(event, listener)

    async def _consume(self, jetstream: JetStreamContext, closing: asyncio.Event, listener: str) -> None:
        config = ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self._ack_wait,
            max_deliver=self._max_deliver,
            # Spread one process's pull across the others instead of hoarding messages.
            max_ack_pending=1000,
        )
        subscription = None
        while subscription is None and not closing.is_set():
            try:
                subscription = await jetstream.pull_subscribe(
                    f"{SUBJECTS}.{listener}", durable=listener, stream=STREAM, config=config
                )
            except Exception as exc:
                log.warning("NATS consumer %s: %s; trying again in 1 s", listener, exc)
                await asyncio.sleep(1.0)
        while subscription is not None and not closing.is_set():
            try:
                messages = await subscription.fetch(1, timeout=1.0)
            except nats.errors.TimeoutError:
                continue
            except Exception as exc:
                # Disconnected: the client reconnects on its own; ask again shortly.
                log.debug("NATS fetch for %s: %s", listener, exc)
                await asyncio.sleep(0.2)
                continue
            for message in messages:
                await self._deliver(listener, message)

    async def _deliver(self, listener: str, message: Msg) -> None:
        assert self._run is not None
        try:
            event = decode_event(message.data)
        except (ValueError, KeyError, TypeError) as exc:
            log.error("NATS message on %s is not a run (%s): dropped", message.subject, exc)
            await message.term()
            return
        retry_in = await self._loop.run_in_executor(self._executor, self._run, listener, event)
        try:
            if retry_in is None:
                await message.ack()
            else:
                await message.nak(delay=retry_in)
        except Exception as exc:
            # Unacknowledged, it comes back after `ack_wait`; the store's claim makes the
            # second delivery a no-op if the run finished.
            log.warning("NATS could not acknowledge run %s of %s: %s", listener, event.id, exc)

    async def _stop(self, timeout: float) -> None:
        if self._closing is not None:
            self._closing.set()
        if self._tasks:
            # A consumer ends after its current fetch (at most a second) or delivery.
            await asyncio.wait(self._tasks, timeout=max(timeout, 1.5))
            for task in self._tasks:
                task.cancel()
        if self._client is not None and not self._client.is_closed:
            await self._client.close()
