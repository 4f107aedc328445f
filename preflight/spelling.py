"""The "did you mean" hint: the closest of many names to a misspelt one."""

from __future__ import annotations

import difflib


def nearest(word: str, possibilities, cutoff: float) -> str | None:
    """What ``difflib.get_close_matches(word, possibilities, n=1, cutoff=cutoff)`` gives, or None,
    found faster (a service has hundreds of actions): names are tried from the closest length,
    whose bound on the ratio is highest, and the search stops where that bound falls below the
    best ratio found; the best is the highest (ratio, name), as get_close_matches orders them."""
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(word)
    best: tuple[float, str] | None = None
    for name in sorted(possibilities, key=lambda name: -_length_bound(name, word)):
        bar = best[0] if best else cutoff
        if _length_bound(name, word) < bar:
            break
        matcher.set_seq1(name)
        if matcher.quick_ratio() >= bar:
            score = matcher.ratio()
            if score >= bar and (best is None or (score, name) > best):
                best = (score, name)
    return best[1] if best else None


def _length_bound(name: str, word: str) -> float:
    """SequenceMatcher.real_quick_ratio: the ratio if every character of the shorter matched."""
    total = len(name) + len(word)
    return 2.0 * min(len(name), len(word)) / total if total else 1.0
