"""Relevance: what a record looks like to the model, and the model that learns from decisions.

The features of a library are built once per records version (see :mod:`tracker.ranking`
for the cache) and every retrain reuses them, so a retrain costs one linear fit on the
screened rows and one sparse product over the unscreened ones.

Features, as sparse TF-IDF blocks side by side:

- **text**: word 1–2-grams of title and abstract (sublinear term frequency, English stop words
  kept), as ASReview's default model has them;
- **metadata**: what PubMed adds and ASReview leaves out: MeSH descriptors, author keywords and
  publication types, each a whole-phrase token ("mesh:chronic pain"), so "Pain" the MeSH
  heading and "pain" the word are different evidence. None of the labelled benchmark datasets
  carries MeSH terms, so its weight (0.5) is a prior choice, not a measured one;
- **word endings**: the last 4, 5 and 6 letters of every word of seven letters or more, so
  drug classes that share a stem ("-prazole", "-olol", "-dipine") share evidence: a model that
  has met omeprazole knows where lansoprazole belongs;
- optional, off by default: the title's words again (measured: no gain).

Words are hashed into a fixed number of columns rather than kept in a vocabulary: building
the features of 100,000 records then needs no dictionary of millions of bigrams, and the same
text always lands in the same columns. The columns no record uses are dropped afterwards, since
a linear fit over two million mostly empty columns costs more than the data in them.

The model averages, by rank, two linear models on the same features: a support-vector
machine with sample weights that give the relevant class 9.8 times the irrelevant class's
total weight and C = 0.11 (the values ASReview tuned on the SYNERGY datasets), and a complement
naive Bayes model. Neither the average alone nor the word endings alone beat the SVM alone on
the mean over all datasets; together they did (bench/RESULTS.md lists every variant tried).
Both train in milliseconds, so a retrain after every decision is cheap. "Maybe" decisions count
as relevant at half weight (see :mod:`tracker.screening_order`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

FEATURE_VERSION = 1
"""Part of the features' cache key: bump it when what a record's features are changes."""

TEXT_COLUMNS = ("title", "abstract")
METADATA_COLUMNS = {"mesh_terms": "mesh", "keywords": "kw", "publication_types": "pt"}
_HASH_COLUMNS = 2**21

Scores = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """The model's knobs; the defaults are the ones the benchmark chose (bench/RESULTS.md)."""

    svm_c: float = 0.11
    positive_weight: float = 9.8
    """Total weight of the relevant class over that of the irrelevant one."""
    naive_bayes: bool = True
    """Average the SVM's ranks with a complement naive Bayes model's."""
    nb_alpha: float = 1.0
    title_weight: float = 0.0
    """Weight of a second block of the title's words (measured: no gain)."""
    metadata_weight: float = 0.5
    ending_weight: float = 0.5
    """Weight of the block of word endings ("-prazole", "-olol")."""


@dataclass(frozen=True, slots=True)
class Features:
    """The feature matrix of one library, one row per record in the frame's order."""

    matrix: sparse.csr_matrix
    text: HashingVectorizer
    idf: TfidfTransformer
    columns: npt.NDArray[np.int64]
    """Which hashed columns the library uses, in order: the others are dropped, because a
    linear fit over two million mostly empty columns costs more than the data in them."""

    @property
    def rows(self) -> int:
        return int(self.matrix.shape[0])


def build_features(records: pd.DataFrame, settings: ModelSettings | None = None) -> Features:
    """Features of ``records`` (columns title, abstract, and any of mesh_terms, keywords,
    publication_types as lists), one row per record in order."""
    settings = settings or ModelSettings()
    text = _text_vectoriser()
    words = text.transform(_joined(records, TEXT_COLUMNS))
    idf = TfidfTransformer(sublinear_tf=True).fit(words)
    blocks = [idf.transform(words)]
    if settings.title_weight:
        title = text.transform(_column(records, "title"))
        blocks.append(_tfidf(title) * settings.title_weight)
    if settings.ending_weight:
        endings = _token_vectoriser().transform(map(word_endings, _joined(records, TEXT_COLUMNS)))
        blocks.append(_tfidf(endings) * settings.ending_weight)
    metadata = _metadata_tokens(records)
    if settings.metadata_weight and any(metadata):
        blocks.append(_tfidf(_token_vectoriser().transform(metadata)) * settings.metadata_weight)
    matrix = sparse.hstack(blocks, format="csr", dtype=np.float32)
    columns = np.unique(matrix.indices).astype(np.int64)
    return Features(matrix=matrix[:, columns], text=text, idf=idf, columns=columns)


