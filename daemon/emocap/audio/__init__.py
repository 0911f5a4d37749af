"""Audio capture: the ring buffer and the sources that feed it."""
