"""Gr.fst without its input word list: the bytes cut are exactly that table, the runtime folder
holds the copy, and Vosk loads it with its words (the memory saved is in the README)."""
import struct

from emocap import asr, vosk_conf, vosk_graph


def string(s: bytes) -> bytes:
    return struct.pack("<i", len(s)) + s


def symbols(name: bytes, words: list[bytes]) -> bytes:
    body = b"".join(string(w) + struct.pack("<q", k) for k, w in enumerate(words))
    return struct.pack("<i", vosk_graph.SYMBOLS_MAGIC) + string(name) + struct.pack("<qq", len(words), len(words)) + body


def fst(flags: int, tables: bytes, data: bytes = b"\x01\x02fst data\x7e") -> bytes:
    head = struct.pack("<i", vosk_graph.FST_MAGIC) + string(b"ngram") + string(b"standard")
    return head + struct.pack("<ii", 4, flags) + struct.pack("<Qqqq", 1, 0, 3, 0) + tables + data


WORDS = ["<eps>".encode(), "인터넷".encode(), "으로".encode(), b""]


def test_the_copy_drops_the_input_table_and_its_flag(tmp_path):
    both = symbols(b"words.txt", WORDS) + symbols(b"words.txt", WORDS)
    src, dst = tmp_path / "Gr.fst", tmp_path / "out.fst"
    src.write_bytes(fst(3, both))
    span = vosk_graph.input_symbols_span(src)
    assert span is not None
    vosk_graph.write_without_input_symbols(src, dst, span)
    assert dst.read_bytes() == fst(2, symbols(b"words.txt", WORDS))


def test_files_without_both_tables_are_left_alone(tmp_path):
    for flags, tables in ((2, symbols(b"w", WORDS)), (0, b""), (1, symbols(b"w", WORDS))):
        (tmp_path / "g.fst").write_bytes(fst(flags, tables))
        assert vosk_graph.input_symbols_span(tmp_path / "g.fst") is None
    (tmp_path / "g.fst").write_bytes(b"not an fst at all")
    assert vosk_graph.input_symbols_span(tmp_path / "g.fst") is None


def test_the_packaged_model_loads_from_the_copy_with_its_words():
    import vosk

    model = asr.model_dir("")
    with vosk_conf.model_folder(model) as folder:  # the model's own options: only Gr.fst differs
        copy = folder / vosk_graph.GRAPH
        assert folder != model and not copy.is_symlink()
        assert (folder / "graph" / "HCLr.fst").resolve() == (model / "graph" / "HCLr.fst").resolve()
        assert (folder / "conf" / "mfcc.conf").resolve() == (model / "conf" / "mfcc.conf").resolve()
        assert vosk_graph.input_symbols_span(copy) is None
        cut = (model / vosk_graph.GRAPH).stat().st_size - copy.stat().st_size
        assert cut > 10_000_000  # the 503,352 words of the input table
        vosk.SetLogLevel(-1)
        loaded = vosk.Model(str(folder))
    assert not folder.exists()
    assert loaded.vosk_model_find_word("인터넷") > 0 and loaded.vosk_model_find_word("no-such-word") == -1


def test_a_failed_copy_loads_the_original_graph(monkeypatch, caplog):
    def full(*_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(vosk_graph, "write_without_input_symbols", full)
    model = asr.model_dir("")
    with vosk_conf.model_folder(model) as folder:
        assert (folder / vosk_graph.GRAPH).resolve() == (model / vosk_graph.GRAPH).resolve()
    assert "No space left on device" in caplog.text and "Gr.fst" in caplog.text
