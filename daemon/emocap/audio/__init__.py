"""Audio in: the ring buffer, what feeds it (microphone, file), the audio file reader, and the
stream's clock and recent history."""
