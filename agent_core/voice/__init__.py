"""The voice channel: caller audio heard as a message, replies spoken (see `channel.Voice`)."""
