"""A lab's names for EMG channels in sensorkit's terms (DESIGN.md section 4: `glute_med_L`).

Motion-capture systems and EMG software name channels as their users typed them: `Left
Gluteus Medius`, `R_GLUT_MED`, `LT Biceps Femoris`, `gluteus medius R`. The analysis knows a
muscle by its sensorkit label (the glutes as `glute_max` / `glute_med`, the side as `_L` /
`_R`), so an import renames a channel whose name gives a muscle and a side, and says so.
"""

from __future__ import annotations

import re

# a label that names a muscle or an EMG electrode (lower case, in any part of the label)
EMG_WORDS = ("emg", "glut", "medius", "maximus", "femoris", "semiten", "semimem", "hamstring", "rectus", "vastus",
             "tibialis", "gastroc", "soleus", "erector", "spinae", "tensor", "tfl", "adductor", "peroneus",
             "deltoid", "biceps", "triceps", "trapez", "multifidus", "obliquus")  # fmt: skip
# a lab's muscle names in sensorkit's (DESIGN.md section 4: `glute_med_L`)
MUSCLE_ALIASES = {"gluteus_medius": "glute_med", "glut_med": "glute_med", "gluteus_med": "glute_med",
                  "gmed": "glute_med", "gluteus_maximus": "glute_max", "glut_max": "glute_max",
                  "gluteus_max": "glute_max", "gmax": "glute_max", "tensor_fasciae_latae": "tfl"}  # fmt: skip
_SIDED = re.compile(r"^(?:(?P<pre>left|right|lt|rt|l|r)[\s_.-]+)?(?P<name>[a-z][a-z ._-]*?)"
                    r"(?:[\s_.-]+(?P<post>left|right|lt|rt|l|r))?$", re.I)


def muscle_label(label: str) -> str | None:
    """sensorkit's label for a lab's EMG channel that names a muscle and its side ('Left Gluteus
    Medius', 'R_GLUT_MED', 'gluteus medius R' -> glute_med_L, glute_med_R; 'Left Tibialis
    anterior' -> tibialis_anterior_L); None when it names no muscle or no side."""
    m = _SIDED.match(label.strip())
    if not m or bool(m.group("pre")) == bool(m.group("post")):
        return None
    side = (m.group("pre") or m.group("post"))[0].upper()
    name = re.sub(r"[\s._-]+", "_", m.group("name").strip().lower())
    muscle = MUSCLE_ALIASES.get(name) or (name if any(w in name for w in EMG_WORDS[1:]) else None)
    return None if muscle is None else f"{muscle}_{side}"


def renamed(labels: list[str], keep: set[str] | frozenset[str] = frozenset()) -> tuple[list[str], list[str]]:
    """(new labels, notes): each label that names a muscle and a side as `muscle_label` gives it,
    except those in `keep` (named by the user) and where two would take one name."""
    new = [lab if lab in keep else (muscle_label(lab) or lab) for lab in labels]
    taken = [n for n in new if new.count(n) > 1]
    new = [lab if n in taken else n for lab, n in zip(labels, new, strict=True)]
    changed = [f"{lab} -> {n}" for lab, n in zip(labels, new, strict=True) if n != lab]
    return new, ([f"named as sensorkit's muscles: {', '.join(changed)}"] if changed else [])


__all__ = ["EMG_WORDS", "MUSCLE_ALIASES", "muscle_label", "renamed"]
