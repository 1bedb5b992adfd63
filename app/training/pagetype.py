"""``redflags train``: fit the page-type model on the labelled pages and save it with its meta.

scikit-learn fits the model (a TfidfVectorizer over our own ``terms`` and one over four-letter
sequences within words, side by side, then two logistic regressions); the artefact keeps only
the features and their numbers (``write_model``), which ``PageTypeModel`` reads.
The regularisation strength is chosen by 5-fold cross-validation grouped by host, and the meta
records the out-of-fold figures, so the model's quality is stated where the model is.
"""

from __future__ import annotations

import math
import platform
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

from app.engine.pagetype import (
    FORMAT,
    GRAM,
    GRAM_PREFIX,
    PageTypeModel,
    address_terms,
    terms,
)
from app.training.corpus import Sample

MAX_CHARS = 6_000  # the stored excerpts read about 2,000 characters from a page's top
MIN_DF = 2
GRAM_MIN_DF = 3  # letter sequences: 23,000 in pages of at least 3, against 40,000 words and pairs
ADDRESS_MIN_DF = 3  # an address word of fewer pages is a host's own name
C_GRID = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0)
FOLDS = 5


# A practice's page labelled low that is about one of these sells something else.
OTHER_PRODUCTS = frozenset({"none", "prp", "other"})


def topic_target(sample: Sample) -> int:
    """Is the page about cell treatment at all? Not unrelated medicine, and not a practice's
    page that sells something else (PRP, prolotherapy, a hair transplant): read as "about cell
    treatment", its selling voice made the offers head call it a cell seller, and the product
    of the two heads is where "sells" and "cells" must both hold."""
    if sample.kind == "unrelated_medical":
        return 0
    other = sample.product in OTHER_PRODUCTS
    return 0 if sample.kind == "clinic_marketing" and sample.expected_risk == "low" and other else 1


def offers_target(sample: Sample) -> int | None:
    """Does the page sell cell treatment? Medium pages other than clinics are left out: an
    advertorial or a paid registered study is a judgement call, not a page type."""
    if topic_target(sample) == 0:
        return None
    if sample.expected_risk == "high":
        return 1
    if sample.expected_risk == "low":
        return 0
    return 1 if sample.kind == "clinic_marketing" else None


@dataclass
class Fitted:
    model: dict[str, Any]
    c: float


def fit(samples: Sequence[Sample], c: float) -> Fitted:
    texts = [s.text[:MAX_CHARS] for s in samples]
    words = TfidfVectorizer(analyzer=terms, sublinear_tf=True, min_df=MIN_DF)
    letters = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(GRAM, GRAM), sublinear_tf=True, min_df=GRAM_MIN_DF
    )
    address = TfidfVectorizer(analyzer=address_terms, sublinear_tf=True, min_df=ADDRESS_MIN_DF)
    blocks = [
        words.fit_transform(texts),
        letters.fit_transform(texts),
        address.fit_transform([s.url or "" for s in samples]),
    ]
    # Each block L2-normalised by its vectorizer, then divided by sqrt(3): as features() does.
    matrix = (sp.hstack(blocks) / math.sqrt(len(blocks))).tocsr()
    vocabulary = [
        *(str(t) for t in words.get_feature_names_out()),
        *(GRAM_PREFIX + str(t) for t in letters.get_feature_names_out()),
        *(str(t) for t in address.get_feature_names_out()),
    ]
    heads = {}
    for name, target in (("topic", topic_target), ("offers", offers_target)):
        rows = [i for i, s in enumerate(samples) if target(s) is not None]
        y = np.array([target(samples[i]) for i in rows])
        if len(set(y.tolist())) < 2:
            raise ValueError(f"the {name} head needs examples of both classes")
        clf = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
        clf.fit(matrix[rows], y)
        weights = {
            str(term): round(float(w), 5)
            for term, w in zip(vocabulary, clf.coef_[0], strict=True)
            if abs(w) >= 1e-4
        }
        heads[name] = {"intercept": round(float(clf.intercept_[0]), 5), "weights": weights}
    idf = {
        str(t): round(float(v), 5)
        for t, v in zip(words.get_feature_names_out(), words.idf_, strict=True)
    }
    gram_idf = {
        str(t): round(float(v), 5)
        for t, v in zip(letters.get_feature_names_out(), letters.idf_, strict=True)
    }
    address_idf = {
        str(t): round(float(v), 5)
        for t, v in zip(address.get_feature_names_out(), address.idf_, strict=True)
    }
    model = {
        "format": FORMAT,
        "max_chars": MAX_CHARS,
        "idf": idf,
        "gram_idf": gram_idf,
        "address_idf": address_idf,
        "heads": heads,
    }
    return Fitted(model, c)


def folds(samples: Sequence[Sample], n: int = FOLDS) -> list[tuple[list[int], list[int]]]:
    groups = [s.group for s in samples]
    splitter = GroupKFold(n_splits=n)
    return [
        (train.tolist(), test.tolist())
        for train, test in splitter.split(np.zeros(len(samples)), groups=groups)
    ]


def out_of_fold(samples: Sequence[Sample], c: float) -> list[tuple[int, PageTypeModel]]:
    """Each sample's index with the model trained without its host (for honest figures)."""
    out = []
    for train, test in folds(samples):
        fitted = fit([samples[i] for i in train], c)
        model = PageTypeModel.from_fitted(fitted.model, {})
        out += [(i, model) for i in test]
    return sorted(out, key=lambda pair: pair[0])


def offer_auroc(samples: Sequence[Sample], p_offers: Sequence[float]) -> float:
    """AUROC of P(offers_treatment), high pages against low pages."""
    pairs = [
        (1 if s.expected_risk == "high" else 0, p)
        for s, p in zip(samples, p_offers, strict=True)
        if s.expected_risk in ("high", "low")
    ]
    return float(roc_auc_score([y for y, _ in pairs], [p for _, p in pairs]))


def choose_c(samples: Sequence[Sample], log: Any = None) -> tuple[float, dict[str, float]]:
    """The regularisation with the best grouped cross-validated AUROC (high vs low pages)."""
    figures = {}
    for c in C_GRID:
        oof = out_of_fold(samples, c)
        p = [
            model.predict(samples[i].text, samples[i].url).probabilities["offers_treatment"]
            for i, model in oof
        ]
        figures[str(c)] = round(offer_auroc(samples, p), 4)
        if log:
            log(f"  C={c:<5} grouped 5-fold AUROC (high vs low) {figures[str(c)]:.4f}")
    best = max(C_GRID, key=lambda c: (figures[str(c)], -abs(math.log(c))))
    return best, figures


def library_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
    }


def label_counts(samples: Sequence[Sample]) -> dict[str, dict[str, int]]:
    return {
        "source": dict(Counter(s.source for s in samples)),
        "expected_risk": dict(Counter(s.expected_risk for s in samples)),
        "kind": dict(Counter(s.kind for s in samples)),
        "lang": dict(Counter(s.lang for s in samples)),
        "topic_head": dict(Counter(str(topic_target(s)) for s in samples)),
        "offers_head": dict(Counter(str(offers_target(s)) for s in samples)),
    }
