"""The shipped weights: they load by SHA-256 from the manifest and really restore enlarged photos."""

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_bundled_default_restores_x2_enlargements_better_than_bicubic():
    import torch

    import models
    from models.metrics import psnr
    from models.training.degrade import eval_degradation
    from models.training.evaluate import load_eval_photo

    assert models.bundled_weights(), "no weights bundled"
    model = models.load_model()  # the default, SHA-256 checked
    assert model.info.config == (20, 40, 40)
    gains = []
    for name in ("coffee", "camera"):  # evaluation photos, never trained on
        sharp = load_eval_photo(name, 256)
        soft = eval_degradation(torch.from_numpy(sharp).permute(2, 0, 1)[None], "x2")
        soft = soft[0].permute(1, 2, 0).numpy()
        result = models.restore(
            Image.fromarray((soft * 255).round().astype(np.uint8)), model=model, precision="fp32", tile=0
        )
        restored = np.asarray(result.image, dtype=np.float32) / 255
        assert restored.shape == sharp.shape
        gains.append(psnr(restored, sharp) - psnr(soft, sharp))
    assert np.mean(gains) > 0.3, gains


def test_weights_info_is_a_frozen_description_with_provenance():
    import dataclasses

    import models
    from models.mssnet import seeded_model

    info = models.load_model().info
    assert info.provisional and info.card and info.card.endswith(".md")
    line = info.provenance_line()
    assert info.name in line and "provisional" in line and "dB" in line
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.name = "other"  # type: ignore[misc]
    seeded = seeded_model((8, 8, 8), seed=3).info
    assert seeded.name == "random-seed3" and not seeded.provisional and seeded.sha256 is None
    assert seeded.as_dict()["config"] == [8, 8, 8]


def test_bundled_deblur_weights_restore_motion_blur_better_than_the_blurred_input():
    import torch

    import models
    from models.checkpoints import weights_for_task
    from models.metrics import psnr
    from models.training.degrade import eval_degradation
    from models.training.evaluate import load_eval_photo

    name, note = weights_for_task("deblur")
    assert note is None, note  # a file trained for the task, not the enlargement fallback
    model = models.load_model(name)
    gains = []
    for i, name in enumerate(("coffee", "grace_hopper")):  # evaluation photos, never trained on
        sharp = load_eval_photo(name, 256)
        blurred = eval_degradation(torch.from_numpy(sharp).permute(2, 0, 1)[None], "motion", seed=i)
        blurred = blurred[0].permute(1, 2, 0).clamp(0, 1).numpy()
        result = models.restore(
            Image.fromarray((blurred * 255).round().astype(np.uint8)), model=model, precision="fp32", tile=0
        )
        restored = np.asarray(result.image, dtype=np.float32) / 255
        gains.append(psnr(restored, sharp) - psnr(blurred, sharp))
    assert np.mean(gains) > 0.5, gains
