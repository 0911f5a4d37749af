"""The read-back transcript: what was said, kept on disk (store), written by a sink, exported."""
