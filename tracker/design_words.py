"""The words a learned design model reads: each record's word unigrams and bigrams.

Shared by the model's training (scripts/train_design_model.py) and its scoring at tagging time
(:mod:`tracker.learned_design`), so that both see exactly the same features; a model scored on
features it was not trained on would be silently wrong.

A record's words are its title and abstract, lower-cased, with every run of digits read as
"#" ("20 patients" and "146 patients" are the same evidence of a counted sample), split on
anything that is not a letter or "#". Its terms are the distinct words and adjacent word pairs
("double blind", "were randomized"); the title's words also count as title terms ("t:review"),
because a title that names a design is stronger evidence than the same word in the abstract.
Presence counts, not frequency: a review that says "trials" ten times is no more a review.

Everything runs on Arrow arrays, whole columns at a time: tokenising 100,000 abstracts in a
Python loop would cost more than the rest of the tagging.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TITLE = "t:"
"""The prefix of a title's own terms."""


class Terms(NamedTuple):
    """Terms of several records: each term once per record, with the row it belongs to."""

    rows: np.ndarray
    terms: pa.Array


def record_terms(titles: pa.Array, abstracts: pa.Array) -> Terms:
    """Every record's distinct terms: words and word pairs of title and abstract together,
    and the title's words again as title terms."""
    whole = pc.binary_join_element_wise(
        pc.fill_null(titles, ""), pc.fill_null(abstracts, ""), " . "
    )
    rows_w, words = _words(whole)
    rows_p, pairs = _pairs(rows_w, words)
    rows_t, title_words = _words(pc.fill_null(titles, ""))
    titled = pc.binary_join_element_wise(pa.scalar(TITLE), title_words, "")
    rows = np.concatenate([rows_w, rows_p, rows_t])
    terms = pa.concat_arrays([words, pairs, titled.cast(pa.string())])
    return _distinct(Terms(rows, terms))


def known_terms(titles: pa.Array, abstracts: pa.Array, terms: Sequence[str]) -> Terms:
    """The same terms as :func:`record_terms`, only those in ``terms`` (as their positions in
    it, an int64 array, in place of text), each once per record.

    What scoring needs: words are looked up once as numbers and word pairs found from those
    numbers, so that no string is built for the millions of pairs no model knows."""
    index = {term: i for i, term in enumerate(terms)}
    parts = sorted({w for t in terms if not t.startswith(TITLE) for w in t.split(" ")})
    number = {w: i for i, w in enumerate(parts)}
    width = len(parts) + 1

    def lookup(keys: dict[int, int], codes: np.ndarray) -> np.ndarray:
        table = np.array(sorted(keys), dtype=np.int64)
        found = np.full(len(codes), -1, dtype=np.int64)
        if len(table):
            at = np.clip(np.searchsorted(table, codes), 0, len(table) - 1)
            hit = table[at] == codes
            found[hit] = np.array([keys[k] for k in table.tolist()], dtype=np.int64)[at[hit]]
        return found

    whole = pc.binary_join_element_wise(
        pc.fill_null(titles, ""), pc.fill_null(abstracts, ""), " . "
    )
    rows, words = _words(whole)
    ids = pc.index_in(words, value_set=pa.array(parts, type=pa.string()))
    ids = pc.fill_null(ids, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    singles = {number[w]: i for w, i in index.items() if w in number}
    pairs = {
        number[a] * width + number[b]: i
        for t, i in index.items()
        if t.count(" ") == 1
        and (a := t.split(" ")[0]) in number
        and (b := t.split(" ")[1]) in number
    }
    single_terms = lookup(singles, ids)
    same = (rows[1:] == rows[:-1]) & (ids[1:] >= 0) & (ids[:-1] >= 0)
    pair_terms = np.full(len(same), -1, dtype=np.int64)
    pair_terms[same] = lookup(pairs, ids[:-1][same] * width + ids[1:][same])
    title_rows, title_words = _words(pc.fill_null(titles, ""))
    titled = {t[len(TITLE) :]: i for t, i in index.items() if t.startswith(TITLE)}
    title_ids = pc.index_in(title_words, value_set=pa.array(list(titled), type=pa.string()))
    title_ids = pc.fill_null(title_ids, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    title_terms = np.array(list(titled.values()), dtype=np.int64)
    title_found = np.where(
        title_ids >= 0, title_terms[np.maximum(title_ids, 0)] if len(title_terms) else -1, -1
    )
    all_rows = np.concatenate([rows, rows[1:], title_rows]).astype(np.int64)
    all_terms = np.concatenate([single_terms, pair_terms, title_found])
    keep = all_terms >= 0
    keys = np.unique(all_rows[keep] * len(terms) + all_terms[keep])
    found_rows, found_terms = np.divmod(keys, max(1, len(terms)))
    return Terms(found_rows, pa.array(found_terms, type=pa.int64()))


def _words(text: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Each record's words in order, and the row each belongs to."""
    lowered = pc.replace_substring_regex(pc.utf8_lower(text), pattern="[0-9]+", replacement="#")
    split = pc.split_pattern_regex(lowered, pattern="[^a-z#]+")
    rows = pc.list_parent_indices(split).to_numpy()
    words = pc.list_flatten(split)
    keep = pc.greater(pc.utf8_length(words), 0)
    return rows[keep.to_numpy(zero_copy_only=False)], words.filter(keep).cast(pa.string())


def _pairs(rows: np.ndarray, words: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Adjacent words of the same record, joined by a space."""
    if len(words) < 2:
        return np.zeros(0, dtype=rows.dtype), pa.array([], type=pa.string())
    same = rows[1:] == rows[:-1]
    joined = pc.binary_join_element_wise(words.slice(0, len(words) - 1), words.slice(1), " ")
    return rows[1:][same], joined.filter(pa.array(same)).cast(pa.string())


def _distinct(terms: Terms) -> Terms:
    """Each (row, term) pair once."""
    if not len(terms.terms):
        return terms
    encoded = pc.dictionary_encode(terms.terms)
    codes = encoded.indices.to_numpy().astype(np.int64)
    width = len(encoded.dictionary)
    keys = np.unique(terms.rows.astype(np.int64) * width + codes)
    rows, codes = np.divmod(keys, width)
    return Terms(rows, encoded.dictionary.take(pa.array(codes)))
