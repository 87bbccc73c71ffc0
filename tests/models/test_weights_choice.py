"""One weights rule for restore, ask, chat and report (models.weights_choice), on real photos."""

import numpy as np
import pytest
from skimage import data

from models.weights_choice import choose_weights, directional_blur, evidence_task

CAT = np.asarray(data.chelsea(), dtype=np.float32) / 255.0  # 451x300


def _degraded(kind: str) -> np.ndarray:
    from models.training.degrade import eval_degradation_rgb

    return eval_degradation_rgb(CAT, kind)


def test_upscale_means_enlargement_whatever_the_question():
    for card_task in ("image-deblurring", "super-resolution", None):
        choice = choose_weights(upscale=2, rgb=_degraded("motion"), card_task=card_task)
        assert choice.task == "enlarge" and "--upscale 2" in choice.reason
        assert choice.weights == "mssnet-small-cpu-enlarge-long"


def test_the_picture_decides_when_the_options_are_silent():
    shaken = choose_weights(rgb=_degraded("motion"), card_task="super-resolution")
    assert shaken.task == "deblur" and "one direction" in shaken.reason
    assert shaken.weights == "mssnet-small-cpu-deblur"
    soft = choose_weights(rgb=_degraded("x2"), card_task="image-deblurring")
    assert soft.task == "enlarge" and "small (451x300" in soft.reason


def test_the_question_is_a_hint_and_options_win():
    big = np.repeat(np.repeat(_degraded("x2"), 2, axis=0), 2, axis=1)  # 902x600: not small
    assert evidence_task(big) == (None, "")
    hint = choose_weights(rgb=big, card_task="image-deblurring")
    assert hint.task == "deblur" and "question" in hint.reason
    assert choose_weights(rgb=big).weights is None  # the bundled default
    assert choose_weights(weights="x.pt", upscale=3).reason == "--weights names them"
    assert choose_weights(task="deblur", upscale=2).task == "deblur"
    assert choose_weights(upscale=2).line().startswith("weights: mssnet-small-cpu-enlarge-long, because ")


@pytest.mark.parametrize("kind", ["x2", "x4"])
def test_enlargement_softness_is_not_directional(kind):
    assert directional_blur(_degraded(kind)) > 0.7 > directional_blur(_degraded("motion"))