def fit_scores(
    features: Features,
    rows: npt.NDArray[np.intp],
    labels: npt.NDArray[np.float64],
    targets: npt.NDArray[np.intp],
    settings: ModelSettings | None = None,
) -> Scores:
    """Train on ``rows`` (labels 1 relevant, 0 irrelevant, fractions for "maybe") and score
    ``targets``: higher is more likely relevant. Needs both classes among the labels."""
    settings = settings or ModelSettings()
    positive = labels > 0
    weights = class_weights(positive, labels, settings.positive_weight)
    train = features.matrix[rows]
    svm = LinearSVC(C=settings.svm_c, random_state=0)
    svm.fit(train, positive.astype(np.int64), sample_weight=weights)
    if not settings.naive_bayes:
        return _decision(features.matrix[targets], svm.coef_.ravel(), float(svm.intercept_[0]))
    # Ranks are taken over the whole library, so a record's score does not depend on which
    # other records were asked about.
    margin = _decision(features.matrix, svm.coef_.ravel(), float(svm.intercept_[0]))
    bayes = ComplementNB(alpha=settings.nb_alpha)
    bayes.fit(train, positive.astype(np.int64), sample_weight=weights)
    log_odds = bayes.predict_log_proba(features.matrix)
    combined = rank_average([margin, log_odds[:, 1] - log_odds[:, 0]], tie_break=margin)
    return combined[targets]


def class_weights(
    positive: npt.NDArray[np.bool_], labels: npt.NDArray[np.float64], ratio: float
) -> npt.NDArray[np.float64]:
    """Weights that give the relevant class ``ratio`` times the irrelevant class's total.

    A "maybe" (label between 0 and 1) counts as relevant with that fraction of the weight.
    Weights are scaled to average 1, so the SVM's C keeps its meaning as the library grows.
    """
    strength = np.where(positive, labels, 1.0)
    total_positive = strength[positive].sum()
    total_negative = strength[~positive].sum()
    weights = np.where(positive, strength, strength * total_positive / (ratio * total_negative))
    scaled: npt.NDArray[np.float64] = weights * (len(weights) / weights.sum())
    return scaled


def rank_average(scores: Sequence[Scores], *, tie_break: Scores) -> Scores:
    """The mean of each model's rank (0 worst), plus a sliver of one model's score for ties."""
    ranks = [np.argsort(np.argsort(s, kind="stable"), kind="stable") for s in scores]
    mean = np.mean(ranks, axis=0)
    spread = np.ptp(tie_break) or 1.0
    combined: Scores = mean + 0.5 * (tie_break - tie_break.min()) / spread
    return combined


def similarity_scores(features: Features, text: str, targets: npt.NDArray[np.intp]) -> Scores:
    """Cosine similarity of ``targets`` to a piece of text (say, the review's query terms)."""
    vector = features.idf.transform(features.text.transform([text])).tocsc()
    width = int(features.columns.max()) + 1 if len(features.columns) else 1
    vector.resize((1, max(width, int(vector.shape[1]))))
    vector = vector[:, features.columns]
    product = features.matrix[targets] @ vector.T.astype(np.float32)
    return np.asarray(product.todense(), dtype=np.float64).ravel()


def query_terms(query: str) -> str:
    """The words of a PubMed query, without field tags, operators and punctuation."""
    without_tags = re.sub(r"\[[^\]]*\]", " ", query)
    words = re.findall(r"[A-Za-z0-9][\w-]*", without_tags)
    return " ".join(w for w in words if w not in {"AND", "OR", "NOT"})


_WORD = re.compile(r"(?u)\b\w\w+\b")


def word_endings(text: str) -> list[str]:
    """The last 4, 5 and 6 letters of each long word: drug classes share them ("-prazole",
    "-olol", "-dipine"), so a model that has met omeprazole knows where lansoprazole belongs."""
    words = (w for w in _WORD.findall(text.lower()) if len(w) >= 7 and not w.isdigit())
    return [f"-{word[-n:]}" for word in words for n in (4, 5, 6)]


def _decision(matrix: sparse.csr_matrix, coef: npt.NDArray[np.float64], bias: float) -> Scores:
    """``matrix @ coef + bias`` in float32, so the large matrix is never copied to float64."""
    product = matrix @ coef.astype(np.float32)
    return np.asarray(product, dtype=np.float64) + bias


def _text_vectoriser() -> HashingVectorizer:
    return HashingVectorizer(
        ngram_range=(1, 2),
        n_features=_HASH_COLUMNS,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )


def _token_vectoriser() -> HashingVectorizer:
    """Hashes whole tokens: each metadata value is one token, never split into words."""
    return HashingVectorizer(
        analyzer=_identity,
        n_features=2**18,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def _tfidf(counts: sparse.csr_matrix) -> sparse.csr_matrix:
    transformed: sparse.csr_matrix = TfidfTransformer(sublinear_tf=True).fit_transform(counts)
    return transformed


def _column(records: pd.DataFrame, name: str) -> list[str]:
    if name not in records.columns:
        return [""] * len(records)
    return records[name].fillna("").astype(str).tolist()


def _joined(records: pd.DataFrame, names: Iterable[str]) -> list[str]:
    columns = [_column(records, name) for name in names]
    return [" ".join(parts) for parts in zip(*columns, strict=True)]


def _metadata_tokens(records: pd.DataFrame) -> list[list[str]]:
    """One list of "prefix:value" tokens per record, from the metadata columns it has."""
    tokens: list[list[str]] = [[] for _ in range(len(records))]
    for column, prefix in METADATA_COLUMNS.items():
        if column not in records.columns:
            continue
        for row, values in enumerate(records[column].tolist()):
            if isinstance(values, str):
                values = [v for v in re.split(r"[;,]", values) if v.strip()]
            elif not isinstance(values, Iterable):
                continue
            tokens[row] += [f"{prefix}:{str(v).strip().casefold()}" for v in values]
    return tokens
