"""What schemathesis sends as audio (`SCHEMATHESIS_HOOKS`): it knows no audio type of its own.

Real audio (a tone, which has sound but no words) and bytes of every kind, so both the
decoder's refusals and a whole read are exercised."""

from __future__ import annotations

import schemathesis
from hypothesis import strategies as st

from agent_core.testing.openai_server import tone_wav

schemathesis.openapi.media_type(
    "audio/wav",
    st.one_of(st.just(tone_wav(0.5)), st.binary(max_size=4096)),
    aliases=["audio/*", "audio/mpeg", "audio/ogg", "audio/webm", "application/octet-stream"],
)
