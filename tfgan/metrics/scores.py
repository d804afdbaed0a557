"""Scores from a classifier's class probabilities p(y|x).

- Inception Score (Salimans et al. 2016), or *classifier score* with any
  classifier: exp(E_x KL(p(y|x) || p(y))), averaged over splits as in the
  paper. It is high when each sample is classified confidently (sharp p(y|x))
  and the classes are balanced (flat p(y)); its ceiling is the class count.
- Requested-class accuracy, for conditional models: the share of G(z, label)
  that the classifier assigns to `label`.
"""

import numpy as np

_EPS = 1e-12


def inception_score(probabilities, splits=10):
    """(mean, std) over `splits` equal parts."""
    p = np.asarray(probabilities, np.float64)
    if p.ndim != 2 or len(p) < splits:
        raise ValueError(f"Expected class probabilities of shape [N >= {splits}, classes]. Received: shape={p.shape}")
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(axis=0, keepdims=True)
        kl = (part * (np.log(part + _EPS) - np.log(marginal + _EPS))).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


def class_accuracy(probabilities, requested):
    predicted = np.asarray(probabilities).argmax(axis=1)
    return float((predicted == np.asarray(requested)).mean())
