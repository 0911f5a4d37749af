"""Vosk's blocks: full blocks from a stream's start whatever the chunk sizes, the rest on flush."""
import numpy as np

from emocap.blocks import Blocks


def test_blocks_fall_where_they_would_for_one_whole_chunk():
    audio = np.arange(1000, dtype=np.int16)
    b = Blocks(160)
    out = [blk for i in range(0, 1000, 70) for blk in b.add(audio[i : i + 70])]
    assert [len(x) for x in out] == [160] * 6
    assert np.array_equal(np.concatenate(out), audio[:960])
    rest = b.rest()
    assert np.array_equal(rest, audio[960:]) and b.rest() is None  # flushed once, then empty
    assert [len(x) for x in b.add(audio[:200])] == [160]  # a flush restarts the count from there
